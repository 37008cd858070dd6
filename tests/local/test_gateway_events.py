"""What reaches the function through the local gateway: Lambda's 6 MB limit measured on the
event, query strings sent as raw bytes, and the REST API's stage and 1.0 events."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from faasport.config import load_project
from faasport.deploy.aws.model import REST_STAGE
from faasport.local import gateway as gateway_module
from faasport.local.gateway import Gateway
from rawhttp import exchange, statuses, write_project

CONFIG = """
name = "events"
{api}
[functions.echo]
handler = "{{module}}:handle"
routes = ["ANY /{{{{proxy+}}}}", "GET /items/{{{{id}}}}"]
"""

MB = 1024 * 1024


def start(root: Path, api: str = "") -> Gateway:
    write_project(root, CONFIG.format(api=api))
    gateway = Gateway(load_project(root), port=0, log=lambda line: None)
    gateway.start()
    return gateway


@pytest.fixture(scope="module")
def http_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start(tmp_path_factory.mktemp("http"))
    yield gateway
    gateway.close()


@pytest.fixture(scope="module")
def rest_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gateway = start(tmp_path_factory.mktemp("rest"), '[api]\ntype = "rest"\n')
    yield gateway
    gateway.close()


def address(gateway: Gateway) -> tuple[str, int]:
    host, port = gateway.server_address
    return str(host), port


# -- Lambda's limit on the event -----------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "content_type", "status"),
    [
        (int(5.9 * MB), "application/octet-stream", 413),  # ~7.9 MB once base64-encoded
        (int(6.1 * MB), "text/plain", 413),
        (int(4.4 * MB), "application/octet-stream", 200),  # ~5.9 MB encoded
        (int(5.9 * MB), "text/plain", 200),
    ],
)
def test_synchronous_event_over_6_mb_is_413(
    http_api: Gateway, size: int, content_type: str, status: int
) -> None:
    response = httpx.post(
        http_api.url + "/upload",
        content=b"a" * size,
        headers={"content-type": content_type},
        timeout=60,
    )
    assert response.status_code == status
    if status == 413:
        assert response.json() == {"message": "Request Entity Too Large"}
    else:
        assert response.json()["size"] >= size


def test_the_event_limit_is_lambdas() -> None:
    assert gateway_module.MAX_EVENT == 6 * MB


# -- raw query strings ---------------------------------------------------------------------


def test_a_raw_utf_8_query_reaches_the_function_once_encoded(http_api: Gateway) -> None:
    raw = "GET /echo?q=\u00e9&r=%C3%A9 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    answer = exchange(address(http_api), raw.encode())
    assert statuses(answer) == [200]
    seen = json.loads(answer.partition(b"\r\n\r\n")[2])
    assert seen["query"] == "q=%C3%A9&r=%C3%A9"


def test_a_raw_utf_8_query_in_a_rest_event(rest_api: Gateway) -> None:
    raw = "GET /prod/echo?q=\u00e9 HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    answer = exchange(address(rest_api), raw.encode())
    assert statuses(answer) == [200]
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["params"] == {"q": "\u00e9"}


# -- header text ---------------------------------------------------------------------------

HEADERS = (
    b"host: x\r\nx-name: caf\xc3\xa9\r\nx-twice: a\r\nx-twice: b\r\n"
    b"x-forwarded-for: 10.0.0.1\r\nx-forwarded-port: 1\r\nconnection: close\r\n"
)


@pytest.mark.parametrize("pieces", [False, True], ids=["whole", "in-pieces"])
def test_header_values_reach_a_2_0_event_as_utf_8_text(http_api: Gateway, pieces: bool) -> None:
    head = b"GET /echo HTTP/1.1\r\n" + HEADERS + b"\r\n"
    if pieces:  # the stream reader's request, not the one read whole
        head = head.replace(b"\r\n\r\n", b"\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n")
    answer = exchange(address(http_api), head)
    assert statuses(answer) == [200]
    headers = json.loads(answer.partition(b"\r\n\r\n")[2])["headers"]
    assert headers["x-name"] == "caf\u00e9"
    assert headers["x-twice"] == "a,b"
    assert headers["x-forwarded-for"] == "10.0.0.1, 127.0.0.1"
    assert headers["x-forwarded-port"] == str(http_api.server_address[1])
    assert headers["x-forwarded-proto"] == "http"


def test_header_values_reach_a_1_0_event_as_utf_8_text(rest_api: Gateway) -> None:
    answer = exchange(address(rest_api), b"GET /prod/echo HTTP/1.1\r\n" + HEADERS + b"\r\n")
    assert statuses(answer) == [200]
    headers = json.loads(answer.partition(b"\r\n\r\n")[2])["headers"]
    assert (headers["x-name"], headers["x-twice"]) == ("caf\u00e9", "b")


@pytest.mark.parametrize("api", ["http", "rest"])
def test_a_header_value_that_is_not_utf_8_is_400(
    http_api: Gateway, rest_api: Gateway, api: str
) -> None:
    gateway, path = (http_api, b"/echo") if api == "http" else (rest_api, b"/prod/echo")
    request = (
        b"GET " + path + b" HTTP/1.1\r\nhost: x\r\nx-name: caf\xe9\r\nconnection: close\r\n\r\n"
    )
    answer = exchange(address(gateway), request)
    assert statuses(answer) == [400]
    assert answer.endswith(b'{"message":"Bad Request"}')


# -- the REST API: its stage and 1.0 events ------------------------------------------------


def test_rest_api_is_served_under_its_stage_with_1_0_events(rest_api: Gateway) -> None:
    assert rest_api.url.endswith(f"/{REST_STAGE}")
    response = httpx.get(rest_api.url + "/items/7", params={"a": "1"})
    assert response.status_code == 200
    seen = response.json()
    assert seen["version"] == "1.0"
    assert seen["stage"] == "prod"
    assert seen["path"] == "/items/7"
    assert seen["resource"] == "/items/{id}"
    assert seen["pathParameters"] == {"id": "7"}
    assert seen["params"] == {"a": "1"}
    deep = httpx.delete(rest_api.url + "/files/a/b.txt").json()
    assert (deep["resource"], deep["pathParameters"]) == ("/{proxy+}", {"proxy": "files/a/b.txt"})


def test_rest_api_outside_its_stage_never_reaches_the_function(rest_api: Gateway) -> None:
    host, port = rest_api.server_address
    for path in ("/items/7", "/", "/production/items/7"):
        response = httpx.get(f"http://{host}:{port}{path}")
        assert response.status_code == 403
        assert response.json() == {"message": "Forbidden"}


def test_http_api_is_served_at_the_root_with_2_0_events(http_api: Gateway) -> None:
    seen = httpx.get(http_api.url + "/items/7").json()
    assert (seen["version"], seen["stage"], seen["path"]) == ("2.0", "$default", "/items/7")
    assert httpx.get(http_api.url + "/prod/items/7").json()["path"] == "/prod/items/7"
