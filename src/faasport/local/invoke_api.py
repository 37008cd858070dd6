"""Lambda's Invoke API on a loopback port, so boto3's ``lambda`` client works against the
local runtime: ``boto3.client("lambda", endpoint_url="http://127.0.0.1:3001")``.

``POST /2015-03-31/functions/{name}/invocations`` with ``X-Amz-Invocation-Type``
RequestResponse (the default), Event (queued, 202) or DryRun (204). Errors carry
``x-amzn-ErrorType`` and a JSON body, as the service's do.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import uuid
from urllib.parse import unquote

from faasport.local.emulator import Emulator
from faasport.local.http11 import BadRequest, Request, read_request, response
from faasport.local.outcome import Status
from faasport.local.runtime_api import MAX_PAYLOAD

PREFIX = "/2015-03-31/functions/"
SUFFIX = "/invocations"


def _error(status: int, error_type: str, message: str) -> bytes:
    body = json.dumps({"Type": "User", "message": message}).encode()
    headers = [
        ("content-type", "application/json"),
        ("x-amzn-errortype", error_type),
        ("x-amzn-requestid", str(uuid.uuid4())),
    ]
    return response(status, headers, body)


def function_name(path: str) -> str | None:
    """The function named in an Invoke API path: a name, ``name:qualifier`` or an ARN."""
    if not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
        return None
    name = unquote(path[len(PREFIX) : -len(SUFFIX)])
    if name.startswith("arn:"):
        parts = name.split(":")
        name = parts[6] if len(parts) > 6 else ""
    return name.split(":")[0] or None


class InvokeApi:
    def __init__(self, runtime: Emulator) -> None:
        self.runtime = runtime
        self.server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> int:
        self.server = await asyncio.start_server(self._serve, host, port)
        bound: int = self.server.sockets[0].getsockname()[1]
        return bound

    async def close(self) -> None:
        if self.server is not None:
            self.server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                try:
                    request = await read_request(reader, MAX_PAYLOAD)
                except BadRequest as exc:
                    if exc.status == 413:
                        writer.write(
                            _error(
                                413,
                                "RequestTooLargeException",
                                f"Request must be smaller than {MAX_PAYLOAD} bytes for the "
                                "InvokeFunction operation",
                            )
                        )
                    else:
                        writer.write(_error(exc.status, "InvalidRequestContentException", str(exc)))
                    break
                if request is None:
                    break
                writer.write(await self._handle(request))
                await writer.drain()
                if not request.keep_alive:
                    break
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    async def _handle(self, request: Request) -> bytes:
        name = function_name(request.path)
        if name is None or request.method != "POST":
            return _error(404, "UnknownOperationException", f"unknown operation {request.path}")
        name = self.runtime.aliases.get(name, name)
        spec = self.runtime.specs.get(name)
        if spec is None:
            return _error(
                404,
                "ResourceNotFoundException",
                f"Function not found: arn:aws:lambda:us-east-1:123456789012:function:{name}",
            )
        payload = request.body or b"{}"
        try:
            json.loads(payload)
        except ValueError as exc:
            return _error(
                400,
                "InvalidRequestContentException",
                f"Could not parse request body into json: {exc}",
            )
        kind = request.header("x-amz-invocation-type") or "RequestResponse"
        if kind == "DryRun":
            return response(204, [("x-amzn-requestid", str(uuid.uuid4()))])
        if kind == "Event":
            self.runtime.invoke_later(name, payload)
            return response(202, [("x-amzn-requestid", str(uuid.uuid4()))])
        if kind != "RequestResponse":
            return _error(
                400,
                "InvalidParameterValueException",
                f"Invocation type {kind!r} is not one of RequestResponse, Event, DryRun",
            )
        client_context = request.header("x-amz-client-context")
        if client_context:
            try:
                client_context = base64.b64decode(client_context, validate=True).decode()
            except (binascii.Error, UnicodeDecodeError):
                return _error(
                    400, "InvalidRequestContentException", "Client context must be base64 JSON"
                )
        outcome = await self.runtime.invoke_async(name, payload, client_context=client_context)
        if outcome.status is Status.THROTTLED:
            return _error(429, "TooManyRequestsException", "Rate Exceeded.")
        headers = [
            ("content-type", "application/json"),
            ("x-amzn-requestid", outcome.request_id),
            ("x-amz-executed-version", "$LATEST"),
        ]
        if not outcome.ok:
            headers.append(("x-amz-function-error", "Unhandled"))
        return response(200, headers, outcome.payload)
