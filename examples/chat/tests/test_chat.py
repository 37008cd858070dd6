"""The chat example under a real ``faasport dev``, driven by two ``websockets`` clients; and
the same handlers' ``@connections`` calls checked against a recording management API."""

from __future__ import annotations

import importlib
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from dev_process import Dev
from management_api import ACCESS_KEY, SECRET_KEY, ManagementApi, management_api
from recorded import recorded

EXAMPLE = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    root = tmp_path_factory.mktemp("chat") / "chat"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("tests", ".faasport"))
    server = Dev(root, "--no-reload", "--no-dashboard")
    try:
        yield server
    finally:
        server.close()


def url(dev: Dev) -> str:
    return dev._find(r"WebSocket API chat on (ws://\S+)")


def receive(client: ClientConnection) -> Any:
    return json.loads(client.recv(timeout=15))


def join(client: ClientConnection, room: str) -> Any:
    client.send(json.dumps({"action": "join", "room": room}))
    return receive(client)


def test_two_clients_join_and_chat_and_a_disconnect_leaves_the_room(dev: Dev) -> None:
    with (
        connect(f"{url(dev)}?name=alice", open_timeout=15) as alice,
        connect(f"{url(dev)}?name=bob", open_timeout=15) as bob,
    ):
        assert join(alice, "lobby") == {"joined": "lobby", "members": 1}
        assert join(bob, "lobby") == {"joined": "lobby", "members": 2}
        alice.send(json.dumps({"action": "send", "room": "lobby", "text": "hi bob"}))
        assert receive(bob) == {"room": "lobby", "from": "alice", "text": "hi bob"}
        bob.send(json.dumps({"action": "send", "room": "lobby", "text": "hi alice"}))
        assert receive(alice) == {"room": "lobby", "from": "bob", "text": "hi alice"}

        bob.close()
        dev.settled(at_least=7)  # 2 connects, 2 joins, 2 sends and bob's $disconnect
        with connect(f"{url(dev)}?name=carol", open_timeout=15) as carol:
            assert join(carol, "lobby") == {"joined": "lobby", "members": 2}  # alice, carol
            alice.send(json.dumps({"action": "send", "room": "lobby", "text": "bob left"}))
            assert receive(carol) == {"room": "lobby", "from": "alice", "text": "bob left"}


def test_bad_input_is_answered_never_dropped(dev: Dev) -> None:
    with pytest.raises(InvalidStatus) as caught:
        connect(url(dev), open_timeout=15)  # no ?name=
    assert caught.value.response.status_code == 400
    with connect(f"{url(dev)}?name=dave", open_timeout=15) as dave:
        dave.send("not json")
        assert receive(dave) == {"error": 'unknown action: use "join" or "send"'}
        dave.send(json.dumps({"action": "join"}))
        assert receive(dave) == {"error": "missing room"}
        dave.send(json.dumps({"action": "send", "room": "lobby", "text": "x"}))
        assert receive(dave) == {"error": "join lobby first"}


def test_boto3_reaches_the_local_connections_api(dev: Dev) -> None:
    client = dev.client("apigatewaymanagementapi")
    with pytest.raises(client.exceptions.GoneException):
        client.post_to_connection(ConnectionId="not-connected=", Data=b"x")
    with pytest.raises(client.exceptions.GoneException):
        client.get_connection(ConnectionId="not-connected=")


# -- the same code against a recording @connections API -------------------------------------


@pytest.fixture
def chat(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[ModuleType, ManagementApi]]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.setenv("CHAT_STATE", "memory://")
    monkeypatch.syspath_prepend(str(EXAMPLE))
    module = importlib.import_module("chat")
    module._rooms.clear()
    with management_api() as api:
        monkeypatch.setenv("AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI", api.url)
        try:
            yield module, api
        finally:
            from faasport.websocket import connections

            connections.close_connections()
            sys.modules.pop("chat", None)


def event(route: str, connection: str, body: Any = None, **query: str) -> dict[str, Any]:
    kind = {"$connect": "Connect", "$disconnect": "Disconnect"}.get(route, "Message")
    found = recorded(f"apiGatewayWebSocketApi{kind}")
    found["requestContext"]["routeKey"] = route
    found["requestContext"]["connectionId"] = connection
    if body is not None:
        found["body"] = json.dumps(body)
    if query:
        found["queryStringParameters"] = query
    return found


def test_connections_calls_against_the_management_api(
    chat: tuple[ModuleType, ManagementApi],
) -> None:
    module, api = chat
    ws = module.ws
    api.connected.update({"alice=", "bob=", "gone="})
    for connection, name in (("alice=", "alice"), ("bob=", "bob"), ("gone=", "ghost")):
        assert ws(event("$connect", connection, name=name), None) == {"statusCode": 200}
        ws(event("join", connection, {"action": "join", "room": "lobby"}), None)
    joined = [json.loads(c.body) for c in api.calls]
    assert joined == [{"joined": "lobby", "members": n} for n in (1, 2, 3)]
    api.connected.discard("gone=")  # its client vanished without a $disconnect
    api.calls.clear()
    ws(event("send", "alice=", {"action": "send", "room": "lobby", "text": "hi"}), None)
    sent = {c.path: json.loads(c.body) for c in api.calls}
    assert sent == {
        "/prod/@connections/bob%3D": {"room": "lobby", "from": "alice", "text": "hi"},
        "/prod/@connections/gone%3D": {"room": "lobby", "from": "alice", "text": "hi"},
    }
    assert all(c.method == "POST" and c.signature_ok for c in api.calls)
    assert all(c.service == "execute-api" for c in api.calls)
    # The gone connection (410) left the room.
    assert module.rooms().members("lobby") == ["alice=", "bob="]
    ws(event("$disconnect", "bob="), None)
    assert module.rooms().members("lobby") == ["alice="]
    assert ws(event("$connect", "x=", name=""), None) == {"statusCode": 400}
