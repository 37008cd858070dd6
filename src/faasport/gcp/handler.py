"""``gcp.handler(app)``: a functions-framework HTTP function serving an ASGI or WSGI app."""

from __future__ import annotations

import os

from faasport.core import coldstart, logs, otel, trace
from faasport.core.options import AppOptions
from faasport.core.runner import AppRunner, error_response
from faasport.gcp import codec
from faasport.metrics import flush as _flush_metrics

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any

    from faasport.core.options import LifespanMode


class GcpHandler:
    """Callable as ``function(request)`` with the ``flask.Request`` functions-framework
    passes; one instance per instance of the function."""

    def __init__(self, app: Any, options: AppOptions) -> None:
        self.options = options
        self.runner = AppRunner(app, options)
        self.span_name = (
            os.environ.get("K_SERVICE") or os.environ.get("FUNCTION_TARGET") or "invocation"
        )

    def __call__(self, request: Any) -> Any:
        headers = request.headers
        trace.begin(headers.get("traceparent"), headers.get("x-cloud-trace-context"))
        span = otel.start(self.span_name)
        try:
            return self._invoke(request)
        except BaseException as exc:
            if span is not None:
                otel.end(span, exc)
                span = None
            raise
        finally:
            _flush_metrics()
            if span is not None:
                otel.end(span)

    def _invoke(self, request: Any) -> Any:
        environ = request.environ
        request_id = (
            environ.get("HTTP_FUNCTION_EXECUTION_ID")
            or environ.get("HTTP_X_CLOUD_TRACE_CONTEXT", "").partition("/")[0]
            or None
        )
        current = logs.current
        current["request_id"] = request_id
        current["cold_start"] = coldstart.record.pending and coldstart.record.take()
        try:
            canonical = codec.decode(request, self.options)
        except (UnicodeError, ValueError) as exc:
            message = f"malformed request: {type(exc).__name__}: {exc}"
            return codec.encode(error_response(400, message, request_id))
        return codec.encode(self.runner.handle(canonical, request_id))


def handler(
    app: Any,
    *,
    health_path: str | None = None,
    lifespan: LifespanMode = "auto",
    base_path: str = "",
    text_mime_types: Iterable[str] = (),
) -> Callable[[Any], Any]:
    """A functions-framework HTTP function serving ``app``: an ASGI or WSGI app or a
    ``"module:attr"`` string imported on first use. ``text_mime_types`` is accepted for
    symmetry with ``aws.handler``: Google Cloud carries every body as bytes.

    functions-framework accepts only plain functions, so this is one; the
    :class:`GcpHandler` behind it is its ``faasport`` attribute."""
    options = AppOptions(
        health_path=health_path,
        lifespan=lifespan,
        base_path=base_path,
        text_mime_types=tuple(text_mime_types),
    )
    return as_function(GcpHandler(app, options))


def as_function(target: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A plain function calling ``target``, as functions-framework requires."""

    def function(request: Any) -> Any:
        return target(request)

    function.faasport = target  # type: ignore[attr-defined]
    return function
