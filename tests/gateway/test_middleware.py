"""The ASGI and WSGI middleware themselves: the body reaches the app, policies' answers and
headers reach the client, a streamed response goes on as the app sends it, an error page the
app sent before raising stands, and an app that raises leaves no policy half done."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.gateway.conftest import ENTRY_POINTS, client_for

from faasport import aws, gateway, state
from faasport.gateway.request import Policy, Request, Response
from faasport.testing import HttpClient, LambdaClient, LambdaContext, event


class Stamp(Policy):
    """Adds a header to every answer; refuses paths under /refused."""

    def check(self, request: Request) -> Response | None:
        if request.path.startswith("/refused"):
            return Response.message(418, "I'm a teapot")
        return None

    def finish(self, request: Request, response: Response) -> None:
        response.headers.append(("x-stamp", request.method))


def test_the_body_and_the_answer_pass_through(
    entry: str, make_client: Callable[..., HttpClient]
) -> None:
    client = make_client(entry, [Stamp()])
    result = client.post("/items", body="ünïcode body", query={"a": "1"})
    assert result.status == 200
    assert result.json()["body"] == "ünïcode body"
    assert result.json()["path"].endswith("/items")
    assert result.header("x-stamp") == "POST"
    refused = client.get("/refused/x")
    assert (refused.status, refused.json()) == (418, {"message": "I'm a teapot"})
    assert refused.header("x-stamp") == "GET"


def test_wsgi_write_callable_is_kept() -> None:
    def legacy(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        return [b"returned"]

    client = LambdaClient(aws.handler(gateway.wsgi(legacy, Stamp())))
    result = client.get("/")
    assert (result.status, result.text, result.header("x-stamp")) == (
        200,
        "written returned",
        "GET",
    )


WSGI_MODULE = """
from faasport import gateway
from faasport.gateway.request import Policy


class Stamp(Policy):
    def finish(self, request, response):
        response.headers.append(("x-seen", f"{len(request.body)} bytes"))


def echo(environ, start_response):
    length = int(environ.get("CONTENT_LENGTH") or 0)
    body = environ["wsgi.input"].read(length)
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return [body]


app = gateway.wsgi(echo, Stamp())


def ticks(environ, start_response):
    import time

    start_response("200 OK", [("Content-Type", "text/plain")])
    for i in range(5):
        yield f"tick {i}\\n".encode()
        time.sleep(0.15)


streamed = gateway.wsgi(ticks, gateway.Cors(origins=["https://app.example.com"]))
"""


def test_a_chunked_body_reaches_the_policies_and_the_wsgi_app(tmp_path: Path) -> None:
    """A request without Content-Length (chunked) behind a real WSGI server: the server ends
    the input for the app (``wsgi.input_terminated``), so the middleware reads it all, and
    the app gets it with its length."""
    import httpx

    from servers import gunicorn

    (tmp_path / "wsgi_app.py").write_text(WSGI_MODULE)
    parts = [b"first part, ", b"second part, ", b"x" * 100_000]
    with gunicorn(tmp_path, "wsgi_app:app") as url:
        response = httpx.post(url + "/upload", content=iter(parts), timeout=30)
    assert response.request.headers["transfer-encoding"] == "chunked"
    assert response.status_code == 200
    assert response.content == b"".join(parts)
    assert response.headers["x-seen"] == f"{len(b''.join(parts))} bytes"


def test_a_wsgi_generator_streams_behind_the_policies(tmp_path: Path) -> None:
    import time

    import httpx

    from servers import gunicorn

    (tmp_path / "wsgi_app.py").write_text(WSGI_MODULE)
    origin = "https://app.example.com"
    arrivals: list[tuple[float, str]] = []
    with gunicorn(tmp_path, "wsgi_app:streamed") as url, httpx.Client(timeout=30) as client:
        started = time.perf_counter()
        with client.stream("GET", url + "/ticks", headers={"origin": origin}) as response:
            assert response.headers["access-control-allow-origin"] == origin
            for line in response.iter_lines():
                arrivals.append((time.perf_counter() - started, line))
    assert [line for _, line in arrivals] == [f"tick {i}" for i in range(5)]
    assert arrivals[-1][0] - arrivals[0][0] > 0.4  # 150 ms apart, not all at the end


def wsgi_feed(calls: list[int], fail: bool = False) -> Any:
    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterator[bytes]:
        calls.append(1)
        start_response("200 OK", [("Content-Type", "text/event-stream")])
        yield b"data: 1\n\n"
        if fail:
            raise RuntimeError("the feed broke")
        yield b"data: 2\n\n"

    return app


def wsgi_environ() -> dict[str, Any]:
    from io import BytesIO

    return {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/feed",
        "QUERY_STRING": "",
        "HTTP_IDEMPOTENCY_KEY": "k",
        "wsgi.input": BytesIO(b""),
    }


def wsgi_serve(app: Any, read: int | None = None) -> tuple[str, list[tuple[str, str]], bytes]:
    """As a WSGI server: the status and headers, and the body (its first ``read`` chunks);
    the iterable is closed in the end, read whole or not."""
    head: list[Any] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        head[:] = [status, headers]
        return lambda data: None

    result = app(wsgi_environ(), start_response)
    chunks: list[bytes] = []
    try:
        for chunk in result:
            if read is not None and len(chunks) == read:
                break
            chunks.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    return head[0], head[1], b"".join(chunks)


def test_a_wsgi_stream_is_replayed_whole_once_it_ended_whole(tmp_path: Path) -> None:
    store = state.open(f"sqlite:///{tmp_path}/state.db")
    calls: list[int] = []
    app = gateway.wsgi(wsgi_feed(calls), gateway.Idempotency(store))
    status, _, body = wsgi_serve(app)
    assert (status, body) == ("200 OK", b"data: 1\n\ndata: 2\n\n")
    status, headers, body = wsgi_serve(app)
    assert (status, body) == ("200 OK", b"data: 1\n\ndata: 2\n\n")
    assert ("idempotency-replayed", "true") in headers
    assert len(calls) == 1


@pytest.mark.parametrize("how", ["broken", "left", "unread"])
def test_a_wsgi_stream_that_did_not_end_whole_is_not_stored(tmp_path: Path, how: str) -> None:
    """The app raised mid-stream, the client left after the first chunk, or the server
    closed the body before reading any of it: the key is released."""
    store = state.open(f"sqlite:///{tmp_path}/state.db")
    calls: list[int] = []
    app = gateway.wsgi(wsgi_feed(calls, fail=how == "broken"), gateway.Idempotency(store))
    if how == "broken":
        with pytest.raises(RuntimeError, match="the feed broke"):
            wsgi_serve(app)
    else:
        wsgi_serve(app, read=1 if how == "left" else 0)
    # The key is free: the next request runs the app (and is stored, unless it breaks).
    whole = gateway.wsgi(wsgi_feed(calls), gateway.Idempotency(store))
    _, headers, body = wsgi_serve(whole)
    assert body == b"data: 1\n\ndata: 2\n\n"
    assert ("idempotency-replayed", "true") not in headers


def test_an_app_that_raises_releases_its_idempotency_key(tmp_path: Path) -> None:
    store = state.open(f"sqlite:///{tmp_path}/state.db")
    calls: list[int] = []

    def broken(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        calls.append(1)
        raise RuntimeError("bug")

    policy = gateway.Idempotency(store)
    app = gateway.wsgi(broken, policy)
    client = LambdaClient(aws.handler(app))
    for _ in range(2):
        assert client.post("/pay", headers={"idempotency-key": "k"}).status == 500
    assert len(calls) == 2  # the key was released after each failure


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_claims_from_api_gateway_itself_are_read_too(kind: str) -> None:
    """Behind API Gateway's own authorizer the app reads the same shape from the event."""
    found: list[Any] = []

    async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        found.append(gateway.authorizer(scope))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        found.append(gateway.authorizer(environ))
        start_response("204 No Content", [])
        return []

    handler = aws.handler(asgi_app if kind == "asgi" else wsgi_app, lifespan="off")
    payload = event("apigw-v2", "GET", "/")
    payload["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": "ada"}, "scopes": None}}
    assert handler(payload, LambdaContext())["statusCode"] == 204
    assert found == [{"jwt": {"claims": {"sub": "ada"}, "scopes": None}}]


def starlette_with_error_page() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request as StarletteRequest
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def broken(request: StarletteRequest) -> JSONResponse:
        raise RuntimeError("bug")

    async def page(request: StarletteRequest, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": "our own page"}, status_code=500)

    return Starlette(
        routes=[Route("/broken", broken, methods=["GET", "POST"])],
        exception_handlers={Exception: page},
    )


@pytest.mark.parametrize("where", [e for e in ENTRY_POINTS if e != "wsgi"])
def test_an_error_page_the_app_sent_before_raising_stands(where: str) -> None:
    """Starlette's ServerErrorMiddleware sends the app's error page, then re-raises for the
    server to log: the policies finish that page and the client gets it."""
    client = client_for(where, [Stamp()], starlette_with_error_page())
    result = client.get("/broken")
    assert (result.status, result.json()) == (500, {"error": "our own page"})
    assert result.header("x-stamp") == "GET"


def test_an_error_page_is_not_stored_and_the_key_is_released(tmp_path: Path) -> None:
    store = state.open(f"sqlite:///{tmp_path}/state.db")
    client = client_for("function-url", [gateway.Idempotency(store)], starlette_with_error_page())
    for _ in range(2):
        result = client.post("/broken", headers={"idempotency-key": "k"})
        assert result.status == 500
        assert result.header("idempotency-replayed") is None


def scope() -> dict[str, Any]:
    """``POST /feed`` with an idempotency key and an origin."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "https",
        "path": "/feed",
        "raw_path": b"/feed",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"idempotency-key", b"k"), (b"origin", b"https://a.example")],
        "client": ("203.0.113.7", 1234),
        "server": ("api.example.com", 443),
    }


class Served:
    """What the server got from the middleware for one request."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []
        self.first_chunk = asyncio.Event()
        self.complete = asyncio.Event()
        self.received = False

    async def receive(self) -> dict[str, Any]:
        """The request, then (as a server does) nothing until the client goes away, which
        it does once the response is complete."""
        if not self.received:
            self.received = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.complete.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        self.messages.append(message)
        if message["type"] == "http.response.body":
            (self.first_chunk if message.get("more_body") else self.complete).set()

    def run(self, app: Any, request: dict[str, Any] | None = None) -> Served:
        """Serve one request (``request``, else ``scope()``) with ``app``."""

        async def serve() -> None:
            await app(request or scope(), self.receive, self.send)

        asyncio.run(serve())
        return self

    @property
    def head(self) -> dict[str, Any]:
        return self.messages[0]

    @property
    def body(self) -> bytes:
        return b"".join(m.get("body", b"") for m in self.messages[1:])


def streaming_app(served: list[Served], calls: list[int], fail: bool = False) -> Any:
    """Sends its first chunk, then waits until the server has it before sending the rest:
    a middleware holding the response back never lets it finish."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        calls.append(1)
        headers = [(b"content-type", b"text/event-stream")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"data: 1\n\n", "more_body": True})
        await asyncio.wait_for(served[-1].first_chunk.wait(), 5)
        if fail:
            raise RuntimeError("the feed broke")
        await send({"type": "http.response.body", "body": b"data: 2\n\n", "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return app


def test_a_streamed_response_goes_out_as_the_app_sends_it_and_is_replayed_whole(
    tmp_path: Path,
) -> None:
    store = state.open(f"sqlite:///{tmp_path}/state.db")
    served: list[Served] = []
    calls: list[int] = []
    app = gateway.asgi(
        streaming_app(served, calls),
        gateway.Cors(origins=["https://a.example"]),
        gateway.Idempotency(store),
    )

    def request() -> Served:
        served.append(Served())
        return served[-1].run(app)

    first = request()
    assert first.head["status"] == 200
    assert (b"access-control-allow-origin", b"https://a.example") in first.head["headers"]
    assert [m.get("more_body", False) for m in first.messages[1:]] == [True, True, False]
    assert first.body == b"data: 1\n\ndata: 2\n\n"
    repeat = request()
    assert len(calls) == 1
    assert (b"idempotency-replayed", b"true") in repeat.head["headers"]
    assert repeat.body == first.body


def test_a_stream_the_app_broke_is_not_stored(tmp_path: Path) -> None:
    store = state.open(f"sqlite:///{tmp_path}/state.db")
    served: list[Served] = []
    calls: list[int] = []
    app = gateway.asgi(streaming_app(served, calls, fail=True), gateway.Idempotency(store))

    for _ in range(2):
        served.append(Served())
        with pytest.raises(RuntimeError, match="the feed broke"):
            served[-1].run(app)
        assert served[-1].body == b"data: 1\n\n"
    assert len(calls) == 2  # the key was released: the repeat ran again


def test_a_stream_the_app_gave_up_is_not_stored_and_nothing_is_raised(tmp_path: Path) -> None:
    """Starlette's StreamingResponse returns without its last chunk when the client went
    away: the server knows what to make of that (uvicorn says nothing); the middleware only
    releases the key."""
    store = state.open(f"sqlite:///{tmp_path}/state.db")
    calls: list[int] = []

    async def gave_up(scope: dict[str, Any], receive: Any, send: Any) -> None:
        calls.append(1)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"data: 1\n\n", "more_body": True})

    app = gateway.asgi(gave_up, gateway.Idempotency(store))
    for _ in range(2):
        assert Served().run(app).body == b"data: 1\n\n"
    assert len(calls) == 2


def test_an_app_that_returns_without_a_response_releases_its_key(tmp_path: Path) -> None:
    store = state.open(f"sqlite:///{tmp_path}/state.db")
    calls: list[int] = []

    async def silent(scope: dict[str, Any], receive: Any, send: Any) -> None:
        calls.append(1)

    app = gateway.asgi(silent, gateway.Idempotency(store))
    for _ in range(2):
        assert Served().run(app).messages == []  # the server answers as for any such app
    assert len(calls) == 2
    client = client_for("function-url", [Stamp()], silent)
    assert client.get("/").status == 500


def test_a_file_is_sent_as_body_where_the_server_offers_pathsend(tmp_path: Path) -> None:
    """Starlette's FileResponse hands a server that offers ``http.response.pathsend`` the
    file's path instead of its bytes. The policies need the body (idempotency stores it),
    so the app behind them is not offered the extensions that carry the body outside
    ``http.response.body`` messages, and sends the file as body."""
    from starlette.applications import Starlette
    from starlette.responses import FileResponse
    from starlette.routing import Route

    document = tmp_path / "report.txt"
    document.write_bytes(b"the whole report\n" * 100)

    async def report(request: object) -> FileResponse:
        return FileResponse(document)

    starlette = Starlette(routes=[Route("/feed", report, methods=["POST"])])
    store = state.open(f"sqlite:///{tmp_path}/state.db")
    app = gateway.asgi(starlette, Stamp(), gateway.Idempotency(store))
    offered = scope()
    offered["extensions"] = {
        "http.response.pathsend": {},
        "http.response.zerocopy": {},
        "http.response.trailers": {},
    }
    first, repeat = Served().run(app, offered), Served().run(app, offered)
    assert [m["type"] for m in first.messages] == ["http.response.start", "http.response.body"]
    assert first.body == document.read_bytes()
    assert (b"x-stamp", b"POST") in first.head["headers"]
    assert repeat.body == document.read_bytes()
    assert (b"idempotency-replayed", b"true") in repeat.head["headers"]


def session_app(seen: list[dict[str, Any]], before: bool) -> Any:
    """Counts visits in the session before its head goes out (``before``), and notes the
    last visit's kind while its body streams."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        session = gateway.session(scope)
        seen.append(dict(session))
        if before:
            session["visits"] = session.get("visits", 0) + 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"data: 1\n\n", "more_body": True})
        session["last"] = "streamed"
        await send({"type": "http.response.body", "body": b""})

    return app


def with_cookie(served: Served) -> dict[str, Any]:
    request = scope()
    cookie = dict(served.head["headers"])[b"set-cookie"].split(b";")[0]
    request["headers"] = [*request["headers"], (b"cookie", cookie)]
    return request


def test_session_changes_made_while_the_body_streams_are_stored(tmp_path: Path) -> None:
    sessions = gateway.Sessions(
        state.open(f"sqlite:///{tmp_path}/state.db"), secret="s" * 32, secure=False
    )
    seen: list[dict[str, Any]] = []
    app = gateway.asgi(session_app(seen, before=True), sessions)
    first = Served().run(app)
    Served().run(app, with_cookie(first))
    assert seen == [{}, {"visits": 1, "last": "streamed"}]


def test_a_new_session_begun_while_the_body_streams_is_not_kept_and_the_log_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sessions = gateway.Sessions(
        state.open(f"sqlite:///{tmp_path}/state.db"), secret="s" * 32, secure=False
    )
    seen: list[dict[str, Any]] = []
    first = Served().run(gateway.asgi(session_app(seen, before=False), sessions))
    assert b"set-cookie" not in dict(first.head["headers"])
    assert "session data set after the response began streaming" in capsys.readouterr().out


def test_a_second_start_response_without_exc_info_is_refused(tmp_path: Path) -> None:
    """PEP 3333: only an error (``exc_info``) may replace a head not sent yet. A refused
    request releases its idempotency key."""
    store = state.open(f"sqlite:///{tmp_path}/state.db")

    def twice(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        start_response("201 Created", [])
        return [b"x"]

    def replaced(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        try:
            raise ValueError("late")
        except ValueError:
            start_response("500 Internal Server Error", [], sys.exc_info())
        return [b"oops"]

    with pytest.raises(RuntimeError, match="twice without exc_info"):
        wsgi_serve(gateway.wsgi(twice, gateway.Idempotency(store)))
    status, _, body = wsgi_serve(gateway.wsgi(replaced, gateway.Idempotency(store)))
    assert (status, body) == ("500 Internal Server Error", b"oops")
