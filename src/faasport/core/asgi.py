"""Run one canonical request through an ASGI 3 application."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial
from typing import Any

from faasport.core import deferred
from faasport.core.http import HttpResponse
from faasport.core.lifespan import Lifespan
from faasport.core.loop import environment_loop
from faasport.core.scope import ASGI_VERSION, path_text

TYPE_CHECKING = False
if TYPE_CHECKING:
    from faasport.core.http import HttpRequest
    from faasport.core.options import LifespanMode
    from faasport.core.remainder import Remainder
    from faasport.core.streaming import ResponseSink
    from faasport.core.types import ASGIApp, Message, Scope


class AppReturnedWithoutResponse(RuntimeError):
    pass


class AsgiBridge:
    """Serves canonical requests with one ASGI app, on this environment's event loop."""

    def __init__(self, app: ASGIApp, lifespan: LifespanMode, strip_root_path: bool = False) -> None:
        self.app = app
        self.loop = environment_loop()
        self.lifespan = Lifespan(app, lifespan, self.loop)
        self.strip_root_path = strip_root_path

    def serve(self, request: HttpRequest) -> HttpResponse:
        """The app's response as soon as it is complete. What the app does after it
        (background tasks) is deferred until the response is sent when the runtime client
        allows it (:mod:`faasport.core.deferred`), else finished before returning."""
        scope = build_scope(request, None)
        if self.strip_root_path:
            scope["path"] = path_text(request.path)
        return self.serve_scope(scope, request.body)

    def serve_scope(self, scope: Scope, body: bytes) -> HttpResponse:
        """:meth:`serve` for a scope a codec made straight from its event (see
        :func:`faasport.core.scope.make_scope`); the lifespan state is added here."""
        lifespan = self.lifespan
        if lifespan.supported:
            scope["state"] = lifespan.state.copy()
        exchange = _Exchange(body)
        app: Any = self.app
        try:
            rest = self.loop.respond(app(scope, exchange.receive, exchange.send), exchange)
            if rest is not None and (
                not exchange.done or not deferred.defer(partial(_finish_deferred, rest, scope))
            ):
                rest.finish()
        except Exception:
            if not exchange.done:
                raise
            _raised_after_response(scope)
        response = exchange.response
        return response if response is not None else exchange.finish()

    def stream(self, request: HttpRequest, sink: ResponseSink) -> None:
        """Serve ``request``, handing each body chunk to ``sink`` as the app sends it."""
        from faasport.core.streaming import StreamExchange

        lifespan = self.lifespan
        scope = build_scope(request, lifespan.state if lifespan.supported else None)
        if self.strip_root_path:
            scope["path"] = path_text(request.path)
        exchange = StreamExchange(request.body, sink)
        app: Any = self.app
        try:
            self.loop.run(app(scope, exchange.receive, exchange.send))
        except Exception:
            if not exchange.done:
                raise
            _raised_after_response(scope)
        exchange.finish()

    async def serve_async(self, request: HttpRequest) -> HttpResponse:
        """Serve on the running loop: for hosts that await their functions (Azure)."""
        lifespan = self.lifespan
        scope = build_scope(request, lifespan.state if lifespan.supported else None)
        if self.strip_root_path:
            scope["path"] = path_text(request.path)
        exchange = _Exchange(request.body)
        try:
            await self.app(scope, exchange.receive, exchange.send)
        except Exception:
            if not exchange.done:
                raise
            _raised_after_response(scope)
        return exchange.finish()


def _finish_deferred(rest: Remainder, scope: Scope) -> None:
    """The response is sent: a failure after it can only be logged."""
    try:
        rest.finish()
    except Exception:
        _raised_after_response(scope)


def _raised_after_response(scope: Scope) -> None:
    """An app raised after completing its response (Starlette's ServerErrorMiddleware
    sends the app's error page, then re-raises for the server to log): the response
    stands, the exception is logged, as uvicorn does."""
    from faasport.core.logs import logger

    logger().exception(
        "exception in app after its response to %s %s was sent", scope["method"], scope["path"]
    )


def build_scope(request: HttpRequest, state: dict[str, Any] | None) -> Scope:
    root = request.root_path
    path = root + request.path if root else request.path
    raw_path = request.raw_path
    if raw_path is None:
        raw_path = path.encode("utf-8", "surrogateescape")
    scope: Scope = {
        "type": "http",
        "asgi": ASGI_VERSION,
        "http_version": request.http_version,
        "method": request.method,
        "scheme": request.scheme,
        "path": path_text(path),
        "raw_path": raw_path,
        "query_string": request.query_string,
        "root_path": path_text(root),
        "headers": request.headers,
        "client": request.client,
        "server": request.server,
    }
    if state is not None:
        scope["state"] = state.copy()
    if request.extras:
        scope.update(request.extras)
    return scope


#: Response header names (bytes, any case) -> lower case, for the names apps send.
_LOWER: dict[bytes, bytes] = {}


def _lower(name: Any) -> bytes:
    lower = name if type(name) is bytes and name.islower() else bytes(name).lower()
    if type(name) is bytes and len(_LOWER) < 512:
        _LOWER[name] = lower
    return lower


class _Exchange:
    """The receive/send pair of one request; collects the response in memory."""

    __slots__ = (
        "chunks",
        "done",
        "headers",
        "on_done",
        "request_body",
        "response",
        "status",
        "waiter",
    )

    def __init__(self, body: bytes) -> None:
        self.request_body: bytes | None = body
        #: The response, once complete (its parts are collected below until then).
        self.response: HttpResponse | None = None
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] | None = None
        self.chunks: list[bytes] | None = None
        self.done = False
        self.on_done: Callable[[], None] | None = None
        self.waiter: asyncio.Future[None] | None = None

    async def receive(self) -> Message:
        body = self.request_body
        if body is not None:
            self.request_body = None
            return {"type": "http.request", "body": body, "more_body": False}
        if not self.done:
            # A framework waiting for the client to go away: it never does before the
            # response is complete, exactly as with a live connection.
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.body":
            if self.done or not self.status:
                raise RuntimeError(
                    "ASGI app sent a body after the response was complete"
                    if self.done
                    else "ASGI app sent a body before 'http.response.start'"
                )
            chunk = message.get("body", b"")
            chunks = self.chunks
            if message.get("more_body"):
                if chunk:
                    if chunks is None:
                        chunks = self.chunks = []
                    chunks.append(bytes(chunk))
                return
            if chunks is not None:
                chunks.append(bytes(chunk))
                body = b"".join(chunks)
            else:
                body = chunk if type(chunk) is bytes else bytes(chunk)
            headers = self.headers
            self.response = HttpResponse(self.status, [] if headers is None else headers, body)
            self.done = True
            if self.waiter is not None and not self.waiter.done():
                self.waiter.set_result(None)
            if self.on_done is not None:
                self.on_done()
        elif kind == "http.response.start":
            if self.status:
                raise RuntimeError("ASGI app sent 'http.response.start' twice")
            status = message["status"]
            self.status = status if type(status) is int else int(status)
            headers = message.get("headers")
            if headers:
                # ASGI asks apps for lower-case names; frameworks comply, but cheaply check
                # (names seen before are looked up).
                lower = _LOWER
                try:
                    self.headers = [(lower[name], value) for name, value in headers]
                except (KeyError, TypeError):
                    self.headers = [(_lower(name), value) for name, value in headers]
        # Other messages (trailers, extensions) are ignored: no provider carries them.

    def finish(self) -> HttpResponse:
        """The response, once the app has returned."""
        response = self.response
        if response is None:
            raise AppReturnedWithoutResponse(
                "ASGI app returned without completing its response"
                if self.status
                else "ASGI app returned without sending a response"
            )
        return response
