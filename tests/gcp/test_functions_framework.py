"""``gcp.handler`` behind the real functions-framework server, driven over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from tests.gcp.conftest import Server

from apps import CHUNKS, GZIP_JSON, PNG

SERVERS = ["fastapi_server", "flask_server"]


@pytest.fixture(params=SERVERS)
def url(request: pytest.FixtureRequest) -> str:
    return str(request.getfixturevalue(request.param).url)


def test_json_round_trip(url: str) -> None:
    response = httpx.post(url + "/echo/items", json={"name": "ü", "n": 1})
    assert response.status_code == 200
    seen = response.json()
    assert seen["method"] == "POST"
    assert json.loads(bytes.fromhex(seen["body"])) == {"name": "ü", "n": 1}
    assert ["content-type", "application/json"] in seen["headers"]


def test_query_string_and_path_as_sent(url: str) -> None:
    response = httpx.get(url + "/echo/caf%C3%A9/a%20b?a=1&a=2&b=x%20y&empty=")
    seen = response.json()
    assert seen["route_path"] == "/echo/café/a b"
    assert seen["query"] == [["a", "1"], ["a", "2"], ["b", "x y"], ["empty", ""]]


def test_binary_request_and_response_bodies(url: str) -> None:
    payload = bytes(range(256)) * 64
    response = httpx.post(
        url + "/echo/bin", content=payload, headers={"content-type": "application/octet-stream"}
    )
    assert bytes.fromhex(response.json()["body"]) == payload
    png = httpx.get(url + "/png")
    assert png.content == PNG
    assert png.headers["content-type"] == "image/png"


def test_gzip_body_passes_untouched(url: str) -> None:
    with httpx.stream("GET", url + "/gzip") as response:
        raw = b"".join(response.iter_raw())
    assert response.headers["content-encoding"] == "gzip"
    assert response.headers["content-type"] == "application/json"
    assert raw == GZIP_JSON


def test_streaming_response(url: str) -> None:
    with httpx.stream("GET", url + "/stream") as response:
        body = b"".join(response.iter_bytes())
    assert response.status_code == 200
    assert body == b"".join(CHUNKS)


def test_every_set_cookie_header(url: str) -> None:
    response = httpx.get(url + "/cookies")
    cookies = response.headers.get_list("set-cookie")
    assert sorted(c.split(";")[0] for c in cookies) == ["a=aaa", "b=bbb", "c=ccc"]
    assert response.text == "cookies"


def test_repeated_response_headers_stay_separate(url: str) -> None:
    assert httpx.get(url + "/tags").headers.get_list("x-tag") == ["one", "two"]


def test_multipart_upload(url: str) -> None:
    content = bytes(range(256)) * 8
    response = httpx.post(
        url + "/upload", files={"file": ("photo.bin", content)}, data={"note": "hello é"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "filename": "photo.bin",
        "size": len(content),
        "sha": content.hex()[:16],
        "note": "hello é",
    }


def test_client_and_scheme_from_the_front_end(url: str) -> None:
    seen = httpx.get(
        url + "/echo/who",
        headers={"x-forwarded-for": "198.51.100.1, 203.0.113.7", "x-forwarded-proto": "https"},
    ).json()
    assert seen["client"][0] == "203.0.113.7"
    assert seen["scheme"] == "https"


def test_app_error_is_a_500_without_details(url: str) -> None:
    response = httpx.get(url + "/boom")
    assert response.status_code == 500
    assert "secret detail" not in response.text


def test_head_has_no_body(url: str) -> None:
    response = httpx.head(url + "/echo/h")
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-type"] == "application/json"


def test_a_chunked_upload_reaches_the_app_whole(url: str) -> None:
    """The server reads the chunks; the app (WSGI too) gets the body with its length."""

    def chunks() -> Iterator[bytes]:
        yield b"hello"
        yield b" world"

    response = httpx.post(url + "/echo/up", content=chunks())
    assert bytes.fromhex(response.json()["body"]) == b"hello world"


def test_a_path_that_is_not_utf8_is_served_as_asgi_and_wsgi_servers_serve_it(url: str) -> None:
    """%FF%FE: ASGI apps get U+FFFD (as uvicorn gives), WSGI apps the bytes as latin-1 (as
    gunicorn gives), never a 500."""
    response = httpx.get(url + "/echo/bad%FF%FE")
    assert response.status_code == 200
    assert response.json()["route_path"] in ("/echo/bad\ufffd\ufffd", "/echo/bad\xff\xfe")


@pytest.mark.parametrize(
    "query",
    [
        {"status": "42"},
        {"status": "600"},
        {"value": "a\r\nset-cookie: injected=1"},
        {"value": "a\x00b"},
        {"name": "x a"},
        {"name": "x:y"},
    ],
    ids=["status-42", "status-600", "line-break", "nul", "space-in-name", "colon-in-name"],
)
def test_a_response_no_server_could_send_is_faasports_500(
    unsendable_server: Server, query: dict[str, str]
) -> None:
    """Werkzeug and gunicorn would send status 42 as it is, or fail with their own error
    page: the app's bug is faasport's 500, naming the request, never the app's words."""
    answer = httpx.get(unsendable_server.url + "/", params=query)
    assert answer.status_code == 500
    assert answer.json()["message"] == "Internal Server Error"
    assert "injected" not in answer.headers.get("set-cookie", "")
    assert httpx.get(unsendable_server.url + "/", params={"status": "201"}).status_code == 201
