"""WebSocket APIs on the local gateway, and their ``@connections`` management API.

An upgrade request to ``/{function}`` of a function with ``websocket = {...}`` becomes a
connection: its handshake is checked by the ``websockets`` library's sans-I/O protocol, the
``$connect`` route is invoked (a non-2xx answer refuses the handshake with that status),
then every message (at most 128 KB, else close 1009) is routed by the selection expression
and invoked as API Gateway would, one at a time per connection, and the close becomes a
``$disconnect`` invocation. :meth:`WebSocketApis.manage` is the ``@connections`` API
(``POST``/``DELETE``/``GET``), callable from any thread: the AWS services endpoint of
``faasport dev`` answers it, and ``AWS_ENDPOINT_URL_APIGATEWAYMANAGEMENTAPI`` points each
function's ``faasport.websocket.send`` (or boto3's client) there.
"""

from __future__ import annotations

import asyncio
import json
import time
import traceback
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from faasport.core.http import HttpResponse
from faasport.local.invoker import InvocationError
from faasport.local.websocket.events import (
    Connection,
    connect_event,
    connection_id,
    disconnect_event,
    message_event,
    select_route,
)

if TYPE_CHECKING:
    from websockets.server import ServerProtocol

    from faasport.config.model import Function, WebSocketApi
    from faasport.local.http11 import Request
    from faasport.local.invoker import RuntimeInvoker

#: API Gateway's limit on one message.
MAX_MESSAGE = 128 * 1024
#: Bytes of @connections posts a client may leave unread before its connection is dropped:
#: a post never waits on the client's reading.
UNREAD_LIMIT = 4 * 1024 * 1024
Log = Callable[[str], None]
Reject = Callable[[int, str | None], HttpResponse]
TakeOver = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Upgraded(HttpResponse):
    """The answer to an accepted upgrade: the server hands the connection to ``take_over``,
    which writes the ``101`` and speaks WebSocket until the connection ends."""

    __slots__ = ("take_over",)

    def __init__(self, take_over: TakeOver) -> None:
        super().__init__(101, [])
        self.take_over = take_over


@dataclass
class _Live:
    connection: Connection
    api: WebSocketApi
    protocol: ServerProtocol
    writer: asyncio.StreamWriter | None = None
    #: Fragments of the message being received.
    parts: list[bytes] = field(default_factory=list)
    binary: bool = False


def _iso(ms: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ms / 1000)) + f".{ms % 1000:03d}Z"


class WebSocketApis:
    """The WebSocket APIs of a project; inert until the gateway gives it its invoker."""

    def __init__(self, functions: Mapping[str, Function], log: Log) -> None:
        self.apis = {n: f.websocket for n, f in functions.items() if f.websocket is not None}
        self.log = log
        self.invoker: RuntimeInvoker | None = None
        self.connections: dict[str, _Live] = {}

    def function_for(self, request: Request) -> str | None:
        """The function whose WebSocket API an upgrade request asks for, else None."""
        if not self.apis or (request.header("upgrade") or "").lower() != "websocket":
            return None
        name = request.path.strip("/")
        return name if name in self.apis else None

    # -- connections ------------------------------------------------------------------------

    async def upgrade(
        self, function: str, request: Request, peer: tuple[str, int], domain: str, reject: Reject
    ) -> HttpResponse:
        """The 101 that takes the connection over, or the refusal."""
        from websockets.http11 import Request as Handshake
        from websockets.server import ServerProtocol

        protocol = ServerProtocol(max_size=MAX_MESSAGE)
        protocol.receive_data(_raw_head(request))
        handshake = next((e for e in protocol.events_received() if isinstance(e, Handshake)), None)
        if handshake is None:
            return reject(400, "malformed WebSocket handshake")
        accepted = protocol.accept(handshake)
        if accepted.status_code != 101:
            return reject(accepted.status_code, None)
        api = self.apis[function]
        connection = Connection(
            function,
            connection_id(),
            domain,
            peer[0],
            request.header("user-agent") or "",
        )
        if "$connect" in api.routes:
            event = connect_event(connection, request.headers, request.query)
            status, _ = await self._invoke(function, event, f"ws {function} $connect")
            if not 200 <= status < 300:
                return reject(status, None)
        live = _Live(connection, api, protocol)

        async def take_over(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            protocol.send_response(accepted)
            live.writer = writer
            self.connections[connection.id] = live
            try:
                await self._flush(live)
                await self._serve(live, reader)
            finally:
                self.connections.pop(connection.id, None)

        return Upgraded(take_over)

    async def _serve(self, live: _Live, reader: asyncio.StreamReader) -> None:
        from websockets.frames import CloseCode, Frame, Opcode
        from websockets.protocol import State

        protocol = live.protocol
        function = live.connection.function
        try:
            while protocol.state is not State.CLOSED:
                data = await reader.read(65536)
                if data:
                    protocol.receive_data(data)
                else:
                    protocol.receive_eof()
                messages: list[str | bytes] = []
                for frame in protocol.events_received():
                    if isinstance(frame, Frame):
                        try:
                            message = _assemble(live, frame, Opcode)
                        except UnicodeDecodeError:
                            # RFC 6455: a text message that is not UTF-8 fails the
                            # connection with 1007; what follows it is not delivered.
                            protocol.fail(CloseCode.INVALID_DATA, "Invalid UTF-8 in a text frame")
                            break
                        if message is not None:
                            messages.append(message)
                await self._flush(live)
                for message in messages:
                    live.connection.last_active = int(time.time() * 1000)
                    await self._message(live, message)
                if not data:
                    break
        except asyncio.CancelledError:
            # The gateway is stopping: the client is told so; no $disconnect is invoked.
            if protocol.state is State.OPEN:
                protocol.send_close(1001, "Going away")
                await self._flush(live)
            raise
        except ConnectionError:
            pass
        code, reason = _close_of(protocol)
        if "$disconnect" in live.api.routes:
            event = disconnect_event(live.connection, code, reason)
            await self._invoke(function, event, f"ws {function} $disconnect")

    async def _message(self, live: _Live, data: str | bytes) -> None:
        function = live.connection.function
        route = select_route(live.api.selection, live.api.routes, data)
        if route is None:
            # What API Gateway answers when no route matches and there is no $default.
            self._send(
                live, json.dumps({"message": "Forbidden", "connectionId": live.connection.id})
            )
            await self._flush(live)
            return
        event = message_event(live.connection, route, data)
        status, body = await self._invoke(function, event, f"ws {function} {route}")
        if status >= 500 or status == 0:
            reply: str | bytes | None = json.dumps(
                {"message": "Internal server error", "connectionId": live.connection.id}
            )
        else:
            reply = body
        if reply is not None:
            self._send(live, reply)
            await self._flush(live)

    async def _invoke(self, function: str, event: dict[str, Any], where: str) -> tuple[int, Any]:
        """(statusCode, reply body) of one invocation; (502, None) when it failed."""
        invoker = self.invoker
        assert invoker is not None
        try:
            result = await invoker.invoke_async(function, event)
        except InvocationError as exc:
            self.log(f"[gateway] {where}: {exc.status}: {exc}")
            return exc.status, None
        except Exception:
            self.log(f'[gateway] {where}: 502: invoking function "{function}" failed')
            self.log(traceback.format_exc().rstrip())
            return 502, None
        if not isinstance(result, dict):
            return 200, None
        status = result.get("statusCode", 200)
        if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
            self.log(
                f'[gateway] {where}: 502: function "{function}" returned statusCode {status!r}'
            )
            return 502, None
        body = result.get("body")
        if isinstance(body, str) and result.get("isBase64Encoded") is True:
            import base64

            return status, base64.b64decode(body)
        return status, body if isinstance(body, str) else None

    def _send(self, live: _Live, data: str | bytes) -> None:
        if isinstance(data, str):
            live.protocol.send_text(data.encode())
        else:
            live.protocol.send_binary(data)

    async def _flush(self, live: _Live) -> None:
        writer = live.writer
        if writer is None:
            return
        outgoing = live.protocol.data_to_send()
        if writer.transport.is_closing():  # dropped: what was left for it goes nowhere
            return
        for chunk in outgoing:
            if chunk:
                writer.write(chunk)
            elif writer.can_write_eof():
                writer.write_eof()
        await writer.drain()

    # -- the @connections API ---------------------------------------------------------------

    def manage(
        self, loop: asyncio.AbstractEventLoop, method: str, connection: str, body: bytes
    ) -> tuple[int, bytes]:
        """(status, body) of a ``@connections`` call, from any thread but ``loop``'s."""
        future = asyncio.run_coroutine_threadsafe(self._manage(method, connection, body), loop)
        return future.result(10)

    async def _manage(self, method: str, connection: str, body: bytes) -> tuple[int, bytes]:
        from websockets.protocol import State

        live = self.connections.get(connection)
        if live is None or live.protocol.state is not State.OPEN:
            return 410, b'{"message":null}'
        if method == "POST":
            if len(body) > MAX_MESSAGE:
                return 413, b'{"message":"Request entity too large"}'
            try:
                self._send(live, body.decode("utf-8"))
            except UnicodeDecodeError:
                self._send(live, body)
            writer = live.writer
            assert writer is not None
            for chunk in live.protocol.data_to_send():
                writer.write(chunk)
            if writer.transport.get_write_buffer_size() > UNREAD_LIMIT:
                self.log(
                    f"[gateway] ws {live.connection.function}: connection "
                    f"{live.connection.id} dropped: the client left over "
                    f"{UNREAD_LIMIT // (1024 * 1024)} MB of messages unread"
                )
                writer.transport.abort()
                return 410, b'{"message":null}'
            return 200, b""
        if method == "DELETE":
            live.protocol.send_close(1000, "")
            await self._flush(live)
            return 204, b""
        if method == "GET":
            c = live.connection
            # API Gateway's names on the wire (boto3 gives them as ConnectedAt...).
            document = {
                "connectedAt": _iso(c.connected_at),
                "identity": {"sourceIp": c.source_ip, "userAgent": c.user_agent},
                "lastActiveAt": _iso(c.last_active or c.connected_at),
            }
            return 200, json.dumps(document).encode()
        return 405, b'{"message":"Method not allowed"}'


def _raw_head(request: Request) -> bytes:
    lines = [f"{request.method} {request.target} {request.version}"]
    lines += [f"{name}: {value}" for name, value in request.headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _assemble(live: _Live, frame: Any, opcode: Any) -> str | bytes | None:
    """The message a data frame completes, None while one is incomplete (or for control
    frames, which the protocol answers itself)."""
    if frame.opcode in (opcode.TEXT, opcode.BINARY):
        live.parts = [frame.data]
        live.binary = frame.opcode is opcode.BINARY
    elif frame.opcode is opcode.CONT:
        live.parts.append(frame.data)
    else:
        return None
    if not frame.fin:
        return None
    data = b"".join(live.parts)
    live.parts = []
    return data if live.binary else data.decode("utf-8")


def _close_of(protocol: ServerProtocol) -> tuple[int, str]:
    """The close code and reason ``$disconnect`` reports."""
    received = protocol.close_rcvd
    if received is not None:
        if received.code == 1005:
            return 1005, "Client-side close frame status not set"
        return received.code, received.reason
    sent = protocol.close_sent
    if sent is not None:
        return sent.code, sent.reason
    return 1006, "Connection closed abnormally"
