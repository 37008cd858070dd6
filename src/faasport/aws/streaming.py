"""Lambda response streaming from faasport's runtime client.

A streamed response is one ``POST /runtime/invocation/{id}/response`` with the header
``Lambda-Runtime-Function-Response-Mode: streaming`` and a chunked body, written while the
function runs. For HTTP events the body starts with the HTTP integration prelude (content
type ``application/vnd.awslambda.http-integration-response``): a JSON object with
``statusCode``, ``headers`` and ``cookies``, then eight NUL bytes, then the response body.
An error after the first byte cannot change the status any more: it ends the stream with
the ``Lambda-Runtime-Function-Error-Type`` and ``Lambda-Runtime-Function-Error-Body``
(base64 of the error document) trailers, declared up front in ``Trailer``.

Lambda streams up to 200 MB per response (the first 6 MB at full speed, the rest at about
2 MB/s); Function URLs in ``RESPONSE_STREAM`` mode and REST APIs with ``ResponseTransferMode:
STREAM`` pass the bytes on as they come.
"""

from __future__ import annotations

import base64
import json
import traceback

from faasport.core import invocation
from faasport.core.http import HttpResponse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from faasport.aws.handler import LambdaHandler
    from faasport.aws.runtime_client import RuntimeClient

RESPONSE_MODE = "Lambda-Runtime-Function-Response-Mode"
ERROR_TYPE = "Lambda-Runtime-Function-Error-Type"
ERROR_BODY = "Lambda-Runtime-Function-Error-Body"
HTTP_INTEGRATION = "application/vnd.awslambda.http-integration-response"
OCTET_STREAM = "application/octet-stream"
DELIMITER = b"\0" * 8
#: Bytes Lambda streams at most in one response.
MAX_STREAM = 200 * 1024 * 1024
#: Bytes streamed at full speed before Lambda throttles a response to about 2 MB/s.
UNTHROTTLED = 6 * 1024 * 1024
#: Bytes a stream sends on a small send buffer (:meth:`RuntimeClient.widen` after them):
#: while the first chunk is on its way to the client, the function waits rather than
#: writing a megabyte ahead on the CPU the local Runtime API needs to pass that chunk on.
FIRST_BYTES = 256 * 1024
#: The marker :func:`serve` returns when the response went out as a stream.
STREAMED = object()


def prelude(status: int, headers: list[tuple[bytes, bytes]]) -> bytes:
    """The HTTP integration prelude, delimiter included."""
    from faasport.aws.codec import joined_headers

    joined, cookies = joined_headers(HttpResponse(status, headers))
    document = {"statusCode": status, "headers": joined, "cookies": cookies}
    return json.dumps(document, separators=(",", ":")).encode() + DELIMITER


def error_document(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_list(traceback.extract_tb(exc.__traceback__)),
    }


def chunk(data: bytes) -> bytes:
    """One chunk of a chunked transfer coding (never empty: that one ends the body)."""
    return b"%x\r\n%b\r\n" % (len(data), data)


def head(path: str, content_type: str) -> bytes:
    """The request line and headers of a streamed response posted to ``path``."""
    return (
        f"POST {path} HTTP/1.1\r\n"
        "Host: runtime\r\n"
        f"{RESPONSE_MODE}: streaming\r\n"
        "Transfer-Encoding: chunked\r\n"
        f"Content-Type: {content_type}\r\n"
        f"Trailer: {ERROR_TYPE}, {ERROR_BODY}\r\n"
        "\r\n"
    ).encode("latin-1")


def error_trailer(exc: BaseException) -> bytes:
    document = error_document(exc)
    body = base64.b64encode(json.dumps(document).encode()).decode("ascii")
    return f"0\r\n{ERROR_TYPE}: {document['errorType']}\r\n{ERROR_BODY}: {body}\r\n\r\n".encode()


class StreamWriter:
    """The streamed response of one invocation, written to the Runtime API as it comes.

    Nothing is sent until the first :meth:`start`/:meth:`begin`, so an invocation that
    fails before it still reports through ``/error`` with its real status."""

    def __init__(self, client: RuntimeClient, path: str) -> None:
        self.client = client
        #: ``/2018-06-01/runtime/invocation/{id}/response``
        self.path = path
        self.started = False
        self.ended = False
        self.sent = 0
        self._pending = b""
        #: The first bytes went out on the small send buffer; the large one is not back yet.
        self._narrow = False

    def begin(self, content_type: str, first: bytes = b"") -> None:
        """Begin the request; it goes out with the first chunk of the body (or its end),
        so that the head, the prelude and that chunk cost one write and one wake-up."""
        self.started = True
        self._pending = head(self.path, content_type) + (chunk(first) if first else b"")

    def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        """The HTTP status and headers (a :class:`~faasport.core.streaming.ResponseSink`)."""
        self.begin(HTTP_INTEGRATION, prelude(status, headers))

    def write(self, data: bytes) -> None:
        if not data or self.ended:
            return
        if not self.started:
            self.begin(OCTET_STREAM)
        self.sent += len(data)
        pending = self._pending
        if pending:
            self._pending = b""
            # The head and the first chunk in one write, the chunk's data not copied.
            self.client.send_head(pending, b"%x\r\n" % len(data), data, b"\r\n")
            self._narrow = True
        else:
            self.client.send(b"%x\r\n" % len(data), data, b"\r\n")
            if self._narrow and self.sent > FIRST_BYTES:
                self._narrow = False
                self.client.widen()

    def end(self) -> None:
        """The last chunk; the Runtime API's answer is read with the next request."""
        if self.ended:
            return
        if not self.started:
            self.begin(OCTET_STREAM)
        self.ended = True
        self._send(b"0\r\n\r\n")

    def fail(self, exc: BaseException) -> None:
        """End the stream with the error trailers."""
        self.ended = True
        self._send(error_trailer(exc))

    def _send(self, data: bytes) -> None:
        pending = self._pending
        if pending:
            self._pending = b""
            self.client.send_head(pending + data)
        else:
            self.client.send(data)


def serve(handler: LambdaHandler, event: Any, context: Any, writer: StreamWriter) -> Any:
    """Run one invocation of a streaming function: an HTTP event's response and a plain
    handler's generator go to ``writer`` (and :data:`STREAMED` is returned); any other
    result is returned to be posted as a buffered response."""
    from faasport.aws.handler import infer_codec
    from faasport.core.health import is_health_check

    request_id = getattr(context, "aws_request_id", None)
    codec = infer_codec(event, handler.codecs)
    if codec is None:
        return _items_or_result(handler(event, context), writer)
    runner, options = handler.runner, handler.options
    request = invocation.http_request(request_id, codec.decode, event, context, options)
    if isinstance(request, HttpResponse):
        writer.start(request.status, request.headers)
        writer.write(request.body)
        writer.end()
        return STREAMED
    if runner.kind is None and not is_health_check(request, options.health_path):
        # A health check never imports the app; a failed import is answered 500 below.
        try:  # noqa: SIM105 (contextlib costs import time in every cold start)
            runner.load()
        except Exception:
            pass
    if runner.kind == "handler":
        return _items_or_result(runner.call_handler(event, context), writer)
    runner.stream(request, writer, request_id)
    writer.end()
    return STREAMED


def _items_or_result(result: Any, writer: StreamWriter) -> Any:
    if _is_stream(result):
        _write_items(result, writer)
        return STREAMED
    return result


def _is_stream(result: Any) -> bool:
    return hasattr(result, "__next__") and not isinstance(result, str | bytes | dict | list)


def _write_items(items: Iterator[Any], writer: StreamWriter) -> None:
    """A plain handler's generator: a first ``dict`` item is the HTTP status and headers
    (``{"statusCode": 200, "headers": {...}}``), then each item is a chunk of the body."""
    for item in items:
        if isinstance(item, dict) and not writer.started:
            headers = [
                (str(k).lower().encode("latin-1"), str(v).encode("latin-1"))
                for k, v in (item.get("headers") or {}).items()
            ]
            headers += [(b"set-cookie", str(c).encode("latin-1")) for c in item.get("cookies", ())]
            writer.start(int(item.get("statusCode", 200)), headers)
        elif isinstance(item, str):
            writer.write(item.encode())
        else:
            writer.write(bytes(item))
    writer.end()
