"""``aws.handler(app)``: a Lambda handler that serves an ASGI or WSGI app (or wraps a plain
handler) behind API Gateway REST and HTTP APIs, ALB and Function URLs."""

from __future__ import annotations

import os

from faasport.aws.alb import Alb
from faasport.aws.apigw_v1 import ApiGatewayV1
from faasport.aws.apigw_v2 import ApiGatewayV2
from faasport.aws.function_url import FunctionUrl
from faasport.core import coldstart, logs, otel, trace
from faasport.core.errors import UnsupportedEventError
from faasport.core.health import is_health_check
from faasport.core.options import AppOptions
from faasport.core.runner import AppRunner, error_response
from faasport.metrics import flush as _flush_metrics

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any

    from faasport.aws.codec import Codec
    from faasport.core.options import LifespanMode

#: Tried in this order; ALB before REST (both carry httpMethod), Function URL before HTTP API.
CODECS: tuple[Codec, ...] = (Alb(), FunctionUrl(), ApiGatewayV2(), ApiGatewayV1())


def infer_codec(event: Any, codecs: Iterable[Codec] = CODECS) -> Codec | None:
    if not isinstance(event, dict):
        return None
    for codec in codecs:
        if codec.infer(event):
            return codec
    return None


def _describe(event: Any) -> str:
    if isinstance(event, dict):
        keys = sorted(str(k) for k in event)[:8]
        return f"an object with keys {keys}"
    return f"a {type(event).__name__}"


class LambdaHandler:
    """Callable as ``handler(event, context)``; one instance per execution environment."""

    def __init__(self, app: Any, options: AppOptions, codecs: Iterable[Codec] = ()) -> None:
        self.options = options
        self.runner = AppRunner(app, options)
        self.codecs: tuple[Codec, ...] = (*codecs, *CODECS)
        self._last: Codec = self.codecs[0]
        self.span_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or "invocation"
        if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "provisioned-concurrency":
            # Provisioned environments initialise before any request waits on them: import
            # the app and start it now, so their first request is as fast as any other.
            self.runner.prepare()

    def __call__(self, event: Any, context: Any) -> Any:
        headers = event.get("headers") if type(event) is dict else None
        trace.begin_headers(headers)
        span = otel.start(self.span_name, "other" if headers is None else "http")
        try:
            return self._invoke(event, context)
        except BaseException as exc:
            if span is not None:
                otel.end(span, exc)
                span = None
            raise
        finally:
            _flush_metrics()
            if span is not None:
                otel.end(span)

    def _invoke(self, event: Any, context: Any) -> Any:
        request_id = getattr(context, "aws_request_id", None)
        current = logs.current
        current["request_id"] = request_id
        current["cold_start"] = coldstart.record.pending and coldstart.record.take()
        codec = self._last
        if not (isinstance(event, dict) and codec.infer(event)):
            found = infer_codec(event, self.codecs)
            if found is None:
                return self._not_http(event, context)
            codec = self._last = found
        try:
            request = codec.decode(event, context, self.options)
        except (UnsupportedEventError, AttributeError, TypeError, ValueError, KeyError) as exc:
            # A field of the wrong type or shape: the event did not come from the source.
            message = (
                str(exc)
                if isinstance(exc, UnsupportedEventError)
                else f"malformed {codec.name} event: {type(exc).__name__}: {exc}"
            )
            logs.logger().warning("malformed %s event: %s", codec.name, message)
            return codec.encode(error_response(400, message, request_id), event, self.options)
        runner = self.runner
        if runner.kind is None and not is_health_check(request, self.options.health_path):
            # contextlib would cost milliseconds of import time; handle() answers a failed
            # import with a 500.
            try:  # noqa: SIM105
                runner.load()
            except Exception:
                pass
        if runner.kind == "handler":
            return runner.call_handler(event, context)
        response = runner.handle(request, request_id)
        return codec.encode(response, event, self.options)

    def _not_http(self, event: Any, context: Any) -> Any:
        _, kind = self.runner.load()
        if kind == "handler":
            return self.runner.call_handler(event, context)
        raise UnsupportedEventError(
            f"faasport.aws.handler received {_describe(event)}, which is not an HTTP event "
            "from API Gateway (REST or HTTP API), an ALB or a Function URL; a "
            f"{kind.upper()} app can only answer HTTP events. Route other event sources to "
            "a plain handler(event, context)."
        )


def handler(
    app: Any,
    *,
    health_path: str | None = None,
    lifespan: LifespanMode = "auto",
    base_path: str = "",
    text_mime_types: Iterable[str] = (),
    codecs: Iterable[Codec] = (),
) -> LambdaHandler:
    """A Lambda handler serving ``app``: an ASGI app, a WSGI app, a plain
    ``handler(event, context)``, or a ``"module:attr"`` string imported on first use."""
    options = AppOptions(
        health_path=health_path,
        lifespan=lifespan,
        base_path=base_path,
        text_mime_types=tuple(text_mime_types),
    )
    return LambdaHandler(app, options, codecs)
