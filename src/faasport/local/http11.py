"""HTTP/1.1 for the local servers: requests read from asyncio streams and checked by h11,
responses written by :func:`encode_response`.

The stream is cut into messages here (head up to the blank line, then the body by its
Content-Length or its chunks) and every piece is fed to a fresh ``h11.Connection``, which
rejects what RFC 9110/9112 forbid: Content-Length with Transfer-Encoding, conflicting or
non-digit lengths, malformed chunk sizes, chunk data without its CRLF, control characters
in header values, whitespace in header names. A connection that keeps its bytes between
requests is therefore not needed, and a pipelined next request stays in the reader.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import h11

#: The request line and headers together may not exceed this (API Gateway's 10 KB, with
#: room for the headers a local client adds). Servers pass it as their reader's ``limit``.
MAX_HEAD = 16 * 1024
#: A chunk-size line (size and extensions) longer than this is refused.
MAX_CHUNK_LINE = 1024


class BadRequest(Exception):
    def __init__(self, status: int, message: str, *, drained: bool = False) -> None:
        super().__init__(message)
        self.status = status
        #: The offending body was read and dropped: the connection can carry on.
        self.drained = drained


@dataclass(slots=True)
class Request:
    method: str
    target: str
    version: str
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""

    def header(self, name: str) -> str | None:
        name = name.lower()
        for key, value in self.headers:
            if key == name:
                return value
        return None

    @property
    def keep_alive(self) -> bool:
        connection = (self.header("connection") or "").lower()
        if self.version == "HTTP/1.0":
            return connection == "keep-alive"
        return "close" not in connection

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]


def _parser() -> h11.Connection:
    import h11

    return h11.Connection(h11.SERVER, max_incomplete_event_size=1 << 62)


def _feed(parser: h11.Connection, data: bytes) -> list[object]:
    """The parser's events after ``data``, up to the point where it needs more; protocol
    errors become :class:`BadRequest`."""
    import h11

    events: list[object] = []
    try:
        parser.receive_data(data)
        while (event := parser.next_event()) is not h11.NEED_DATA:
            events.append(event)
            if isinstance(event, h11.Request | h11.EndOfMessage):
                break
    except h11.RemoteProtocolError as exc:
        raise BadRequest(exc.error_status_hint, str(exc)) from None
    return events


async def read_request(
    reader: asyncio.StreamReader,
    max_body: int,
    writer: asyncio.StreamWriter | None = None,
    drain_limit: int = 0,
    *,
    first: bytes = b"",
) -> Request | None:
    """The next request on the connection, or None when the client has closed it.

    ``first`` holds bytes of this request already read (by a caller waiting for the
    connection to become active). With ``writer``, ``Expect: 100-continue`` is answered; a
    body over ``max_body`` but under ``drain_limit`` is read and dropped so the client can
    read the 413. The head may not exceed the reader's ``limit`` (431).
    """
    import h11

    try:
        head = first + await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if (first + exc.partial).strip():
            raise BadRequest(400, "incomplete request head") from None
        return None
    except asyncio.LimitOverrunError:
        raise BadRequest(431, "request head too large") from None
    # h11 also accepts bare LF as a line end, which would split a header value holding
    # one into two headers; a server behind which the app sees a different set of headers
    # than a proxy in front saw is what request smuggling exploits.
    crlf = head.count(b"\r\n")
    if head.count(b"\n") != crlf or head.count(b"\r") != crlf:
        raise BadRequest(400, "bare CR or LF in the request head")
    if b"\r\n " in head or b"\r\n\t" in head:
        raise BadRequest(400, "obsolete line folding in the request head")
    parser = _parser()
    events = _feed(parser, head)
    event = events[0] if events else None
    if not isinstance(event, h11.Request):
        raise BadRequest(400, "malformed request head")
    headers = [(name.decode("latin-1"), value.decode("latin-1")) for name, value in event.headers]
    request = Request(
        event.method.decode("ascii"),
        event.target.decode("latin-1"),
        "HTTP/" + event.http_version.decode("ascii"),
        headers,
    )
    if request.header("transfer-encoding") is not None and request.header("content-length"):
        # RFC 9112 6.3 lets a server drop Content-Length and go by the chunks (h11 does);
        # refusing is what keeps a proxy in front and this server agreeing on the framing.
        raise BadRequest(400, "Content-Length together with Transfer-Encoding")
    expect = writer is not None and (request.header("expect") or "").lower() == "100-continue"
    if request.header("transfer-encoding") is not None:  # h11 allows only "chunked"
        if expect:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # type: ignore[union-attr]
        request.body = await _read_chunked(reader, parser, max_body)
        return request
    length = request.header("content-length")
    size = int(length) if length is not None else 0  # h11 checked: digits, one value
    if size > max_body:
        drained = False
        if not expect and size <= drain_limit:
            while size > 0:
                size -= len(await reader.readexactly(min(size, 1 << 16)))
            drained = True
        raise BadRequest(
            413, f"body of {length} bytes exceeds the limit of {max_body}", drained=drained
        )
    if size:
        if expect:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # type: ignore[union-attr]
        request.body = await reader.readexactly(size)
    return request


async def _read_chunked(
    reader: asyncio.StreamReader, parser: h11.Connection, max_body: int
) -> bytes:
    import h11

    parts: list[bytes] = []
    total = 0
    while True:
        try:
            line = await reader.readuntil(b"\r\n")
        except asyncio.LimitOverrunError:
            raise BadRequest(400, "chunk-size line too long") from None
        if len(line) > MAX_CHUNK_LINE:
            raise BadRequest(400, "chunk-size line too long")
        _feed(parser, line)  # validates the size and extensions
        size = int(line.split(b";", 1)[0].strip(b" \t\r\n"), 16)
        if size == 0:
            break
        total += size
        if total > max_body:
            raise BadRequest(413, f"body exceeds the limit of {max_body} bytes")
        data = await reader.readexactly(size + 2)
        _feed(parser, data)  # checks the CRLF after the data
        parts.append(data[:size])
    while True:  # trailers, up to the blank line
        try:
            line = await reader.readuntil(b"\r\n")
        except asyncio.LimitOverrunError:
            raise BadRequest(431, "trailers too large") from None
        if any(isinstance(event, h11.EndOfMessage) for event in _feed(parser, line)):
            return b"".join(parts)
        if line == b"\r\n":
            raise BadRequest(400, "malformed trailers")


# -- responses ----------------------------------------------------------------------------

_date_cache: list[tuple[int, bytes]] = [(0, b"")]
_PHRASES = {status.value: status.phrase.encode("ascii") for status in HTTPStatus}


def http_date() -> bytes:
    """The Date header value, formatted once a second."""
    now = int(time.time())
    second, value = _date_cache[0]
    if second != now:
        value = formatdate(now, usegmt=True).encode("latin-1")
        _date_cache[0] = (now, value)
    return value


def encode_response(
    status: int,
    headers: list[tuple[bytes, bytes]],
    body: bytes = b"",
    *,
    head_only: bool = False,
    length: bytes | None = None,
    close: bool = False,
) -> bytes:
    """A whole response as bytes: status line, ``headers`` (without framing headers: the
    writer adds ``content-length``, ``date`` and ``connection``), blank line, ``body``.

    ``head_only`` answers HEAD: the head only, with ``length`` (the length the GET would
    have) when given. 1xx, 204 and 304 responses carry neither body nor length.
    """
    lines = [b"HTTP/1.1 %d %s" % (status, _PHRASES.get(status, b""))]
    lines.extend(name + b": " + value for name, value in headers)
    lines.append(b"date: " + http_date())
    if status >= 200 and status not in (204, 304):
        lines.append(b"content-length: " + (length if head_only and length else b"%d" % len(body)))
    else:
        body = b""
    if close:
        lines.append(b"connection: close")
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    return head if head_only else head + body


def response(status: int, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    """:func:`encode_response` for text headers."""
    pairs = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    return encode_response(status, pairs, body)
