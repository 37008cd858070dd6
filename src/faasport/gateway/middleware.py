"""Policies as ASGI and WSGI middleware, so a function behind any front end (Google Cloud,
Azure, a bare Lambda Function URL) enforces what API Gateway would::

    from faasport import gateway

    app = gateway.asgi(app, gateway.Cors(origins=[...]), gateway.JwtAuthorizer(...))

The request body is read before the policies run (idempotency may hash it). The policies
finish the app's response once its head and first body part are known (they add headers,
idempotency stores it): a streamed response (ASGI body messages with ``more_body``, a WSGI
body that is not a list) goes on to the client as the app sends it, and idempotency stores
it once it has ended whole. An ASGI app that raises after completing its response
(Starlette's error pages do) keeps that response; the exception goes on to the server,
which logs it.
``scope`` / ``environ`` get ``"faasport.authorizer"`` and ``"faasport.session"`` when a
policy set them. A WebSocket handshake (ASGI) passes the same checks before the app sees it.
"""

from __future__ import annotations

from faasport.core.http import status_line
from faasport.gateway.pipeline import Finishing, Pipeline
from faasport.gateway.request import Policy, Request, Response, note_deadline

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable, Iterator
    from typing import Any

    Scope = dict[str, Any]
    Message = dict[str, Any]
    Receive = Callable[[], Awaitable[Message]]
    Send = Callable[[Message], Awaitable[None]]
    ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]
    WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

#: What reaches the app from ``Request.context``: context key -> scope / environ key.
EXPOSED = {"authorizer": "faasport.authorizer", "session": "faasport.session"}


def asgi(app: ASGIApp, *policies: Policy) -> ASGIApp:
    """``app`` behind ``policies`` (run in this order). A WebSocket handshake passes the
    policies' checks too; other scopes (lifespan) pass through."""
    pipeline = Pipeline(policies)

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "websocket":
            await _websocket(app, pipeline, scope, receive, send)
            return
        if kind != "http":
            await app(scope, receive, send)
            return
        chunks = []
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        body = b"".join(chunks)
        request = _request(scope, scope["method"], body)
        entered, answer = pipeline.enter(request)
        if answer is not None:
            answer = pipeline.leave(entered, request, answer)
            await send(_start(answer))
            await send({"type": "http.response.body", "body": answer.body})
            return
        inner = _exposed(scope, request)
        extensions = scope.get("extensions")
        if extensions and not BODY_ELSEWHERE.isdisjoint(extensions):
            inner["extensions"] = {k: v for k, v in extensions.items() if k not in BODY_ELSEWHERE}
        finishing = Finishing(pipeline, entered, request)
        relay = _Relay(finishing, send)
        sent = False

        async def replay() -> Message:
            nonlocal sent
            if sent:
                return await receive()
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        try:
            await app(inner, replay, relay.send)
        finally:
            # Without a whole response (no answer, a stream it broke or gave up when the
            # client left) the policies give the request up; the server sees what the app
            # sent and answers or logs as it does for any app.
            finishing.ended(whole=False)

    return middleware


def _request(scope: Scope, method: str, body: bytes) -> Request:
    headers: dict[str, str] = {}
    for key, value in scope.get("headers", ()):
        _add(headers, key.decode("latin-1").lower(), value.decode("latin-1"))
    client = scope.get("client")
    # Routes are matched without the prefix in front of the app (stage, routePrefix).
    path, root = scope.get("path", "/"), scope.get("root_path", "")
    if root and path.startswith(root):
        path = path[len(root) :] or "/"
    request = Request(
        method,
        path,
        headers,
        client[0] if client else "",
        scope.get("query_string", b"").decode("latin-1"),
        body,
    )
    note_deadline(request, scope.get("aws.context"))
    return request


def _exposed(scope: Scope, request: Request) -> Scope:
    """The app's scope: the server's, with what the policies learnt (EXPOSED)."""
    inner = dict(scope)
    for name, key in EXPOSED.items():
        if name in request.context:
            inner[key] = request.context[name]
    return inner


async def _websocket(
    app: ASGIApp, pipeline: Pipeline, scope: Scope, receive: Receive, send: Send
) -> None:
    """A WebSocket handshake goes through the policies' checks as the ``GET`` of its path it
    is: a policy's answer (401, 403, 429) refuses it before the app sees the connection,
    as that answer where the server offers ``websocket.http.response``, else as the
    server's 403. When the app accepts, the policies finish the handshake's response (their
    headers join the accept's); when it refuses or fails first, they give the request up."""
    request = _request(scope, "GET", b"")
    entered, answer = pipeline.enter(request)
    if answer is not None:
        answer = pipeline.leave(entered, request, answer)
        message = await receive()  # websocket.connect
        if message["type"] != "websocket.connect":
            return
        if "websocket.http.response" in (scope.get("extensions") or {}):
            start = _start(answer)
            start["type"] = "websocket.http.response.start"
            await send(start)
            await send({"type": "websocket.http.response.body", "body": answer.body})
        else:
            await send({"type": "websocket.close", "code": 1008})
        return
    accepted = False

    async def relay(message: Message) -> None:
        nonlocal accepted
        if message["type"] == "websocket.accept" and not accepted:
            accepted = True
            finished = pipeline.leave(entered, request, Response(101, []))
            headers = list(message.get("headers") or ())
            headers += _start(finished)["headers"]
            message = {**message, "headers": headers}
        await send(message)

    try:
        await app(_exposed(scope, request), receive, relay)
    finally:
        if not accepted:
            pipeline.fail(entered, request)


#: Server extensions that carry the response body outside ``http.response.body`` messages
#: (a file's path, a file descriptor) or after it (trailers): not offered to the app, whose
#: body the policies need (idempotency stores it), so it sends its body as messages.
BODY_ELSEWHERE = frozenset(
    ("http.response.pathsend", "http.response.zerocopy", "http.response.trailers")
)


class _Relay:
    """The ``send`` an app behind the policies gets: the policies finish the response as
    soon as its head and first body part are known, and the body goes on to the client as
    the app sends it (a streamed response is not held back). An app that raises after its
    response is complete (Starlette's error pages do) leaves that response standing."""

    def __init__(self, finishing: Finishing, send: Send) -> None:
        self.finishing = finishing
        self.downstream = send
        self.response: Response | None = None  # the head the app sent, until it goes out
        self.complete = False

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if self.complete and kind.startswith("http.response."):
            raise RuntimeError("ASGI app sent a message after its response was complete")
        finishing = self.finishing
        if kind == "http.response.start":
            if self.response is not None or finishing.started:
                raise RuntimeError("ASGI app sent 'http.response.start' twice")
            self.response = Response(
                message["status"],
                [
                    (k.decode("latin-1").lower(), v.decode("latin-1"))
                    for k, v in message.get("headers", ())
                ],
            )
            return
        if kind != "http.response.body":
            await self.downstream(message)
            return
        chunk = bytes(message.get("body", b""))
        more = bool(message.get("more_body"))
        if not finishing.started:
            response = self.response
            if response is None:
                raise RuntimeError("ASGI app sent a body before 'http.response.start'")
            self.response = None
            if not more:  # the whole response in one message
                response.body = chunk
                answer = finishing.head(response, streams=False)
                self.complete = True
                await self.downstream(_start(answer))
                await self.downstream({"type": "http.response.body", "body": answer.body})
                return
            await self.downstream(_start(finishing.head(response, streams=True)))
        finishing.keep(chunk)
        await self.downstream({"type": "http.response.body", "body": chunk, "more_body": more})
        if not more:
            self.complete = True
            finishing.ended(whole=True)


def _start(answer: Response) -> Message:
    return {
        "type": "http.response.start",
        "status": answer.status,
        "headers": [(k.encode("latin-1"), v.encode("latin-1")) for k, v in answer.headers],
    }


def wsgi(app: WSGIApp, *policies: Policy) -> WSGIApp:
    """``app`` behind ``policies`` (run in this order)."""
    from io import BytesIO

    pipeline = Pipeline(policies)

    def middleware(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        body = _wsgi_body(environ)
        headers: dict[str, str] = {}
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                _add(headers, key[5:].replace("_", "-").lower(), value)
        for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(key):
                headers[key.replace("_", "-").lower()] = environ[key]
        request = Request(
            environ.get("REQUEST_METHOD", "GET"),
            environ.get("PATH_INFO", "/"),
            headers,
            environ.get("REMOTE_ADDR", ""),
            environ.get("QUERY_STRING", ""),
            body,
        )
        note_deadline(request, environ.get("faasport.context"))
        entered, answer = pipeline.enter(request)
        if answer is not None:
            answer = pipeline.leave(entered, request, answer)
            start_response(status_line(answer.status), answer.headers)
            return [answer.body]
        inner = dict(environ)
        # The body is read: the app gets it whole, with its length.
        inner["wsgi.input"] = BytesIO(body)
        inner["wsgi.input_terminated"] = True
        inner["CONTENT_LENGTH"] = str(len(body))
        for name, key in EXPOSED.items():
            if name in request.context:
                inner[key] = request.context[name]
        finishing = Finishing(pipeline, entered, request)
        relay = _WsgiRelay(finishing, start_response)
        try:
            result = app(inner, relay.start_response)
        except BaseException:
            finishing.ended(whole=False)
            raise
        return relay.body(result)

    return middleware


class _WsgiRelay:
    """``start_response`` for a WSGI app behind the policies. A body the app returns as a
    list is whole: the policies finish it, then it goes out. Any other iterable (a
    generator), or data given to ``write``, streams: the policies finish the head before
    the first chunk goes out, and a policy that needs the body gets it at the end."""

    def __init__(self, finishing: Finishing, send: Callable[..., Any]) -> None:
        self.finishing = finishing
        self.server_start = send
        self.status: str | None = None  # the app's status line and headers, until sent
        self.headers: list[tuple[str, str]] = []
        self.server_write: Callable[[bytes], object] | None = None

    def start_response(
        self, status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], None]:
        if exc_info is not None:
            if self.finishing.started:  # the head went out already
                raise exc_info[1].with_traceback(exc_info[2])
        elif self.status is not None:
            raise RuntimeError("WSGI app called start_response twice without exc_info")
        self.status, self.headers = status, headers
        return self.write

    def write(self, data: bytes) -> None:
        """The app's legacy ``write``: the response streams from here on."""
        data = self.chunk(data)
        assert self.server_write is not None
        self.server_write(data)

    def body(self, result: Iterable[bytes]) -> Iterable[bytes]:
        if not self.finishing.started and type(result) is list:
            try:
                data = b"".join(result)
            except BaseException:
                self.finishing.ended(whole=False)
                raise
            return [self._head(data)]
        return _Streaming(self, result)

    def chunk(self, data: bytes) -> bytes:
        """A chunk of a streamed body on its way out (the head goes first)."""
        if not self.finishing.started:
            self._head(None)
        self.finishing.keep(data)
        return data

    def _head(self, body: bytes | None) -> bytes:
        """Send the head, the policies having finished it: with the whole ``body``, or
        (None) for a body that streams. Returns the body to send."""
        if self.status is None:
            self.finishing.ended(whole=False)
            raise RuntimeError("WSGI app returned without calling start_response")
        status = int(self.status.split(" ", 1)[0])
        response = Response(status, [(k.lower(), v) for k, v in self.headers], body or b"")
        answer = self.finishing.head(response, streams=body is None)
        line = self.status if answer.status == status else status_line(answer.status)
        self.server_write = self.server_start(line, answer.headers)
        return answer.body


class _Streaming:
    """A WSGI app's body going out as it comes; the server closes it (PEP 3333) whether it
    read it all or not, which tells the policies how the stream ended."""

    def __init__(self, relay: _WsgiRelay, result: Iterable[bytes]) -> None:
        self.relay = relay
        self.result = result
        self.whole = False

    def __iter__(self) -> Iterator[bytes]:
        relay = self.relay
        for data in self.result:
            if data:
                yield relay.chunk(data)
        relay.chunk(b"")  # an empty body: the head still goes out
        self.whole = True

    def close(self) -> None:
        close = getattr(self.result, "close", None)
        try:
            if close is not None:
                close()
        finally:
            self.relay.finishing.ended(self.whole)


def _wsgi_body(environ: dict[str, Any]) -> bytes:
    """The request body: ``CONTENT_LENGTH`` bytes, or all of a chunked body when the server
    ends the input stream for the app (``wsgi.input_terminated``: gunicorn, waitress,
    Werkzeug's server)."""
    given = environ.get("CONTENT_LENGTH")
    if given:
        try:
            length = int(given)
        except ValueError:
            return b""
        if length <= 0:
            return b""
    elif environ.get("wsgi.input_terminated"):
        length = -1  # read to the end
    else:
        return b""
    data: bytes = environ["wsgi.input"].read(length)
    return data


def _add(headers: dict[str, str], name: str, value: str) -> None:
    if name in headers:
        headers[name] += ("; " if name == "cookie" else ", ") + value
    else:
        headers[name] = value


def authorizer(carrier: dict[str, Any]) -> dict[str, Any] | None:
    """What the authorizer said about this request, as API Gateway's
    ``requestContext.authorizer`` (``{"jwt": {"claims": ..., "scopes": ...}}``): from the
    middleware, or from the Lambda event when API Gateway authorized it. ``carrier`` is the
    ASGI scope or the WSGI environ."""
    found = carrier.get("faasport.authorizer")
    if found is not None:
        return dict(found)
    event = carrier.get("aws.event") or carrier.get("faasport.event")
    if isinstance(event, dict):
        context = event.get("requestContext")
        if isinstance(context, dict) and isinstance(context.get("authorizer"), dict):
            return dict(context["authorizer"])
    return None


def session(carrier: dict[str, Any]) -> Any:
    """The :class:`~faasport.gateway.sessions.Session` of this request (ASGI scope or
    WSGI environ), or None without the sessions policy."""
    return carrier.get("faasport.session")
