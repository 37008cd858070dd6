"""A recording server shaped like API Gateway's @connections management API: it checks each
request's SigV4 signature with botocore (an implementation independent of faasport's),
records method, path and body, and answers as the API does (204/200, 410 GoneException,
403, 429 LimitExceededException)."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ACCESS_KEY = "AKIDTEST"
SECRET_KEY = "secret/test"
_AUTH = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<day>\d{8})/(?P<region>[^/]+)/"
    r"(?P<service>[^/]+)/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), "
    r"Signature=(?P<signature>[0-9a-f]{64})"
)


@dataclass
class Recorded:
    method: str
    path: str
    body: bytes
    headers: dict[str, str]
    region: str
    service: str
    signature_ok: bool


@dataclass
class ManagementApi:
    url: str = ""
    calls: list[Recorded] = field(default_factory=list)
    #: Connection id -> the status to answer for it (default 200 for GET, 204 else).
    replies: dict[str, int] = field(default_factory=dict)
    #: Connection ids that are connected; others are 410 Gone.
    connected: set[str] = field(default_factory=set)


def botocore_signature(
    method: str,
    url: str,
    headers: dict[str, str],
    body: bytes,
    *,
    key: tuple[str, str, str | None],
    region: str,
    service: str,
    amz_date: str,
) -> str:
    """botocore's SigV4 signature of a request over ``headers`` (the signed ones, without
    ``x-amz-date`` and the token, which botocore adds) at ``amz_date``."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    request.context["timestamp"] = amz_date
    auth = SigV4Auth(Credentials(*key), service, region)
    auth._modify_request_before_signing(request)
    canonical = auth.canonical_request(request)
    return str(auth.signature(auth.string_to_sign(request, canonical), request))


def _expected_signature(
    method: str, url: str, headers: dict[str, str], body: bytes, region: str, service: str
) -> str:
    match = _AUTH.match(headers["authorization"])
    assert match is not None
    names = set(match["signed"].split(";")) - {"x-amz-date", "x-amz-security-token"}
    return botocore_signature(
        method,
        url,
        {k: headers[k] for k in names if k in headers},
        body,
        key=(ACCESS_KEY, SECRET_KEY, headers.get("x-amz-security-token")),
        region=region,
        service=service,
        amz_date=headers["x-amz-date"],
    )


@contextmanager
def management_api(stage: str = "/prod") -> Iterator[ManagementApi]:
    state = ManagementApi()
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            match = _AUTH.match(headers.get("authorization", ""))
            ok = False
            region = service = ""
            if match is not None and match["key"] == ACCESS_KEY:
                region, service = match["region"], match["service"]
                host = headers["host"]
                expected = _expected_signature(
                    self.command, f"http://{host}{self.path}", headers, body, region, service
                )
                ok = expected == match["signature"]
            with lock:
                state.calls.append(
                    Recorded(self.command, self.path, body, headers, region, service, ok)
                )
            prefix = f"{stage}/@connections/"
            if not ok:
                self._reply(403, {"message": "The request signature we calculated does not match"})
                return
            if not self.path.startswith(prefix):
                self._reply(404, {"message": "Not Found"})
                return
            from urllib.parse import unquote

            connection = unquote(self.path[len(prefix) :])
            status = state.replies.get(connection)
            if status is None and connection not in state.connected:
                status = 410
            if status == 410:
                self._reply(410, {"message": None}, "GoneException")
            elif status == 429:
                self._reply(429, {"message": "Rate exceeded"}, "LimitExceededException")
            elif status == 403:
                self._reply(403, {"message": "Forbidden"}, "ForbiddenException")
            elif self.command == "GET":
                self._reply(
                    200,
                    {
                        "connectedAt": "2024-02-09T18:11:43.000Z",
                        "identity": {"sourceIp": "203.0.113.7", "userAgent": "test"},
                        "lastActiveAt": "2024-02-09T18:12:00.000Z",
                    },
                )
            else:
                self._reply(204, None)

        def _reply(self, status: int, document: object, error: str | None = None) -> None:
            body = b"" if document is None else json.dumps(document).encode()
            self.send_response(status)
            if error:
                self.send_header("x-amzn-ErrorType", error)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_DELETE = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}{stage}"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
