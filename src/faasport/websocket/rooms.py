"""Rooms of WebSocket connections kept in a :mod:`faasport.state` store, so every execution
environment (and every function) sees the same members.

.. code-block:: python

    rooms = websocket.Rooms(state.open(os.environ["STATE_URL"]))
    rooms.join("lobby", event.connection_id)
    rooms.broadcast("lobby", "hello")      # connections found gone are dropped

A room is one value (its members, JSON) changed by compare-and-set, and each connection has
one value listing its rooms, so ``$disconnect`` leaves them all with :meth:`Rooms.leave_all`.
Records live as long as API Gateway keeps a connection open (two hours) after the last
change: a connection whose ``$disconnect`` was lost cannot stay a member for ever.
"""

from __future__ import annotations

from faasport.state.base import StateError
from faasport.websocket import connections

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from faasport.state.base import Store

#: API Gateway closes every connection after two hours.
CONNECTION_TTL = 2 * 60 * 60.0
_ROOM = "ws:room:"
_CONNECTION = "ws:conn:"
_ATTEMPTS = 50


def _load(raw: bytes | None) -> list[str]:
    import json

    if raw is None:
        return []
    found = json.loads(raw)
    return [str(item) for item in found] if isinstance(found, list) else []


class Rooms:
    """Room membership of WebSocket connections in ``store``."""

    def __init__(self, store: Store, *, ttl: float = CONNECTION_TTL) -> None:
        self.store = store
        self.ttl = ttl

    def _change(self, key: str, change: Callable[[list[str]], list[str]]) -> list[str]:
        store = self.store
        for _ in range(_ATTEMPTS):
            raw = store.get(key)
            before = _load(raw)
            after = change(list(before))
            if after == before and raw is not None:
                return after
            value = ("[" + ",".join(_quote(i) for i in after) + "]").encode()
            if store.compare_and_set(key, raw, value, ttl=self.ttl):
                return after
        raise StateError(store.name, f"{key!r} keeps changing; gave up after {_ATTEMPTS} tries")

    def join(self, room: str, connection_id: str) -> None:
        """Add the connection to ``room`` (joining twice is joining once)."""
        _check(room, connection_id)
        self._change(
            _ROOM + room, lambda ids: ids if connection_id in ids else [*ids, connection_id]
        )
        self._change(_CONNECTION + connection_id, lambda rs: rs if room in rs else [*rs, room])

    def leave(self, room: str, connection_id: str) -> bool:
        """Remove the connection from ``room``; whether it was a member."""
        _check(room, connection_id)
        was: list[bool] = []

        def without(ids: list[str]) -> list[str]:
            was.append(connection_id in ids)
            return [i for i in ids if i != connection_id]

        self._change(_ROOM + room, without)
        self._change(_CONNECTION + connection_id, lambda rs: [r for r in rs if r != room])
        return was[-1]

    def leave_all(self, connection_id: str) -> list[str]:
        """Remove the connection from every room it joined (on ``$disconnect``); those rooms."""
        _check("-", connection_id)
        joined = self.rooms_of(connection_id)
        for room in joined:
            self._change(_ROOM + room, lambda ids: [i for i in ids if i != connection_id])
        self._change(_CONNECTION + connection_id, lambda rs: [])
        return joined

    def members(self, room: str) -> list[str]:
        """The room's connection ids, in the order they joined."""
        _check(room, "-")
        return _load(self.store.get(_ROOM + room))

    def rooms_of(self, connection_id: str) -> list[str]:
        return _load(self.store.get(_CONNECTION + connection_id))

    def broadcast(
        self,
        room: str,
        data: str | bytes,
        *,
        skip: str | None = None,
        endpoint: str | None = None,
    ) -> list[str]:
        """Send ``data`` to every member but ``skip``; members found gone (410) leave every
        room. The connection ids it reached. Other failures (403, 429...) are raised after
        the members that could be reached were."""
        reached: list[str] = []
        failure: connections.WebSocketError | None = None
        for connection_id in self.members(room):
            if connection_id == skip:
                continue
            try:
                connections.send(connection_id, data, endpoint=endpoint)
            except connections.ConnectionGone:
                self.leave_all(connection_id)
            except connections.WebSocketError as exc:
                failure = failure or exc
            else:
                reached.append(connection_id)
        if failure is not None:
            raise failure
        return reached


def _quote(text: str) -> str:
    import json

    return json.dumps(text)


def _check(room: str, connection_id: str) -> None:
    if not isinstance(room, str) or not room:
        raise ValueError(f"a room name is a non-empty string, got {room!r}")
    if not isinstance(connection_id, str) or not connection_id:
        raise ValueError(f"a connection id is a non-empty string, got {connection_id!r}")
