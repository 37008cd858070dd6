"""``aws.handler(app)``: a Lambda handler that serves an ASGI or WSGI app (or wraps a plain
handler) behind API Gateway REST and HTTP APIs, ALB and Function URLs."""

from __future__ import annotations

import os

from faasport.aws.alb import Alb
from faasport.aws.apigw_v1 import ApiGatewayV1
from faasport.aws.apigw_v2 import ApiGatewayV2
from faasport.aws.dispatch import EventDispatch
from faasport.aws.edge import Edge
from faasport.aws.function_url import FunctionUrl
from faasport.aws.lattice import Lattice, LatticeV2
from faasport.core import coldstart, invocation, logs, otel, trace
from faasport.core.errors import UnsupportedEventError, import_failure
from faasport.core.health import is_health_check
from faasport.core.http import BODILESS, HttpResponse
from faasport.core.options import AppOptions
from faasport.core.runner import AppRunner, error_response
from faasport.core.wsgi import call_wsgi
from faasport.metrics import flush as _flush_metrics

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, Unpack

    from faasport.aws.codec import Codec, Event
    from faasport.aws.dispatch import EventHandlers
    from faasport.core.asgi import AsgiBridge
    from faasport.core.codec import Codec as HttpCodec
    from faasport.core.options import OptionArgs

_trace_sources = trace.get
_log_context = logs.get
_cold = coldstart.record

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


def _serve_environ(app: Any, environ: dict[str, Any], request_id: str | None) -> HttpResponse:
    """:meth:`AppRunner.handle` for an environ a codec made straight from its event: the
    app's response, a 500 when it fails, no body for HEAD."""
    try:
        response = call_wsgi(app, environ)
    except Exception:
        from faasport.core.logs import logger

        path = environ["PATH_INFO"].encode("latin-1").decode("utf-8", "replace")
        logger().exception("unhandled exception in app for %s %s", environ["REQUEST_METHOD"], path)
        return error_response(500, "Internal Server Error", request_id)
    if response.body and (environ["REQUEST_METHOD"] == "HEAD" or response.status in BODILESS):
        response.body = b""
    return response


def _app_failed(method: str, path: str, request_id: str | None) -> HttpResponse:
    """The 500 answering an app that raised (called while its exception is handled)."""
    from faasport.core.logs import logger

    logger().exception("unhandled exception in app for %s %s", method, path)
    return error_response(500, "Internal Server Error", request_id)


def _direct_builder(codec: Any, name: str) -> Callable[..., Any] | None:
    """The codec's ``wsgi_environ`` or ``asgi_scope`` (``name``, see
    :mod:`faasport.aws.direct`), unless a subclass changed how it decodes events (then only
    its ``decode`` knows what the app should see): both read the event through ``_parts``,
    so they stand for ``decode`` only while one class defines the two."""
    built = getattr(codec, name, None)
    if built is None:
        return None
    mro = type(codec).__mro__
    decoder = next((c for c in mro if "decode" in vars(c)), None)
    reader = next((c for c in mro if "_parts" in vars(c)), None)
    return built if decoder is not None and decoder is reader else None


class LambdaHandler:
    """Callable as ``handler(event, context)``; one instance per execution environment."""

    def __init__(
        self,
        app: Any,
        options: AppOptions,
        codecs: Iterable[HttpCodec[Event, Any]] = (),
        events: EventHandlers | None = None,
        stream: bool = False,
    ) -> None:
        self.options = options
        self.events = None if events is None else EventDispatch(events)
        #: Responses are streamed by faasport's runtime client (:mod:`faasport.aws.streaming`).
        self.streaming = stream
        self.runner = AppRunner(app, options)
        self.codecs: tuple[HttpCodec[Event, Any], ...] = (*codecs, *CODECS)
        self._last: HttpCodec[Event, Any] = self.codecs[0]
        #: The WSGI app, once the runner has loaded one: then codecs that can make its
        #: environ straight from the event (``wsgi_environ``) do.
        self._wsgi: Any = None
        #: The last codec's ``wsgi_environ``, when it has one.
        self._environ_of = _direct_builder(self._last, "wsgi_environ")
        #: The ASGI bridge, once the app is loaded and started (and no policies or
        #: ``strip_root_path`` need the canonical request): then codecs that can make its
        #: scope straight from the event (``asgi_scope``) do.
        self._asgi: AsgiBridge | None = None
        self._scope_of = _direct_builder(self._last, "asgi_scope")
        health = options.health_path
        #: The health path as PATH_INFO spells it (PEP 3333 native string).
        self._health = None if health is None else health.encode().decode("latin-1")
        #: The health path as an ASGI scope spells it: a path ending so is served (or not)
        #: as :meth:`AppRunner.handle` decides.
        self._health_text = health
        self.span_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME") or "invocation"
        if os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "provisioned-concurrency":
            # Provisioned environments initialise before any request waits on them: import
            # the app and start it now, so their first request is as fast as any other.
            try:
                self.runner.prepare()
            except Exception as exc:
                if self.runner.kind is None:  # the import failed, not lifespan startup
                    raise import_failure(self.runner.target, exc) from exc
                raise
        elif os.environ.get("AWS_LAMBDA_INITIALIZATION_TYPE") == "snap-start":
            from faasport.aws import snapstart

            snapstart.register(self.runner)

    def __call__(self, event: Any, context: Any) -> Any:
        headers = event.get("headers") if type(event) is dict else None
        _trace_sources()["headers"] = headers  # trace.begin_headers, inline
        tracer = otel.tracer
        if tracer and tracer[0] is None:  # spans are off
            try:
                return self._invoke(event, context)
            finally:
                _flush_metrics()
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
            self._environ_of = _direct_builder(codec, "wsgi_environ")
            self._scope_of = _direct_builder(codec, "asgi_scope")
        options = self.options
        bridge = self._asgi
        builder = self._scope_of if bridge is not None else self._environ_of
        if builder is not None and (bridge is not None or self._wsgi is not None):
            # The hot path of every request once the app is loaded: invocation.begin and
            # http_request, inline.
            current = _log_context()
            current["request_id"] = request_id
            current["cold_start"] = _cold.pending and _cold.take()
            try:
                got = builder(event, context, options)
            except (UnsupportedEventError, UnicodeEncodeError) as exc:
                return codec.encode(invocation.refused(exc, request_id, event), event, options)
            if bridge is not None:
                scope, body = got
                health = self._health_text
                if health is None or not scope["path"].endswith(health):
                    try:
                        response = bridge.serve_scope(scope, body)
                    except Exception:
                        response = _app_failed(scope["method"], scope["path"], request_id)
                    else:
                        if response.body and (
                            scope["method"] == "HEAD" or response.status in BODILESS
                        ):
                            response.body = b""
                    return codec.encode(response, event, options)
            else:
                health = self._health
                if health is None or got["PATH_INFO"] != health:
                    response = _serve_environ(self._wsgi, got, request_id)
                    return codec.encode(response, event, options)
        runner = self.runner
        kind = runner.kind
        if kind == "handler":
            # A plain handler reads its event itself: faasport neither decodes nor judges it.
            invocation.begin(request_id)
            return runner.call_handler(event, context)
        request = invocation.http_request(request_id, codec.decode, event, context, options)
        if isinstance(request, HttpResponse):
            if kind is None and self._load() == "handler":
                return runner.call_handler(event, context)
            return codec.encode(request, event, options)
        if kind is None:
            if not is_health_check(request, options.health_path):
                self._load()
            kind = runner.kind
        if kind == "handler":
            return runner.call_handler(event, context)
        response = runner.handle(request, request_id)
        # The fast paths skip the runner, and with it the policies.
        if options.policies is None:
            if kind == "wsgi":
                if self._wsgi is None:
                    self._wsgi = runner.load()[0]
            elif not options.strip_root_path:
                self._asgi = runner.started_bridge
        return codec.encode(response, event, options)

    def _load(self) -> str:
        """Import the app; an app that does not import fails the invocation as the init
        error it is (``Runtime.ImportModuleError``), not as an error of the app."""
        try:
            return self.runner.load()[1]
        except Exception as exc:
            raise import_failure(self.runner.target, exc) from exc

    def _not_http(self, event: Any, context: Any) -> Any:
        if self.events is not None:
            return self.events(event, context)
        kind = self._load()
        if kind == "handler":
            return self.runner.call_handler(event, context)
        route = _websocket_route(event)
        if route is not None:
            raise UnsupportedEventError(
                f"faasport.aws.handler received an API Gateway WebSocket event (route "
                f"{route}), which an {kind.upper()} app cannot answer: ASGI and WSGI apps "
                "serve HTTP only. Point the WebSocket API at a plain handler(event, context) "
                "(a router: ws = aws.websocket()), or give one to the app's handler: "
                'aws.handler(app, events={"websocket": ws}); reply with '
                "faasport.websocket.send(connection_id, data)."
            )
        raise UnsupportedEventError(
            f"faasport.aws.handler received {_describe(event)}, which is not an HTTP event "
            "from API Gateway (REST or HTTP API), an ALB or a Function URL; an "
            f"{kind.upper()} app can only answer HTTP events. Route other event sources to "
            "a plain handler(event, context), or register one for the app: "
            "aws.handler(app, events={'sqs': handle, ...})."
        )


def handler(
    app: Any,
    *,
    codecs: Iterable[HttpCodec[Event, Any]] = (),
    events: EventHandlers | None = None,
    stream: bool = False,
    **options: Unpack[OptionArgs],
) -> LambdaHandler:
    """A Lambda handler serving ``app``: an ASGI app, a WSGI app, a plain
    ``handler(event, context)``, or a ``"module:attr"`` string imported on first use.
    ``events`` receives the non-HTTP events (see :mod:`faasport.aws.dispatch`): one
    handler for all, or a mapping like ``{"sqs": on_orders, "schedule": nightly}``.
    With ``stream=True`` faasport's runtime client streams each response as the app
    produces it (Lambda response streaming). ``options`` are
    :class:`~faasport.core.options.AppOptions`'."""
    return LambdaHandler(app, AppOptions(**options), codecs, events, stream)
