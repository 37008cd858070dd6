"""Streamed responses on Google Cloud: a Flask response whose body is a generator, which
functions-framework (gunicorn) writes chunk by chunk, as Cloud Run passes it on.

The app runs on a worker thread and hands each chunk over through a small bounded queue: a
slow client slows the app (its write blocks) instead of filling the instance's memory. The
response goes back to functions-framework as soon as the status and headers are known. An
error after that cannot change the status: it is logged and the body ends short (the
server closes the connection), as on Lambda. Once the client has gone (the server closed the
body early, a HEAD asked for none), the app's next chunk raises :class:`ClientGone`, an
``OSError`` as ASGI 2.4 has ``send`` raise: a stream that never ends on its own ends there,
and a WSGI generator is closed.
"""

from __future__ import annotations

import queue
import threading

from faasport.core.http import HttpRequest, HttpResponse
from faasport.core.logs import logger
from faasport.core.runner import AppRunner, error_response, sendable

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

#: Chunks waiting for the client at most.
QUEUE = 16
_END = ("end",)


class ClientGone(ConnectionResetError):
    """The client went away: the app's stream ends here."""


class QueueSink:
    """A :class:`~faasport.core.streaming.ResponseSink` feeding a bounded queue."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[Any, ...]] = queue.Queue(QUEUE)
        self.started = False
        self.abandoned = False

    def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.started = True
        self.queue.put(("start", status, headers))

    def write(self, chunk: bytes) -> None:
        if self.abandoned:
            raise ClientGone("the client went away")
        self.queue.put(("data", chunk))

    def end(self) -> None:
        if not self.abandoned:
            self.queue.put(_END)

    def abandon(self) -> None:
        """The client is gone: a blocked write goes on, the next raises."""
        self.abandoned = True
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                return


def respond(runner: AppRunner, request: HttpRequest, request_id: str | None) -> Any:
    """The streamed ``flask.Response`` to ``request``."""
    from faasport.gcp.codec import encode_streamed

    sink = QueueSink()

    def work() -> None:
        try:
            runner.stream(request, sink, request_id)
        except BaseException as exc:
            if sink.abandoned:
                return  # the client left: nothing to report, nobody to tell
            logger().error(
                "exception in app after its response to %s %s had started",
                request.method,
                request.path,
                exc_info=exc,
            )
            if not sink.abandoned:
                sink.queue.put(("error",))

    threading.Thread(target=work, name="faasport-stream", daemon=True).start()
    first = sink.queue.get()
    if first[0] == "start":
        _, status, headers = first
        head = HttpResponse(status, headers, b"")
        if sendable(head, request, request_id) is not head:
            sink.abandon()  # the app's next write ends it
            first = ("error",)
    if first[0] != "start":  # runner.stream answers an app's failure with a 500 itself
        response = error_response(500, "Internal Server Error", request_id)
        status, headers, whole = response.status, response.headers, response.body
        return encode_streamed(status, headers, iter([whole]))

    def body() -> Iterator[bytes]:
        try:
            while True:
                item = sink.queue.get()
                if item[0] == "data":
                    yield item[1]
                elif item[0] == "end":
                    return
                else:
                    raise ConnectionAbortedError("the app failed mid-stream")
        except GeneratorExit:
            sink.abandon()
            raise

    return encode_streamed(status, headers, body())
