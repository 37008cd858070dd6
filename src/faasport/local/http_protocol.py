"""The connection protocol of the local HTTP servers: the common request answered straight
from the transport, everything else by the stream-based reader of
:mod:`faasport.local.connections`.

A keep-alive client sends each request in one piece: its head and its whole
``Content-Length`` body arrive in one read. Such a request is parsed from that data
(:func:`~faasport.local.http11.parse_whole`, the same checks as the stream reader) and
answered without a :class:`asyncio.StreamReader`, a task per connection or a parser per
piece. Any other data (a request in pieces, pipelined requests, chunked bodies,
``Expect``, upgrades, an over-long head, bad framing) turns the connection over to the
stream reader for the rest of its life, so every hardened behaviour (400, 408, 413, 431,
the 503 over the connection cap) is the reader's, byte for byte.
"""

from __future__ import annotations

import asyncio
import socket
import traceback
from typing import TYPE_CHECKING, cast

from faasport.local.http11 import Request, parse_whole
from faasport.local.streaming import StreamedResponse, write_streamed
from faasport.local.websocket.server import Upgraded

if TYPE_CHECKING:
    from faasport.core.http import HttpResponse
    from faasport.local.connections import Server


class Connection(asyncio.Protocol):
    """One client connection; see the module's documentation."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.loop = asyncio.get_running_loop()
        self.transport: asyncio.Transport | None = None
        self.peer: tuple[str, int] = ("127.0.0.1", 0)
        #: The request being answered (its task), if any.
        self.task: asyncio.Task[None] | None = None
        #: A request is in flight (a WebSocket or a live stream is not).
        self.busy = False
        #: Data that arrived while a request was being answered (pipelining).
        self._pending: list[bytes] = []
        #: The idle timer, and when the connection is due to close if it is still idle.
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = 0.0
        self._deadline = 0.0
        #: Once the stream reader has the connection: its protocol, reader and writer.
        self._stream: asyncio.StreamReaderProtocol | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._streaming = False
        self._closed = False
        #: The client has shut its side: the request in hand is answered, then it ends.
        self._eof = False

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = cast(asyncio.Transport, transport)
        server = self.server
        if server.closing or server.connections >= server.limits.max_connections:
            self._to_stream(b"")  # the reader answers 503 and closes
            return
        sock = transport.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.peer = transport.get_extra_info("peername") or ("127.0.0.1", 0)
        server.fast.add(self)
        # As the reader does: the first request within the read timeout, the next ones
        # within the keep-alive timeout.
        self._idle(server.limits.read_timeout)

    def data_received(self, data: bytes) -> None:
        if self._streaming:
            assert self._stream is not None
            self._stream.data_received(data)
        elif self.task is not None:
            self._pending.append(data)
        else:
            self._take(data)

    def eof_received(self) -> bool | None:
        if self._streaming:
            assert self._stream is not None
            return self._stream.eof_received()
        self._eof = True
        if self.task is None and not self._pending:
            self.close()
            return None
        return True  # keep the connection open to write the answer

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._cancel_timer()
        self.server.fast.discard(self)
        if self._stream is not None:
            self._stream.connection_lost(exc)

    def pause_writing(self) -> None:
        if self._stream is not None:
            self._stream.pause_writing()

    def resume_writing(self) -> None:
        if self._stream is not None:
            self._stream.resume_writing()

    # -- requests -----------------------------------------------------------------------

    def _take(self, data: bytes) -> None:
        limits = self.server.limits
        request = parse_whole(data, limits.max_body, limits.max_head)
        if request is None:
            self._to_stream(data)
            return
        self.busy = True
        self.task = self.loop.create_task(self._answer(request))

    async def _answer(self, request: Request) -> None:
        server = self.server
        try:
            try:
                response = await server.answer(request, self.peer)
            except asyncio.CancelledError:
                # The grace period is over: the client learns the server is going away.
                self._write(server.reject(503), request.method, close=True)
                return
            except Exception:
                server.log("[server] connection dropped after an internal error:")
                server.log(traceback.format_exc().rstrip())
                self.close()
                return
            close = server.closing or not request.keep_alive
            if isinstance(response, Upgraded) or (
                isinstance(response, StreamedResponse) and response.live
            ):
                await self._hand_over(request, response)
                return
            if isinstance(response, StreamedResponse):
                _, writer = self._stream_objects()
                try:
                    await write_streamed(writer, response, request.method, close=close)
                except (ConnectionError, asyncio.CancelledError):
                    close = True
                if close:
                    self.close()
            else:
                self._write(response, request.method, close=close)
        finally:
            self.task = None
            self.busy = False
        if self._closed:
            return
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            self._take(data)
        elif self._eof:
            self.close()
        else:
            self._idle(server.limits.keep_alive_timeout)

    async def _hand_over(self, request: Request, response: HttpResponse) -> None:
        """A live stream or a WebSocket: no longer a request in flight (a stopping server
        ends it at once), written through a stream writer; then the connection ends."""
        self.busy = False
        reader, writer = self._stream_objects()
        try:
            if isinstance(response, Upgraded):
                self._streaming = True
                if self._pending:
                    self._stream_data(b"".join(self._pending))
                    self._pending.clear()
                await response.take_over(reader, writer)
            else:
                assert isinstance(response, StreamedResponse)
                await write_streamed(writer, response, request.method, close=True)
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            self.close()

    def _write(self, response: HttpResponse, method: str, *, close: bool) -> None:
        if self.transport is None or self._closed:
            return
        self.transport.write(self.server.encode(response, method, close=close))
        if close:
            self.close()

    # -- handing the connection to the stream reader ------------------------------------

    def _stream_objects(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            assert self.transport is not None
            reader = asyncio.StreamReader(limit=self.server.limits.max_head)
            stream = asyncio.StreamReaderProtocol(reader)
            stream.connection_made(self.transport)
            self._stream, self._reader = stream, reader
            self._writer = asyncio.StreamWriter(self.transport, stream, reader, self.loop)
        return self._reader, self._writer

    def _stream_data(self, data: bytes) -> None:
        if data:
            assert self._stream is not None
            self._stream.data_received(data)

    def _to_stream(self, data: bytes) -> None:
        """The stream reader serves this connection from now on, from ``data`` on."""
        self._cancel_timer()
        self.server.fast.discard(self)
        reader, writer = self._stream_objects()
        self._streaming = True
        self._stream_data(data)
        if self._eof:
            assert self._stream is not None
            self._stream.eof_received()
        self.server.serve_stream(reader, writer)

    # -- idle connections ---------------------------------------------------------------

    def _idle(self, timeout: float) -> None:
        # One timer per connection, moved forward rather than replaced per request: a
        # keep-alive client sending request after request arms it once per timeout.
        self._deadline = deadline = self.loop.time() + timeout
        if self._timer is None or self._timer_at > deadline:  # none, or due too late
            self._arm()

    def _arm(self) -> None:
        self._cancel_timer()
        self._timer_at = self._deadline
        self._timer = self.loop.call_at(self._deadline, self._idle_timeout)

    def _idle_timeout(self) -> None:
        self._timer = None
        if self.task is not None or self._streaming:
            return  # answering: the next wait for a request arms the timer again
        if self.loop.time() < self._deadline:
            self._arm()
        else:
            self.close()  # without a word, as the reader does

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    @property
    def idle(self) -> bool:
        return self.task is None and not self._streaming

    def close(self) -> None:
        self._cancel_timer()
        if self.transport is not None and not self._closed:
            self._closed = True
            self.transport.close()
        self.server.fast.discard(self)
