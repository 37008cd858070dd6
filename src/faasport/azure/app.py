"""``azure.function_app(app)`` and the trigger helpers that add functions to it.

Each helper registers a plain function on the ``func.FunctionApp`` with the same decorators
a hand-written ``function_app.py`` would use, so the Functions host indexes it as usual.
HTTP functions serve an ASGI or WSGI app through the canonical request; queue, timer and
Event Grid functions hand faasport's typed records to a plain ``handler(records, context)``.
"""

from __future__ import annotations

from faasport.core import invocation, trace
from faasport.core.http import HttpRequest, HttpResponse
from faasport.core.options import AppOptions
from faasport.core.records import Message, Tick
from faasport.core.runner import AppRunner, sendable
from faasport.metrics import flush as _flush_metrics

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, Unpack

    from faasport.core.options import OptionArgs

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
#: The app setting naming the storage account connection of queue and blob triggers.
STORAGE_CONNECTION = "AzureWebJobsStorage"


def function_app(
    app: Any,
    *,
    name: str = "http",
    route: str = "{*route}",
    route_prefix: str = "/api",
    auth_level: str = "anonymous",
    **options: Unpack[OptionArgs],
) -> Any:
    """A ``func.FunctionApp`` with one HTTP function, ``name``, serving ``app`` (an ASGI or
    WSGI app or a ``"module:attr"`` string imported on first use) on every method of
    ``route``. ``route_prefix`` is host.json's ``extensions.http.routePrefix`` (with a
    leading ``/``; ``""`` when it is empty): the app sees it, followed by ``base_path``,
    as ``root_path``."""
    import azure.functions as func

    function_app = func.FunctionApp(http_auth_level=func.AuthLevel(auth_level.lower()))
    http_trigger(function_app, app, name=name, route=route, route_prefix=route_prefix, **options)
    return function_app


def http_trigger(
    function_app: Any,
    app: Any,
    *,
    name: str,
    route: str = "{*route}",
    route_prefix: str = "/api",
    **options: Unpack[OptionArgs],
) -> Any:
    """Add an HTTP function ``name`` serving ``app`` on ``route`` to ``function_app``;
    the app sees ``route_prefix`` followed by ``base_path`` as ``root_path``.

    For an ASGI app, or an app given as an import string, the function is a coroutine: the
    worker awaits it on its event loop, where an ASGI app runs (many requests at once,
    lifespan startup once per worker, its state in every request) and a WSGI app in the
    loop's thread pool. For a WSGI app object it is a plain function, which the worker
    runs in its thread pool directly."""
    import azure.functions as func

    app_options = AppOptions(**options)
    # The Functions host strips nothing: the base path follows the route prefix.
    prefix = route_prefix + app_options.base_path
    app_options.base_path = ""
    runner = AppRunner(app, app_options)
    from faasport.azure import codec

    def decode(req: Any, context: Any) -> tuple[HttpRequest | HttpResponse, str | None]:
        """The canonical request, or the 400 that answers a malformed one."""
        request_id = getattr(context, "invocation_id", None)
        trace.begin(getattr(getattr(context, "trace_context", None), "trace_parent", None))
        return invocation.http_request(request_id, codec.decode, req, context, prefix), request_id

    async def serve_async(req: Any, context: Any) -> Any:
        request, request_id = decode(req, context)
        if isinstance(request, HttpResponse):
            return codec.encode(request)
        try:
            response = await runner.handle_async(request, request_id)
            return codec.encode(sendable(response, request, request_id))
        finally:
            _flush_metrics()

    def serve_sync(req: Any, context: Any) -> Any:
        request, request_id = decode(req, context)
        if isinstance(request, HttpResponse):
            return codec.encode(request)
        try:
            return codec.encode(sendable(runner.handle(request, request_id), request, request_id))
        finally:
            _flush_metrics()

    serve = serve_async
    if not isinstance(app, str):
        from faasport.core.loader import detect_kind

        if detect_kind(app) == "wsgi":
            serve = serve_sync
    serve.__annotations__ = {
        "req": func.HttpRequest,
        "context": func.Context,
        "return": func.HttpResponse,
    }
    _register(serve, name, function_app.route(route=route, methods=list(METHODS)), function_app)
    return serve


def queue_trigger(
    function_app: Any,
    handler: Any,
    *,
    name: str,
    queue: str,
    connection: str = STORAGE_CONNECTION,
) -> Any:
    """Add a Storage queue function ``name``: each message becomes a
    :class:`~faasport.events.Message` handed to ``handler([message], context)``."""
    import azure.functions as func

    runner = _handler_runner(handler)

    def consume(msg: Any, context: Any) -> None:
        inserted = msg.insertion_time
        record = Message(
            msg.id,
            msg.get_body(),
            source="azure.queue",
            channel=queue,
            deliveries=msg.dequeue_count or 1,
            time=inserted.isoformat() if inserted else "",
            raw=msg,
        )
        _call(runner, [record], context)

    consume.__annotations__ = {"msg": func.QueueMessage, "context": func.Context, "return": None}
    decorator = function_app.queue_trigger(arg_name="msg", queue_name=queue, connection=connection)
    return _register(consume, name, decorator, function_app)


def timer_trigger(function_app: Any, handler: Any, *, name: str, schedule: str) -> Any:
    """Add a timer function ``name`` on an NCRONTAB ``schedule`` (six fields, seconds
    first): each firing is a :class:`~faasport.events.Tick` handed to ``handler``."""
    import azure.functions as func

    runner = _handler_runner(handler)

    def tick(timer: Any, context: Any) -> None:
        from datetime import UTC, datetime

        now = datetime.now(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
        record = Tick(now, source="azure.timer", name=name, late=bool(timer.past_due), raw=timer)
        _call(runner, [record], context)

    tick.__annotations__ = {"timer": func.TimerRequest, "context": func.Context, "return": None}
    decorator = function_app.timer_trigger(arg_name="timer", schedule=schedule)
    return _register(tick, name, decorator, function_app)


def event_grid_trigger(
    function_app: Any,
    handler: Any,
    *,
    name: str,
    queue: str,
    connection: str = STORAGE_CONNECTION,
) -> Any:
    """Add a function ``name`` on the Storage queue an Event Grid subscription fills:
    Blob storage events become :class:`~faasport.events.ObjectChange` records (created and
    removed, filtered by prefix and suffix in the subscription), other events
    :class:`~faasport.events.Message` records. A message that is not an Event Grid event
    raises, so it ends in the poison queue rather than vanishing."""
    import azure.functions as func

    from faasport.azure.events import event_grid_record

    runner = _handler_runner(handler)

    def consume(msg: Any, context: Any) -> None:
        _call(runner, [event_grid_record(msg.get_body(), msg)], context)

    consume.__annotations__ = {"msg": func.QueueMessage, "context": func.Context, "return": None}
    decorator = function_app.queue_trigger(arg_name="msg", queue_name=queue, connection=connection)
    return _register(consume, name, decorator, function_app)


def _handler_runner(handler: Any) -> AppRunner:
    return AppRunner(handler, AppOptions(lifespan="off"), kind="handler")


def _call(runner: AppRunner, records: list[Any], context: Any) -> None:
    invocation.begin(getattr(context, "invocation_id", None))
    # An exception propagates: the host retries the message and, after maxDequeueCount
    # attempts, moves it to the "<queue>-poison" queue. Nothing is dropped.
    try:
        runner.call_handler(records, context)
    finally:
        _flush_metrics()


def _register(
    function: Callable[..., Any], name: str, trigger: Callable[..., Any], function_app: Any
) -> Any:
    function.__name__ = function.__qualname__ = name
    return function_app.function_name(name=name)(trigger(function))
