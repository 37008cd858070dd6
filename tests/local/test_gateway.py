"""The local gateway over real sockets: routing, events, responses and the limits API Gateway
enforces, with a real HTTP client."""

from __future__ import annotations

import http.client
import json
import re
import socket
import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from faasport.config import load_project
from faasport.local.gateway import MAX_BODY, Gateway

PHONEY = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "phoney"

REPORT = re.compile(
    r"REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: \d+\.\d\d ms\t"
    r"Billed Duration: \d+ ms\tMemory Size: (?P<memory>\d+) MB\tMax Memory Used: \d+ MB"
    r"(?P<init>\tInit Duration: \d+\.\d\d ms)?$"
)

APP = """
import json


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    event = scope["aws.event"]
    answer = {
        "function": scope["aws.context"].function_name,
        "routeKey": event["routeKey"],
        "pathParameters": event.get("pathParameters"),
        "method": scope["method"],
        "path": scope["path"],
        "query": scope["query_string"].decode(),
        "body": body.decode("latin-1"),
        "scheme": scope["scheme"],
        "requestId": event["requestContext"]["requestId"],
    }
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": json.dumps(answer).encode()})


def crash(event, context):
    raise RuntimeError("secret detail")


def invalid(event, context):
    kind = event["pathParameters"]["kind"]
    if kind == "status":
        return {"statusCode": "200"}
    if kind == "header":
        return {"statusCode": 200, "headers": {"x-bad": "a\\r\\nset-cookie: evil=1"}}
    return {"statusCode": 200, "body": object()}
"""

CONFIG = """
name = "gw"

[functions.exact]
app = "{module}:app"
routes = ["GET /items/special"]

[functions.items]
app = "{module}:app"
routes = ["GET /items/{{id}}", "POST /items"]

[functions.files]
app = "{module}:app"
routes = ["ANY /files/{{path+}}"]
memory = 256

[functions.crash]
handler = "{module}:crash"
routes = ["GET /crash"]

[functions.invalid]
handler = "{module}:invalid"
routes = ["GET /invalid/{{kind}}"]
"""


def serve(root: Path, log: list[str] | None = None) -> Gateway:
    project = load_project(root)
    gateway = Gateway(project, port=0, log=log.append if log is not None else lambda line: None)
    gateway.start()
    return gateway


@pytest.fixture(scope="module")
def phoney() -> Iterator[httpx.Client]:
    gateway = serve(PHONEY)
    try:
        with httpx.Client(base_url=gateway.url, timeout=30) as client:
            yield client
    finally:
        gateway.close()


@pytest.fixture(scope="module")
def project_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("gateway")
    module = f"gwapp_{uuid.uuid4().hex[:8]}"
    (root / f"{module}.py").write_text(APP)
    (root / "faasport.toml").write_text(textwrap.dedent(CONFIG.format(module=module)))
    yield root
    sys.modules.pop(module, None)
    if str(root) in sys.path:
        sys.path.remove(str(root))


@pytest.fixture(scope="module")
def log() -> list[str]:
    return []


@pytest.fixture(scope="module")
def gateway(project_dir: Path, log: list[str]) -> Iterator[Gateway]:
    gateway = serve(project_dir, log)
    yield gateway
    gateway.close()


@pytest.fixture
def client(gateway: Gateway) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gateway.url, timeout=30) as client:
        yield client


# -- the example app ---------------------------------------------------------------------


def test_json_get(phoney: httpx.Client) -> None:
    response = phoney.get("/")
    assert response.status_code == 200
    assert response.json() == {"message": "hello from phoney"}
    assert response.headers["content-type"] == "application/json"


def test_path_and_query_parameters(phoney: httpx.Client) -> None:
    response = phoney.get("/items/42", params={"q": "blue shoes"})
    assert response.status_code == 200
    assert response.json() == {"item_id": 42, "q": "blue shoes"}


def test_post_json(phoney: httpx.Client) -> None:
    response = phoney.post("/items", json={"name": "phone", "price": 99.5})
    assert response.status_code == 201
    assert response.json() == {"name": "phone", "price": 99.5}


def test_every_set_cookie_header_is_kept(phoney: httpx.Client) -> None:
    response = phoney.get("/login")
    cookies = response.headers.get_list("set-cookie")
    assert len(cookies) == 2
    assert cookies[0].startswith("session=abc123") and cookies[1].startswith("theme=dark")


def test_health_check(phoney: httpx.Client) -> None:
    response = phoney.get("/health")
    assert (response.status_code, response.json()) == (200, {"status": "ok"})


# -- routing and events ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "function", "route_key", "params"),
    [
        ("GET", "/items/special", "exact", "GET /items/special", None),
        ("GET", "/items/7", "items", "GET /items/{id}", {"id": "7"}),
        ("GET", "/items/hello%20world", "items", "GET /items/{id}", {"id": "hello world"}),
        ("POST", "/items", "items", "POST /items", None),
        ("DELETE", "/files/a/b.txt", "files", "ANY /files/{path+}", {"path": "a/b.txt"}),
    ],
)
def test_route_decides_function_and_event(
    client: httpx.Client,
    method: str,
    path: str,
    function: str,
    route_key: str,
    params: dict[str, str] | None,
) -> None:
    response = client.request(method, path + "?a=1&b=2", content=b"payload")
    assert response.status_code == 200
    seen = response.json()
    assert seen["function"] == f"gw-{function}"
    assert seen["routeKey"] == route_key
    assert seen["pathParameters"] == params
    assert (seen["method"], seen["query"], seen["scheme"]) == (method, "a=1&b=2", "http")
    assert seen["body"] == "payload"
    assert response.headers["apigw-requestid"] == seen["requestId"]


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nowhere"), ("DELETE", "/items/7"), ("GET", "/items")]
)
def test_no_route_is_404_without_reaching_a_function(
    client: httpx.Client, log: list[str], method: str, path: str
) -> None:
    before = sum(line.startswith("START") for line in log)
    response = client.request(method, path)
    assert response.status_code == 404
    assert response.json() == {"message": "Not Found"}
    assert sum(line.startswith("START") for line in log) == before


def test_chunked_request_body(client: httpx.Client) -> None:
    response = client.post("/items", content=iter([b"one,", b"two,", b"three"]))
    assert response.status_code == 200
    assert response.json()["body"] == "one,two,three"


# -- failures ----------------------------------------------------------------------------


def test_handler_crash_is_502_and_the_gateway_keeps_serving(
    client: httpx.Client, log: list[str]
) -> None:
    response = client.get("/crash")
    assert response.status_code == 502
    assert response.json() == {"message": "Internal Server Error"}
    assert "secret detail" not in response.text
    assert any("RuntimeError: secret detail" in line for line in log)
    assert client.get("/items/1").status_code == 200
    assert client.get("/crash").status_code == 502


@pytest.mark.parametrize("kind", ["status", "header", "object"])
def test_invalid_result_is_502(client: httpx.Client, kind: str) -> None:
    response = client.get(f"/invalid/{kind}")
    assert response.status_code == 502
    assert response.json() == {"message": "Internal Server Error"}
    assert "evil" not in response.headers.get("set-cookie", "")


def test_body_over_10_mb_is_413_and_the_connection_survives(client: httpx.Client) -> None:
    response = client.post("/items", content=b"x" * (MAX_BODY + 1))
    assert response.status_code == 413
    assert response.json() == {"message": "Request Entity Too Large"}
    assert client.post("/items", content=b"small").status_code == 200


def test_oversized_content_length_is_refused_before_the_body(gateway: Gateway) -> None:
    host, port = gateway.server_address
    with socket.create_connection((str(host), port), timeout=10) as sock:
        sock.sendall(
            b"POST /items HTTP/1.1\r\nhost: local\r\nexpect: 100-continue\r\n"
            b"content-length: %d\r\n\r\n" % (1 << 40)
        )
        answer = b""
        while chunk := sock.recv(65536):  # the gateway closes the connection after it
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 413 ")
    assert answer.endswith(b'{"message":"Request Entity Too Large"}')


# -- protocol and logs -------------------------------------------------------------------


def test_connections_are_kept_alive(gateway: Gateway) -> None:
    host, port = gateway.server_address
    connection = http.client.HTTPConnection(str(host), port, timeout=10)
    try:
        connection.request("GET", "/items/1")
        first = connection.getresponse()
        assert first.status == 200 and first.read()
        sock = connection.sock
        connection.request("GET", "/items/2")
        second = connection.getresponse()
        assert json.loads(second.read())["pathParameters"] == {"id": "2"}
        assert connection.sock is sock
    finally:
        connection.close()


def test_lambda_log_lines(client: httpx.Client, log: list[str]) -> None:
    for _ in range(2):
        assert client.get("/files/x").status_code == 200
    reports = [m for m in map(REPORT.match, log) if m and m["memory"] == "256"]
    assert len(reports) >= 2
    assert reports[0]["init"] and not any(report["init"] for report in reports[1:])
    request_id = reports[-1]["id"]
    start = log.index(f"START RequestId: {request_id} Version: $LATEST")
    assert log[start + 1] == f"END RequestId: {request_id}"


def test_constructing_a_gateway_does_no_io(project_dir: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        gateway = Gateway(load_project(project_dir), port=port, log=lambda line: None)
        assert gateway.invoker is None and gateway.server is None  # nothing bound or started
        with pytest.raises(OSError):
            gateway.start()
    with pytest.raises(RuntimeError, match="not started"):
        _ = gateway.url
