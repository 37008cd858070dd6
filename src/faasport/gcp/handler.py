"""``gcp.handler(app)``: a functions-framework HTTP function serving an ASGI or WSGI app."""

from __future__ import annotations

import os

from faasport.core import invocation, otel, trace
from faasport.core.http import HttpResponse
from faasport.core.options import AppOptions
from faasport.core.runner import AppRunner, sendable
from faasport.gcp import codec
from faasport.metrics import flush as _flush_metrics

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Unpack

    from faasport.core.options import OptionArgs


class GcpHandler:
    """Callable as ``function(request)`` with the ``flask.Request`` functions-framework
    passes; one instance per instance of the function."""

    def __init__(self, app: Any, options: AppOptions, stream: bool = False) -> None:
        self.options = options
        #: Responses go out chunk by chunk (:mod:`faasport.gcp.streaming`).
        self.stream = stream
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
        canonical = invocation.http_request(request_id, codec.decode, request, self.options)
        if isinstance(canonical, HttpResponse):
            return codec.encode(canonical)
        if self.stream:
            from faasport.gcp import streaming

            return streaming.respond(self.runner, canonical, request_id)
        response = self.runner.handle(canonical, request_id)
        return codec.encode(sendable(response, canonical, request_id))


def handler(
    app: Any, *, stream: bool = False, **options: Unpack[OptionArgs]
) -> Callable[[Any], Any]:
    """A functions-framework HTTP function serving ``app``: an ASGI or WSGI app or a
    ``"module:attr"`` string imported on first use. ``text_mime_types`` is accepted for
    symmetry with ``aws.handler``: Google Cloud carries every body as bytes. With
    ``stream=True`` each response goes out chunk by chunk as the app produces it.

    functions-framework accepts only plain functions, so this is one; the
    :class:`GcpHandler` behind it is its ``faasport`` attribute."""
    return as_function(GcpHandler(app, AppOptions(**options), stream))


def as_function(target: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A plain function calling ``target``, as functions-framework requires."""

    def function(request: Any) -> Any:
        return target(request)

    function.faasport = target  # type: ignore[attr-defined]
    return function
