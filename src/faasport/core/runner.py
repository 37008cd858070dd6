"""Everything between a canonical request and a canonical response, for any kind of app.

An :class:`AppRunner` lives as long as its execution environment. It imports the app on the
first request that needs it, runs ASGI lifespan once, answers health checks without the app,
and turns app failures into a 500 that names the request id and hides the exception.
"""

from __future__ import annotations

import time
from _thread import allocate_lock

from faasport.core import coldstart
from faasport.core.health import health_response, is_health_check
from faasport.core.http import HttpRequest, HttpResponse
from faasport.core.logs import logger

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import FrameType
    from typing import Any

    from faasport.core.lifespan import Lifespan
    from faasport.core.loader import AppKind
    from faasport.core.loop import EnvironmentLoop
    from faasport.core.options import AppOptions


def error_response(status: int, message: str, request_id: str | None) -> HttpResponse:
    import json

    body = json.dumps({"message": message, "requestId": request_id}).encode()
    return HttpResponse(
        status,
        [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        body,
    )


class AppRunner:
    def __init__(self, app: Any, options: AppOptions) -> None:
        self.options = options
        self._target = app
        self._app: Any = None if isinstance(app, str) else app
        self._kind: AppKind | None = None
        self._loop: EnvironmentLoop | None = None
        self._lifespan: Lifespan | None = None
        self._lock = allocate_lock()

    # -- loading -------------------------------------------------------------------------

    @property
    def kind(self) -> AppKind | None:
        """The app's kind once it is loaded, else None."""
        return self._kind

    def load(self) -> tuple[Any, AppKind]:
        """Import the app (once) and return it with its kind."""
        kind = self._kind
        if kind is not None:
            return self._app, kind
        with self._lock:
            if self._kind is None:
                from faasport.core.loader import detect_kind, import_from_string

                started = time.perf_counter()
                if self._app is None:
                    self._app = import_from_string(self._target)
                kind = detect_kind(self._app)
                if kind == "asgi":
                    from faasport.core.lifespan import Lifespan
                    from faasport.core.loop import environment_loop

                    self._loop = environment_loop()
                    self._lifespan = Lifespan(self._app, self.options.lifespan, self._loop)
                self._kind = kind
                if coldstart.record.app_init_seconds is None:
                    coldstart.record.app_init_seconds = time.perf_counter() - started
        assert self._kind is not None
        return self._app, self._kind

    # -- requests ------------------------------------------------------------------------

    def handle(self, request: HttpRequest, request_id: str | None = None) -> HttpResponse:
        """Answer one request; never raises for a failure of the app."""
        if is_health_check(request, self.options.health_path):
            return health_response(request)
        try:
            response = self._dispatch(request)
        except Exception:
            logger().exception("unhandled exception in app for %s %s", request.method, request.path)
            return error_response(500, "Internal Server Error", request_id)
        if request.method == "HEAD" and response.body:
            response.body = b""
        return response

    def _dispatch(self, request: HttpRequest) -> HttpResponse:
        app, kind = self.load()
        if kind == "asgi":
            from faasport.core.asgi import build_scope, call_asgi

            lifespan = self._lifespan
            assert lifespan is not None and self._loop is not None
            if not lifespan.started:
                lifespan.startup()
                _shutdown_on_sigterm(self)
            state = lifespan.state if lifespan.supported else None
            return self._loop.run(call_asgi(app, build_scope(request, state), request.body))
        if kind == "wsgi":
            from faasport.core.wsgi import build_environ, call_wsgi

            return call_wsgi(app, build_environ(request))
        raise TypeError("a plain handler cannot answer a canonical HTTP request")

    def call_handler(self, event: Any, context: Any) -> Any:
        app, kind = self.load()
        if kind != "handler":
            raise TypeError(f"{kind} app is not a plain handler")
        return app(event, context)

    def shutdown(self) -> None:
        """Run ASGI lifespan shutdown, if startup ran. Safe to call more than once."""
        if self._lifespan is not None:
            self._lifespan.shutdown()


_runners: list[AppRunner] = []


def _shutdown_on_sigterm(runner: AppRunner) -> None:
    """Run lifespan shutdown when the environment is stopped (SIGTERM), then exit as before."""
    import os
    import signal
    import threading

    _runners.append(runner)
    if len(_runners) > 1:
        return
    import atexit

    atexit.register(_shutdown_all)
    if threading.current_thread() is not threading.main_thread():
        return
    previous = signal.getsignal(signal.SIGTERM)

    def on_sigterm(signum: int, frame: FrameType | None) -> None:
        _shutdown_all()
        if callable(previous):
            previous(signum, frame)
        elif previous != signal.SIG_IGN:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            os.kill(os.getpid(), signal.SIGTERM)

    signal.signal(signal.SIGTERM, on_sigterm)


def _shutdown_all() -> None:
    for runner in _runners:
        try:
            runner.shutdown()
        except Exception:
            logger().exception("lifespan shutdown failed")
