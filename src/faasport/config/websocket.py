"""``websocket = { routes = [...], selection = "..." }`` on a function: it serves an API
Gateway WebSocket API, one invocation per connect, message and disconnect."""

from __future__ import annotations

import re

from faasport.config.fields import Table
from faasport.config.model import WebSocketApi

DEFAULT_ROUTES = ("$connect", "$disconnect", "$default")
DEFAULT_SELECTION = "$request.body.action"
_SPECIAL = frozenset(DEFAULT_ROUTES)
_ROUTE = re.compile(r"[A-Za-z0-9_.:-]{1,128}")
_SELECTION = re.compile(r"\$request\.body\.[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


def parse_websocket(table: Table, handler: str | None) -> WebSocketApi | None:
    sub = table.table("websocket")
    if sub is None:
        return None
    if handler is None:
        table.fail(
            "websocket",
            'needs handler = "module:attr": a WebSocket router (faasport.websocket.router()) '
            "or a plain handler(event, context) receives the WebSocket events",
        )
    routes = sub.strings("routes", "route keys") or DEFAULT_ROUTES
    for route in routes:
        if route.startswith("$"):
            if route not in _SPECIAL:
                sub.fail(
                    "routes",
                    f'"{route}": the only routes starting with $ are {", ".join(DEFAULT_ROUTES)}',
                )
        elif not _ROUTE.fullmatch(route):
            sub.fail("routes", f'"{route}": a route key is letters, digits and _.:- (at most 128)')
    if len(set(routes)) != len(routes):
        sub.fail("routes", "lists a route twice")
    selection = sub.string(
        "selection",
        DEFAULT_SELECTION,
        pattern=_SELECTION,
        expected='"$request.body.NAME" (a JSON field of each message, like "$request.body.action")',
    )
    sub.finish()
    return WebSocketApi(routes=tuple(routes), selection=selection)
