from __future__ import annotations

import sys
from typing import Any

from faasport import aws
from faasport.testing import LambdaClient, LambdaContext, event


def test_environ_follows_pep_3333() -> None:
    seen: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(dict(environ, body=environ["wsgi.input"].read()))
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    payload = event(
        "apigw-v1",
        "PUT",
        "/café",
        query="a=1&a=2",
        body="data",
        headers={"Content-Type": "text/plain", "X-Thing": "1"},
        cookies={"a": "1", "b": "2"},
    )
    context = LambdaContext()
    assert aws.handler(app)(payload, context)["body"] == "ok"
    environ = seen[0]
    assert environ["REQUEST_METHOD"] == "PUT"
    assert environ["SCRIPT_NAME"] == "/prod"
    assert environ["PATH_INFO"] == "/café".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "a=1&a=2"
    assert environ["CONTENT_TYPE"] == "text/plain"
    assert environ["CONTENT_LENGTH"] == "4"
    assert environ["HTTP_X_THING"] == "1"
    assert environ["HTTP_COOKIE"] == "a=1; b=2"
    assert environ["SERVER_NAME"] == "example.com"
    assert environ["SERVER_PORT"] == "443"
    assert environ["SERVER_PROTOCOL"] == "HTTP/1.1"
    assert environ["REMOTE_ADDR"] == "203.0.113.7"
    assert environ["wsgi.version"] == (1, 0)
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["wsgi.errors"] is sys.stderr
    assert environ["wsgi.multithread"] is False
    assert environ["body"] == b"data"
    assert environ["faasport.event"] is payload
    assert environ["faasport.context"] is context


def test_write_callable_exc_info_and_close() -> None:
    closed: list[bool] = []

    class Body:
        def __iter__(self) -> Any:
            yield b"b"
            yield b""
            yield b"c"

        def close(self) -> None:
            closed.append(True)

    def app(environ: dict[str, Any], start_response: Any) -> Any:
        try:
            raise ValueError("first attempt")
        except ValueError:
            start_response("500 Oops", [("X-First", "1")])
            start_response("201 Created", [("X-Second", "2")], sys.exc_info())
        write = start_response.__self__ if hasattr(start_response, "__self__") else None
        assert write is None
        return Body()

    result = LambdaClient(aws.handler(app)).get("/")
    assert result.status == 201
    assert result.header("x-second") == "2"
    assert result.header("x-first") is None
    assert result.body == b"bc"
    assert closed == [True]


def test_wsgi_write_callable() -> None:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "application/octet-stream")])
        write(b"\x00\x01")
        return [b"\x02"]

    result = LambdaClient(aws.handler(app)).get("/")
    assert result.body == b"\x00\x01\x02"
    assert result.raw["isBase64Encoded"] is True


def _environ(text_headers: Any) -> dict[str, Any]:
    from faasport.core.http import HttpRequest
    from faasport.core.wsgi import WsgiBridge

    request = HttpRequest("GET", "/", text_headers=text_headers)
    return WsgiBridge(lambda environ, start_response: []).environ(request)


def test_two_spellings_of_one_header_in_a_header_object_are_combined() -> None:
    # One value per name is the fast path; a name spelt twice shares an environ key.
    environ = _environ({"X-Thing": "1", "Accept": "a", "x-thing": "2", "cookie": "a=1"})
    assert environ["HTTP_X_THING"] == "1,2"
    assert environ["HTTP_ACCEPT"] == "a"
    assert environ["HTTP_COOKIE"] == "a=1"
    assert _environ({"Cookie": "a=1", "cookie": "b=2"})["HTTP_COOKIE"] == "a=1; b=2"
    assert _environ([("X-Thing", "1"), ("x-thing", "2")])["HTTP_X_THING"] == "1,2"


def test_non_ascii_header_values_become_native_strings() -> None:
    app_seen: list[dict[str, Any]] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        app_seen.append(environ)
        start_response("200 OK", [])
        return []

    for kind in ("apigw-v1", "apigw-v2"):
        payload = event(kind, "GET", "/", headers={"X-Name": "café", "X-Plain": "1"})
        aws.handler(app)(payload, LambdaContext())
        assert app_seen[-1]["HTTP_X_NAME"] == "café".encode().decode("latin-1")
        assert app_seen[-1]["HTTP_X_PLAIN"] == "1"


def test_response_headers_in_latin_1_pass_and_others_are_a_500() -> None:
    def app(value: str) -> Any:
        def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
            start_response("200 OK", [("Content-Type", "text/plain"), ("X-Value", value)])
            return [b"ok"]

        return wsgi

    result = LambdaClient(aws.handler(app("café"))).get("/")
    assert (result.status, result.header("x-value")) == (200, "café")
    assert LambdaClient(aws.handler(app("€"))).get("/").status == 500


def test_response_headers_changed_after_the_app_reach_the_client() -> None:
    from faasport.core.http import HttpRequest
    from faasport.core.wsgi import WsgiBridge

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain"), ("Set-Cookie", "a=1")])
        return [b"ok"]

    response = WsgiBridge(app).serve(HttpRequest("GET", "/"))
    assert response.text_headers == [("content-type", "text/plain"), ("set-cookie", "a=1")]
    response.headers.append((b"vary", b"Origin"))  # as the gateway's CORS policy does
    assert response.text_headers is None
    assert response.headers == [
        (b"content-type", b"text/plain"),
        (b"set-cookie", b"a=1"),
        (b"vary", b"Origin"),
    ]


def test_a_raw_non_ascii_query_reaches_the_app_once_encoded_on_both_paths() -> None:
    """QUERY_STRING is the query's UTF-8 bytes seen as latin-1 (PEP 3333), whether the
    environ is made from the canonical request (a fresh handler's first request) or
    straight from the event (every later one)."""
    from faasport.core.http import HttpRequest
    from faasport.core.wsgi import WsgiBridge

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [environ["QUERY_STRING"].encode("latin-1")]

    bridge = WsgiBridge(app)
    response = bridge.serve(HttpRequest("GET", "/", "q=é".encode()))
    assert response.body == "q=é".encode()
    handle = aws.handler(app)
    payload = event("apigw-v2", "GET", "/")
    payload["rawQueryString"] = "q=é"  # as API Gateway sends it: the query as text
    bodies = [handle(dict(payload), LambdaContext())["body"] for _ in range(2)]
    assert bodies == ["q=é", "q=é"]
