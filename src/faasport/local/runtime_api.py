"""The AWS Lambda Runtime API (and the part of the Extensions API a runtime uses) of one
execution environment, served on the emulator's event loop.

An invocation is handed to the waiting ``/next`` long-poll through a queue (no polling),
and its outcome comes back through a future resolved by ``/response`` or ``/error``. The
server is inert until :meth:`RuntimeApi.serve_tcp` / :meth:`RuntimeApi.serve_unix`.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from dataclasses import dataclass, field

from faasport.aws.runtime_client import EXTENSION_PREFIX, PREFIX
from faasport.local.http11 import BadRequest, Request, read_request, response
from faasport.local.outcome import Status, error_payload

MAX_PAYLOAD = 6 * 1024 * 1024
#: Bodies past this are refused unread and the connection is closed.
MAX_READ = 64 * 1024 * 1024


@dataclass(slots=True)
class Invocation:
    payload: bytes
    deadline_ms: int
    request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    client_context: str | None = None
    trace_id: str = field(
        default_factory=lambda: f"Root=1-{int(time.time()):08x}-{os.urandom(12).hex()};Sampled=0"
    )
    result: asyncio.Future[tuple[Status, bytes]] | None = None


def _json_error(status: int, message: str, error_type: str) -> bytes:
    return response(
        status, [("content-type", "application/json")], error_payload(message, error_type)
    )


def _accepted() -> bytes:
    return response(202, [("content-type", "application/json")], b'{"status":"OK"}')


class RuntimeApi:
    """Runtime API for one environment: ``/next``, ``/response``, ``/error``,
    ``/init/error``, and extension registration (internal extensions, which make Lambda
    send SIGTERM to the runtime before it ends the environment)."""

    def __init__(self, arn: str, function_name: str, handler: str) -> None:
        self.arn = arn
        self.function_name = function_name
        self.handler = handler
        #: None is the sentinel close() sends to end a /next long-poll.
        self.inbox: asyncio.Queue[Invocation | None] = asyncio.Queue()
        self.current: Invocation | None = None
        #: Set at the runtime's first /next: the end of init.
        self.ready = asyncio.Event()
        self.init_error: bytes | None = None
        #: Extension name by identifier.
        self.extensions: dict[str, str] = {}
        self._servers: list[asyncio.Server] = []
        self._closed = asyncio.Event()

    # -- lifecycle --------------------------------------------------------------------

    async def serve_tcp(self, host: str = "127.0.0.1") -> str:
        """Listen on a free loopback port; returns ``host:port`` (AWS_LAMBDA_RUNTIME_API)."""
        server = await asyncio.start_server(self._serve, host, 0)
        self._servers.append(server)
        port = server.sockets[0].getsockname()[1]
        return f"{host}:{port}"

    async def serve_unix(self, path: str) -> None:
        """Listen on a Unix domain socket too (faasport's runtime client prefers it)."""
        self._servers.append(await asyncio.start_unix_server(self._serve, path))

    def close(self) -> None:
        """Stop listening and end pending long-polls."""
        self._closed.set()
        self.inbox.put_nowait(None)
        for server in self._servers:
            server.close()

    def submit(self, invocation: Invocation) -> None:
        self.inbox.put_nowait(invocation)

    # -- connections ------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # A runtime client that pipelines (posts its response and asks for the next
        # invocation in one write) gets the 202 together with the next invocation: one send
        # instead of two. Answers wait only while the next request is already buffered, so
        # clients that wait for each answer are never kept waiting.
        pending = b""
        try:
            while True:
                if pending and not _buffered(reader):
                    writer.write(pending)
                    pending = b""
                try:
                    request = await read_request(reader, MAX_READ)
                except BadRequest as exc:
                    writer.write(pending + _json_error(exc.status, str(exc), "InvalidRequest"))
                    break
                if request is None:
                    break
                answer = pending + await self._route(request)
                if request.keep_alive and _buffered(reader):
                    pending = answer
                    continue
                pending = b""
                writer.write(answer)
                if not request.keep_alive:
                    break
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            if pending and not writer.is_closing():
                writer.write(pending)
            writer.close()

    async def _route(self, request: Request) -> bytes:
        path = request.path
        if path.startswith(EXTENSION_PREFIX):
            return await self._extension(path[len(EXTENSION_PREFIX) :], request)
        if not path.startswith(PREFIX):
            return _json_error(404, "not found", "NotFound")
        path = path[len(PREFIX) :]
        if path == "/invocation/next" and request.method == "GET":
            return await self._next()
        if path == "/init/error" and request.method == "POST":
            self.init_error = request.body or error_payload("init failed", "Runtime.Unknown")
            return _accepted()
        parts = path.split("/")
        if len(parts) == 4 and parts[1] == "invocation" and request.method == "POST":
            return self._finish(parts[2], parts[3], request)
        return _json_error(404, f"no such Runtime API route: {request.method} {path}", "NotFound")

    async def _next(self) -> bytes:
        self.ready.set()
        invocation = await self.inbox.get()
        if invocation is None:
            self.inbox.put_nowait(None)  # for any other long-poll
            raise ConnectionAbortedError("environment closed")
        self.current = invocation
        headers = [
            ("content-type", "application/json"),
            ("lambda-runtime-aws-request-id", invocation.request_id),
            ("lambda-runtime-deadline-ms", str(invocation.deadline_ms)),
            ("lambda-runtime-invoked-function-arn", self.arn),
            ("lambda-runtime-trace-id", invocation.trace_id),
        ]
        if invocation.client_context:
            headers.append(("lambda-runtime-client-context", invocation.client_context))
        return response(200, headers, invocation.payload)

    def _finish(self, request_id: str, kind: str, request: Request) -> bytes:
        current = self.current
        if kind not in ("response", "error"):
            return _json_error(404, f"no such Runtime API route: {kind}", "NotFound")
        if current is None or current.result is None or current.result.done():
            return _json_error(
                403, "no invocation is in progress in this environment", "InvalidStateTransition"
            )
        if request_id != current.request_id:
            return _json_error(
                400, f"request id {request_id} is not the current invocation", "InvalidRequestID"
            )
        if kind == "error":
            current.result.set_result((Status.FUNCTION_ERROR, request.body))
            return _accepted()
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
        return _accepted()

    # -- the Extensions API -------------------------------------------------------------

    async def _extension(self, path: str, request: Request) -> bytes:
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
            await self._closed.wait()
            raise ConnectionAbortedError("environment closed")
        if path in ("/init/error", "/exit/error") and request.method == "POST":
            return _accepted()
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
        headers = [
            ("content-type", "application/json"),
            ("lambda-extension-identifier", identifier),
        ]
        return response(200, headers, body)


def _buffered(reader: asyncio.StreamReader) -> bool:
    """Whether the client has already sent more than the request just read."""
    buffer = getattr(reader, "_buffer", None)
    return bool(buffer)
