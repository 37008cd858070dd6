"""Local HTTP servers that answer as an OpenAI-compatible chat completions API and as
Gemini's generateContent do, or fail as they do (500, 429, too slow, not JSON); each
records the requests it got."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: What a server does: answer, or fail in one of these ways.
BEHAVIOURS = ("answer", "500", "429", "slow", "not-json", "no-choices", "bad-findings")


@dataclass
class Seen:
    path: str
    headers: dict[str, str]  # names in lower case
    body: Any


@dataclass
class FakeApi:
    api: str  # "openai" or "gemini"
    behaviour: str = "answer"
    findings: list[dict[str, Any]] = field(default_factory=list)
    model: str = ""
    requests: list[Seen] = field(default_factory=list)
    url: str = ""

    def content(self) -> str:
        if self.behaviour == "bad-findings":
            bad = {"type": "x", "severity": "catastrophic", "line_number": 1, "description": "d"}
            return json.dumps({"findings": [bad]})
        return json.dumps({"findings": self.findings})

    def answer(self) -> tuple[int, dict[str, str], bytes]:
        if self.behaviour == "500":
            return 500, {}, json.dumps({"error": {"message": "internal", "code": 500}}).encode()
        if self.behaviour == "429":
            if self.api == "gemini":
                error = {"code": 429, "message": "quota", "status": "RESOURCE_EXHAUSTED"}
            else:
                error = {"message": "Rate limit reached", "type": "requests", "code": None}
            return 429, {"Retry-After": "20"}, json.dumps({"error": error}).encode()
        if self.behaviour == "not-json":
            return 200, {}, b"<html>upstream error</html>"
        if self.behaviour == "no-choices":
            return 200, {}, json.dumps({"id": "x", "object": "chat.completion"}).encode()
        if self.api == "openai":
            body = {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 1700000000,
                "model": self.model,
                "choices": [
                    {
                        "index": 0,
                        "message": {"role": "assistant", "content": self.content()},
                        "finish_reason": "stop",
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            }
        else:
            body = {
                "candidates": [
                    {
                        "content": {"parts": [{"text": self.content()}], "role": "model"},
                        "finishReason": "STOP",
                        "index": 0,
                    }
                ],
                "usageMetadata": {"promptTokenCount": 10, "totalTokenCount": 15},
                "modelVersion": self.model,
            }
        return 200, {}, json.dumps(body).encode()


@contextmanager
def serve(fake: FakeApi) -> Iterator[FakeApi]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            fake.requests.append(Seen(self.path, headers, json.loads(raw)))
            if fake.behaviour == "slow":
                time.sleep(1.5)
            status, headers, body = fake.answer()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting (the timeout case)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
