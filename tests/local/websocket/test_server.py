"""WebSocket APIs on the local gateway, driven by the ``websockets`` client over real
sockets: the handshake and $connect, route selection, replies, $disconnect with its close
code, the 128 KB limit, and the @connections API the gateway answers."""

from __future__ import annotations

import json
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.frames import Frame, Opcode
from websockets.sync.client import ClientConnection, connect

from faasport.config import load_project
from faasport.local.gateway import Gateway

APP = """
import json
from pathlib import Path

from faasport import websocket

ws = websocket.router()
LOG = Path(__file__).with_name("seen.jsonl")


def note(event):
    seen = {
        "route": event.route_key,
        "type": event.event_type,
        "id": event.connection_id,
        "query": event.query,
        "code": event.disconnect_status_code,
        "reason": event.disconnect_reason,
        "body": event.text,
        "base64": event.is_base64,
        "headers": {k.lower(): v for k, v in event.headers.items()},
        "stage": event.stage,
    }
    with LOG.open("a") as out:
        out.write(json.dumps(seen) + "\\n")


@ws.route("$connect")
def connect(event, context):
    note(event)
    if event.query.get("token") != "ok":
        return 403


@ws.route("$disconnect")
def disconnect(event, context):
    note(event)


@ws.route("echo")
def echo(event, context):
    note(event)
    return event.json()["text"]


@ws.route("crash")
def crash(event, context):
    raise RuntimeError("boom")


@ws.route("$default")
def default(event, context):
    note(event)
    body = event.body if isinstance(event.body, bytes) else event.body.encode()
    return b"default:" + body
"""

CONFIG = """
name = "wsapp"

[functions.chat]
handler = "{module}:ws"
websocket = {{ routes = ["$connect", "$disconnect", "$default", "echo", "crash"] }}

[functions.strict]
handler = "{module}:ws"
websocket = {{ routes = ["echo"], selection = "$request.body.meta.kind" }}
"""


class Api:
    def __init__(self, root: Path, gateway: Gateway, log: list[str]) -> None:
        self.log = log
        self.root = root
        self.gateway = gateway
        host, port = gateway.server_address
        self.base = f"ws://{host}:{port}"

    def seen(self) -> list[dict[str, Any]]:
        log = self.root / "seen.jsonl"
        if not log.exists():
            return []
        return [json.loads(line) for line in log.read_text().splitlines()]

    def wait_seen(self, route: str, count: int = 1) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 10
        while True:
            found = [s for s in self.seen() if s["route"] == route]
            if len(found) >= count:
                return found
            assert time.monotonic() < deadline, f"no {route} event: {self.seen()}"
            time.sleep(0.02)

    def disconnect_of(self, connection: str) -> dict[str, Any]:
        """The $disconnect event of ``connection`` (an earlier test's may arrive late)."""
        deadline = time.monotonic() + 10
        while True:
            found = [
                s for s in self.seen() if s["route"] == "$disconnect" and s["id"] == connection
            ]
            if found:
                return found[0]
            assert time.monotonic() < deadline, f"no $disconnect for {connection}: {self.seen()}"
            time.sleep(0.02)

    def connect(self, function: str = "chat", query: str = "token=ok") -> ClientConnection:
        return connect(f"{self.base}/{function}?{query}", open_timeout=10)


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    root = tmp_path_factory.mktemp("ws")
    module = f"wsapp_{uuid.uuid4().hex[:8]}"
    (root / f"{module}.py").write_text(APP)
    (root / "faasport.toml").write_text(textwrap.dedent(CONFIG.format(module=module)))
    log: list[str] = []
    gateway = Gateway(load_project(root), port=0, log=log.append)
    gateway.start()
    try:
        yield Api(root, gateway, log)
    finally:
        gateway.close()


@pytest.fixture(autouse=True)
def _fresh_log(api: Api) -> None:
    (api.root / "seen.jsonl").unlink(missing_ok=True)


def test_connect_event_carries_query_and_headers(api: Api) -> None:
    with api.connect(query="token=ok&tag=a&tag=b") as client:
        (seen,) = api.wait_seen("$connect")
        assert seen["type"] == "CONNECT"
        assert seen["query"] == {"token": "ok", "tag": "b"}
        assert seen["headers"]["upgrade"] == "websocket"
        assert seen["stage"] == "prod"
        assert len(seen["id"]) == 16
        client.send(json.dumps({"action": "echo", "text": "hi"}))
        assert client.recv(timeout=10) == "hi"


def test_non_2xx_connect_refuses_the_handshake_with_that_status(api: Api) -> None:
    with pytest.raises(InvalidStatus) as caught:
        api.connect(query="token=bad")
    assert caught.value.response.status_code == 403
    assert api.wait_seen("$connect")[0]["query"] == {"token": "bad"}
    assert api.gateway.websockets.connections == {}


def test_route_selection_and_default_route(api: Api) -> None:
    with api.connect() as client:
        client.send(json.dumps({"action": "nothing-like-it", "x": 1}))
        assert client.recv(timeout=10) == b"default:" + b'{"action": "nothing-like-it", "x": 1}'
        client.send("not json")
        assert client.recv(timeout=10) == b"default:not json"
        client.send(b"\x00\x01")
        assert client.recv(timeout=10) == b"default:\x00\x01"
        binary = [s for s in api.wait_seen("$default", 3) if s["base64"]]
        assert len(binary) == 1


def test_a_failing_route_answers_internal_server_error_and_stays_open(api: Api) -> None:
    with api.connect() as client:
        client.send(json.dumps({"action": "crash"}))
        answer = json.loads(client.recv(timeout=10))
        assert answer["message"] == "Internal server error"
        assert "boom" not in json.dumps(answer)
        assert any("ws chat crash: 502" in line and "boom" in line for line in api.log)
        client.send(json.dumps({"action": "echo", "text": "still here"}))
        assert client.recv(timeout=10) == "still here"


def test_disconnect_reports_the_close_code_and_reason(api: Api) -> None:
    with api.connect() as client:
        client.close(code=4000, reason="bye")
    (connected,) = api.wait_seen("$connect")
    seen = api.disconnect_of(connected["id"])
    assert (seen["code"], seen["reason"]) == (4000, "bye")


def test_message_over_128_kb_closes_with_1009(api: Api) -> None:
    with api.connect() as client:
        client.send("x" * (128 * 1024))  # at the limit: delivered
        assert client.recv(timeout=10).startswith(b"default:xxx")
        client.send("x" * (128 * 1024 + 1))
        with pytest.raises(ConnectionClosed) as caught:
            client.recv(timeout=10)
    assert caught.value.rcvd is not None and caught.value.rcvd.code == 1009
    (connected,) = api.wait_seen("$connect")
    assert api.disconnect_of(connected["id"])["code"] == 1009


def test_no_route_and_no_default_is_answered_by_the_gateway(api: Api) -> None:
    with api.connect("strict") as client:
        client.send(json.dumps({"meta": {"kind": "echo"}, "text": "nested"}))
        assert client.recv(timeout=10) == "nested"
        client.send(json.dumps({"action": "echo", "text": "x"}))
        answer = json.loads(client.recv(timeout=10))
        assert answer["message"] == "Forbidden" and answer["connectionId"]


def test_plain_http_and_unknown_apis_are_not_upgraded(api: Api) -> None:
    with pytest.raises(InvalidStatus) as caught:
        connect(f"{api.base}/nothing", open_timeout=10)
    assert caught.value.response.status_code == 404


def test_connections_api_posts_closes_and_describes(api: Api) -> None:
    websockets = api.gateway.websockets
    loop = api.gateway.invoker.emulator.loop  # type: ignore[union-attr]
    with api.connect() as client:
        connection = api.wait_seen("$connect")[0]["id"]
        assert websockets.manage(loop, "POST", connection, b"pushed") == (200, b"")
        assert client.recv(timeout=10) == "pushed"
        assert websockets.manage(loop, "POST", connection, b"\xff\x00") == (200, b"")
        assert client.recv(timeout=10) == b"\xff\x00"
        status, body = websockets.manage(loop, "GET", connection, b"")
        assert status == 200
        described = json.loads(body)  # API Gateway's names on the wire
        assert described["identity"]["sourceIp"] == "127.0.0.1"
        assert described["connectedAt"].endswith("Z")
        described = as_boto3_reads_it(body)
        assert described["Identity"]["SourceIp"] == "127.0.0.1"
        assert described["ConnectedAt"].tzinfo is not None
        assert websockets.manage(loop, "DELETE", connection, b"")[0] == 204
        with pytest.raises(ConnectionClosed):
            client.recv(timeout=10)
    assert api.disconnect_of(connection)["code"] == 1000
    assert websockets.manage(loop, "POST", connection, b"late")[0] == 410
    assert websockets.manage(loop, "GET", "never-was", b"")[0] == 410


def as_boto3_reads_it(body: bytes) -> dict[str, Any]:
    """A GetConnection answer parsed by botocore with API Gateway's service model."""
    from botocore.parsers import RestJSONParser
    from botocore.session import get_session

    model = get_session().get_service_model("apigatewaymanagementapi")
    shape = model.operation_model("GetConnection").output_shape
    parsed: dict[str, Any] = RestJSONParser().parse(
        {"status_code": 200, "headers": {}, "body": body}, shape
    )
    return parsed


def test_malformed_handshake_is_400_without_invoking(api: Api) -> None:
    from rawhttp import exchange

    host, port = api.gateway.server_address
    answer = exchange(
        (str(host), port),
        b"GET /chat?token=ok HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
        b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n",  # no Sec-WebSocket-Key
    )
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert api.seen() == []


def test_a_text_frame_that_is_not_utf8_closes_with_1007_and_disconnects(api: Api) -> None:
    """RFC 6455 8.1: the connection fails with 1007; $disconnect still runs."""
    logged = len(api.log)
    with api.connect() as client:
        with client.protocol_mutex:  # a frame the client library would refuse to build
            client.protocol.send_frame(Frame(Opcode.TEXT, b"\xff\xfe\xfd"))
            client.send_data()
        with pytest.raises(ConnectionClosed) as caught:
            client.recv(timeout=10)
    assert caught.value.rcvd is not None and caught.value.rcvd.code == 1007
    (connected,) = api.wait_seen("$connect")
    assert api.disconnect_of(connected["id"])["code"] == 1007
    assert not [line for line in api.log[logged:] if "Traceback" in line or "error" in line]


def test_posting_to_a_client_that_reads_nothing_never_waits_on_it(api: Api) -> None:
    """@connections POSTs answer at once; past UNREAD_LIMIT unread the connection drops
    (1006 in $disconnect) and the post is 410, as for any connection that is gone."""
    from faasport.local.websocket.server import UNREAD_LIMIT

    websockets = api.gateway.websockets
    loop = api.gateway.invoker.emulator.loop  # type: ignore[union-attr]
    message = b"x" * (100 * 1024)
    # max_queue=1: the client stops reading its socket once one message waits unread.
    with connect(f"{api.base}/chat?token=ok", open_timeout=10, max_queue=1, close_timeout=0.1):
        connection = api.wait_seen("$connect")[0]["id"]
        statuses = []
        for _ in range(4 * UNREAD_LIMIT // len(message)):
            started = time.monotonic()
            status, _ = websockets.manage(loop, "POST", connection, message)
            assert time.monotonic() - started < 2
            statuses.append(status)
            if status != 200:
                break
    assert statuses[-1] == 410 and set(statuses[:-1]) == {200}
    assert api.disconnect_of(connection)["code"] == 1006
    assert any("left over 4 MB of messages unread" in line for line in api.log)
    assert not [line for line in api.log if "internal error" in line]
