"""The chunked body of a streamed ``/response``, read off the Runtime API connection.

While a function streams, its connection's bytes go through :class:`BodyReader` instead of
httptools: a :class:`asyncio.BufferedProtocol` that reads into one reused buffer (no
allocation and copy per read, as a plain protocol's ``data_received`` costs) and follows the
chunked framing itself. Once a client's socket is attached to the stream
(:meth:`~faasport.local.streaming.LocalStream.attach`), whole chunks go on with the
function's own framing, as views of that buffer: the client's body is chunked too, so
nothing is stripped, re-added or copied in user space. Until then (the prelude, a consumer
that frames the payload its own way, such as the Invoke API's event stream), the payload is
copied out piece by piece.

The last chunk and the trailers never go on: the consumer ends the body itself, or cuts it
short when the trailers carry an error.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faasport.local.runtime_api import _Connection
    from faasport.local.streaming import LocalStream

#: Bytes read at most at a time. Larger reads cost the gateway's memory more than they
#: save: a slow client's socket can refer to several buffers at once.
BUFFER = 256 * 1024
#: A chunk-size or trailer line longer than this is not HTTP.
MAX_LINE = 8 * 1024
_HEX = b"0123456789abcdefABCDEF"
#: Read buffers no socket refers to any more, kept for the next reads and streams: a fresh
#: one costs its page faults.
_spare: list[bytearray] = []
#: Buffers a client's socket may still refer to, with its transport: spare again once that
#: holds nothing more.
_lent: list[tuple[bytearray, asyncio.WriteTransport]] = []
#: Spare and lent buffers kept at most (the rest are left to the garbage collector).
SPARE = 2
LENT = 8
#: Left over at the end of a buffer, less than this is not worth a read.
MIN_READ = 64 * 1024


def _take_buffer() -> bytearray:
    if not _spare and _lent:
        kept = []
        for buffer, transport in _lent:
            if transport.get_write_buffer_size():
                kept.append((buffer, transport))
            elif len(_spare) < SPARE:
                _spare.append(buffer)
        _lent[:] = kept[-LENT:]
    return _spare.pop() if _spare else bytearray(BUFFER)


def _give_back(buffer: bytearray, transport: asyncio.WriteTransport | None) -> None:
    if transport is not None and transport.get_write_buffer_size():
        _lent.append((buffer, transport))
        del _lent[:-LENT]
    elif len(_spare) < SPARE:
        _spare.append(buffer)


class Malformed(Exception):
    """The body is not valid chunked transfer coding."""


class BodyReader(asyncio.BufferedProtocol):
    """Reads one streamed response's body for ``connection``, then hands the connection
    back (:meth:`~faasport.local.runtime_api._Connection.stream_ended`)."""

    def __init__(self, connection: _Connection, stream: LocalStream) -> None:
        self.connection = connection
        self.stream = stream
        self._buffer = _take_buffer()
        self._view = memoryview(self._buffer)
        #: Where the next read goes: the bytes before it may still be in the client's socket.
        self._offset = 0
        #: Payload bytes of the current chunk still to come.
        self._left = 0
        #: The line after a chunk's payload (an empty one) comes next.
        self._after_data = False
        #: The current chunk went on with its own framing (its size line was passed on).
        self._passed = False
        #: A line cut by the end of a read.
        self._line = b""
        #: Set once the last chunk's line is read: the trailers, as they come.
        self.trailers: dict[str, str] | None = None
        #: The stream refused more (over its size limit): the rest is read and dropped.
        self.refused = False

    # -- asyncio.BufferedProtocol ---------------------------------------------------------

    def get_buffer(self, sizehint: int) -> memoryview:
        return self._view[self._offset :]

    def buffer_updated(self, nbytes: int) -> None:
        self.take(self._buffer, self._offset, self._offset + nbytes)

    def eof_received(self) -> bool | None:
        return None  # the connection closes: connection_lost ends the stream

    def connection_lost(self, exc: Exception | None) -> None:
        self.connection.connection_lost(exc)

    # -- the body -------------------------------------------------------------------------

    def take(self, buf: bytes | bytearray, pos: int, end: int) -> None:
        """Read ``buf[pos:end]``; at the end of the body, hand the connection back with
        the bytes that follow it."""
        try:
            done = self._parse(buf, pos, end)
        except Malformed as exc:
            self.connection.stream_malformed(str(exc))
            return
        if buf is self._buffer:
            if not self.stream.holding():
                self._offset = 0
            elif BUFFER - end >= MIN_READ:
                # The client's socket has not taken all of it yet: those bytes stay as
                # they are until it has, and the next read goes after them.
                self._offset = end
            else:
                _give_back(self._buffer, self.stream.direct)
                self._buffer = _take_buffer()
                self._view = memoryview(self._buffer)
                self._offset = 0
        if done >= 0:
            assert self.trailers is not None
            rest = bytes(buf[done:end])
            _give_back(self._buffer, self.stream.direct)
            self.connection.stream_ended(self.trailers, self.refused, rest)

    def _parse(self, buf: bytes | bytearray, pos: int, end: int) -> int:
        """Follow the framing over ``buf[pos:end]``; where the body ends in it, or -1."""
        stream = self.stream
        direct = stream.direct is not None
        view = memoryview(buf)
        out: list[bytes | memoryview] = []
        run = -1  # where the bytes that go on as they are start
        size = 0  # payload bytes in ``out``
        ended = -1
        while pos < end:
            left = self._left
            if left:
                take = left if left < end - pos else end - pos
                self._left = left - take
                if self.refused:
                    pass
                elif self._passed:
                    if run < 0:
                        run = pos
                    size += take
                elif direct:  # a chunk begun before the client was attached: framed anew
                    if run >= 0:
                        out.append(view[run:pos])
                        run = -1
                    out += (b"%x\r\n" % take, view[pos : pos + take], b"\r\n")
                    size += take
                elif not stream.feed(bytes(view[pos : pos + take])):
                    self.refused = True
                pos += take
                if not self._left:
                    self._after_data = True
                continue
            newline = buf.find(b"\n", pos, end)
            if newline < 0:
                if run >= 0:
                    out.append(view[run:pos])
                    run = -1
                self._line += bytes(view[pos:end])
                if len(self._line) > MAX_LINE:
                    raise Malformed("a chunk line is too long")
                break
            start, pos = pos, newline + 1
            held, self._line = self._line, b""
            line = held + bytes(view[start:pos])
            if len(line) > MAX_LINE:
                raise Malformed("a chunk line is too long")
            if self.trailers is not None:
                if line in (b"\r\n", b"\n"):
                    ended = pos
                    break
                name, colon, value = line.decode("latin-1").partition(":")
                if not colon:
                    raise Malformed("a trailer is not a header line")
                self.trailers[name.strip().lower()] = value.strip()
                continue
            if self._after_data:
                if line not in (b"\r\n", b"\n"):
                    raise Malformed("a chunk is longer than its size")
                self._after_data = False
                passed = self._passed and not self.refused
            else:
                digits = line.split(b";", 1)[0].strip()
                if not digits or digits.translate(None, _HEX) or len(digits) > 16:
                    raise Malformed(f"bad chunk size {line[:40]!r}")
                self._left = int(digits, 16)
                if not self._left:
                    self.trailers = {}
                passed = self._passed = direct and bool(self._left) and not self.refused
            if not passed:
                if run >= 0:
                    out.append(view[run:start])
                    run = -1
            elif held:  # begun in an earlier read: what was held goes on whole
                if run >= 0:
                    out.append(view[run:start])
                    run = -1
                out.append(line)
            elif run < 0:
                run = start
        if run >= 0:
            out.append(view[run:pos])
        if out and not stream.pipe(out, size):
            self.refused = True
        return ended
