"""Run one canonical request through an ASGI 3 application."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from faasport.core.http import HttpResponse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from faasport.core.http import Headers, HttpRequest

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: ASGI 2.4: servers report disconnects by raising OSError from send, so frameworks do not
#: need to poll receive() concurrently for ``http.disconnect`` while they stream.
ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}


class AppReturnedWithoutResponse(RuntimeError):
    pass


def build_scope(request: HttpRequest, state: dict[str, Any] | None) -> Scope:
    root = request.root_path
    path = root + request.path if root else request.path
    raw_path = request.raw_path
    if raw_path is None:
        raw_path = path.encode("utf-8")
    scope: Scope = {
        "type": "http",
        "asgi": ASGI_VERSION,
        "http_version": request.http_version,
        "method": request.method,
        "scheme": request.scheme,
        "path": path,
        "raw_path": raw_path,
        "query_string": request.query_string,
        "root_path": root,
        "headers": request.headers,
        "client": request.client,
        "server": request.server,
    }
    if state is not None:
        scope["state"] = state.copy()
    if request.extras:
        scope.update(request.extras)
    return scope


class _Exchange:
    """The receive/send pair of one request; collects the response in memory."""

    __slots__ = ("body", "done", "headers", "request_body", "status", "waiter")

    def __init__(self, body: bytes) -> None:
        self.request_body: bytes | None = body
        self.status = 0
        self.headers: Headers = []
        self.body: list[bytes] = []
        self.done = False
        self.waiter: asyncio.Future[None] | None = None

    async def receive(self) -> Message:
        body = self.request_body
        if body is not None:
            self.request_body = None
            return {"type": "http.request", "body": body, "more_body": False}
        if not self.done:
            # A framework waiting for the client to go away: it never does before the
            # response is complete, exactly as with a live connection.
            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.body":
            if not self.status:
                raise RuntimeError("ASGI app sent a body before 'http.response.start'")
            if self.done:
                raise RuntimeError("ASGI app sent a body after the response was complete")
            chunk = message.get("body", b"")
            if chunk:
                self.body.append(bytes(chunk))
            if not message.get("more_body", False):
                self.done = True
                waiter = self.waiter
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
        elif kind == "http.response.start":
            if self.status:
                raise RuntimeError("ASGI app sent 'http.response.start' twice")
            self.status = int(message["status"])
            self.headers = [(bytes(k).lower(), bytes(v)) for k, v in message.get("headers", ())]
        # Other messages (trailers, extensions) are ignored: no provider carries them.


async def call_asgi(app: ASGIApp, scope: Scope, body: bytes) -> HttpResponse:
    exchange = _Exchange(body)
    await app(scope, exchange.receive, exchange.send)
    if not exchange.done:
        raise AppReturnedWithoutResponse(
            "ASGI app returned without completing its response"
            if exchange.status
            else "ASGI app returned without sending a response"
        )
    return HttpResponse(exchange.status, exchange.headers, b"".join(exchange.body))
