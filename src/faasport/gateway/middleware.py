"""Policies as ASGI and WSGI middleware, so a function behind any front end (Google Cloud,
Azure, a bare Lambda Function URL) enforces what API Gateway would::

    from faasport import gateway

    app = gateway.asgi(app, gateway.Cors(origins=[...]), gateway.JwtAuthorizer(...))

The request body is read before the policies run (idempotency may hash it). The policies
finish the app's response once its head and first body part are known (they add headers,
idempotency stores it): an ASGI app's streamed response goes on to the client as the app
sends it, and idempotency stores it once it has ended whole. A WSGI app's response is
collected first. An ASGI app that raises after completing its response (Starlette's error
pages do) keeps that response; the exception goes on to the server, which logs it.
``scope`` / ``environ`` get ``"faasport.authorizer"`` and ``"faasport.session"`` when a
policy set them.
"""

from __future__ import annotations

from faasport.gateway.pipeline import Pipeline
from faasport.gateway.request import Policy, Request, Response, StreamedBody

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Iterable
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
    """``app`` behind ``policies`` (run in this order); non-HTTP scopes pass through."""
    pipeline = Pipeline(policies)

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
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
        headers: dict[str, str] = {}
        for key, value in scope.get("headers", ()):
            _add(headers, key.decode("latin-1").lower(), value.decode("latin-1"))
        client = scope.get("client")
        # Routes are matched without the prefix in front of the app (stage, routePrefix).
        path, root = scope.get("path", "/"), scope.get("root_path", "")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        request = Request(
            scope["method"],
            path,
            headers,
            client[0] if client else "",
            scope.get("query_string", b"").decode("latin-1"),
            body,
        )
        entered, answer = pipeline.enter(request)
        if answer is not None:
            answer = pipeline.leave(entered, request, answer)
            await send(_start(answer))
            await send({"type": "http.response.body", "body": answer.body})
            return
        inner = dict(scope)
        for name, key in EXPOSED.items():
            if name in request.context:
                inner[key] = request.context[name]
        extensions = scope.get("extensions")
        if extensions and not BODY_ELSEWHERE.isdisjoint(extensions):
            inner["extensions"] = {k: v for k, v in extensions.items() if k not in BODY_ELSEWHERE}
        relay = _Relay(pipeline, entered, request, send)
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
            relay.ended()

    return middleware


#: Server extensions that carry the response body outside ``http.response.body`` messages
#: (a file's path, a file descriptor) or after it (trailers): not offered to the app, whose
#: body the policies need (idempotency stores it), so it sends its body as messages.
BODY_ELSEWHERE = frozenset(
    ("http.response.pathsend", "http.response.zerocopy", "http.response.trailers")
)

#: A streamed response's body is kept for the policies that ask for it (idempotency stores
#: it) up to this size: what a buffered Lambda response may carry.
STREAM_KEEP = 6 * 1024 * 1024


class _Relay:
    """The ``send`` an app behind the policies gets: the policies finish the response as
    soon as its head and first body part are known, and the body goes on to the client as
    the app sends it (a streamed response is not held back). An app that raises after its
    response is complete (Starlette's error pages do) leaves that response standing."""

    def __init__(self, pipeline: Pipeline, entered: list[Policy], request: Request, send: Send):
        self.pipeline = pipeline
        self.entered = entered
        self.request = request
        self.downstream = send
        self.response: Response | None = None  # the head the app sent, until it goes out
        #: Once the head went out: the streamed body the policies see.
        self.streamed: StreamedBody | None = None
        self.complete = False

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if self.complete and kind.startswith("http.response."):
            raise RuntimeError("ASGI app sent a message after its response was complete")
        if kind == "http.response.start":
            if self.response is not None or self.streamed is not None:
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
        if self.streamed is None:
            response = self.response
            if response is None:
                raise RuntimeError("ASGI app sent a body before 'http.response.start'")
            self.response = None
            if not more:
                response.body = chunk
                answer = self.pipeline.leave(self.entered, self.request, response)
                self.complete = True
                await self.downstream(_start(answer))
                await self.downstream({"type": "http.response.body", "body": answer.body})
                return
            # A streamed response: the policies finish it now.
            response.streamed = streamed = StreamedBody(STREAM_KEEP)
            answer = self.pipeline.leave(self.entered, self.request, response)
            self.streamed = streamed
            await self.downstream(_start(answer))
        else:
            streamed = self.streamed
        streamed.keep(chunk)
        await self.downstream({"type": "http.response.body", "body": chunk, "more_body": more})
        if not more:
            self._end(whole=True)

    def _end(self, whole: bool) -> None:
        streamed, self.streamed = self.streamed, None
        self.complete = True
        if streamed is not None:
            streamed.end(streamed.kept(whole))

    def ended(self) -> None:
        """The app returned or raised. Without a whole response (no answer, a stream it
        broke or gave up when the client left) the policies give the request up; the
        server sees what the app sent and answers or logs as it does for any app."""
        if self.complete:
            return
        if self.streamed is not None:
            self._end(whole=False)
        else:
            self.pipeline.fail(self.entered, self.request)


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

        def call(request: Request) -> Response:
            inner = dict(environ)
            # The body is read: the app gets it whole, with its length.
            inner["wsgi.input"] = BytesIO(body)
            inner["wsgi.input_terminated"] = True
            inner["CONTENT_LENGTH"] = str(len(body))
            for name, key in EXPOSED.items():
                if name in request.context:
                    inner[key] = request.context[name]
            response = Response(500)
            written: list[bytes] = []

            def start(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
                response.status = int(status.split(" ", 1)[0])
                response.headers = [(k.lower(), v) for k, v in headers]
                return written.append

            result = app(inner, start)
            try:
                response.body = b"".join([*written, *result])
            finally:
                close = getattr(result, "close", None)
                if close is not None:
                    close()
            return response

        answer = pipeline.run(request, call)
        from http import HTTPStatus

        try:
            reason = HTTPStatus(answer.status).phrase
        except ValueError:
            reason = "Unknown"
        start_response(f"{answer.status} {reason}", answer.headers)
        return [answer.body]

    return middleware


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
