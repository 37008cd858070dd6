"""Rooms in every store the state tests start (not DynamoDB: moto serves one request at a
time, which the concurrent test below would only measure)."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from faasport import state, websocket
from faasport.websocket import connections
from management_api import ACCESS_KEY, SECRET_KEY, management_api

STORES = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("redis", marks=pytest.mark.redis, id="redis"),
    pytest.param("postgres", marks=pytest.mark.postgres, id="postgres"),
]


@pytest.fixture(params=STORES)
def rooms(request: pytest.FixtureRequest) -> Iterator[websocket.Rooms]:
    url = (
        "memory://"
        if request.param == "memory"
        else request.getfixturevalue(f"{request.param}_url")
    )
    store = state.open(url)
    prefix = f"{request.node.name}-"
    found = websocket.Rooms(store)
    found.prefix = prefix  # type: ignore[attr-defined]
    try:
        yield found
    finally:
        store.close()


def name(rooms: websocket.Rooms, room: str) -> str:
    """A room name unique to the test: the stores outlive it."""
    return rooms.prefix + room  # type: ignore[attr-defined,no-any-return]


def test_join_leave_members(rooms: websocket.Rooms) -> None:
    lobby, other = name(rooms, "lobby"), name(rooms, "other")
    assert rooms.members(lobby) == []
    rooms.join(lobby, "a")
    rooms.join(lobby, "b")
    rooms.join(lobby, "a")  # twice is once
    rooms.join(other, "a")
    assert rooms.members(lobby) == ["a", "b"]
    assert rooms.rooms_of("a") == [lobby, other] or rooms.rooms_of("a")[-2:] == [lobby, other]
    assert rooms.leave(lobby, "b") is True
    assert rooms.leave(lobby, "b") is False
    assert rooms.members(lobby) == ["a"]
    assert set(rooms.leave_all("a")) >= {lobby, other}
    assert rooms.members(lobby) == [] and rooms.members(other) == []


def test_concurrent_joins_lose_no_member(rooms: websocket.Rooms) -> None:
    room = name(rooms, "busy")
    ids = [f"c{i}" for i in range(40)]

    def join(chunk: list[str]) -> None:
        for connection in chunk:
            rooms.join(room, connection)

    threads = [threading.Thread(target=join, args=(ids[i::4],)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(rooms.members(room)) == sorted(ids)


def test_bad_names_are_refused(rooms: websocket.Rooms) -> None:
    with pytest.raises(ValueError, match="room name"):
        rooms.join("", "a")
    with pytest.raises(ValueError, match="connection id"):
        rooms.join("r", "")


def test_broadcast_drops_gone_connections(
    rooms: websocket.Rooms, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    room = name(rooms, "chat")
    with management_api() as api:
        monkeypatch.setenv(connections.ENDPOINT_VARIABLE, api.url)
        api.connected.update({"a", "b", "me"})
        for connection in ("a", "gone", "me", "b"):
            rooms.join(room, connection)
        assert rooms.broadcast(room, "hi", skip="me") == ["a", "b"]
        assert rooms.members(room) == ["a", "me", "b"]
        assert rooms.rooms_of("gone") == []
        posts = sorted(c.path for c in api.calls)
        assert posts == [f"/prod/@connections/{c}" for c in ("a", "b", "gone")]
        assert all(c.body == b"hi" and c.signature_ok for c in api.calls)

        api.replies["b"] = 429  # a throttled member is kept, the failure raised
        with pytest.raises(websocket.Throttled):
            rooms.broadcast(room, "again")
        assert "b" in rooms.members(room)
