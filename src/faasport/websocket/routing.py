"""A Lambda handler for a WebSocket API, one function per route:

.. code-block:: python

    from faasport import websocket

    ws = websocket.router()

    @ws.route("$connect")
    def connect(event, context):
        if "token" not in event.query:
            return 401                      # the handshake is refused with this status

    @ws.route("join")
    def join(event, context):
        websocket.send(event.connection_id, "welcome")

Point the function at ``ws`` (``handler = "chat:ws"``), or give it to an HTTP app's
handler: ``aws.handler(app, events={"websocket": ws})``. API Gateway chooses the route
(by the API's route selection expression); the router calls the handler registered for it,
else the ``$default`` one. A handler returns None (200), a status code, a body (200 with it:
the reply of a two-way route) or the whole ``{"statusCode": ...}`` result.
"""

from __future__ import annotations

from faasport.core.errors import ConfigError, UnsupportedEventError
from faasport.websocket.event import WebSocketEvent, is_websocket_event

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from typing import Any

    RouteHandler = Callable[[WebSocketEvent, Any], Any]

#: Routes API Gateway accepts without a handler: a connect is allowed, a disconnect noted.
_OPTIONAL = ("$connect", "$disconnect")


def _result(value: Any) -> dict[str, Any]:
    if value is None:
        return {"statusCode": 200}
    if isinstance(value, bool):
        raise TypeError("a WebSocket route handler returned a bool; return a status code")
    if isinstance(value, int):
        return {"statusCode": value}
    if isinstance(value, str):
        return {"statusCode": 200, "body": value}
    if isinstance(value, bytes | bytearray):
        import base64

        return {
            "statusCode": 200,
            "body": base64.b64encode(bytes(value)).decode(),
            "isBase64Encoded": True,
        }
    if isinstance(value, dict) and "statusCode" in value:
        return value
    raise TypeError(
        "a WebSocket route handler returns None, a status code, a str or bytes body, or "
        f'{{"statusCode": ...}}; got {type(value).__name__}'
    )


class Router:
    """Route handlers of one WebSocket API; callable as ``handler(event, context)``."""

    __slots__ = ("_routes",)
    #: What faasport's loader takes it for: a plain handler(event, context).
    faasport_kind = "handler"

    def __init__(self) -> None:
        self._routes: dict[str, RouteHandler] = {}

    def route(self, key: str) -> Callable[[RouteHandler], RouteHandler]:
        """Register the decorated ``handler(event, context)`` for route ``key``."""
        if not isinstance(key, str) or not key or key.strip() != key:
            raise ConfigError(f"a WebSocket route key is a non-empty string, got {key!r}")
        if key.startswith("$") and key not in ("$connect", "$disconnect", "$default"):
            raise ConfigError(
                f"WebSocket route {key!r}: the only routes starting with $ are $connect, "
                "$disconnect and $default"
            )

        def register(handler: RouteHandler) -> RouteHandler:
            if key in self._routes:
                raise ConfigError(f"WebSocket route {key!r} is registered twice")
            self._routes[key] = handler
            return handler

        return register

    @property
    def routes(self) -> tuple[str, ...]:
        return tuple(self._routes)

    def __iter__(self) -> Iterator[str]:
        return iter(self._routes)

    def __call__(self, event: Any, context: Any) -> dict[str, Any]:
        if not is_websocket_event(event):
            raise UnsupportedEventError(
                "a WebSocket router received an event that is not from an API Gateway "
                "WebSocket API (no requestContext.connectionId)"
            )
        parsed = WebSocketEvent.parse(event)
        handler = self._routes.get(parsed.route_key)
        if handler is None:
            if parsed.route_key in _OPTIONAL:
                return {"statusCode": 200}
            handler = self._routes.get("$default")
            if handler is None:
                registered = ", ".join(self._routes) or "none"
                raise UnsupportedEventError(
                    f"no handler for WebSocket route {parsed.route_key!r} and no $default "
                    f"(registered: {registered}); add @ws.route({parsed.route_key!r})"
                )
        from faasport.websocket import connections

        token = connections.current_endpoint.set(parsed.endpoint)
        try:
            return _result(handler(parsed, context))
        finally:
            connections.current_endpoint.reset(token)


def router() -> Router:
    """A new, empty :class:`Router`."""
    return Router()
