"""HTTP/1.1 for the local servers: requests read from asyncio streams and checked by
httptools (llhttp, uvicorn's parser), responses written by :func:`encode_response`.

The stream is cut into messages here (head up to the blank line, then the body by its
Content-Length or its chunks) and every piece is fed to a fresh parser, which rejects what
RFC 9110/9112 forbid: Content-Length with Transfer-Encoding, conflicting or non-digit
lengths, malformed chunk sizes, chunk data without its CRLF, control characters and bare CR
or LF in header values, whitespace in header names, line folding. What llhttp lets through
is checked here: a missing Host, HTTP/0.9 request lines, transfer codings other than
chunked, over-long chunk-size lines. Because each message is read exactly, a pipelined next
request stays in the reader for the next call.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from http import HTTPStatus

import httptools

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
    #: The request line and headers are ASCII: their text is the same in any encoding.
    ascii: bool = False

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


class _Message:
    """The parser's callbacks: what one request holds."""

    __slots__ = ("body", "complete", "headers", "url")

    def __init__(self) -> None:
        self.url = b""
        self.headers: list[tuple[str, str]] = []
        self.body: list[bytes] = []
        self.complete = False

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers.append((name.decode("latin-1").lower(), value.decode("latin-1").strip()))

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.complete = True


def _feed(parser: httptools.HttpRequestParser, data: bytes) -> None:
    try:
        parser.feed_data(data)
    except httptools.HttpParserUpgrade:
        pass  # served as a plain request: API Gateway does not upgrade connections
    except httptools.HttpParserError as exc:
        raise BadRequest(400, str(exc)) from None


def _escape_target(line: bytes) -> bytes:
    """The request line with raw non-ASCII bytes percent-encoded.

    Clients such as curl send ``?q=é`` as its UTF-8 bytes, which RFC 9112 does not allow and
    llhttp refuses; browsers escape them. Escaping them here serves the request the way a
    browser's would be, and the app decodes the bytes once.
    """
    return b"".join(b"%%%02X" % byte if byte > 0x7F else bytes((byte,)) for byte in line)


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
    try:
        head = first + await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if (first + exc.partial).strip():
            raise BadRequest(400, "incomplete request head") from None
        return None
    except asyncio.LimitOverrunError:
        raise BadRequest(431, "request head too large") from None
    line_end = head.index(b"\r\n")
    if not head[:line_end].isascii():
        head = _escape_target(head[:line_end]) + head[line_end:]
    message = _Message()
    parser = httptools.HttpRequestParser(message)
    _feed(parser, head)
    version = parser.get_http_version()
    if version not in ("1.1", "1.0"):
        raise BadRequest(400 if version < "1" else 505, f"HTTP/{version} is not served")
    request = Request(
        parser.get_method().decode("ascii"),
        message.url.decode("latin-1"),
        "HTTP/" + version,
        message.headers,
        ascii=head.isascii(),
    )
    if version == "1.1" and request.header("host") is None:
        raise BadRequest(400, "missing Host header")  # RFC 9112 3.2
    expect = writer is not None and (request.header("expect") or "").lower() == "100-continue"
    encoding = request.header("transfer-encoding")
    if encoding is not None:
        if encoding.lower() != "chunked":
            raise BadRequest(501, f"transfer coding {encoding!r} is not supported")
        if expect:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")  # type: ignore[union-attr]
        await _read_chunked(reader, parser, message, max_body)
        request.body = b"".join(message.body)
        return request
    length = request.header("content-length")
    size = int(length) if length is not None else 0  # llhttp checked: digits, one value
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


#: Headers that need more than the bytes of the request: the stream reader handles them.
_NOT_WHOLE = frozenset(["transfer-encoding", "expect"])


def parse_whole(data: bytes, max_body: int, max_head: int) -> Request | None:
    """The request ``data`` holds when it is exactly one whole, well-formed request that
    :func:`read_request` would read as is: a head within ``max_head``, an ASCII request
    line, HTTP/1.0 or 1.1 (with its Host), no transfer coding, no ``Expect``, no upgrade,
    and all of its ``Content-Length`` body (within ``max_body``). None for anything else:
    the stream reader then reads it and gives the precise answer."""
    end = data.find(b"\r\n\r\n")
    if end < 0 or end + 4 >= max_head:
        return None
    head_end = end + 4
    head = data[:head_end]
    ascii_head = head.isascii()
    if not ascii_head and not data[: data.index(b"\r\n")].isascii():
        return None
    message = _Message()
    parser = httptools.HttpRequestParser(message)
    try:
        parser.feed_data(head)
    except (httptools.HttpParserError, httptools.HttpParserUpgrade):
        return None
    version = parser.get_http_version()
    if version != "1.1" and version != "1.0":
        return None
    length = None
    host = False
    for name, value in message.headers:
        if name in _NOT_WHOLE:
            return None
        if name == "content-length":
            length = value
        elif name == "host":
            host = True
    if version == "1.1" and not host:
        return None
    size = int(length) if length is not None else 0  # llhttp checked: digits, one value
    if size > max_body or len(data) != head_end + size:
        return None
    return Request(
        parser.get_method().decode("ascii"),
        message.url.decode("latin-1"),
        "HTTP/" + version,
        message.headers,
        data[head_end:],
        ascii_head,
    )


async def _read_chunked(
    reader: asyncio.StreamReader,
    parser: httptools.HttpRequestParser,
    message: _Message,
    max_body: int,
) -> None:
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
        _feed(parser, await reader.readexactly(size + 2))  # checks the CRLF after the data
    while not message.complete:  # trailers, up to the blank line
        try:
            line = await reader.readuntil(b"\r\n")
        except asyncio.LimitOverrunError:
            raise BadRequest(431, "trailers too large") from None
        _feed(parser, line)
        if line == b"\r\n" and not message.complete:
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
    if status >= 200 and status != 204 and status != 304:
        size = length if head_only and length else b"%d" % len(body)
        framing = b"\r\ndate: %s\r\ncontent-length: %s" % (http_date(), size)
    else:
        framing = b"\r\ndate: " + http_date()
        body = b""
    head = b"\r\n".join(
        [b"HTTP/1.1 %d %s" % (status, _PHRASES.get(status, b"")), *map(b": ".join, headers)]
    )
    end = b"\r\nconnection: close\r\n\r\n" if close else b"\r\n\r\n"
    if head_only:
        return head + framing + end
    return b"".join((head, framing, end, body))


def response(status: int, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    """:func:`encode_response` for text headers."""
    pairs = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    return encode_response(status, pairs, body)
