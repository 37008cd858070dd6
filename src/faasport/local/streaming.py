"""Streamed responses in the local runtime: from the Runtime API to the gateway's client.

A function whose runtime posts its response with ``Lambda-Runtime-Function-Response-Mode:
streaming`` gets a :class:`LocalStream`: the chunks the Runtime API reads, handed on as they
arrive. Its buffer is bounded: past :data:`HIGH_WATER` bytes not yet taken the Runtime API
stops reading the function's connection (so the function blocks in its write, as on a slow
client), and reads again once the consumer has taken them. The invocation ends when the
last chunk arrives: with the error of the ``Lambda-Runtime-Function-Error-*`` trailers, or
the timeout or crash that cut it short.

:class:`StreamedResponse` is what the HTTP servers write chunk by chunk
(``transfer-encoding: chunked``), waiting for the client at each chunk; a batch of pieces
goes to the socket as one chunk in one ``writev``, not copied together.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from faasport.aws.streaming import DELIMITER, HTTP_INTEGRATION, MAX_STREAM
from faasport.core.http import HttpResponse
from faasport.local.http11 import _PHRASES, http_date
from faasport.local.outcome import Outcome, Status, error_payload

if TYPE_CHECKING:
    from faasport.local.emulator import Emulator
    from faasport.local.runtime_api import Invocation

#: Large enough that a consumer keeping up never pauses the function: the Runtime API reads
#: up to a few hundred KB at a time, and a pause and resume per batch cost more than the
#: batch's copy.
HIGH_WATER = 1024 * 1024
#: API Gateway reads the HTTP integration prelude from the first 16 KB of the stream.
MAX_PRELUDE = 16 * 1024


class LocalStream:
    """The chunks of one streamed response, as the function sends them."""

    def __init__(
        self,
        invocation: Invocation,
        content_type: str,
        pause: Callable[[], None],
        resume: Callable[[], None],
        *,
        collect: bool = False,
        limit: int = MAX_STREAM,
    ) -> None:
        self.invocation = invocation
        self.content_type = content_type
        #: Nobody reads the stream as it comes (a buffered Invoke): it is gathered into the
        #: invocation's payload, within the payload limit of a buffered response.
        self.collect = collect
        self.limit = limit
        self.total = 0
        self.done = False
        #: The error that ended the stream (Lambda's error document), if any.
        self.error: bytes | None = None
        self.error_type: str | None = None
        self._pause, self._resume = pause, resume
        self._paused = False
        self._chunks: list[bytes] = []
        self._buffered = 0
        self._abandoned = False
        self._waiter: asyncio.Future[None] | None = None

    # -- the Runtime API's side -----------------------------------------------------------

    def feed(self, data: bytes) -> bool:
        """A chunk from the function; False once the stream is over its size limit."""
        if self.done:
            return False
        self.total += len(data)
        if self._abandoned:
            return True
        if self.total > self.limit:
            kind = "payload" if self.collect else "payload streaming"
            self.finish(
                "Function.ResponseSizeTooLarge",
                error_payload(
                    f"Response payload size exceeded maximum allowed {kind} size "
                    f"({self.limit} bytes).",
                    "Function.ResponseSizeTooLarge",
                ),
            )
            return False
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > HIGH_WATER and not self._paused and not self.collect:
            self._paused = True
            self._pause()
        self._wake()
        return True

    def finish(self, error_type: str | None = None, error: bytes | None = None) -> None:
        """The end of the stream, with the error that ended it if any."""
        if self.done:
            return
        self.done = True
        result = self.invocation.result
        if result is not None and result.done():
            # A timeout or crash got there first: that is the stream's error.
            status, payload = result.result()
            if status is not Status.OK:
                error_type, error = error_type or "Unhandled", payload
        elif result is not None:
            if error is None:
                result.set_result((Status.OK, b"".join(self._chunks) if self.collect else b""))
            elif error_type == "Function.ResponseSizeTooLarge" and self.collect:
                result.set_result((Status.TOO_LARGE, error))
            else:
                result.set_result((Status.FUNCTION_ERROR, error))
        self.error_type, self.error = error_type, error
        if self._paused:
            self._paused = False
            self._resume()
        self._wake()

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # -- the consumer's side --------------------------------------------------------------

    async def batches(self) -> AsyncIterator[list[bytes]]:
        """Everything that came since the last batch, as it came; ends with the stream
        (check :attr:`error` then). Kept in pieces: a writer that frames them passes them
        to one ``writev`` rather than copying them together."""
        while True:
            batch = self._chunks
            if batch:
                self._chunks = []
                self._buffered = 0
                if self._paused:
                    self._paused = False
                    self._resume()
                yield batch
            elif self.done:
                return
            else:
                self._waiter = asyncio.get_running_loop().create_future()
                await self._waiter
                self._waiter = None

    async def chunks(self) -> AsyncIterator[bytes]:
        """The chunks as they come, each batch in one piece; ends with the stream."""
        async for batch in self.batches():
            yield batch[0] if len(batch) == 1 else b"".join(batch)

    def abandon(self) -> None:
        """The consumer went away: drop what is buffered and what comes, and keep reading
        the function (it runs on, as on Lambda when the client disconnects)."""
        self._abandoned = True
        self._chunks.clear()
        self._buffered = 0
        if self._paused:
            self._paused = False
            self._resume()


def trailer_error(trailers: dict[str, str]) -> tuple[str | None, bytes | None]:
    """The error type and document of a stream's ``Lambda-Runtime-Function-Error-*``
    trailers; (None, None) without them."""
    error_type = trailers.get("lambda-runtime-function-error-type")
    if error_type is None:
        return None, None
    body = trailers.get("lambda-runtime-function-error-body", "")
    try:
        document = base64.b64decode(body, validate=True)
        json.loads(document)
    except (binascii.Error, ValueError):
        document = error_payload(body or "the stream ended with an error", error_type)
    return error_type, document


def gathered(payload: bytes) -> dict[str, Any] | None:
    """A streamed HTTP response gathered whole (a buffered Invoke of a streaming function) as
    the proxy result a buffered function returns: ``statusCode``, ``headers``, ``cookies``
    and ``body`` (base64 when it is not UTF-8). None when ``payload`` is not one."""
    prelude, found, body = payload.partition(DELIMITER)
    if not found or len(prelude) > MAX_PRELUDE:
        return None
    try:
        document = json.loads(prelude)
    except ValueError:
        return None
    if not isinstance(document, dict) or "statusCode" not in document:
        return None
    try:
        document["body"], document["isBase64Encoded"] = body.decode(), False
    except UnicodeDecodeError:
        document["body"], document["isBase64Encoded"] = base64.b64encode(body).decode(), True
    return document


_tasks: set[asyncio.Task[Outcome]] = set()


async def invoke_streaming(
    emulator: Emulator, name: str, payload: bytes, **options: Any
) -> Outcome | LocalStream:
    """Invoke ``name``; its stream as soon as the function starts one, else its outcome
    (a buffered result, or the failure that came before any byte)."""
    started: asyncio.Future[LocalStream] = asyncio.get_running_loop().create_future()
    task = asyncio.ensure_future(emulator.pool(name).invoke(payload, started=started, **options))
    either: list[asyncio.Future[Any]] = [started, task]
    await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    if started.done():
        # The invocation goes on until the stream ends (END and REPORT lines, release).
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)
        return started.result()
    started.cancel()
    return task.result()


class StreamedResponse(HttpResponse):
    """A response whose body is written as it comes (``transfer-encoding: chunked``).

    Its source yields the body's pieces: bytes, or a list of bytes written as one chunk
    (a batch of a :class:`LocalStream`, framed without copying it together)."""

    __slots__ = ("failed", "live", "on_abandon", "source")

    def __init__(
        self,
        status: int,
        headers: list[tuple[bytes, bytes]],
        source: AsyncIterator[bytes | list[bytes]],
        failed: Callable[[], bool] = lambda: False,
        on_abandon: Callable[[], None] = lambda: None,
        *,
        live: bool = False,
    ) -> None:
        super().__init__(status, headers)
        self.source = source
        #: A feed that lasts as long as the client watches (Server-Sent Events): not a
        #: request in flight, so a stopping server ends it at once; the connection closes
        #: after it.
        self.live = live
        #: Asked once the source is exhausted: True if it ended in error, and the client
        #: must see the body cut short rather than complete.
        self.failed = failed
        #: Called when the client goes away before the end.
        self.on_abandon = on_abandon


async def write_streamed(
    writer: asyncio.StreamWriter, response: StreamedResponse, method: str, *, close: bool
) -> None:
    """Write ``response`` as its chunks come, waiting for the client at each one. A stream
    that ended in error is cut short (no last chunk, connection closed): the client sees
    an incomplete body rather than a complete one."""
    status = response.status
    lines = [b"HTTP/1.1 %d %s" % (status, _PHRASES.get(status, b""))]
    lines += [
        name + b": " + value
        for name, value in response.headers
        if name not in (b"content-length", b"transfer-encoding", b"connection")
    ]
    lines.append(b"date: " + http_date())
    bodiless = method == "HEAD" or status < 200 or status in (204, 304)
    # A live feed's body ends when its connection does, however the server stops it.
    chunked = not bodiless and not response.live
    if chunked:
        lines.append(b"transfer-encoding: chunked")
    if close or response.live:
        lines.append(b"connection: close")
    # The head goes out with the first chunk: one write, one packet.
    pending = b"\r\n".join(lines) + b"\r\n\r\n"
    try:
        async for data in response.source:
            if bodiless:
                continue
            pieces = [data] if isinstance(data, bytes) else data
            size = sum(map(len, pieces))
            if not size:
                continue
            # The pieces go to the socket as they are, in one writev with their framing.
            if chunked:
                writer.writelines([pending + b"%x\r\n" % size, *pieces, b"\r\n"])
            elif pending:
                writer.writelines([pending, *pieces])
            else:
                writer.writelines(pieces)
            pending = b""
            await writer.drain()
    except BaseException:
        response.on_abandon()
        raise
    finally:  # the client left, or the server stops: the producer's clean-up runs now
        close_source = getattr(response.source, "aclose", None)
        if close_source is not None:
            await close_source()
    if response.failed():
        if pending:
            writer.write(pending)
        raise ConnectionAbortedError("the function's stream ended with an error")
    writer.write(pending + b"0\r\n\r\n" if chunked else pending)
    await writer.drain()


async def http_response(stream: LocalStream) -> StreamedResponse | None:
    """The HTTP response of a stream in the HTTP integration format (prelude, eight NUL
    bytes, body) or of any other content type (status 200); None when the prelude is
    malformed or the stream ended before it."""
    batches = stream.batches()
    if stream.content_type.split(";")[0].strip().lower() != HTTP_INTEGRATION:
        headers = [(b"content-type", stream.content_type.encode("latin-1"))]
        return StreamedResponse(
            200, headers, batches, lambda: stream.error is not None, stream.abandon
        )
    head = b""
    rest: list[bytes] = []
    async for batch in batches:
        for index, data in enumerate(batch):
            head += data
            if DELIMITER in head:
                rest = batch[index + 1 :]
                break
            if len(head) > MAX_PRELUDE:
                return None
        else:
            continue
        break
    prelude, found, first = head.partition(DELIMITER)
    if not found:
        return None
    try:
        document = json.loads(prelude)
        status = int(document.get("statusCode", 200))
        headers = [
            (str(k).lower().encode("latin-1"), str(v).encode("latin-1"))
            for k, v in (document.get("headers") or {}).items()
        ]
        headers += [(b"set-cookie", str(c).encode("latin-1")) for c in document.get("cookies", ())]
    except (ValueError, AttributeError, TypeError, UnicodeEncodeError):
        return None
    if not 100 <= status <= 599:
        return None

    async def body() -> AsyncIterator[bytes | list[bytes]]:
        if first:
            rest.insert(0, first)
        if rest:
            yield rest
        async for batch in batches:
            yield batch

    return StreamedResponse(
        status, headers, body(), lambda: stream.error is not None, stream.abandon
    )
