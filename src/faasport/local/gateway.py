"""The local HTTP gateway: an HTTP API (payload format 2.0) in front of the functions.

Each request is matched to a route, turned into the event API Gateway would send by the same
codec that decodes it inside the function (:class:`ApiGatewayV2`), handed to an
:class:`~faasport.local.invoker.Invoker`, and the function's result is turned back into HTTP
the way API Gateway does it. Connections are kept alive (HTTP/1.1).
"""

from __future__ import annotations

import contextlib
import socket
import socketserver
import threading
import traceback
import uuid
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from faasport.aws.apigw_v2 import ApiGatewayV2
from faasport.core.http import HttpRequest, HttpResponse
from faasport.local.invoker import InvocationError, Invoker, Log, RuntimeInvoker, stderr_line
from faasport.local.routes import Router

if TYPE_CHECKING:
    from faasport.config.model import Project

#: HTTP API's payload limit.
MAX_BODY = 10 * 1024 * 1024
#: A too-large body up to this size is read and dropped so the connection survives the 413;
#: past it the connection is closed instead.
_DRAIN_LIMIT = 64 * 1024 * 1024
_CODEC = ApiGatewayV2()
#: What API Gateway answers itself, by status.
_MESSAGES = {
    400: "Bad Request",
    404: "Not Found",
    413: "Request Entity Too Large",
    429: "Too Many Requests",
    502: "Internal Server Error",
    503: "Service Unavailable",
    504: "Endpoint request timed out",
}
_HOP_BY_HOP = frozenset(
    [b"connection", b"keep-alive", b"transfer-encoding", b"upgrade", b"te", b"trailer"]
)


def gateway_response(status: int) -> HttpResponse:
    body = b'{"message":"' + _MESSAGES.get(status, "Internal Server Error").encode() + b'"}'
    return HttpResponse(status, [(b"content-type", b"application/json")], body)


def _check(response: HttpResponse) -> None:
    if not 100 <= response.status <= 599:
        raise ValueError(f"statusCode {response.status} is not an HTTP status")
    for name, value in response.headers:
        if b"\r" in name + value or b"\n" in name + value:
            raise ValueError(f"header {name!r} contains a line break")


class Gateway:
    def __init__(
        self,
        project: Project,
        *,
        host: str = "127.0.0.1",
        port: int = 3000,
        invoker: Invoker | None = None,
        log: Log = stderr_line,
    ) -> None:
        self.project = project
        self.router = Router.for_functions(project.functions)
        self.log = log
        self.invoker: Invoker = invoker if invoker is not None else RuntimeInvoker(project, log)
        self.server = _Server((host, port), self)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        host = str(host)
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    # -- lifecycle -------------------------------------------------------------------------

    def serve_forever(self) -> None:
        """Serve on this thread until :meth:`shutdown` is called from another one."""
        self.server.serve_forever(poll_interval=0.2)

    def shutdown(self) -> None:
        self.server.shutdown()

    def start(self) -> None:
        """Serve on a background thread (tests, embedding)."""
        self._thread = threading.Thread(
            target=self.serve_forever, name="faasport-gateway", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop serving, drop open connections and stop the functions' environments."""
        if self._thread is not None:
            self.server.shutdown()
            self._thread.join()
            self._thread = None
        self.server.server_close()
        self.server.drop_connections()
        self.invoker.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- requests --------------------------------------------------------------------------

    def respond(self, request: HttpRequest) -> HttpResponse:
        """The answer to one request; never raises."""
        match = self.router.match(request.method, request.path)
        if match is None:
            return gateway_response(404)
        try:
            event = _CODEC.build_event(request, "$default")
        except ValueError:  # e.g. header bytes that are not UTF-8
            return gateway_response(400)
        event["routeKey"] = event["requestContext"]["routeKey"] = match.route.key
        if match.params:
            event["pathParameters"] = dict(match.params)
        where = f"{request.method} {request.path}"
        try:
            result = self.invoker.invoke(match.function, event)
        except InvocationError as exc:
            self.log(f"[gateway] {where}: {exc.status}: {exc}")
            return gateway_response(exc.status)
        except Exception:
            self.log(f'[gateway] {where}: 502: invoking function "{match.function}" failed')
            self.log(traceback.format_exc().rstrip())
            return gateway_response(502)
        try:
            response = _CODEC.parse_result(result)
            _check(response)
        except Exception as exc:
            self.log(
                f'[gateway] {where}: 502: function "{match.function}" returned an invalid '
                f"response: {exc}"
            )
            return gateway_response(502)
        response.headers.append(
            (b"apigw-requestid", str(event["requestContext"]["requestId"]).encode("latin-1"))
        )
        return response


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], gateway: Gateway) -> None:
        self.gateway = gateway
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _RequestHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind resolves the host's FQDN, a DNS lookup that can take seconds.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name = str(host)
        self.server_port = int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        exc = sys.exc_info()[1]
        if isinstance(exc, OSError):  # the client went away or stalled
            return
        self.gateway.log(f"[gateway] error serving {client_address}:")
        self.gateway.log(traceback.format_exc().rstrip())

    def drop_connections(self) -> None:
        with self.connections_lock:
            open_now = list(self.connections)
        for connection in open_now:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: Seconds an idle keep-alive connection stays open.
    timeout = 60
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the invocation log lines say what happened."""

    def handle_expect_100(self) -> bool:
        length = self.headers.get("content-length", "")
        if length.isdigit() and int(length) > MAX_BODY:
            self._write(gateway_response(413), close=True)
            return False
        return super().handle_expect_100()

    def _serve(self) -> None:
        body = self._read_body()
        if body is None:
            return
        try:
            response = self.server.gateway.respond(self._request(body))
        except Exception:
            self.server.gateway.log(traceback.format_exc().rstrip())
            response = gateway_response(502)
        self._write(response)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _serve

    # -- reading ---------------------------------------------------------------------------

    def _read_body(self) -> bytes | None:
        """The request body, or None when the request has been answered already."""
        encoding = self.headers.get("transfer-encoding")
        if encoding is not None:
            if encoding.strip().lower() != "chunked":
                self._write(gateway_response(400), close=True)
                return None
            return self._read_chunked()
        text = self.headers.get("content-length")
        if text is None:
            return b""
        if not text.strip().isdigit():
            self._write(gateway_response(400), close=True)
            return None
        length = int(text)
        if length > MAX_BODY:
            # Reading the body first lets the client finish sending and read the 413.
            drained = length <= _DRAIN_LIMIT and self._discard(length)
            self._write(gateway_response(413), close=not drained)
            return None
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            return None
        return body

    def _discard(self, length: int) -> bool:
        while length > 0:
            chunk = self.rfile.read(min(length, 1 << 16))
            if not chunk:
                return False
            length -= len(chunk)
        return True

    def _read_chunked(self) -> bytes | None:
        chunks: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(1 << 16)
            try:
                size = int(line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                self._write(gateway_response(400), close=True)
                return None
            if size == 0:
                break
            total += size
            if total > MAX_BODY:
                self._write(gateway_response(413), close=True)
                return None
            chunks.append(self.rfile.read(size))
            self.rfile.readline(1 << 16)  # the CRLF after the chunk
        while self.rfile.readline(1 << 16) not in (b"\r\n", b"\n", b""):
            pass  # trailer fields: dropped, as API Gateway does
        return b"".join(chunks)

    def _request(self, body: bytes) -> HttpRequest:
        target = self.path
        if target.startswith("/"):
            raw_path, _, query = target.partition("?")
        else:  # absolute-form, as sent to proxies
            parts = urlsplit(target)
            raw_path, query = parts.path or "/", parts.query
        client_ip, client_port = self.client_address[:2]
        headers: list[tuple[bytes, bytes]] = []
        forwarded_for = str(client_ip)
        for name, value in self.headers.items():
            key = name.lower().encode("latin-1")
            if key == b"x-forwarded-for":
                forwarded_for = f"{value}, {client_ip}"
            elif key not in (b"x-forwarded-port", b"x-forwarded-proto"):
                headers.append((key, value.encode("latin-1")))
        port = self.server.server_port
        headers += [
            (b"x-forwarded-for", forwarded_for.encode("latin-1")),
            (b"x-forwarded-port", str(port).encode()),
            (b"x-forwarded-proto", b"http"),
        ]
        return HttpRequest(
            method=self.command,
            path=unquote(raw_path),
            query_string=query.encode("latin-1"),
            headers=headers,
            body=body,
            scheme="http",
            server=(self.server.server_name, port),
            client=(str(client_ip), int(client_port)),
            raw_path=raw_path.encode("latin-1"),
            http_version=self.request_version.removeprefix("HTTP/"),
        )

    # -- writing ---------------------------------------------------------------------------

    def _write(self, response: HttpResponse, *, close: bool = False) -> None:
        status = response.status
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = ""
        bodyless = status < 200 or status in (204, 304)
        body = b"" if bodyless else response.body
        length: bytes | None = None
        request_id: bytes | None = None
        lines = [f"HTTP/1.1 {status} {phrase}".encode("latin-1")]
        for name, value in response.headers:
            if name == b"content-length":
                length = value  # kept for HEAD, where the body is not sent
            elif name == b"apigw-requestid":
                request_id = value
            elif name not in _HOP_BY_HOP:
                lines.append(name + b": " + value)
        lines.append(b"date: " + self.date_time_string().encode("latin-1"))
        lines.append(b"apigw-requestid: " + (request_id or str(uuid.uuid4()).encode()))
        if not bodyless:
            if self.command != "HEAD" or length is None:
                length = str(len(body)).encode()
            lines.append(b"content-length: " + length)
        if close or self.close_connection:
            self.close_connection = True
            lines.append(b"connection: close")
        head = b"\r\n".join(lines) + b"\r\n\r\n"
        self.wfile.write(head if self.command == "HEAD" else head + body)
