"""The AWS Lambda Runtime API (and the part of the Extensions API a runtime uses) of one
execution environment, served on the emulator's event loop.

An invocation is written straight to the connection waiting in ``/next`` (no polling, no
task switch), and its outcome comes back through a future resolved by ``/response`` or
``/error``. Connections are protocols parsed by httptools (the parser uvicorn uses). The
server is inert until :meth:`RuntimeApi.serve_tcp` / :meth:`RuntimeApi.serve_unix`.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

import httptools

from faasport.aws.apigw_build import request_id as new_request_id
from faasport.aws.runtime_client import EXTENSION_PREFIX, PREFIX
from faasport.aws.streaming import MAX_STREAM
from faasport.local.outcome import Status, error_payload

if TYPE_CHECKING:
    from faasport.local.activity import Trigger
    from faasport.local.streaming import LocalStream

MAX_PAYLOAD = 6 * 1024 * 1024
#: Bodies past this are refused unread and the connection is closed.
MAX_READ = 64 * 1024 * 1024


_bits = random.getrandbits


@dataclass(slots=True)
class Invocation:
    payload: bytes
    deadline_ms: int
    request_id: str = field(default_factory=new_request_id)
    client_context: str | None = None
    trace_id: str = field(
        default_factory=lambda: f"Root=1-{int(time.time()):08x}-{_bits(96):024x};Sampled=0"
    )
    result: asyncio.Future[tuple[Status, bytes]] | None = None
    #: The invocation's log lines, collected when the caller asked for them (LogType Tail).
    log: list[str] | None = None
    #: Given the response's stream when the runtime streams it (local.streaming); without
    #: it a streamed response is gathered into the payload.
    started: asyncio.Future[Any] | None = None
    #: What the event came from, when the caller knew it without parsing the payload.
    trigger: Trigger | None = None


def _response(status: int, headers: list[tuple[str, str]], body: bytes = b"") -> bytes:
    lines = [f"HTTP/1.1 {status} {_PHRASES.get(status, 'Unknown')}"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


_PHRASES = {
    200: "OK",
    202: "Accepted",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    413: "Request Entity Too Large",
}
_JSON = [("content-type", "application/json")]
_ACCEPTED = _response(202, _JSON, b'{"status":"OK"}')
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def _json_error(status: int, message: str, error_type: str) -> bytes:
    return _response(status, _JSON, error_payload(message, error_type))


@dataclass(slots=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    keep_alive: bool

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class RuntimeApi:
    """Runtime API for one environment: ``/next``, ``/response``, ``/error``,
    ``/init/error``, and extension registration (internal extensions, which make Lambda
    send SIGTERM to the runtime before it ends the environment)."""

    def __init__(self, arn: str, function_name: str, handler: str) -> None:
        self.arn = arn
        self.function_name = function_name
        self.handler = handler
        self._next_head = (
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
            f"lambda-runtime-invoked-function-arn: {arn}\r\n"
        )
        #: The invocations handed to the runtime and not answered yet, by request id: one at
        #: a time, or up to AWS_LAMBDA_MAX_CONCURRENCY at once (Lambda Managed Instances).
        self.inflight: dict[str, Invocation] = {}
        #: Set at the runtime's first /next: the end of init.
        self.ready = asyncio.Event()
        self.init_error: bytes | None = None
        #: Extension name by identifier.
        self.extensions: dict[str, str] = {}
        self.closed = False
        self._queue: deque[Invocation] = deque()
        #: Connections whose /next long-poll waits for an invocation.
        self._waiting: deque[_Connection] = deque()
        self._connections: set[_Connection] = set()
        self._servers: list[asyncio.AbstractServer] = []

    # -- lifecycle --------------------------------------------------------------------

    async def serve_tcp(self, host: str = "127.0.0.1") -> str:
        """Listen on a free loopback port; returns ``host:port`` (AWS_LAMBDA_RUNTIME_API)."""
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _Connection(self), host, 0)
        self._servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"{host}:{port}"

    async def serve_unix(self, path: str) -> None:
        """Listen on a Unix domain socket too (faasport's runtime client prefers it)."""
        loop = asyncio.get_running_loop()
        self._servers.append(await loop.create_unix_server(lambda: _Connection(self), path))

    def close(self) -> None:
        """Stop listening and end every connection (and so every long-poll)."""
        self.closed = True
        for server in self._servers:
            server.close()
        for connection in list(self._connections):
            connection.close()

    @property
    def current(self) -> Invocation | None:
        """The invocation in flight when there is exactly one (then the runtime's output is
        its output), else None."""
        inflight = self.inflight
        if len(inflight) == 1:
            return next(iter(inflight.values()))
        return None

    def finished(self, invocation: Invocation) -> None:
        self.inflight.pop(invocation.request_id, None)

    def _in_flight(self, request_id: str) -> Invocation | bytes:
        """The unanswered invocation ``request_id``, or the error answer."""
        found = self.inflight.get(request_id)
        if found is not None and found.result is not None and not found.result.done():
            return found
        if not any(i.result is not None and not i.result.done() for i in self.inflight.values()):
            return _json_error(
                403, "no invocation is in progress in this environment", "InvalidStateTransition"
            )
        return _json_error(
            400, f"request id {request_id} is not an invocation in progress", "InvalidRequestID"
        )

    def submit(self, invocation: Invocation) -> None:
        """Hand ``invocation`` to the waiting ``/next``, or keep it for the next one."""
        while self._waiting:
            connection = self._waiting.popleft()
            if not connection.lost:
                connection.answer(self._deliver(invocation))
                return
        self._queue.append(invocation)

    def _deliver(self, invocation: Invocation) -> bytes:
        """``/next``'s answer: formatted in one piece, the head's fixed part made once."""
        self.inflight[invocation.request_id] = invocation
        payload = invocation.payload
        context = invocation.client_context
        return (
            f"{self._next_head}lambda-runtime-aws-request-id: {invocation.request_id}\r\n"
            f"lambda-runtime-deadline-ms: {invocation.deadline_ms}\r\n"
            f"lambda-runtime-trace-id: {invocation.trace_id}\r\n"
            + (f"lambda-runtime-client-context: {context}\r\n" if context else "")
            + f"content-length: {len(payload)}\r\n\r\n"
        ).encode("latin-1") + payload

    # -- requests -----------------------------------------------------------------------

    def route(self, request: Request, connection: _Connection) -> bytes | None:
        """The answer, or None when the request waits (a long-poll)."""
        path = request.path
        if not path.startswith(PREFIX):  # the runtime's routes first: two per invocation
            if path.startswith(EXTENSION_PREFIX):
                return self._extension(path[len(EXTENSION_PREFIX) :], request)
            return _json_error(404, "not found", "NotFound")
        path = path[len(PREFIX) :]
        if path == "/invocation/next" and request.method == "GET":
            self.ready.set()
            if self._queue:
                return self._deliver(self._queue.popleft())
            self._waiting.append(connection)
            return None
        if path == "/init/error" and request.method == "POST":
            self.init_error = request.body or error_payload("init failed", "Runtime.Unknown")
            return _ACCEPTED
        parts = path.split("/")
        if len(parts) == 4 and parts[1] == "invocation" and request.method == "POST":
            return self._finish(parts[2], parts[3], request)
        return _json_error(404, f"no such Runtime API route: {request.method} {path}", "NotFound")

    # -- the Extensions API -------------------------------------------------------------

    def begin_stream(self, path: str, connection: _Connection) -> LocalStream | bytes:
        """A streamed ``/response`` whose headers have arrived: its stream, or the error
        answer (sent once the request is read)."""
        from faasport.local.streaming import LocalStream

        parts = path[len(PREFIX) :].split("/") if path.startswith(PREFIX) else []
        if len(parts) != 4 or parts[1] != "invocation" or parts[3] != "response":
            return _json_error(404, f"no such Runtime API route: POST {path}", "NotFound")
        current = self._in_flight(parts[2])
        if isinstance(current, bytes):
            return current
        started = current.started
        stream = LocalStream(
            current,
            connection._headers.get("content-type", "application/octet-stream"),
            connection.pause,
            connection.resume,
            collect=started is None,
            limit=MAX_STREAM if started is not None else MAX_PAYLOAD,
        )
        if started is not None:
            if started.cancelled():
                # The request went away before the stream began: nobody will read it, and the
                # function runs on to its end (as on Lambda), its bytes dropped.
                stream.abandon()
            elif not started.done():
                started.set_result(stream)
        return stream

    def _finish(self, request_id: str, kind: str, request: Request) -> bytes:
        if kind not in ("response", "error"):
            return _json_error(404, f"no such Runtime API route: {kind}", "NotFound")
        current = self._in_flight(request_id)
        if isinstance(current, bytes):
            return current
        assert current.result is not None
        if kind == "error":
            current.result.set_result((Status.FUNCTION_ERROR, request.body))
            return _ACCEPTED
        if len(request.body) > MAX_PAYLOAD:
            current.result.set_result(
                (
                    Status.TOO_LARGE,
                    error_payload(
                        f"Response payload size ({len(request.body)} bytes) exceeded maximum "
                        f"allowed payload size ({MAX_PAYLOAD} bytes).",
                        "Function.ResponseSizeTooLarge",
                    ),
                )
            )
            return _json_error(
                413,
                f"Exceeded maximum allowed payload size ({MAX_PAYLOAD} bytes).",
                "RequestEntityTooLarge",
            )
        current.result.set_result((Status.OK, request.body))
        return _ACCEPTED

    # -- the Extensions API -------------------------------------------------------------

    def _extension(self, path: str, request: Request) -> bytes | None:
        if path == "/register" and request.method == "POST":
            return self._register(request)
        identifier = request.header("lambda-extension-identifier") or ""
        if identifier not in self.extensions:
            return _json_error(
                403, "unknown Lambda-Extension-Identifier", "Extension.UnknownExtensionIdentifier"
            )
        if path == "/event/next" and request.method == "GET":
            # Registered for no events: the long-poll ends with the environment, which is
            # the SIGTERM the runtime gets because this extension exists.
            return None
        if path in ("/init/error", "/exit/error") and request.method == "POST":
            return _ACCEPTED
        return _json_error(
            404, f"no such Extensions API route: {request.method} {path}", "NotFound"
        )

    def _register(self, request: Request) -> bytes:
        name = request.header("lambda-extension-name")
        if not name:
            return _json_error(400, "missing Lambda-Extension-Name", "InvalidRequest")
        if self.ready.is_set():
            return _json_error(
                403,
                "extensions register during init, before the runtime's first /next",
                "Extension.InvalidState",
            )
        try:
            events = json.loads(request.body or b"{}").get("events", [])
        except (ValueError, AttributeError):
            return _json_error(400, 'the body must be {"events": [...]}', "InvalidRequest")
        if not isinstance(events, list) or events:
            # In-process (internal) extensions cannot receive SHUTDOWN on Lambda, and INVOKE
            # events are not emulated: register for no events to be sent SIGTERM at shutdown.
            return _json_error(
                400,
                f"events {events!r} are not supported here: an internal extension registers "
                'with {"events": []}',
                "InvalidRequest",
            )
        identifier = str(uuid.uuid4())
        self.extensions[identifier] = name
        body = json.dumps(
            {
                "functionName": self.function_name,
                "functionVersion": "$LATEST",
                "handler": self.handler,
            }
        ).encode()
        headers = [*_JSON, ("lambda-extension-identifier", identifier)]
        return _response(200, headers, body)


class _Connection(asyncio.Protocol):
    """One client connection, parsed by httptools as bytes arrive, answered in order.

    Requests are handled as soon as they are complete, without a task switch. A long-poll
    (/next with nothing queued) holds the requests behind it, and the answers before it
    are sent together with its own: the runtime client that posts a response and asks for
    the next invocation in one write gets the 202 and that invocation in one send.
    """

    def __init__(self, api: RuntimeApi) -> None:
        self.api = api
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpRequestParser(self)
        self.lost = False
        self._requests: deque[Request] = deque()
        self._parked = False
        self._out: list[bytes] = []
        self._url = b""
        self._headers: dict[str, str] = {}
        self._body: list[bytes] = []
        self._size = 0
        #: The streamed response being read (its headers are in), or the error answer to it.
        self._stream: LocalStream | bytes | None = None
        self._trailers: dict[str, str] = {}
        #: The parser is between two requests.
        self._between = True

    # -- asyncio.Protocol ---------------------------------------------------------------

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are not asyncio.Transport subclasses, only alike.
        self.transport = cast(asyncio.Transport, transport)
        self.api._connections.add(self)
        if self.api.closed:
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        self.api._connections.discard(self)
        stream = self._stream
        if stream is not None and not isinstance(stream, bytes):
            stream.finish(
                "Runtime.ExitError",
                error_payload("the runtime closed the connection mid-stream", "Runtime.ExitError"),
            )

    def data_received(self, data: bytes) -> None:
        if self._between and data[:5] == b"POST ":
            end = data.find(b"\r\n\r\n")
            if end > 0 and b"response-mode: streaming" in data[:end].lower():
                self._read_stream(data, end + 4)
                return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(_json_error(400, f"malformed HTTP request: {exc}", "InvalidRequest"))
            return
        except _TooLarge:
            self._fail(
                _json_error(413, f"request body over {MAX_READ} bytes", "RequestEntityTooLarge")
            )
            return
        self._run()

    # -- httptools callbacks ------------------------------------------------------------

    def on_message_begin(self) -> None:
        self._between = False
        self._url = b""
        self._headers = {}
        self._body = []
        self._size = 0

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        if self._stream is not None:  # a streamed response's trailers
            self._trailers[name.decode("latin-1").lower()] = value.decode("latin-1")
            return
        self._headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_headers_complete(self) -> None:
        headers = self._headers
        if "expect" in headers and headers["expect"].lower() == "100-continue" and self.transport:
            self.transport.write(_CONTINUE)
        mode = headers.get("lambda-runtime-function-response-mode")
        if mode is not None and mode.lower() == "streaming":
            path = self._url.decode("latin-1").partition("?")[0]
            self._trailers = {}
            self._stream = self.api.begin_stream(path, self)

    def pause(self) -> None:
        if self.transport is not None and not self.lost:
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.transport is not None and not self.lost:
            self.transport.resume_reading()

    def on_body(self, body: bytes) -> None:
        stream = self._stream
        if stream is not None:
            if not isinstance(stream, bytes) and not stream.feed(body):
                # Over the limit: the stream is ended; the rest is read and dropped.
                self._stream = _json_error(
                    413, "the streamed response is over its size limit", "RequestEntityTooLarge"
                )
            return
        self._size += len(body)
        if self._size > MAX_READ:
            raise _TooLarge
        self._body.append(body)

    def on_message_complete(self) -> None:
        self._between = True
        stream = self._stream
        if stream is not None:
            from faasport.local.streaming import trailer_error

            self._stream = None
            if isinstance(stream, bytes):
                self._requests.append(Request("ANSWER", "", {}, stream, True))
            else:
                stream.finish(*trailer_error(self._trailers))
                self._requests.append(Request("ANSWER", "", {}, _ACCEPTED, True))
            return
        path = self._url.decode("latin-1").partition("?")[0]
        method = self.parser.get_method().decode("latin-1")
        body = b"".join(self._body)
        self._requests.append(
            Request(method, path, self._headers, body, self.parser.should_keep_alive())
        )

    # -- a streamed response's body (local.stream_body) --------------------------------

    def _read_stream(self, data: bytes, start: int) -> None:
        """A streamed response whose head is ``data[:start]``: the head goes to httptools,
        the body to a :class:`~faasport.local.stream_body.BodyReader` that has the
        connection until the body ends."""
        from faasport.local.stream_body import BodyReader
        from faasport.local.streaming import LocalStream

        try:
            self.parser.feed_data(data[:start])
        except httptools.HttpParserError as exc:
            self._fail(_json_error(400, f"malformed HTTP request: {exc}", "InvalidRequest"))
            return
        stream = self._stream
        if not isinstance(stream, LocalStream) or self.transport is None:
            self.data_received(data[start:])  # refused: httptools reads and drops it
            return
        reader = BodyReader(self, stream)
        self._reading(reader)
        reader.take(data, start, len(data))

    def _reading(self, protocol: asyncio.BaseProtocol) -> None:
        """Hand the transport's reads to ``protocol`` (uvloop picks plain or buffered
        reads when reading starts)."""
        transport = self.transport
        if transport is None or self.lost:
            return
        transport.set_protocol(protocol)
        if transport.is_reading():
            transport.pause_reading()
            transport.resume_reading()

    def stream_ended(self, trailers: dict[str, str], refused: bool, rest: bytes) -> None:
        """The body the reader had ended; ``rest`` came after it."""
        from faasport.local.streaming import trailer_error

        stream = self._stream
        self._stream = None
        self._between = True
        self.parser = httptools.HttpRequestParser(self)
        if refused:
            answer = _json_error(
                413, "the streamed response is over its size limit", "RequestEntityTooLarge"
            )
        else:
            assert stream is not None and not isinstance(stream, bytes)
            stream.finish(*trailer_error(trailers))
            answer = _ACCEPTED
        self._requests.append(Request("ANSWER", "", {}, answer, True))
        self._reading(self)
        if rest:
            self.data_received(rest)
        else:
            self._run()

    def stream_malformed(self, reason: str) -> None:
        self._fail(_json_error(400, f"malformed HTTP request: {reason}", "InvalidRequest"))

    # -- answering ----------------------------------------------------------------------

    def _run(self) -> None:
        """Answer the complete requests, in order, until one waits."""
        while self._requests and not self._parked:
            request = self._requests.popleft()
            if request.method == "ANSWER":  # a streamed response, answered as it ended
                self._out.append(request.body)
                continue
            answer = self.api.route(request, self)
            if answer is None:
                self._parked = True
                break
            self._out.append(answer)
            if not request.keep_alive:
                self._flush()
                self.close()
                return
        self._flush()

    def answer(self, data: bytes) -> None:
        """The answer of the parked long-poll; the requests behind it go on."""
        self._parked = False
        self._out.append(data)
        self._run()

    def _flush(self) -> None:
        if self._out and self.transport is not None and not self._parked:
            self.transport.write(b"".join(self._out))
            self._out.clear()

    def _fail(self, answer: bytes) -> None:
        if self.transport is not None:
            self.transport.write(b"".join(self._out) + answer)
            self._out.clear()
        self.close()

    def close(self) -> None:
        self.lost = True
        if self.transport is not None:
            self.transport.close()


class _TooLarge(Exception):
    pass
