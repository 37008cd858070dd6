"""A chat over an API Gateway WebSocket API.

Connect with ``?name=alice``; send ``{"action": "join", "room": "lobby"}`` to join a room and
``{"action": "send", "room": "lobby", "text": "hi"}`` to say something to everyone else in
it. Every reply and every message reaches the clients through the ``@connections`` API
(``websocket.send``), as it does on AWS, where one invocation handles each message.
"""

from __future__ import annotations

import contextlib
import json
import os
from typing import Any

from faasport import state, websocket

ws = websocket.router()
_rooms: list[websocket.Rooms] = []
#: API Gateway closes connections after two hours; names need not outlive them.
NAME_TTL = 2 * 60 * 60


def rooms() -> websocket.Rooms:
    """The rooms, in the store ``CHAT_STATE`` names (opened once per environment)."""
    if not _rooms:
        _rooms.append(websocket.Rooms(state.open(os.environ["CHAT_STATE"])))
    return _rooms[0]


def reply(event: websocket.WebSocketEvent, **message: Any) -> None:
    # A client that left meanwhile is no error: its $disconnect cleans up.
    with contextlib.suppress(websocket.ConnectionGone):
        websocket.send(event.connection_id, json.dumps(message))


def fields(event: websocket.WebSocketEvent, *names: str) -> dict[str, str] | None:
    """The message's string fields ``names``, or None (and the client told) when one lacks."""
    try:
        message = event.json()
    except ValueError:
        message = None
    if not isinstance(message, dict):
        reply(event, error="messages are JSON objects")
        return None
    found = {name: message.get(name) for name in names}
    missing = [name for name, value in found.items() if not isinstance(value, str) or not value]
    if missing:
        reply(event, error=f"missing {', '.join(missing)}")
        return None
    return {name: str(value) for name, value in found.items()}


@ws.route("$connect")
def connect(event: websocket.WebSocketEvent, context: Any) -> int | None:
    name = event.query.get("name", "").strip()
    if not name or len(name) > 32:
        return 400  # the handshake is refused: the client sees HTTP 400
    rooms().store.set(f"chat:name:{event.connection_id}", name.encode(), ttl=NAME_TTL)
    return None


@ws.route("join")
def join(event: websocket.WebSocketEvent, context: Any) -> None:
    found = fields(event, "room")
    if found is not None:
        rooms().join(found["room"], event.connection_id)
        members = rooms().members(found["room"])
        reply(event, joined=found["room"], members=len(members))


@ws.route("send")
def send(event: websocket.WebSocketEvent, context: Any) -> None:
    found = fields(event, "room", "text")
    if found is None:
        return
    room = found["room"]
    if event.connection_id not in rooms().members(room):
        reply(event, error=f"join {room} first")
        return
    raw = rooms().store.get(f"chat:name:{event.connection_id}")
    sender = raw.decode() if raw else "someone"
    message = json.dumps({"room": room, "from": sender, "text": found["text"]})
    rooms().broadcast(room, message, skip=event.connection_id)


@ws.route("$default")
def unknown(event: websocket.WebSocketEvent, context: Any) -> None:
    reply(event, error='unknown action: use "join" or "send"')


@ws.route("$disconnect")
def disconnect(event: websocket.WebSocketEvent, context: Any) -> None:
    rooms().leave_all(event.connection_id)
    rooms().store.delete(f"chat:name:{event.connection_id}")
