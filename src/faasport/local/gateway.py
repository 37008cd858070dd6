"""The local HTTP gateway: an HTTP API (payload format 2.0) in front of the functions.

Each request is matched to a route, turned into the event API Gateway would send by the same
codec that decodes it inside the function (:class:`ApiGatewayV2`), handed to an
:class:`~faasport.local.invoker.Invoker`, and the function's result is turned back into HTTP
the way API Gateway does it. Connections are kept alive (HTTP/1.1).

The gateway runs on the local runtime's event loop, so a request reaches the waiting
execution environment without changing threads.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import traceback
import uuid
from email.utils import formatdate
from http import HTTPStatus
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from faasport.aws.apigw_v2 import ApiGatewayV2
from faasport.core.http import HttpRequest, HttpResponse
from faasport.local.http11 import BadRequest, Request, read_request
from faasport.local.invoker import InvocationError, Log, RuntimeInvoker, stderr_line
from faasport.local.routes import Router

if TYPE_CHECKING:
    from faasport.config.model import Project

#: HTTP API's payload limit.
MAX_BODY = 10 * 1024 * 1024
#: Seconds API Gateway waits for an integration before answering 504.
INTEGRATION_TIMEOUT = 30.0
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
        invoker: RuntimeInvoker | None = None,
        log: Log = stderr_line,
    ) -> None:
        self.project = project
        self.router = Router.for_functions(project.functions)
        self.log = log
        if invoker is None:
            invoker = RuntimeInvoker(project, log)
            invoker.start()
        self.invoker = invoker
        self.runtime = self.invoker.emulator
        self._connections: set[asyncio.StreamWriter] = set()
        self._stopped = threading.Event()
        try:
            self.server: asyncio.Server = self.runtime.call(
                asyncio.start_server(self._serve, host, port, backlog=128)
            )
        except OSError:
            self.invoker.close()
            raise
        self.server_address: tuple[str, int] = self.server.sockets[0].getsockname()[:2]

    @property
    def url(self) -> str:
        host, port = self.server_address
        return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"

    # -- lifecycle -------------------------------------------------------------------------

    def serve_forever(self) -> None:
        """Block until :meth:`shutdown` (the gateway serves from the runtime's thread)."""
        self._stopped.wait()

    def shutdown(self) -> None:
        self._stopped.set()

    def start(self) -> None:
        """Kept for symmetry with servers that need a thread: this one is already serving."""

    def close(self) -> None:
        """Stop serving, drop open connections and stop the functions' environments."""
        self._stopped.set()

        async def stop() -> None:
            self.server.close()
            for writer in list(self._connections):
                writer.close()

        if self.runtime.loop.is_running():
            self.runtime.call(stop())
        self.invoker.close()

    def __enter__(self) -> Gateway:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # -- requests --------------------------------------------------------------------------

    async def respond(self, request: HttpRequest) -> HttpResponse:
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
            invocation = self.invoker.invoke_async(match.function, event)
            if self.runtime.specs[match.function].timeout <= INTEGRATION_TIMEOUT:
                result = await invocation  # the function's own timeout comes first
            else:
                # API Gateway stops waiting after its integration timeout, whatever the
                # function's own timeout; the invocation itself runs on, as on AWS.
                result = await asyncio.wait_for(asyncio.shield(invocation), INTEGRATION_TIMEOUT)
        except TimeoutError:
            self.log(f"[gateway] {where}: 504: no answer within {INTEGRATION_TIMEOUT:g} s")
            return gateway_response(504)
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

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._connections.add(writer)
        sock = writer.get_extra_info("socket")
        if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        peer = writer.get_extra_info("peername") or ("127.0.0.1", 0)
        try:
            while True:
                try:
                    request = await read_request(reader, MAX_BODY, writer, _DRAIN_LIMIT)
                except BadRequest as exc:
                    answer = gateway_response(exc.status if exc.status in _MESSAGES else 400)
                    writer.write(_encode(answer, "GET", close=not exc.drained))
                    await writer.drain()
                    if exc.drained:
                        continue
                    break
                if request is None:
                    break
                try:
                    response = await self.respond(self._request(request, peer))
                except Exception:
                    self.log(traceback.format_exc().rstrip())
                    response = gateway_response(502)
                writer.write(_encode(response, request.method, close=not request.keep_alive))
                await writer.drain()
                if not request.keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            self._connections.discard(writer)
            writer.close()

    def _request(self, request: Request, peer: tuple[str, int]) -> HttpRequest:
        target = request.target
        if target.startswith("/"):
            raw_path, _, query = target.partition("?")
        else:  # absolute-form, as sent to proxies
            parts = urlsplit(target)
            raw_path, query = parts.path or "/", parts.query
        client_ip, client_port = str(peer[0]), int(peer[1])
        headers: list[tuple[bytes, bytes]] = []
        forwarded_for = client_ip
        for name, value in request.headers:
            if name == "x-forwarded-for":
                forwarded_for = f"{value}, {client_ip}"
            elif name not in ("x-forwarded-port", "x-forwarded-proto"):
                headers.append((name.encode("latin-1"), value.encode("latin-1")))
        host, port = self.server_address
        headers += [
            (b"x-forwarded-for", forwarded_for.encode("latin-1")),
            (b"x-forwarded-port", str(port).encode()),
            (b"x-forwarded-proto", b"http"),
        ]
        return HttpRequest(
            method=request.method,
            path=unquote(raw_path),
            query_string=query.encode("latin-1"),
            headers=headers,
            body=request.body,
            scheme="http",
            server=(host, port),
            client=(client_ip, client_port),
            raw_path=raw_path.encode("latin-1"),
            http_version=request.version.removeprefix("HTTP/"),
        )


_date_cache: list[tuple[int, bytes]] = [(0, b"")]


def _http_date() -> bytes:
    """The Date header value, formatted once a second."""
    now = int(time.time())
    second, value = _date_cache[0]
    if second != now:
        value = formatdate(now, usegmt=True).encode("latin-1")
        _date_cache[0] = (now, value)
    return value


def _encode(response: HttpResponse, method: str, *, close: bool = False) -> bytes:
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
    lines.append(b"date: " + _http_date())
    lines.append(b"apigw-requestid: " + (request_id or str(uuid.uuid4()).encode()))
    if not bodyless:
        if method != "HEAD" or length is None:
            length = str(len(body)).encode()
        lines.append(b"content-length: " + length)
    if close:
        lines.append(b"connection: close")
    head = b"\r\n".join(lines) + b"\r\n\r\n"
    return head if method == "HEAD" else head + body
