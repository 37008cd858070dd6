"""``aws.handler(app)``: a Lambda handler that serves an ASGI or WSGI app (or wraps a plain
handler) behind API Gateway REST and HTTP APIs, ALB and Function URLs."""

from __future__ import annotations

import os

from faasport.aws.alb import Alb
from faasport.aws.apigw_v1 import ApiGatewayV1
from faasport.aws.apigw_v2 import ApiGatewayV2
from faasport.aws.edge import Edge
from faasport.aws.function_url import FunctionUrl
from faasport.aws.lattice import Lattice, LatticeV2
from faasport.core import invocation, otel, trace
from faasport.core.errors import UnsupportedEventError
from faasport.core.health import is_health_check
from faasport.core.http import HttpResponse
from faasport.core.options import AppOptions
from faasport.core.runner import AppRunner
from faasport.metrics import flush as _flush_metrics

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable
    from typing import Any, Unpack

    from faasport.aws.codec import Codec, Event
    from faasport.core.codec import Codec as HttpCodec
    from faasport.core.options import OptionArgs

#: Tried in this order; ALB before REST (both carry httpMethod), Function URL before HTTP API.
#: VPC Lattice and Lambda@Edge events share no distinguishing key with those, so they come
#: last, where they cost the common sources nothing.
CODECS: tuple[Codec, ...] = (
    Alb(),
    FunctionUrl(),
    ApiGatewayV2(),
    ApiGatewayV1(),
    LatticeV2(),
    Lattice(),
    Edge(),
)


def infer_codec(
    event: Any, codecs: Iterable[HttpCodec[Event, Any]] = CODECS
) -> HttpCodec[Event, Any] | None:
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


def _websocket_route(event: Any) -> str | None:
    """The route of an API Gateway WebSocket API event ($connect, $default...), else None."""
    if not isinstance(event, dict):
        return None
    ctx = event.get("requestContext")
    if isinstance(ctx, dict) and "connectionId" in ctx and "eventType" in ctx:
        return str(ctx.get("routeKey") or ctx["eventType"])
    return None


class LambdaHandler:
    """Callable as ``handler(event, context)``; one instance per execution environment."""

    def __init__(
        self,
        app: Any,
        options: AppOptions,
        codecs: Iterable[HttpCodec[Event, Any]] = (),
        stream: bool = False,
    ) -> None:
        self.options = options
        #: Responses are streamed by faasport's runtime client (:mod:`faasport.aws.streaming`).
        self.streaming = stream
        self.runner = AppRunner(app, options)
        self.codecs: tuple[HttpCodec[Event, Any], ...] = (*codecs, *CODECS)
        self._last: HttpCodec[Event, Any] = self.codecs[0]
        self.span_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or "invocation"
        if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "provisioned-concurrency":
            # Provisioned environments initialise before any request waits on them: import
            # the app and start it now, so their first request is as fast as any other.
            self.runner.prepare()
        elif os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
            from faasport.aws import snapstart

            snapstart.register(self.runner)

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
        codec = self._last
        if not (isinstance(event, dict) and codec.infer(event)):
            found = infer_codec(event, self.codecs)
            if found is None:
                invocation.begin(request_id)
                return self._not_http(event, context)
            codec = self._last = found
        options = self.options
        request = invocation.http_request(request_id, codec.decode, event, context, options)
        if isinstance(request, HttpResponse):
            return codec.encode(request, event, options)
        runner = self.runner
        if runner.kind is None and not is_health_check(request, options.health_path):
            # contextlib would cost milliseconds of import time; handle() answers a failed
            # import with a 500.
            try:  # noqa: SIM105
                runner.load()
            except Exception:
                pass
        if runner.kind == "handler":
            return runner.call_handler(event, context)
        response = runner.handle(request, request_id)
        return codec.encode(response, event, options)

    def _not_http(self, event: Any, context: Any) -> Any:
        _, kind = self.runner.load()
        if kind == "handler":
            return self.runner.call_handler(event, context)
        route = _websocket_route(event)
        if route is not None:
            raise UnsupportedEventError(
                f"faasport.aws.handler received an API Gateway WebSocket event (route "
                f"{route}), which an {kind.upper()} app cannot answer: ASGI and WSGI apps "
                "serve HTTP only. Point the WebSocket API at a plain handler(event, context) "
                "and reply with faasport.websocket.send(connection_id, data)."
            )
        raise UnsupportedEventError(
            f"faasport.aws.handler received {_describe(event)}, which is not an HTTP event "
            "from API Gateway (REST or HTTP API), an ALB or a Function URL; an "
            f"{kind.upper()} app can only answer HTTP events. Route other event sources to "
            "a plain handler(event, context)."
        )


def handler(
    app: Any,
    *,
    codecs: Iterable[HttpCodec[Event, Any]] = (),
    stream: bool = False,
    **options: Unpack[OptionArgs],
) -> LambdaHandler:
    """A Lambda handler serving ``app``: an ASGI app, a WSGI app, a plain
    ``handler(event, context)``, or a ``"module:attr"`` string imported on first use.
    With ``stream=True`` faasport's runtime client streams each response as the app
    produces it (Lambda response streaming). ``options`` are
    :class:`~faasport.core.options.AppOptions`'."""
    return LambdaHandler(app, AppOptions(**options), codecs, stream)
