"""``InvokeWithResponseStream`` on the local Invoke API, as boto3's
``invoke_with_response_stream`` reads it.

``POST /2021-11-15/functions/{name}/response-streaming-invocations`` answers 200 with an
``application/vnd.amazon.eventstream`` body: one ``PayloadChunk`` event per chunk the
function streams (a function that does not stream sends its whole result as one), then an
``InvokeComplete`` event whose ``ErrorCode`` and ``ErrorDetails`` say how it ended. Each
event is one binary message: total and header lengths, a CRC32 of that prelude, the headers
(``:message-type``, ``:event-type``, ``:content-type``), the payload, a CRC32 of it all.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from faasport.core.http import HttpResponse
from faasport.local import invoke_request
from faasport.local.invoke_request import Refusal
from faasport.local.outcome import Outcome, Status
from faasport.local.streaming import LocalStream, StreamedResponse, invoke_streaming

if TYPE_CHECKING:
    from faasport.local.emulator import Emulator
    from faasport.local.http11 import Request

PREFIX = "/2021-11-15/functions/"
SUFFIX = "/response-streaming-invocations"
EVENT_STREAM = b"application/vnd.amazon.eventstream"


def function_name(path: str) -> str | None:
    """The ``FunctionName`` of an InvokeWithResponseStream path, as sent (percent-encoded;
    :func:`faasport.local.invoke_request.function` reads it); None for another path."""
    if not (path.startswith(PREFIX) and path.endswith(SUFFIX)):
        return None
    return path[len(PREFIX) : -len(SUFFIX)] or None


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    # Type 7: a string, its length in two bytes.
    return (
        struct.pack("!B", len(raw_name))
        + raw_name
        + struct.pack("!BH", 7, len(raw_value))
        + raw_value
    )


def message(event_type: str, payload: bytes, content_type: str) -> bytes:
    """One event-stream message."""
    headers = (
        _header(":event-type", event_type)
        + _header(":content-type", content_type)
        + _header(":message-type", "event")
    )
    total = 12 + len(headers) + len(payload) + 4
    prelude = struct.pack("!II", total, len(headers))
    prelude += struct.pack("!I", zlib.crc32(prelude))
    body = prelude + headers + payload
    return body + struct.pack("!I", zlib.crc32(body))


def payload_chunk(data: bytes) -> bytes:
    return message("PayloadChunk", data, "application/octet-stream")


def invoke_complete(error_code: str | None = None, details: str | None = None) -> bytes:
    document: dict[str, str] = {}
    if error_code is not None:
        document = {"ErrorCode": error_code, "ErrorDetails": details or ""}
    return message("InvokeComplete", json.dumps(document).encode(), "application/json")


def _details(payload: bytes) -> str:
    """An error document's message, as ErrorDetails carries it."""
    try:
        return str(json.loads(payload).get("errorMessage", ""))
    except (ValueError, AttributeError):
        return payload.decode("utf-8", "replace")


async def answer(runtime: Emulator, request: Request, name: str) -> HttpResponse | Refusal:
    """The streamed answer to one InvokeWithResponseStream request for function ``name``,
    or the error to answer instead."""
    payload = request.body or b"{}"
    refusal = invoke_request.payload_refusal(payload)
    if refusal is not None:
        return refusal
    kind = request.header("x-amz-invocation-type") or "RequestResponse"
    if kind not in ("RequestResponse", "DryRun"):
        return (
            400,
            "InvalidParameterValueException",
            f"Invocation type {kind!r} is not one of RequestResponse, DryRun",
        )
    client_context = invoke_request.client_context(request.header("x-amz-client-context"))
    if isinstance(client_context, tuple):
        return client_context
    if kind == "DryRun":
        return HttpResponse(204, [], b"")
    result = await invoke_streaming(runtime, name, payload, client_context=client_context)
    if isinstance(result, Outcome):
        if result.status is Status.THROTTLED:
            return 429, "TooManyRequestsException", "Rate Exceeded."
        request_id = result.request_id
        source = _whole(result)
        stream: LocalStream | None = None
    else:
        request_id = result.invocation.request_id
        source = _events(result)
        stream = result
    headers = [
        (b"content-type", EVENT_STREAM),
        (b"x-amzn-requestid", request_id.encode()),
        (b"x-amz-executed-version", b"$LATEST"),
    ]
    return StreamedResponse(
        200, headers, source, on_abandon=stream.abandon if stream is not None else lambda: None
    )


async def _whole(outcome: Outcome) -> AsyncIterator[bytes]:
    if outcome.ok:
        if outcome.payload:
            yield payload_chunk(outcome.payload)
        yield invoke_complete()
    else:
        yield invoke_complete("Unhandled", _details(outcome.payload))


async def _events(stream: LocalStream) -> AsyncIterator[bytes]:
    async for data in stream.chunks():
        yield payload_chunk(data)
    if stream.error is not None:
        yield invoke_complete(stream.error_type or "Unhandled", _details(stream.error))
    else:
        yield invoke_complete()
