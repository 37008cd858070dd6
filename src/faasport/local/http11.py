"""A small HTTP/1.1 reader and writer over asyncio streams, for the local servers.

Enough of RFC 9112 for keep-alive clients: request line, headers, Content-Length and
chunked bodies, ``Connection: close``. Bodies over ``max_body`` are refused unread.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from http import HTTPStatus

MAX_HEAD = 64 * 1024


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
        return connection != "close"

    @property
    def path(self) -> str:
        return self.target.partition("?")[0]

    @property
    def query(self) -> str:
        return self.target.partition("?")[2]


async def read_request(
    reader: asyncio.StreamReader,
    max_body: int,
    writer: asyncio.StreamWriter | None = None,
    drain_limit: int = 0,
) -> Request | None:
    """The next request on the connection, or None when the client has closed it.

    With ``writer``, ``Expect: 100-continue`` is answered; a body over ``max_body`` but
    under ``drain_limit`` is read and dropped so the client can read the 413.
    """
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as exc:
        if exc.partial.strip():
            raise BadRequest(400, "incomplete request head") from None
        return None
    except asyncio.LimitOverrunError:
        raise BadRequest(431, "request head too large") from None
    lines = head.decode("latin-1").split("\r\n")
    try:
        method, target, version = lines[0].split(" ", 2)
    except ValueError:
        raise BadRequest(400, "malformed request line") from None
    headers: list[tuple[str, str]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep or not name or name != name.strip():
            raise BadRequest(400, "malformed header line")
        headers.append((name.lower(), value.strip()))
    request = Request(method.upper(), target, version, headers)
    length = request.header("content-length")
    encoding = request.header("transfer-encoding")
    expect = (request.header("expect") or "").lower() == "100-continue"
    if encoding is not None:
        if encoding.lower() != "chunked":
            raise BadRequest(400, f"unsupported Transfer-Encoding {encoding!r}")
        if expect and writer is not None:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.body = await _read_chunked(reader, max_body)
    elif length is not None:
        if not length.isdigit():
            raise BadRequest(400, "invalid Content-Length")
        size = int(length)
        if size > max_body:
            drained = False
            if not expect and size <= drain_limit:
                while size > 0:
                    size -= len(await reader.readexactly(min(size, 1 << 16)))
                drained = True
            raise BadRequest(
                413, f"body of {length} bytes exceeds the limit of {max_body}", drained=drained
            )
        if expect and writer is not None and size:
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        request.body = await reader.readexactly(size) if size else b""
    return request


async def _read_chunked(reader: asyncio.StreamReader, max_body: int) -> bytes:
    parts: list[bytes] = []
    total = 0
    while True:
        size_line = await reader.readuntil(b"\r\n")
        try:
            size = int(size_line.split(b";", 1)[0].strip(), 16)
        except ValueError:
            raise BadRequest(400, "malformed chunk size") from None
        if size == 0:
            while (await reader.readuntil(b"\r\n")) != b"\r\n":
                pass  # trailers
            return b"".join(parts)
        total += size
        if total > max_body:
            raise BadRequest(413, f"body exceeds the limit of {max_body} bytes")
        parts.append(await reader.readexactly(size))
        await reader.readexactly(2)


def response_head(status: int, headers: list[tuple[str, str]], length: int | None) -> bytes:
    try:
        reason = HTTPStatus(status).phrase
    except ValueError:
        reason = "Unknown"
    lines = [f"HTTP/1.1 {status} {reason}"]
    lines.extend(f"{k}: {v}" for k, v in headers)
    if length is not None:
        lines.append(f"content-length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def response(status: int, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    return response_head(status, headers, len(body)) + body
