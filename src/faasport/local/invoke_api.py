"""Lambda's Invoke API on a loopback port, so boto3's ``lambda`` client works against the
local runtime: ``boto3.client("lambda", endpoint_url="http://127.0.0.1:3001")``.

``POST /2015-03-31/functions/{name}/invocations`` with ``X-Amz-Invocation-Type``
RequestResponse (the default), Event (queued, 202) or DryRun (204). Errors carry
``x-amzn-ErrorType`` and a JSON body, as the service's do.
"""

from __future__ import annotations

import base64
import json
import uuid

from faasport.core.http import HttpResponse
from faasport.core.trace import parse_xray
from faasport.local import invoke_request, invoke_stream, local_only
from faasport.local.connections import Limits, Server
from faasport.local.emulator import Emulator
from faasport.local.http11 import Request
from faasport.local.outcome import Status
from faasport.local.runtime_api import MAX_PAYLOAD

PREFIX = "/2015-03-31/functions/"
SUFFIX = "/invocations"
#: How much of the end of an invocation's log ``LogType: Tail`` returns.
TAIL_BYTES = 4096
#: Lambda's limit on an asynchronous (Event) invocation's payload.
MAX_EVENT_PAYLOAD = 1024 * 1024
_JSON = (b"content-type", b"application/json")


def _request_id() -> tuple[bytes, bytes]:
    return (b"x-amzn-requestid", str(uuid.uuid4()).encode())


def _error(status: int, error_type: str, message: str) -> HttpResponse:
    document = {"Type": "User", "message": message}
    if error_type == "TooManyRequestsException":  # a function's concurrency is its own
        document["Reason"] = "ReservedFunctionConcurrentInvocationLimitExceeded"
    body = json.dumps(document).encode()
    headers = [_JSON, (b"x-amzn-errortype", error_type.encode()), _request_id()]
    return HttpResponse(status, headers, body)


def _reject(status: int) -> HttpResponse:
    """What the service answers to a request it cannot read."""
    if status == 413:
        return _error(
            413,
            "RequestEntityTooLargeException",
            f"Request must be smaller than {MAX_PAYLOAD} bytes for the InvokeFunction operation",
        )
    if status == 503:
        return _error(503, "ServiceException", "The service is not accepting requests now.")
    return _error(status, "InvalidRequestContentException", "The request is malformed.")


def function_name(path: str) -> str | None:
    """The ``FunctionName`` of an Invoke path, as sent (percent-encoded;
    :func:`faasport.local.invoke_request.function` reads it); None for another path."""
    if not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
        return None
    return path[len(PREFIX) : -len(SUFFIX)] or None


class InvokeApi:
    def __init__(self, runtime: Emulator, limits: Limits | None = None) -> None:
        self.runtime = runtime
        self.limits = limits or Limits(max_body=MAX_PAYLOAD)
        self.server: Server | None = None
        self.host = "127.0.0.1"

    async def start(self, host: str, port: int) -> int:
        """Listen on ``host:port``; the bound port."""
        self.host = host
        server = Server(self._answer, _reject, self.limits, lambda line: None)
        await server.start(host, port)
        self.server = server
        return server.address[1]

    async def close(self, grace: float = 0.0) -> None:
        if self.server is not None:
            await self.server.close(grace)

    async def _answer(self, request: Request, peer: tuple[str, int]) -> HttpResponse:
        refused = local_only.refusal(request.header("host"), request.header("origin"), self.host)
        if refused is not None:
            return _error(403, "AccessDeniedException", refused)
        streamed = invoke_stream.function_name(request.path)
        if streamed is not None and request.method == "POST":
            return await self._stream(request, streamed)
        return await self._handle(request)

    async def _stream(self, request: Request, raw: str) -> HttpResponse:
        """InvokeWithResponseStream (:mod:`faasport.local.invoke_stream`)."""
        name = invoke_request.function(self.runtime, raw, request.query)
        if isinstance(name, tuple):
            return _error(*name)
        answer = await invoke_stream.answer(self.runtime, request, name)
        if isinstance(answer, HttpResponse):
            return answer
        return _error(*answer)

    async def _handle(self, request: Request) -> HttpResponse:
        raw = function_name(request.path)
        if raw is None or request.method != "POST":
            return _error(404, "UnknownOperationException", f"unknown operation {request.path}")
        name = invoke_request.function(self.runtime, raw, request.query)
        if isinstance(name, tuple):
            return _error(*name)
        payload = request.body or b"{}"
        refusal = invoke_request.payload_refusal(payload)
        if refusal is not None:
            return _error(*refusal)
        kind = request.header("x-amz-invocation-type") or "RequestResponse"
        log_type = request.header("x-amz-log-type") or "None"
        if log_type not in ("None", "Tail"):
            return _error(
                400,
                "InvalidParameterValueException",
                f"Log type {log_type!r} is not one of None, Tail",
            )
        if kind == "DryRun":
            return HttpResponse(204, [_request_id()], b"")
        if kind == "Event":
            if len(payload) > MAX_EVENT_PAYLOAD:
                return _error(
                    413,
                    "RequestEntityTooLargeException",
                    f"{len(payload)} byte payload is too large for the Event invocation type "
                    f"(limit {MAX_EVENT_PAYLOAD} bytes)",
                )
            self.runtime.invoke_later(name, payload)
            return HttpResponse(202, [_request_id()], b"")
        if kind != "RequestResponse":
            return _error(
                400,
                "InvalidParameterValueException",
                f"Invocation type {kind!r} is not one of RequestResponse, Event, DryRun",
            )
        client_context = invoke_request.client_context(request.header("x-amz-client-context"))
        if isinstance(client_context, tuple):
            return _error(*client_context)
        # A caller inside a function (boto3 there adds X-Amzn-Trace-Id) keeps its trace.
        trace_id = request.header("x-amzn-trace-id")
        if trace_id and parse_xray(trace_id) is None:
            trace_id = None
        outcome = await self.runtime.invoke_async(
            name, payload, client_context=client_context, trace_id=trace_id, tail=log_type == "Tail"
        )
        if outcome.status is Status.THROTTLED:
            return _error(429, "TooManyRequestsException", "Rate Exceeded.")
        headers = [
            _JSON,
            (b"x-amzn-requestid", outcome.request_id.encode()),
            (b"x-amz-executed-version", b"$LATEST"),
        ]
        if not outcome.ok:
            headers.append((b"x-amz-function-error", b"Unhandled"))
        if outcome.log is not None:
            tail = outcome.log.encode()[-TAIL_BYTES:]
            headers.append((b"x-amz-log-result", base64.b64encode(tail)))
        return HttpResponse(200, headers, outcome.payload)
