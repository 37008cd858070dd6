"""Streamed responses: where an app's response goes chunk by chunk instead of into memory.

A :class:`ResponseSink` gets the status and headers once (``start``), then each body chunk
as the app produces it (``write``). The ASGI bridge feeds it from ``http.response.body``
messages with ``more_body``, the WSGI bridge from the app's iterable, one chunk at a time;
a provider's runtime (Lambda's streaming Runtime API, a local gateway) decides where the
bytes go. Nothing here buffers a whole body.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    from collections.abc import Callable, Iterable
    from typing import Any, Protocol

    class ResponseSink(Protocol):
        @property
        def started(self) -> bool: ...

        def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None: ...

        def write(self, chunk: bytes) -> None: ...

        def end(self) -> None: ...


def stream_wsgi(
    app: Callable[..., Iterable[bytes]], environ: dict[str, Any], sink: ResponseSink
) -> None:
    """Run a WSGI app, handing its iterable's chunks to ``sink`` as they come."""
    state: dict[str, Any] = {}

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: Any = None
    ) -> Callable[[bytes], object]:
        if exc_info is not None and sink.started:
            raise exc_info[1].with_traceback(exc_info[2])
        if "status" in state and exc_info is None:
            raise RuntimeError("WSGI app called start_response twice without exc_info")
        state["status"] = int(status[:3])
        state["headers"] = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers
        ]
        return write

    def write(chunk: bytes) -> None:
        if not sink.started:
            sink.start(state["status"], state["headers"])
        if chunk:
            sink.write(bytes(chunk))

    result = app(environ, start_response)
    try:
        for chunk in result:
            if chunk:
                write(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if "status" not in state:
        raise RuntimeError("WSGI app returned without calling start_response")
    if not sink.started:
        sink.start(state["status"], state["headers"])
    sink.end()


class StreamExchange:
    """The receive/send pair of one ASGI request whose body goes to a sink as it is sent."""

    __slots__ = ("done", "headers", "request_body", "sink", "status", "waiter")

    def __init__(self, body: bytes, sink: ResponseSink) -> None:
        self.request_body: bytes | None = body
        self.sink = sink
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.done = False
        self.waiter: asyncio.Future[None] | None = None

    async def receive(self) -> dict[str, Any]:
        body = self.request_body
        if body is not None:
            self.request_body = None
            return {"type": "http.request", "body": body, "more_body": False}
        if not self.done:
            # The client stays connected until the response is complete.
            import asyncio

            self.waiter = asyncio.get_running_loop().create_future()
            await self.waiter
        return {"type": "http.disconnect"}

    async def send(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "http.response.start":
            if self.status:
                raise RuntimeError("ASGI app sent 'http.response.start' twice")
            self.status = int(message["status"])
            self.headers = [
                (bytes(name).lower(), bytes(value)) for name, value in message.get("headers", ())
            ]
        elif kind == "http.response.body":
            if not self.status:
                raise RuntimeError("ASGI app sent a body before 'http.response.start'")
            if self.done:
                raise RuntimeError("ASGI app sent a body after the response was complete")
            sink = self.sink
            if not sink.started:
                # Started with the first body message, so that an app failing before it
                # can still be answered with a complete error response.
                sink.start(self.status, self.headers)
            chunk = message.get("body", b"")
            if chunk:
                sink.write(bytes(chunk))
            if not message.get("more_body", False):
                self.done = True
                sink.end()
                waiter = self.waiter
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)

    def finish(self) -> None:
        if not self.done:
            raise RuntimeError(
                "ASGI app returned without completing its response"
                if self.status
                else "ASGI app returned without sending a response"
            )
