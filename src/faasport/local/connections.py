"""Client connections of the local HTTP servers (the gateway and the Invoke API): keep-alive,
the limits a hardened server sets on slow, idle and too many clients, and a graceful stop.

:class:`Server` reads each request with :func:`~faasport.local.http11.read_request`, asks its
``answer`` callable for the response and writes it with
:func:`~faasport.local.http11.encode_response`; what it answers itself (400, 408, 413, 431,
503) comes from its ``reject`` callable, so each server keeps its own error shape.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import socket
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from faasport.core.http import HttpResponse
from faasport.local.http11 import (
    MAX_HEAD,
    BadRequest,
    Request,
    encode_response,
    read_request,
)
from faasport.local.http_protocol import Connection
from faasport.local.streaming import StreamedResponse, write_streamed
from faasport.local.websocket.server import Upgraded

Answer = Callable[[Request, tuple[str, int]], Awaitable[HttpResponse]]
Reject = Callable[[int], HttpResponse]
Log = Callable[[str], None]


def _default_max_connections() -> int:
    # Half the descriptors: the rest stays for execution environments, their pipes and
    # the Runtime API's own connections, so a flood of clients cannot starve them.
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(16, min(soft, 65536) // 2)


@dataclass(frozen=True)
class Limits:
    #: Open client connections at most; the next ones are answered 503 and closed.
    max_connections: int = field(default_factory=_default_max_connections)
    #: Seconds a client has to send a whole request (head and body) once it has started.
    read_timeout: float = 10.0
    #: Seconds an idle keep-alive connection is kept open.
    keep_alive_timeout: float = 5.0
    #: Bytes of request line and headers at most (431 past it).
    max_head: int = MAX_HEAD
    max_body: int = 10 * 1024 * 1024
    #: A too-large body up to this size is read and dropped so the connection survives the
    #: 413; past it the connection is closed instead.
    drain_limit: int = 64 * 1024 * 1024


#: Connections over the cap that are being answered 503 at most (each lingers briefly so
#: the client reads the 503 before the close); past it they are closed at once.
_MAX_REFUSING = 64
_LINGER = 0.5


class Server:
    def __init__(self, answer: Answer, reject: Reject, limits: Limits, log: Log) -> None:
        self.answer = answer
        self.reject = reject
        self.limits = limits
        self.log = log
        self.address: tuple[str, int] = ("", 0)
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._busy: set[asyncio.Task[None]] = set()
        #: Connections answered straight from their transport (local.http_protocol).
        self.fast: set[Connection] = set()
        self._spawned: set[asyncio.Task[None]] = set()
        self._refusing = 0
        self._closing = False

    async def start(self, host: str, port: int) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(lambda: Connection(self), host, port, backlog=128)
        self.address = self._server.sockets[0].getsockname()[:2]

    @property
    def closing(self) -> bool:
        return self._closing

    @property
    def connections(self) -> int:
        """Open client connections (both kinds)."""
        return len(self._tasks) + len(self.fast)

    def serve_stream(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve a connection through the stream reader from now on."""
        task = asyncio.ensure_future(self._serve(reader, writer))
        self._spawned.add(task)
        task.add_done_callback(self._spawned.discard)

    async def close(self, grace: float = 0.0) -> None:
        """Stop accepting; idle connections close now, requests in flight get ``grace``
        seconds to finish, the rest are answered 503."""
        self._closing = True
        if self._server is not None:
            self._server.close()
        for connection in list(self.fast):
            if connection.idle:
                connection.close()
            elif not connection.busy and connection.task is not None:
                connection.task.cancel()
        for task in self._tasks - self._busy:
            task.cancel()
        busy = set(self._busy) | self._answering()
        if busy and grace > 0:
            await asyncio.wait(busy, timeout=grace)
        answering = {c.task for c in self.fast if c.task is not None}
        for task in self._tasks | answering:
            task.cancel()
        left = self._tasks | answering | {t for t in self._spawned if not t.done()}
        if left:
            await asyncio.wait(left)
        for connection in list(self.fast):
            connection.close()

    def _answering(self) -> set[asyncio.Task[None]]:
        return {c.task for c in self.fast if c.task is not None and c.busy}

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self._closing or self.connections >= self.limits.max_connections:
            await self._refuse(reader, writer)
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        try:
            await self._requests(reader, writer, task)
        except asyncio.CancelledError:
            pass  # closing: idle connections end here
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except Exception:
            self.log("[server] connection dropped after an internal error:")
            self.log(traceback.format_exc().rstrip())
        finally:
            self._tasks.discard(task)
            self._busy.discard(task)
            writer.close()

    async def _requests(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, task: asyncio.Task[None]
    ) -> None:
        sock = writer.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        limits = self.limits
        loop = asyncio.get_running_loop()
        # Deadlines are plain timers that cancel this task (cheaper per request than
        # asyncio.timeout blocks; the gateway's latency budget is 2 ms).
        deadline = loop.time() + limits.read_timeout
        while True:
            timer = loop.call_at(deadline, task.cancel)
            try:
                first = await reader.read(1)
            except asyncio.CancelledError:
                return  # idle, or the server closing: closed without a word, as uvicorn does
            finally:
                timer.cancel()
            if not first:
                return
            self._busy.add(task)
            timer = loop.call_at(loop.time() + limits.read_timeout, task.cancel)
            try:
                request = await read_request(
                    reader, limits.max_body, writer, limits.drain_limit, first=first
                )
            except asyncio.CancelledError:
                status = 503 if self._closing else 408
                await self._write(writer, self.reject(status), "GET", close=True)
                return
            except BadRequest as exc:
                close = not exc.drained
                await self._write(writer, self.reject(exc.status), "GET", close=close)
                if close:
                    return
                self._busy.discard(task)
                deadline = loop.time() + limits.keep_alive_timeout
                continue
            finally:
                timer.cancel()
            if request is None:
                return
            try:
                response = await self.answer(request, peer)
            except asyncio.CancelledError:
                # The grace period is over: the client learns the server is going away.
                await self._write(writer, self.reject(503), request.method, close=True)
                return
            if isinstance(response, StreamedResponse) and response.live:
                self._busy.discard(task)
                await write_streamed(writer, response, request.method, close=True)
                return
            if isinstance(response, Upgraded):
                # A WebSocket now: not a request in flight, so a stopping server ends it.
                self._busy.discard(task)
                await response.take_over(reader, writer)
                return
            close = self._closing or not request.keep_alive
            await self._write(writer, response, request.method, close=close)
            if close:
                return
            self._busy.discard(task)
            deadline = loop.time() + limits.keep_alive_timeout

    async def _write(
        self, writer: asyncio.StreamWriter, response: HttpResponse, method: str, *, close: bool
    ) -> None:
        if isinstance(response, StreamedResponse):
            await write_streamed(writer, response, method, close=close)
            return
        writer.write(self.encode(response, method, close=close))
        await writer.drain()

    def encode(self, response: HttpResponse, method: str, *, close: bool) -> bytes:
        """A whole (not streamed) response as bytes."""
        headers = response.headers
        length: bytes | None = None
        for name, value in headers:
            if name == b"content-length":  # the writer's to set; kept for HEAD
                length = value
                headers = [(k, v) for k, v in headers if k != b"content-length"]
                break
        return encode_response(
            response.status,
            headers,
            response.body,
            head_only=method == "HEAD",
            length=length,
            close=close,
        )

    async def _refuse(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer 503 to a connection over the cap and close it."""
        try:
            if self._refusing >= _MAX_REFUSING:
                return
            self._refusing += 1
            try:
                await self._write(writer, self.reject(503), "GET", close=True)
                # Read what the client sent before closing: closing a socket with unread
                # data resets the connection, and the client could lose the 503.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(_LINGER):
                        while await reader.read(65536):
                            pass
            finally:
                self._refusing -= 1
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
