"""faasport's own Lambda runtime client: ``python -m faasport.aws.runtime_client``.

It speaks the AWS Lambda Runtime API at ``$AWS_LAMBDA_RUNTIME_API`` over one keep-alive
connection (or the Unix domain socket ``$FAASPORT_RUNTIME_API_SOCKET`` that ``faasport dev``
offers: same protocol, less kernel work), imports ``$_HANDLER`` once (the init phase), then
loops: next invocation, call the handler, post the response or the error. Pure standard
library, so it runs anywhere Python does — in ``faasport dev`` and as a custom runtime's
bootstrap on Lambda itself.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import traceback

from faasport.aws.context import LambdaContext
from faasport.core import deferred
from faasport.core.json_text import reused_encoder

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

PREFIX = "/2018-06-01/runtime"
EXTENSION_PREFIX = "/2020-01-01/extension"
SOCKET_VARIABLE = "FAASPORT_RUNTIME_API_SOCKET"

_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_decoder = json.JSONDecoder()
_scan: Callable[[str, int], tuple[Any, int]] = _decoder.scan_once  # type: ignore[attr-defined]


def _decode(text: str) -> Any:
    """An event, as ``json.loads`` reads it: the scanner at once (``loads`` adds three
    calls, a regular expression for whitespace and an encoding guess for bytes), the full
    decoder for what the scanner alone does not take (whitespace around the value), and for
    its error."""
    try:
        value, end = _scan(text, 0)
    except StopIteration:
        return _decoder.decode(text)
    return value if end == len(text) else _decoder.decode(text)


_encode = reused_encoder()


class HandlerNotFound(Exception):
    """The handler's module imports but has no such attribute."""

    error_type = "Runtime.HandlerNotFound"


HandlerNotFound.__name__ = HandlerNotFound.error_type


def load_handler(spec: str) -> Callable[[Any, Any], Any]:
    """``"pkg.module.attr"`` (Lambda's form) or ``"pkg.module:attr"``."""
    import importlib

    if ":" in spec:
        module_name, _, attr = spec.partition(":")
    else:
        module_name, _, attr = spec.rpartition(".")
    handler: Any = importlib.import_module(module_name)
    try:
        for name in attr.split("."):
            handler = getattr(handler, name)
    except AttributeError:
        raise HandlerNotFound(f"Handler '{attr}' missing on module '{module_name}'") from None
    if not callable(handler):
        raise HandlerNotFound(f"Handler '{attr}' on module '{module_name}' is not callable")
    return handler  # type: ignore[no-any-return]


def error_document(
    message: str, error_type: str, request_id: str = "", stack: list[str] | None = None
) -> bytes:
    """An error as Lambda's runtime clients post it (and as Invoke returns it)."""
    return json.dumps(
        {
            "errorMessage": message,
            "errorType": error_type,
            "requestId": request_id,
            "stackTrace": stack or [],
        }
    ).encode()


def error_body(exc: BaseException, request_id: str = "") -> bytes:
    # An init error (the app does not import) has no stack of the user's code to show.
    stack = (
        []
        if hasattr(exc, "error_type")
        else traceback.format_list(traceback.extract_tb(exc.__traceback__))
    )
    return error_document(str(exc), type(exc).__name__, request_id, stack)


def init_failure(handler_spec: str, exc: BaseException) -> tuple[str, str]:
    """Lambda's error type and message for a handler module that fails to import."""
    if ":" in handler_spec:
        module = handler_spec.partition(":")[0]
    else:
        module = handler_spec.rpartition(".")[0]
    if hasattr(exc, "error_type"):
        return type(exc).__name__, str(exc)
    if isinstance(exc, SyntaxError):
        return "Runtime.UserCodeSyntaxError", f"Syntax error in module '{module}': {exc}"
    if isinstance(exc, ImportError):
        return "Runtime.ImportModuleError", f"Unable to import module '{module}': {exc}"
    return type(exc).__name__, str(exc)


def log_error(error_type: str, message: str) -> None:
    """The one line Lambda logs for an error: ``[ERROR] Type: message``."""
    print(f"[ERROR] {error_type}: {' '.join(message.split())}", flush=True)


#: The send buffer of a streamed response's Unix socket.
STREAM_SNDBUF = 1024 * 1024
#: Its send buffer for the first bytes of a stream (Linux doubles it: the first chunk and
#: about one more), see :data:`faasport.aws.streaming.FIRST_BYTES`.
FIRST_SNDBUF = 64 * 1024


class RuntimeClient:
    """HTTP/1.1 over one kept-alive socket: the Runtime API's few requests need no more, and
    ``http.client``'s header parsing (the email package) would dominate a warm invocation."""

    def __init__(self, address: str, unix_socket: str | None = None) -> None:
        host, _, port = address.rpartition(":")
        self.address = (host, int(port))
        self.unix_socket = unix_socket
        self.sock: socket.socket | None = None
        self.buffer = b""

    @classmethod
    def from_environment(cls) -> RuntimeClient:
        return cls(os.environ["AWS_LAMBDA_RUNTIME_API"], os.environ.get(SOCKET_VARIABLE))

    def _connect(self) -> socket.socket:
        if self.unix_socket:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(self.unix_socket)
            except OSError:
                sock.close()
                raise
        else:
            sock = socket.create_connection(self.address)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock, self.buffer = sock, b""
        return sock

    @staticmethod
    def _encode(
        method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> bytes:
        head = f"{method} {path} HTTP/1.1\r\nHost: runtime\r\n"
        if method == "POST":
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        for name, value in (headers or {}).items():
            head += f"{name}: {value}\r\n"
        return (head + "\r\n").encode("latin-1") + body

    def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        """One request on the kept-alive connection (reconnecting once if it was closed)."""
        data = self._encode(method, path, body, headers)
        for attempt in (0, 1):
            sock = self.sock or self._connect()
            try:
                sock.sendall(data)
                return self._response(sock)
            except (ConnectionError, OSError):
                self.sock = None
                sock.close()
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def respond_and_next(self, request_id: str, body: bytes) -> tuple[bytes, dict[str, str]]:
        """Post a response and ask for the next invocation in one write (HTTP pipelining):
        one system call and one wake-up fewer per invocation on each side."""
        sock = self.sock or self._connect()
        try:
            sock.sendall(
                (
                    f"POST {PREFIX}/invocation/{request_id}/response HTTP/1.1\r\n"
                    f"Host: runtime\r\nContent-Type: application/json\r\n"
                    f"Content-Length: {len(body)}\r\n\r\n"
                ).encode("latin-1")
                + body
                + _NEXT
            )
            self._drop_response(sock)
            _, headers, event = self._response(sock)
        except OSError:
            self.sock = None
            sock.close()
            raise
        return event, headers

    def respond(self, request_id: str, body: bytes) -> int:
        return self.request("POST", f"{PREFIX}/invocation/{request_id}/response", body)[0]

    # -- streamed responses (faasport.aws.streaming) --------------------------------------

    def send_head(self, *pieces: bytes) -> None:
        """Begin a request on the kept-alive connection (reconnecting once if it was
        closed while idle), ``pieces`` in one system call as :meth:`send` does."""
        for attempt in (0, 1):
            sock = self.sock or self._connect()
            try:
                if self.unix_socket:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, FIRST_SNDBUF)
                self._sendmsg(sock, pieces)
                return
            except OSError:
                self.sock = None
                sock.close()
                if attempt:
                    raise

    def widen(self) -> None:
        """Past the first bytes of a stream: a large send buffer for the rest. The local
        Runtime API reads as much as the socket holds: more per read is fewer reads and
        writes on its side (a TCP socket, as on Lambda, sizes its buffer itself)."""
        sock = self.sock
        if self.unix_socket and sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, STREAM_SNDBUF)

    def send(self, *pieces: bytes) -> None:
        """Send ``pieces`` in one system call (``sendmsg``: a chunk's data is not copied
        to be framed)."""
        sock = self.sock
        if sock is None:
            raise ConnectionResetError("Runtime API closed the connection")
        self._sendmsg(sock, pieces)

    @staticmethod
    def _sendmsg(sock: socket.socket, pieces: tuple[bytes, ...]) -> None:
        sent = sock.sendmsg(pieces)
        total = sum(map(len, pieces))
        if sent < total:  # cut short (a signal): the rest the slow way
            sock.sendall(b"".join(pieces)[sent:])

    def streamed_and_next(self) -> tuple[bytes, dict[str, str]]:
        """After a streamed response's last chunk: its answer, then the next invocation
        (asked for in the same round trip, as :meth:`respond_and_next` does)."""
        sock = self.sock
        if sock is not None:
            try:
                sock.sendall(self._encode("GET", f"{PREFIX}/invocation/next"))
                self._response(sock)
                _, headers, event = self._response(sock)
                return event, headers
            except OSError:
                # The Runtime API may end a stream it refuses (over the size limit).
                self.sock = None
                sock.close()
        return self.next()

    def streamed(self) -> None:
        """Read the answer to a streamed response."""
        sock = self.sock
        if sock is None:
            return
        try:
            self._response(sock)
        except OSError:
            self.sock = None
            sock.close()

    def _response(self, sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
        head, start = self._head(sock)
        lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            # No space may come before the colon (RFC 9112 section 5.1).
            name, _, value = line.partition(":")
            headers[name.lower()] = value.strip()
        body = self._body(sock, start, int(headers.get("content-length", "0")))
        return int(lines[0].split(" ", 2)[1]), headers, body

    def _drop_response(self, sock: socket.socket) -> None:
        """Read past a response nobody looks into (the answer to a posted result): only
        its length is needed."""
        head, start = self._head(sock)
        found = _CONTENT_LENGTH.search(head)
        self._body(sock, start, int(found[1]) if found else 0)

    def _head(self, sock: socket.socket) -> tuple[bytes, int]:
        """The status line and headers of the next response, and where its body starts."""
        buffer = self.buffer
        end = buffer.find(b"\r\n\r\n")
        while end < 0:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("Runtime API closed the connection")
            searched = max(0, len(buffer) - 3)  # the blank line may straddle two reads
            buffer += chunk
            end = buffer.find(b"\r\n\r\n", searched)
        self.buffer = buffer
        return buffer[:end], end + 4

    def _body(self, sock: socket.socket, start: int, length: int) -> bytes:
        buffer = self.buffer
        while len(buffer) - start < length:
            chunk = sock.recv(max(65536, length - len(buffer) + start))
            if not chunk:
                raise ConnectionResetError("Runtime API closed the connection")
            buffer += chunk
        self.buffer = buffer[start + length :]
        return buffer[start : start + length]

    def next(self) -> tuple[bytes, dict[str, str]]:
        _, headers, body = self.request("GET", f"{PREFIX}/invocation/next")
        return body, headers

    def fail(self, request_id: str, exc: BaseException) -> int:
        return self.request(
            "POST",
            f"{PREFIX}/invocation/{request_id}/error",
            error_body(exc, request_id),
            {"Lambda-Runtime-Function-Error-Type": "Unhandled"},
        )[0]

    def init_error(self, error_type: str, message: str) -> int:
        return self.request(
            "POST",
            f"{PREFIX}/init/error",
            error_document(message, error_type),
            {"Lambda-Runtime-Function-Error-Type": error_type},
        )[0]


_NEXT = RuntimeClient._encode("GET", f"{PREFIX}/invocation/next")


def _context(headers: dict[str, str]) -> LambdaContext:
    client_context = headers.get("lambda-runtime-client-context")
    identity = headers.get("lambda-runtime-cognito-identity")
    return LambdaContext(
        headers.get("lambda-runtime-aws-request-id", ""),
        int(headers.get("lambda-runtime-deadline-ms", "0")),
        headers.get("lambda-runtime-invoked-function-arn", ""),
        *(_function or _read_function()),
        json.loads(identity) if identity else None,
        json.loads(client_context) if client_context else None,
    )


#: What every context of this environment shares (Lambda sets these variables when it
#: creates the environment and reserves their names), read at the first invocation.
_function: tuple[str, str, int, str, str] | None = None


def _read_function() -> tuple[str, str, int, str, str]:
    global _function
    env = os.environ
    _function = (
        env.get("AWS_LAMBDA_FUNCTION_NAME", ""),
        env.get("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST"),
        int(env.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")),
        env.get("AWS_LAMBDA_LOG_GROUP_NAME", ""),
        env.get("AWS_LAMBDA_LOG_STREAM_NAME", ""),
    )
    return _function


#: ``os.environ``'s own mapping (encoded names and values), where the per-invocation
#: ``_X_AMZN_TRACE_ID`` goes: ``os.environ[...] = ...`` would also call the C library's
#: setenv, which keeps every value it is ever given (a caller may still hold what getenv
#: returned), so a new trace id per invocation grew the process without end and made every
#: later setenv slower. Python code (the X-Ray SDK, Powertools, faasport's traces) reads
#: ``os.environ``; a child process inherits the variables as they were at init.
_environ: dict[Any, Any] = os.environ._data  # type: ignore[attr-defined]
_TRACE_NAME = os.environ.encodekey("_X_AMZN_TRACE_ID")
_encode_value = os.environ.encodevalue


def run(client: RuntimeClient, handler_spec: str) -> None:
    from faasport.aws.concurrent import max_concurrency

    # One real unset, so that no child process inherits a trace id set before init.
    os.environ.pop("_X_AMZN_TRACE_ID", None)

    workers = max_concurrency()
    # Work an app leaves after its response (background tasks) runs once the response is
    # posted and before the next invocation is asked for, as Lambda allows.
    deferred.enable(workers == 1)
    task_root = os.environ.get("LAMBDA_TASK_ROOT")
    if task_root and task_root not in sys.path:
        sys.path.insert(0, task_root)
    try:
        handler = load_handler(handler_spec)
    except Exception as exc:
        error_type, message = init_failure(handler_spec, exc)
        if error_type == type(exc).__name__ and not hasattr(exc, "error_type"):
            traceback.print_exc()
        else:
            log_error(error_type, message)
        client.init_error(error_type, message)
        sys.exit(1)
    if workers > 1:
        from faasport.aws import concurrent

        concurrent.serve(client, handler, workers, _one)
        return
    streaming = getattr(handler, "streaming", False) is True
    body, headers = client.next()
    while True:
        request_id = headers.get("lambda-runtime-aws-request-id", "")
        # As Lambda's own runtime clients do: the X-Ray trace of this invocation.
        trace_header = headers.get("lambda-runtime-trace-id")
        if trace_header:
            _environ[_TRACE_NAME] = _encode_value(trace_header)
        else:
            _environ.pop(_TRACE_NAME, None)
        if streaming:
            body, headers = _stream(client, handler, request_id, body, headers)
            continue
        try:
            result = handler(_decode(body.decode()), _context(headers))
            payload = _encode(result).encode()
        except Exception as exc:
            _failed(client, request_id, exc)
            deferred.run()
            body, headers = client.next()
            continue
        if deferred.pending():
            client.respond(request_id, payload)
            deferred.run()
            body, headers = client.next()
        else:
            body, headers = client.respond_and_next(request_id, payload)


def _one(
    client: RuntimeClient,
    handler: Callable[[Any, Any], Any],
    body: bytes,
    headers: dict[str, str],
) -> tuple[bytes, dict[str, str]]:
    """One invocation in an environment that takes several at once
    (:mod:`faasport.aws.concurrent`); the next invocation for this slot."""
    request_id = headers.get("lambda-runtime-aws-request-id", "")
    if getattr(handler, "streaming", False) is True:
        return _stream(client, handler, request_id, body, headers)
    try:
        result = handler(_decode(body.decode()), _context(headers))
        payload = _encode(result).encode()
    except Exception as exc:
        _failed(client, request_id, exc)
        return client.next()
    return client.respond_and_next(request_id, payload)


def _failed(client: RuntimeClient, request_id: str, exc: Exception) -> None:
    """Log a handler's exception as Lambda's runtime does and post it as the error."""
    if hasattr(exc, "error_type"):
        log_error(type(exc).__name__, str(exc))
    else:
        traceback.print_exc()
    client.fail(request_id, exc)


def _stream(
    client: RuntimeClient,
    handler: Callable[[Any, Any], Any],
    request_id: str,
    body: bytes,
    headers: dict[str, str],
) -> tuple[bytes, dict[str, str]]:
    """One invocation of a streaming function (``aws.handler(app, stream=True)``); the
    next invocation."""
    from faasport.aws import streaming

    writer = streaming.StreamWriter(client, f"{PREFIX}/invocation/{request_id}/response")
    try:
        result = streaming.serve(handler, json.loads(body), _context(headers), writer)  # type: ignore[arg-type]
        payload = None if result is streaming.STREAMED else json.dumps(result).encode()
    except Exception as exc:
        traceback.print_exc()
        if not writer.started:
            client.fail(request_id, exc)
        else:
            if not writer.ended:
                try:  # noqa: SIM105 (contextlib costs import time in every cold start)
                    writer.fail(exc)
                except OSError:
                    pass
            client.streamed()
        deferred.run()
        return client.next()
    if payload is not None:
        client.respond(request_id, payload)
    elif not deferred.pending():
        return client.streamed_and_next()
    else:
        client.streamed()
    deferred.run()
    return client.next()


def main() -> None:
    run(RuntimeClient.from_environment(), os.environ["_HANDLER"])


if __name__ == "__main__":
    main()
