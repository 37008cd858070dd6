"""The AWS-compatible endpoint of ``faasport dev``: the function's own boto3 calls (and the
``faasport queue`` commands) reach the local event sources through it.

One port serves every service; a request names its service by the credential scope of its
SigV4 ``Authorization`` header (``.../us-east-1/sqs/aws4_request``) or, for JSON protocols,
by its ``X-Amz-Target``. An operation that is not emulated is answered with the service's
own error shape, naming the operation. ``/_faasport/...`` holds what the CLI needs beyond
SQS's API (a dead-letter queue's contents, redrive).
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import socket
import sys
import threading
import time
from collections.abc import Callable
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote

from faasport.local import local_only
from faasport.local.aws_services import control, dynamodb, query, s3, sns
from faasport.local.aws_services.sqs import OPERATIONS
from faasport.local.connections import Limits
from faasport.local.sources.buckets import Buckets
from faasport.local.sources.bus import Bus
from faasport.local.sources.queues import QueueError, Queues, random_id
from faasport.local.sources.schedules import Scheduler
from faasport.local.sources.streams import SHARD, Streams
from faasport.local.sources.tables import Tables
from faasport.local.sources.topics import Topics

#: A thread serves each connection, so the cap is lower than the asyncio servers' (whose
#: default is half the process's file descriptors). A body is held in memory whole: past
#: ``max_body`` (above DynamoDB's 16 MB BatchWriteItem, the largest of the JSON and query
#: APIs) it is refused unread.
LIMITS = Limits(max_connections=256, max_body=32 * 1024 * 1024)
#: An S3 PutObject's body at most: S3 takes 5 GB in one PUT, but this endpoint holds it in
#: memory.
MAX_OBJECT = 1024 * 1024 * 1024
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/[^/]+/([a-z0-9-]+)/aws4_request")
#: SQS error codes (the query protocol's) -> the JSON protocol's ``__type`` names, where
#: they differ by more than the ``AWS.SimpleQueueService.`` prefix.
_JSON_TYPES = {"AWS.SimpleQueueService.NonExistentQueue": "QueueDoesNotExist"}


class Services:
    """What the endpoint serves; inert until :meth:`start`."""

    def __init__(
        self,
        queues: Queues,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        topics: Topics | None = None,
        bus: Bus | None = None,
        buckets: Buckets | None = None,
        streams: Streams | None = None,
        tables: Tables | None = None,
        limits: Limits = LIMITS,
    ) -> None:
        self.queues = queues
        self.limits = limits
        self.streams = streams
        self.tables = tables
        self.buckets = buckets
        self.topics = topics
        self.bus = bus
        #: Set once functions can be invoked: ``faasport schedule run`` fires through it.
        self.scheduler: Scheduler | None = None
        #: The WebSocket APIs' ``@connections`` API: (method, connection id, body) ->
        #: (status, body); set by ``faasport dev`` once the gateway serves them.
        self.connections: Callable[[str, str, bytes], tuple[int, bytes]] | None = None
        self.host = host
        self.port = port
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://{self.host}:{self._server.server_address[1]}"

    def start(self) -> str:
        services = self

        class Handler(_Handler):
            owner = services

        server = _Server((self.host, self.port), Handler, self.limits)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, name="faasport-aws-services", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _Server(ThreadingHTTPServer):
    """A thread per connection, within ``limits``: connections over the cap are answered 503,
    an idle keep-alive connection is closed after ``keep_alive_timeout`` (its socket's
    timeout), and one whose request has not arrived whole ``read_timeout`` after its first
    byte is shut down by the serving thread's :meth:`service_actions`."""

    daemon_threads = True
    block_on_close = False  # stop() ends the connections instead of waiting for them
    request_queue_size = 128  # the listen backlog (socketserver's 5 stalls a burst of clients)

    def __init__(self, address: tuple[str, int], handler: type[_Handler], limits: Limits) -> None:
        self.limits = limits
        #: Each open connection -> when its request is due whole (inf between requests).
        self.due: dict[socket.socket, float] = {}
        super().__init__(address, handler)  # a failed bind calls server_close

    def verify_request(self, request: Any, client_address: Any) -> bool:
        if len(self.due) >= self.limits.max_connections:
            with contextlib.suppress(OSError):
                request.sendall(_BUSY)
            return False
        self.due[request] = math.inf
        return True

    def shutdown_request(self, request: Any) -> None:
        self.due.pop(request, None)
        super().shutdown_request(request)

    def service_actions(self) -> None:
        # serve_forever calls it after each accept and at least twice a second.
        now = time.monotonic()
        for connection, due in list(self.due.items()):
            if due < now:
                self.due[connection] = math.inf
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)  # its thread reads the end

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that resets or drops its connection is not an error of the server's.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def server_close(self) -> None:
        super().server_close()
        for connection in list(self.due):
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


_BUSY_BODY = json.dumps(
    {"__type": "ServiceUnavailable", "message": "too many connections to faasport dev"}
).encode()
_BUSY = (
    b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
    b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(_BUSY_BODY), _BUSY_BODY)
)

#: The Date header of the current second: formatting it cost a tenth of a request.
_date: tuple[int, str] = (0, "")

#: At most this many header lines, each at most this long (as the standard library's own).
_MAX_HEADERS = 100
_MAX_LINE = 65536


class _Handler(BaseHTTPRequestHandler):
    owner: Services
    server: _Server
    raw_requestline: bytes  # set by handle_one_request
    #: The request's headers by lower-case name, and its Content-Length (set by parse_request).
    fields: dict[str, str]
    length: int
    protocol_version = "HTTP/1.1"
    # Buffered: a response's head and body leave in one write, flushed once the request is
    # answered (handle_one_request flushes).
    wbufsize = 65536

    def setup(self) -> None:
        super().setup()
        # A response that outgrows the buffer leaves in several writes: without this the
        # client's delayed ACK holds every keep-alive response back ~40 ms.
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.connection.settimeout(self.server.limits.keep_alive_timeout)

    def handle_one_request(self) -> None:
        try:
            started = self.rfile.peek(1)  # type: ignore[attr-defined]  # a BufferedReader
        except TimeoutError:  # idle for the keep-alive timeout
            started = b""
        if not started:
            self.close_connection = True
            return
        self.server.due[self.connection] = time.monotonic() + self.server.limits.read_timeout
        super().handle_one_request()

    def parse_request(self) -> bool:
        """The request line and headers, without the email parser the standard library
        uses for headers: it cost a third of the endpoint's time per request."""
        if not self.raw_requestline.endswith(b"\n"):  # the client went away, or was too slow
            self.close_connection = True
            return False
        line = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n")
        self.requestline = line
        words = line.split()
        if len(words) != 3 or words[2] not in ("HTTP/1.1", "HTTP/1.0"):
            self.request_version = "HTTP/1.1"
            self.close_connection = True
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad request line {line!r}")
            return False
        self.command, self.path, self.request_version = words
        self.close_connection = self.request_version == "HTTP/1.0"
        if self.path.startswith("//"):
            self.path = "/" + self.path.lstrip("/")  # never an absolute URI without scheme
        # By lower-case name, the first of repeated ones (as email.message's get).
        headers: dict[str, str] = {}
        for _ in range(_MAX_HEADERS + 1):
            raw = self.rfile.readline(_MAX_LINE + 1)
            if raw in (b"\r\n", b"\n"):
                break
            name, sep, value = raw.decode("iso-8859-1").partition(":")
            if len(raw) <= _MAX_LINE and not raw.endswith(b"\n"):  # gone, or too slow
                self.close_connection = True
                return False
            if len(raw) > _MAX_LINE or not sep or not name.strip():
                self.close_connection = True
                self.send_error(HTTPStatus.BAD_REQUEST, "Bad header line")
                return False
            headers.setdefault(name.strip().lower(), value.strip())
        else:
            self.close_connection = True
            self.send_error(HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Too many headers")
            return False
        self.fields = headers
        length = headers.get("content-length", "0")
        if not (length.isascii() and length.isdigit()):
            self.close_connection = True
            self.send_error(HTTPStatus.BAD_REQUEST, f"Bad Content-Length {length!r}")
            return False
        self.length = int(length)
        connection = headers.get("connection", "").lower()
        if connection == "close":
            self.close_connection = True
        elif connection == "keep-alive":
            self.close_connection = False
        expect = headers.get("expect", "").lower()
        if expect == "100-continue" and self.request_version == "HTTP/1.1":
            return self.handle_expect_100()
        return True

    def handle_expect_100(self) -> bool:
        if self.length > self._max_body():
            return True  # no 100 Continue: the final answer refuses the body
        super().handle_expect_100()
        self.wfile.flush()  # the client waits for it before it sends the body
        return True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass

    def date_time_string(self, timestamp: float | None = None) -> str:
        global _date
        if timestamp is not None:
            return formatdate(timestamp, usegmt=True)
        now = int(time.time())
        if _date[0] != now:
            _date = (now, formatdate(now, usegmt=True))
        return _date[1]

    def _answer(self, status: int, body: bytes, content_type: str, **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", self.request_id)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def _service(self) -> str:
        target = self.fields.get("x-amz-target", "")
        if target.startswith("AmazonSQS."):
            return "sqs"
        found = _SCOPE.search(self.fields.get("authorization", ""))
        return found.group(1) if found else ""

    def do_GET(self) -> None:
        if self.length > self._max_body():
            self._too_large()
            return
        body = self.rfile.read(self.length) if self.length else b""
        if len(body) < self.length:  # the client went away, or was too slow
            self.close_connection = True
            return
        self.server.due[self.connection] = math.inf
        self.request_id = random_id()
        try:
            self._dispatch(body)
        except Exception as exc:  # a bug here must still answer, without its details
            sys.stderr.write(
                f"faasport dev: AWS services: {self.command} {self.path}: "
                f"{type(exc).__name__}: {exc}\n"
            )
            error = json.dumps({"__type": "InternalFailure", "message": "internal error"})
            self._answer(500, error.encode(), "application/json")

    def _max_body(self) -> int:
        is_s3 = self._service() == "s3" and self.owner.buckets is not None
        return MAX_OBJECT if is_s3 else self.owner.limits.max_body

    def _too_large(self) -> None:
        """Refuses a body over the limit unread, closing the connection after the answer."""
        self.close_connection = True
        self.request_id = random_id()
        limit = self._max_body()
        message = f"the request body of {self.length} bytes exceeds faasport dev's {limit}"
        if limit == MAX_OBJECT:
            answer = s3.error("EntityTooLarge", message, self.request_id, self.path)
            self._answer(400, answer.body, "application/xml", Connection="close")
            return
        error = json.dumps({"__type": "RequestEntityTooLarge", "message": message})
        self._answer(413, error.encode(), "application/json", Connection="close")

    def _dispatch(self, body: bytes) -> None:
        fields = self.fields
        refused = local_only.refusal(fields.get("host"), fields.get("origin"), self.owner.host)
        if refused is not None:
            error = json.dumps({"__type": "AccessDeniedException", "message": refused})
            self._answer(403, error.encode(), "application/json")
            return
        if self.path.startswith("/_faasport/"):
            self._control(self.command, body)
            return
        if self.path.startswith("/@connections/") and self.owner.connections is not None:
            connection = unquote(self.path.partition("?")[0][len("/@connections/") :])
            status, answer = self.owner.connections(self.command, connection, body)
            kind = {410: "GoneException", 413: "PayloadTooLargeException"}.get(status)
            extra = {"x_amzn_ErrorType": kind} if kind else {}
            self._answer(status, answer, "application/json", **extra)
            return
        service = self._service()
        if service == "s3" and self.owner.buckets is not None:
            self._s3(body, self.owner.buckets)
        elif self.command == "POST":
            self._post(service, body)
        else:
            self._unsupported(service, f"{self.command} {self.path.partition('?')[0]}")

    do_POST = do_PUT = do_DELETE = do_HEAD = do_GET

    def _post(self, service: str, body: bytes) -> None:
        target = self.fields.get("x-amz-target", "")
        if service == "sqs" and target:
            self._sqs_json(target.partition(".")[2], body)
        elif target.startswith("Kinesis_20131202.") and self.owner.streams is not None:
            self._kinesis_json(target.partition(".")[2], body, self.owner.streams)
        elif target.startswith("DynamoDB_20120810.") and self.owner.tables is not None:
            status, answer = dynamodb.call(self.owner.tables, target.partition(".")[2], body)
            self._answer(status, json.dumps(answer).encode(), "application/x-amz-json-1.0")
        elif target.startswith("AWSEvents.") and self.owner.bus is not None:
            self._events_json(target.partition(".")[2], body, self.owner.bus)
        elif service == "sns" and self.owner.topics is not None:
            form = self._form(body, sns.NAMESPACE)
            if form is not None:
                self._sns_query(form, self.owner.topics)
        elif service == "sqs" or (not service and b"Action=" in body):
            form = self._form(body, query.NAMESPACE)
            if form is not None:
                self._sqs_query(form)
        else:
            action = dict(parse_qsl(body.decode("utf-8", "replace"))).get("Action", "")
            self._unsupported(service, target.partition(".")[2] or action or "POST")

    def _form(self, body: bytes, namespace: str) -> dict[str, str] | None:
        """A query-protocol request's form; None once a body that is not one is answered."""
        try:
            return dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
        except UnicodeDecodeError as exc:
            message = f"the request body is not UTF-8 form data: {exc}"
            error = query.error("MalformedQueryString", message, self.request_id, namespace)
            self._answer(400, error, "text/xml")
            return None

    def _s3(self, body: bytes, buckets: Buckets) -> None:
        answer = s3.handle(buckets, self.command, self.path, body, self.request_id, self.fields)
        self.send_response(answer.status)
        headers = {"Content-Length": str(len(answer.body)), **answer.headers}
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("x-amz-request-id", self.request_id)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer.body)

    # -- SQS -----------------------------------------------------------------------------

    def _sqs_json(self, operation: str, body: bytes) -> None:
        handler = OPERATIONS.get(operation)
        try:
            if handler is None:
                raise QueueError(
                    "AWS.SimpleQueueService.UnsupportedOperation",
                    f"faasport dev does not emulate the SQS operation {operation}",
                )
            request = json.loads(body or b"{}")
            if not isinstance(request, dict):
                raise QueueError("InvalidParameterValue", "the request body must be an object")
            result = handler(self.owner.queues, request, self.owner.url)
        except QueueError as exc:
            shape = _JSON_TYPES.get(exc.code, exc.code.removeprefix("AWS.SimpleQueueService."))
            error = {"__type": f"com.amazonaws.sqs#{shape}", "message": str(exc)}
            self._answer(
                400,
                json.dumps(error).encode(),
                "application/x-amz-json-1.0",
                x_amzn_query_error=f"{exc.code};Sender",
            )
            return
        except (ValueError, TypeError, KeyError) as exc:
            error = {"__type": "com.amazonaws.sqs#InvalidParameterValue", "message": str(exc)}
            self._answer(400, json.dumps(error).encode(), "application/x-amz-json-1.0")
            return
        self._answer(200, json.dumps(result).encode(), "application/x-amz-json-1.0")

    def _sqs_query(self, form: dict[str, str]) -> None:
        action = form.get("Action", "")
        handler = OPERATIONS.get(action)
        try:
            if handler is None:
                raise QueueError(
                    "AWS.SimpleQueueService.UnsupportedOperation",
                    f"faasport dev does not emulate the SQS operation {action or '(none)'}",
                )
            result = handler(self.owner.queues, query.parse(form), self.owner.url)
        except QueueError as exc:
            self._answer(400, query.error(exc.code, str(exc), self.request_id), "text/xml")
            return
        except (ValueError, TypeError, KeyError) as exc:
            body = query.error("InvalidParameterValue", str(exc), self.request_id)
            self._answer(400, body, "text/xml")
            return
        self._answer(200, query.response(action, result, self.request_id), "text/xml")

    # -- SNS and EventBridge ---------------------------------------------------------------

    def _sns_query(self, form: dict[str, str], topics: Topics) -> None:
        action = form.get("Action", "")
        try:
            result = sns.call(topics, action, form)
        except QueueError as exc:
            body = query.error(exc.code, str(exc), self.request_id, namespace=sns.NAMESPACE)
            self._answer(404 if exc.code == "NotFound" else 400, body, "text/xml")
            return
        except (ValueError, TypeError, KeyError) as exc:
            body = query.error("InvalidParameter", str(exc), self.request_id, sns.NAMESPACE)
            self._answer(400, body, "text/xml")
            return
        self._answer(200, sns.response(action, result, self.request_id), "text/xml")

    def _kinesis_json(self, operation: str, body: bytes, streams: Streams) -> None:
        import base64

        def name(request: dict[str, Any]) -> str:
            given = (
                request.get("StreamName") or str(request.get("StreamARN", "")).rpartition("/")[2]
            )
            return streams.known(str(given))

        try:
            request = json.loads(body or b"{}")
            if operation == "PutRecord":
                data = base64.b64decode(request["Data"], validate=True)
                [number] = streams.put(name(request), [(request.get("PartitionKey", ""), data)])
                result: dict[str, Any] = {"ShardId": SHARD, "SequenceNumber": number}
            elif operation == "PutRecords":
                items = request["Records"]
                if not isinstance(items, list) or not 1 <= len(items) <= 500:
                    raise ValueError("Records must hold 1 to 500 records")
                records = [
                    (item.get("PartitionKey", ""), base64.b64decode(item["Data"], validate=True))
                    for item in items
                ]
                numbers = streams.put(name(request), records)
                result = {
                    "FailedRecordCount": 0,
                    "Records": [{"SequenceNumber": n, "ShardId": SHARD} for n in numbers],
                }
            elif operation == "ListStreams":
                result = {"StreamNames": sorted(streams.names), "HasMoreStreams": False}
            else:
                raise QueueError(
                    "UnknownOperationException",
                    f"faasport dev does not emulate the Kinesis operation {operation}",
                )
        except QueueError as exc:
            error = {"__type": exc.code, "message": str(exc)}
            self._answer(400, json.dumps(error).encode(), "application/x-amz-json-1.1")
            return
        except (ValueError, KeyError, TypeError) as exc:
            error = {"__type": "ValidationException", "message": str(exc)}
            self._answer(400, json.dumps(error).encode(), "application/x-amz-json-1.1")
            return
        self._answer(200, json.dumps(result).encode(), "application/x-amz-json-1.1")

    def _events_json(self, operation: str, body: bytes, bus: Bus) -> None:
        if operation != "PutEvents":
            message = f"faasport dev does not emulate the EventBridge operation {operation}"
            error = {"__type": "UnknownOperationException", "message": message}
            self._answer(400, json.dumps(error).encode(), "application/x-amz-json-1.1")
            return
        try:
            request = json.loads(body or b"{}")
            entries = request["Entries"]
            if not isinstance(entries, list) or not 1 <= len(entries) <= 10:
                raise ValueError("Entries must hold 1 to 10 entries")
            results = [bus.put(entry) for entry in entries]
        except (ValueError, KeyError, TypeError) as exc:
            error = {"__type": "ValidationException", "message": str(exc)}
            self._answer(400, json.dumps(error).encode(), "application/x-amz-json-1.1")
            return
        failed = sum("ErrorCode" in result for result in results)
        answer = {"FailedEntryCount": failed, "Entries": results}
        self._answer(200, json.dumps(answer).encode(), "application/x-amz-json-1.1")

    # -- everything else -----------------------------------------------------------------

    def _unsupported(self, service: str, operation: str) -> None:
        message = f"faasport dev does not emulate the {service or 'unknown'} operation {operation}"
        if service in ("kinesis", "events", "dynamodb"):
            error = {"__type": "UnknownOperationException", "message": message}
            self._answer(400, json.dumps(error).encode(), "application/x-amz-json-1.1")
        elif service == "s3":
            body = (
                '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NotImplemented</Code>'
                f"<Message>{message}</Message><RequestId>{self.request_id}</RequestId></Error>"
            ).encode()
            self._answer(501, body, "application/xml")
        else:
            self._answer(400, query.error("InvalidAction", message, self.request_id), "text/xml")

    def _control(self, method: str, body: bytes = b"") -> None:
        status, result = control.handle(self.owner, method, self.path, body)
        self._answer(status, json.dumps(result).encode(), "application/json")
