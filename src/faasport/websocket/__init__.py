"""API Gateway WebSocket APIs: the events (:class:`WebSocketEvent`), a router of route
handlers (:func:`router`), ``send``/``close``/``info`` through the ``@connections`` API, and
rooms kept in a :mod:`faasport.state` store (:class:`Rooms`). Standard library only; each
part is imported when first used, so ``import faasport.aws`` pays only for the router.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from faasport.websocket.connections import (
        ConnectionGone,
        Forbidden,
        PayloadTooLarge,
        Throttled,
        WebSocketError,
        close,
        info,
        send,
    )
    from faasport.websocket.event import (
        CONNECT,
        DISCONNECT,
        MESSAGE,
        WebSocketEvent,
        is_websocket_event,
    )
    from faasport.websocket.rooms import Rooms
    from faasport.websocket.routing import Router, router

#: Public name -> the module that holds it.
_WHERE = {
    "ConnectionGone": "connections",
    "Forbidden": "connections",
    "PayloadTooLarge": "connections",
    "Throttled": "connections",
    "WebSocketError": "connections",
    "close": "connections",
    "info": "connections",
    "send": "connections",
    "CONNECT": "event",
    "DISCONNECT": "event",
    "MESSAGE": "event",
    "WebSocketEvent": "event",
    "is_websocket_event": "event",
    "Rooms": "rooms",
    "Router": "routing",
    "router": "routing",
}

__all__ = [
    "CONNECT",
    "DISCONNECT",
    "MESSAGE",
    "ConnectionGone",
    "Forbidden",
    "PayloadTooLarge",
    "Rooms",
    "Router",
    "Throttled",
    "WebSocketError",
    "WebSocketEvent",
    "close",
    "info",
    "is_websocket_event",
    "router",
    "send",
]


def __getattr__(name: str) -> object:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'faasport.websocket' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f"faasport.websocket.{module}"), name)
    globals()[name] = value
    return value
