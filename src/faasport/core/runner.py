"""Everything between a canonical request and a canonical response, for any kind of app.

An :class:`AppRunner` lives as long as its execution environment. It imports the app on the
first request that needs it, runs ASGI lifespan once, answers health checks without the app,
and turns app failures into a 500 that names the request id and hides the exception.
"""

from __future__ import annotations

from _thread import allocate_lock

from faasport.core.health import health_response, is_health_check
from faasport.core.http import BODILESS, HttpRequest, HttpResponse, unsendable
from faasport.core.logs import logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from faasport.core.asgi import AsgiBridge
    from faasport.core.lifespan import Lifespan
    from faasport.core.loader import AppKind
    from faasport.core.options import AppOptions
    from faasport.core.streaming import ResponseSink
    from faasport.core.wsgi import WsgiBridge


def error_response(status: int, message: str, request_id: str | None) -> HttpResponse:
    import json

    body = json.dumps({"message": message, "requestId": request_id}).encode()
    return HttpResponse(
        status,
        [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        body,
    )


def sendable(response: HttpResponse, request: HttpRequest, request_id: str | None) -> HttpResponse:
    """``response``, or the 500 that replaces it when no HTTP server could send it (see
    :func:`~faasport.core.http.unsendable`), with the cause logged."""
    problem = unsendable(response.status, response.headers)
    if problem is None:
        return response
    logger().error("app's response to %s %s not sent: %s", request.method, request.path, problem)
    return error_response(500, "Internal Server Error", request_id)


class AppRunner:
    def __init__(self, app: Any, options: AppOptions, kind: AppKind | None = None) -> None:
        """``kind`` is the app's kind when the caller knows it (event entry points serve
        only plain handlers, which may be callable objects); else it is detected."""
        self.options = options
        self._given_kind = kind
        self._target = app
        self._app: Any = None if isinstance(app, str) else app
        self._kind: AppKind | None = None
        self._serve: Callable[[HttpRequest], HttpResponse] | None = None
        self._ready: Callable[[HttpRequest], HttpResponse] | None = None
        self._lifespan: Lifespan | None = None
        self._bridge: AsgiBridge | None = None
        self._wsgi: WsgiBridge | None = None
        self._lock = allocate_lock()
        #: Held while the app starts: concurrent first requests (several invocations per
        #: environment) wait for the one lifespan startup.
        self._starting = allocate_lock()

    # -- loading -------------------------------------------------------------------------

    @property
    def kind(self) -> AppKind | None:
        """The app's kind once it is loaded, else None."""
        return self._kind

    @property
    def target(self) -> Any:
        """The app as given: an object, or the ``"module:attr"`` string to import."""
        return self._target

    def load(self) -> tuple[Any, AppKind]:
        """Import the app (once) and return it with its kind."""
        kind = self._kind
        if kind is not None:
            return self._app, kind
        with self._lock:
            if self._kind is None:
                from faasport.core.loader import detect_kind, import_from_string

                if self._app is None:
                    self._app = import_from_string(self._target)
                kind = self._given_kind or detect_kind(self._app)
                if kind == "asgi":
                    from faasport.core.asgi import AsgiBridge

                    options = self.options
                    bridge = self._bridge = AsgiBridge(
                        self._app, options.lifespan, options.strip_root_path
                    )
                    self._lifespan = bridge.lifespan
                    self._serve = bridge.serve
                elif kind == "wsgi":
                    from faasport.core.wsgi import WsgiBridge

                    self._wsgi = WsgiBridge(self._app)
                    self._serve = self._wsgi.serve
                self._kind = kind
        assert self._kind is not None
        return self._app, self._kind

    @property
    def started_bridge(self) -> AsgiBridge | None:
        """The ASGI bridge once the app is loaded and started, else None: entry points
        that make the scope straight from their event serve it through this."""
        return self._bridge if self._ready is not None else None

    # -- requests ------------------------------------------------------------------------

    def handle(self, request: HttpRequest, request_id: str | None = None) -> HttpResponse:
        """Answer one request; never raises for a failure of the app."""
        health = self.options.health_path
        if health is not None and is_health_check(request, health):
            return health_response(request)
        try:
            policies = self.options.policies
            if policies is not None:
                response = policies.run(request, self._serve_prepared)
            else:
                # Once the app is loaded and started, the bridge is called directly.
                serve = self._ready or self._prepare()
                response = serve(request)
        except Exception:
            logger().exception("unhandled exception in app for %s %s", request.method, request.path)
            return error_response(500, "Internal Server Error", request_id)
        if response.body and (request.method == "HEAD" or response.status in BODILESS):
            response.body = b""
        return response

    async def handle_async(
        self, request: HttpRequest, request_id: str | None = None
    ) -> HttpResponse:
        """:meth:`handle` for hosts that await their functions on their own loop (Azure):
        an ASGI app runs on that loop, lifespan included; a WSGI app in the loop's
        default executor."""
        health = self.options.health_path
        if health is not None and is_health_check(request, health):
            return health_response(request)
        try:
            policies = self.options.policies
            if policies is not None:
                response = await policies.run_async(request, self._serve_async)
            else:
                response = await self._serve_async(request)
        except Exception:
            logger().exception("unhandled exception in app for %s %s", request.method, request.path)
            return error_response(500, "Internal Server Error", request_id)
        if response.body and (request.method == "HEAD" or response.status in BODILESS):
            response.body = b""
        return response

    async def _serve_async(self, request: HttpRequest) -> HttpResponse:
        _, kind = self.load()
        if kind == "asgi":
            bridge = self._bridge
            assert bridge is not None
            if not bridge.lifespan.started:
                await bridge.lifespan.startup_async()
            return await bridge.serve_async(request)
        import asyncio

        serve = self._serve
        if serve is None:
            raise TypeError("a plain handler cannot answer a canonical HTTP request")
        return await asyncio.get_running_loop().run_in_executor(None, serve, request)

    def _serve_prepared(self, request: HttpRequest) -> HttpResponse:
        return (self._ready or self._prepare())(request)

    def stream(
        self, request: HttpRequest, sink: ResponseSink, request_id: str | None = None
    ) -> None:
        """:meth:`handle`, with the body handed to ``sink`` chunk by chunk as the app
        produces it. A failure before the response started is answered 500 as by
        :meth:`handle`; after it, it is raised: only the stream can carry it then.
        ``policies`` finish the response when its head is known; the body streams on."""
        health = self.options.health_path
        if health is not None and is_health_check(request, health):
            _whole(sink, health_response(request))
            return
        policies = self.options.policies
        if policies is not None:
            policies.stream(request, sink, lambda inner: self._stream(request, inner, request_id))
        else:
            self._stream(request, sink, request_id)

    def _stream(self, request: HttpRequest, sink: ResponseSink, request_id: str | None) -> None:
        try:
            self._ready or self._prepare()
            if self._bridge is not None:
                self._bridge.stream(request, sink)
            else:
                from faasport.core.streaming import stream_wsgi

                wsgi = self._wsgi
                assert wsgi is not None
                stream_wsgi(wsgi.app, wsgi.environ(request), sink)
        except Exception:
            if sink.started:
                raise
            logger().exception("unhandled exception in app for %s %s", request.method, request.path)
            _whole(sink, error_response(500, "Internal Server Error", request_id))

    def prepare(self) -> None:
        """Load the app and run lifespan startup now rather than on the first request."""
        _, kind = self.load()
        if kind != "handler" and self._ready is None:
            self._prepare()

    def _prepare(self) -> Callable[[HttpRequest], HttpResponse]:
        """Load the app and run lifespan startup; the bridge's serve once both are done."""
        with self._starting:
            ready = self._ready
            return ready if ready is not None else self._start()

    def _start(self) -> Callable[[HttpRequest], HttpResponse]:
        if self._kind is None:
            self.load()
        serve = self._serve
        if serve is None:
            raise TypeError("a plain handler cannot answer a canonical HTTP request")
        lifespan = self._lifespan
        if lifespan is not None:
            lifespan.startup()
            _shutdown_on_sigterm(self)
        self._ready = serve
        return serve

    def call_handler(self, event: Any, context: Any) -> Any:
        app, kind = self.load()
        if kind != "handler":
            raise TypeError(f"{kind} app is not a plain handler")
        return app(event, context)

    def shutdown(self) -> None:
        """Run ASGI lifespan shutdown, if startup ran. Safe to call more than once."""
        if self._lifespan is not None:
            self._lifespan.shutdown()


def _whole(sink: ResponseSink, response: HttpResponse) -> None:
    sink.start(response.status, response.headers)
    if response.body:
        sink.write(response.body)
    sink.end()


def _shutdown_on_sigterm(runner: AppRunner) -> None:
    """Run lifespan shutdown when the environment ends: SIGTERM, or interpreter exit."""
    from faasport.core.loop import environment_loop

    loop = environment_loop()
    loop.before_close(runner.shutdown)
    loop.close_on_sigterm()
