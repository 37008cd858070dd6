"""Stand-ins for the clouds' log services: moto's standalone server for CloudWatch Logs, and
for Cloud Logging and Azure Monitor small HTTP servers that record each request and answer
in the shape of the real REST APIs (canned answers set by each test)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from servers import moto_server


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def aws_env(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """boto3 of this process (and of the CLI run in it) pointed at moto."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    return moto_url


@dataclass
class Recorder:
    """An HTTP server answering POSTs from ``answers`` in order (the last one repeats)."""

    answers: list[tuple[int, Any]] = field(default_factory=list)
    seen: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    url: str = ""

    def answer(self, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        self.seen.append((path, headers, body))
        index = min(len(self.seen), len(self.answers)) - 1
        return self.answers[index]


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    recording = Recorder()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length) or b"null")
            status, answer = recording.answer(self.path, dict(self.headers.items()), body)
            data = answer if isinstance(answer, bytes) else json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    recording.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield recording
    server.shutdown()
    server.server_close()
