"""What the gateway example's tests share beyond fixtures: the upstream HTTP servers that
record what reached them, and the names the tokens carry."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

ISSUER = "https://issuer.test/"
AUDIENCE = "gateway"
SERVICES = ("users", "products", "orders")


class Recorder(BaseHTTPRequestHandler):
    """An upstream service: answers JSON describing the request it got, records it, and
    behaves as its path asks (``/slow``: 3 s late; ``/health``: 200, or 503 once told)."""

    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[dict[str, Any]]]
    service: ClassVar[str]
    healthy: ClassVar[list[bool]]

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path == "/health":
            status = 200 if self.healthy[0] else 503
            self._send(status, {"service": self.service})
            return
        record = {
            "service": self.service,
            "method": self.command,
            "target": self.path,
            "headers": {name.lower(): value for name, value in self.headers.items()},
            "body": body.decode(),
        }
        self.seen.append(record)
        if self.path.startswith("/slow"):
            time.sleep(3)
        self._send(201 if self.command == "POST" else 200, record)

    def _send(self, status: int, payload: object) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.send_header("x-upstream", self.service)
        self.send_header("connection", "keep-alive, x-hop")
        self.send_header("x-hop", "this connection only")
        self.end_headers()
        # The gateway gives up on /slow: that is the test.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


class Upstream:
    def __init__(self, service: str) -> None:
        self.seen: list[dict[str, Any]] = []
        self.healthy = [True]
        handler = type(
            f"Recorder_{service}",
            (Recorder,),
            {"seen": self.seen, "service": service, "healthy": self.healthy},
        )
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


Token = Callable[..., str]
