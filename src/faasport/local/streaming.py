"""Streamed responses in the local runtime: from the Runtime API to the gateway's client.

A function whose runtime posts its response with ``Lambda-Runtime-Function-Response-Mode:
streaming`` gets a :class:`LocalStream`: the chunks the Runtime API reads, handed on as they
arrive. Its buffer is bounded: past :data:`HIGH_WATER` bytes not yet taken the Runtime API
stops reading the function's connection (so the function blocks in its write, as on a slow
client), and reads again once the consumer has taken them; its first bytes
(:data:`FIRST_BYTES`) it reads only as the consumer asks for them, so that the first chunk
goes on before what follows it is read. The invocation ends when the last chunk arrives:
with the error of the ``Lambda-Runtime-Function-Error-*`` trailers, or the timeout or crash
that cut it short.

:class:`StreamedResponse` is what the HTTP servers write chunk by chunk
(``transfer-encoding: chunked``), waiting for the client at each chunk; a batch of pieces
goes to the socket as one chunk in one ``writev``, not copied together. Once the head and
the first chunk are out, a gateway client is attached to its stream (:meth:`LocalStream.attach`):
the function's chunks then go from the Runtime API connection to the client's socket as the
function framed them, views of the buffer they were read into (:mod:`faasport.local.stream_body`),
and the writer only waits for the end, draining the socket when it fills.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING, Any

from faasport.aws.streaming import DELIMITER, HTTP_INTEGRATION, MAX_STREAM
from faasport.core.http import BODILESS, HttpResponse
from faasport.local.http11 import _PHRASES, http_date
from faasport.local.outcome import Outcome, Status, error_payload

if TYPE_CHECKING:
    from faasport.local.emulator import Emulator
    from faasport.local.runtime_api import Invocation

#: Large enough that a consumer keeping up never pauses the function: the Runtime API reads
#: up to a few hundred KB at a time, and a pause and resume per batch cost more than the
#: batch's copy.
HIGH_WATER = 1024 * 1024
#: Until its consumer has taken this much and comes back for more (or the client's socket is
#: attached), a stream reads the function's connection only when the consumer waits for
#: it. Each read is a turn of the event loop: the turns from the first chunk's arrival to its
#: write to the client would otherwise each read, and copy, up to a buffer more of what
#: follows it, and all of that went out before the first byte did.
FIRST_BYTES = 256 * 1024
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
        #: Payload bytes the consumer has taken.
        self._taken = 0
        #: The first bytes: read only as the consumer asks (:data:`FIRST_BYTES`).
        self._early = not collect
        self._abandoned = False
        self._waiter: asyncio.Future[None] | None = None
        #: The client's transport once :meth:`attach` made the stream write straight to it.
        self.direct: asyncio.WriteTransport | None = None
        self._writer: asyncio.StreamWriter | None = None
        #: The client's socket is full: the function waits until it drains.
        self._pressed = False
        self._client_gone = False

    # -- the Runtime API's side -----------------------------------------------------------

    def feed(self, data: bytes) -> bool:
        """A chunk from the function; False once the stream is over its size limit."""
        if self.done:
            return False
        self.total += len(data)
        if self._abandoned:
            return True
        if self.total > self.limit:
            self._too_large()
            return False
        self._chunks.append(data)
        self._buffered += len(data)
        if (self._early or self._buffered > HIGH_WATER) and not self._paused and not self.collect:
            self._paused = True
            self._pause()
        self._wake()
        return True

    def pipe(self, pieces: list[bytes | memoryview], size: int) -> bool:
        """Chunks framed for the attached client (``size`` bytes of payload), written to its
        socket now; False once the stream is over its size limit."""
        if self.done:
            return False
        self.total += size
        if self._abandoned:
            return True
        if self.total > self.limit:
            self._too_large()
            return False
        transport = self.direct
        assert transport is not None
        if transport.is_closing():  # the client left: the consumer learns it on waking
            self._client_gone = self._abandoned = True
            self._wake()
            return True
        transport.writelines(pieces)
        if transport.get_write_buffer_size() > HIGH_WATER and not self._paused:
            self._paused = self._pressed = True
            self._pause()
            self._wake()
        return True

    def holding(self) -> bool:
        """The attached client's socket has not taken all that was piped to it yet (the
        pieces handed to :meth:`pipe` are still referenced)."""
        return self.direct is not None and self.direct.get_write_buffer_size() > 0

    def _too_large(self) -> None:
        kind = "payload" if self.collect else "payload streaming"
        self.finish(
            "Function.ResponseSizeTooLarge",
            error_payload(
                f"Response payload size exceeded maximum allowed {kind} size ({self.limit} bytes).",
                "Function.ResponseSizeTooLarge",
            ),
        )

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
            if self._early and self._taken > FIRST_BYTES:
                self._early = False  # the first bytes are out: the consumer is back for more
            batch = self._chunks
            if batch:
                self._chunks = []
                self._taken += self._buffered
                self._buffered = 0
                if self._paused and not self._early:
                    self._paused = False
                    self._resume()
                yield batch
            elif self.done:
                return
            else:
                if self._paused:
                    self._paused = False
                    self._resume()
                self._waiter = asyncio.get_running_loop().create_future()
                await self._waiter
                self._waiter = None

    def attach(self, writer: asyncio.StreamWriter) -> None:
        """From now on the chunks go straight to ``writer``'s socket, framed for a chunked
        body, as the Runtime API reads them (:meth:`pipe`); what is buffered goes first,
        as one chunk. The consumer waits in :meth:`follow`."""
        transport = writer.transport
        pending = self._chunks
        if pending:
            self._chunks = []
            self._buffered = 0
            transport.writelines([b"%x\r\n" % sum(map(len, pending)), *pending, b"\r\n"])
        self.direct, self._writer = transport, writer
        self._early = False
        if self._paused:
            self._paused = False
            self._resume()

    async def follow(self) -> None:
        """Until the end of an attached stream: waits for the client's socket to drain
        when it is full, then lets the function go on. Raises ConnectionResetError when
        the client left."""
        writer = self._writer
        assert writer is not None
        while True:
            if self._client_gone:
                raise ConnectionResetError("the client left mid-stream")
            if self._pressed:
                await writer.drain()
                self._pressed = False
                if self._paused:
                    self._paused = False
                    self._resume()
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
    try:
        await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
    except asyncio.CancelledError:
        # The request went away: the invocation runs on, its stream (now or when it
        # begins) unread.
        if started.done() and not started.cancelled():
            started.result().abandon()
        started.cancel()
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)
        raise
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
    bodiless = method == "HEAD" or status < 200 or status in BODILESS
    # A live feed's body ends when its connection does, however the server stops it.
    chunked = not bodiless and not response.live
    if chunked:
        lines.append(b"transfer-encoding: chunked")
    if close or response.live:
        lines.append(b"connection: close")
    # The head goes out with the first chunk: one write, one packet.
    pending = b"\r\n".join(lines) + b"\r\n\r\n"
    # A local stream's chunks can go to the socket as the function framed them, once the
    # head is out: the source then only waits for the end.
    attach = getattr(response.source, "attach", None) if chunked else None
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
            if attach is not None:
                attach(writer)
                attach = None
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
            200,
            headers,
            StreamBody(stream, batches),
            lambda: stream.error is not None,
            stream.abandon,
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

    if first:
        rest.insert(0, first)
    return StreamedResponse(
        status,
        headers,
        StreamBody(stream, batches, rest),
        lambda: stream.error is not None,
        stream.abandon,
    )


class StreamBody:
    """A :class:`LocalStream`'s body as the source of a :class:`StreamedResponse`: its
    batches as they come, until the writer attaches the client's socket
    (:meth:`attach`); from then on the chunks go to the socket as the Runtime API reads
    them, and the source only waits for the end."""

    def __init__(
        self,
        stream: LocalStream,
        batches: AsyncIterator[list[bytes]],
        first: list[bytes] | None = None,
    ) -> None:
        self.stream = stream
        self._batches = batches
        self._first = first

    def __aiter__(self) -> StreamBody:
        return self

    async def __anext__(self) -> list[bytes]:
        first = self._first
        if first:
            self._first = None
            return first
        if self.stream.direct is not None:
            await self.stream.follow()
            raise StopAsyncIteration
        return await anext(self._batches)

    def attach(self, writer: asyncio.StreamWriter) -> None:
        self.stream.attach(writer)

    async def aclose(self) -> None:
        close = getattr(self._batches, "aclose", None)
        if close is not None:
            await close()
