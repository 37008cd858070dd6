"""``[proxy]`` routes through a real ``faasport dev``, in front of a real upstream HTTP server
started here: forwarded as API Gateway's HTTP proxy integration does, with its 502 and 504."""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest

from dev_process import Dev, wait_for
from rawhttp import write_project
from servers import free_port

CONFIG = """
name = "proxied"

[functions.api]
handler = "{module}:handle"
routes = ["ANY /{{proxy+}}"]

[proxy]
"ANY /users/{{proxy+}}" = "http://127.0.0.1:{port}/v1/{{proxy}}"
"GET /orders/{{id}}" = "http://127.0.0.1:{port}/v1/orders/{{id}}?source=gateway"
"GET /slow" = {{ url = "http://127.0.0.1:{port}/slow", timeout = 1 }}
"GET /big" = "http://127.0.0.1:{port}/big"
"GET /down" = "http://127.0.0.1:{dead}/"
"""


class Upstream(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    seen: ClassVar[list[dict[str, Any]]] = []
    # Set once /slow has slept and answers: a 504 before it is the gateway's own timeout.
    slow_answered: ClassVar[threading.Event] = threading.Event()

    def _answer(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        body = self.rfile.read(length) if length else b""
        headers: dict[str, str] = {}
        for name, value in self.headers.items():
            headers[name.lower()] = value
        record = {"method": self.command, "target": self.path, "headers": headers}
        record["body"] = body.decode()
        self.seen.append(record)
        if self.path == "/slow":
            time.sleep(3)
            self.slow_answered.set()
        payload = b"x" * (11 * 1024 * 1024) if self.path == "/big" else json.dumps(record).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(payload)))
        self.send_header("x-upstream", "yes")
        self.send_header("connection", "keep-alive, x-hop")
        self.send_header("x-hop", "for this connection only")
        self.end_headers()
        if self.command != "HEAD":
            # The gateway hangs up on an answer over its limit: that is the point of one test.
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def upstream() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory, upstream: ThreadingHTTPServer) -> Iterator[Dev]:
    root: Path = tmp_path_factory.mktemp("proxy")
    port = upstream.server_address[1]
    config = CONFIG.replace("{port}", str(port)).replace("{dead}", str(free_port()))
    write_project(root, config)
    server = Dev(root, "--no-reload")
    try:
        yield server
    finally:
        server.close()


def last() -> dict[str, Any]:
    return Upstream.seen[-1]


def test_routes_are_listed_with_their_upstream(dev: Dev, upstream: ThreadingHTTPServer) -> None:
    port = upstream.server_address[1]
    expected = f"/users/{{proxy+}}  ->  proxy http://127.0.0.1:{port}/v1/{{proxy}}"
    assert any(line.endswith(expected) for line in dev.lines)


def test_path_and_query_are_forwarded(dev: Dev, upstream: ThreadingHTTPServer) -> None:
    answer = httpx.get(f"{dev.url}/users/ada/posts", params={"page": "2", "tag": "a b"})
    assert answer.status_code == 200
    seen = answer.json()
    assert seen["method"] == "GET"
    assert seen["target"] == "/v1/ada/posts?page=2&tag=a+b"
    assert seen["headers"]["host"] == f"127.0.0.1:{upstream.server_address[1]}"
    assert answer.headers["x-upstream"] == "yes"
    assert answer.headers["apigw-requestid"]


def test_a_query_in_the_upstream_url_is_kept(dev: Dev) -> None:
    answer = httpx.get(f"{dev.url}/orders/7", params={"full": "1"})
    assert answer.json()["target"] == "/v1/orders/7?source=gateway&full=1"


def test_path_parameters_are_encoded_again(dev: Dev) -> None:
    answer = httpx.get(f"{dev.url}/users/a%20b/%C3%A9")
    assert answer.json()["target"] == "/v1/a%20b/%C3%A9"


def test_body_and_method_are_forwarded(dev: Dev) -> None:
    answer = httpx.post(f"{dev.url}/users/ada", content=b'{"name": "Ada"}')
    assert answer.status_code == 201
    seen = answer.json()
    assert (seen["method"], seen["body"]) == ("POST", '{"name": "Ada"}')
    assert seen["headers"]["content-length"] == "15"
    head = httpx.head(f"{dev.url}/users/ada")
    assert (head.status_code, head.content) == (200, b"")


def test_trace_and_forwarding_headers_are_added(dev: Dev) -> None:
    seen = httpx.get(f"{dev.url}/users/ada").json()["headers"]
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", seen["x-amzn-trace-id"])
    assert seen["x-forwarded-for"] == "127.0.0.1"
    assert seen["x-forwarded-proto"] == "http"
    trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=1"
    kept = httpx.get(f"{dev.url}/users/ada", headers={"x-amzn-trace-id": trace}).json()
    assert kept["headers"]["x-amzn-trace-id"] == trace


def test_hop_by_hop_headers_are_dropped_both_ways(dev: Dev) -> None:
    answer = httpx.get(
        f"{dev.url}/users/ada",
        headers={"connection": "keep-alive, x-private", "x-private": "1", "te": "trailers"},
    )
    seen = answer.json()["headers"]
    assert "x-private" not in seen and "te" not in seen
    assert seen.get("connection", "keep-alive") == "keep-alive"  # the proxy's own, if any
    assert "x-hop" not in answer.headers
    assert answer.headers["x-upstream"] == "yes"


def test_other_paths_still_reach_the_function(dev: Dev) -> None:
    before = len(Upstream.seen)
    for path in ("/users", "/orders/7/items", "/elsewhere"):
        answer = httpx.get(f"{dev.url}{path}")
        assert answer.json()["version"] == "2.0", path
    assert len(Upstream.seen) == before


def test_a_slow_upstream_is_504_and_holds_no_other_request(dev: Dev) -> None:
    result: dict[str, Any] = {}
    Upstream.slow_answered.clear()
    before = len(Upstream.seen)

    def slow() -> None:
        started = time.monotonic()
        result["answer"] = httpx.get(f"{dev.url}/slow", timeout=10)
        result["took"] = time.monotonic() - started
        result["upstream answered"] = Upstream.slow_answered.is_set()

    thread = threading.Thread(target=slow)
    thread.start()
    wait_for(lambda: any(r["target"] == "/slow" for r in Upstream.seen[before:]), 10, "/slow")
    assert httpx.get(f"{dev.url}/users/ada").status_code == 200
    # Answered while the gateway still held /slow (for its 1 s timeout), not after it.
    assert "answer" not in result
    thread.join(10)
    answer = result["answer"]
    assert answer.status_code == 504
    assert answer.json() == {"message": "Endpoint request timed out"}
    # The gateway's timeout (1 s) cut it, before the upstream's answer (after 3 s) was ready.
    assert result["took"] > 0.9 and not result["upstream answered"]
    # Its line is read from dev's stderr on another thread, a little after the answer.
    wait_for(lambda: any("GET /slow: 504" in line for line in dev.lines), 10, "the 504 line")


def test_an_unreachable_upstream_is_502(dev: Dev) -> None:
    answer = httpx.get(f"{dev.url}/down")
    assert answer.status_code == 502
    assert answer.json() == {"message": "Internal Server Error"}
    assert "apigw-requestid" in answer.headers
    wait_for(
        lambda: any("GET /down: 502" in line and "cannot be reached" in line for line in dev.lines),
        10,
        "the 502 line",
    )


def test_an_answer_over_the_payload_limit_is_502(dev: Dev) -> None:
    answer = httpx.get(f"{dev.url}/big")
    assert answer.status_code == 502
    assert answer.json() == {"message": "Internal Server Error"}
    # The gateway is still serving.
    assert httpx.get(f"{dev.url}/users/ada").status_code == 200


REST_CONFIG = """
name = "proxied-rest"

[api]
type = "rest"

[functions.api]
handler = "{module}:handle"
routes = ["GET /items"]

[proxy]
"ANY /users/{{proxy+}}" = "http://127.0.0.1:{port}/v1/{{proxy}}"
"""


def test_a_rest_api_proxies_under_its_stage(tmp_path: Path, upstream: ThreadingHTTPServer) -> None:
    write_project(tmp_path, REST_CONFIG.replace("{port}", str(upstream.server_address[1])))
    server = Dev(tmp_path, "--no-reload")
    try:
        answer = httpx.get(f"{server.url}/users/ada", params={"x": "1"})
        assert answer.status_code == 200
        assert answer.json()["target"] == "/v1/ada?x=1"
        assert "x-amzn-requestid" in answer.headers and "apigw-requestid" not in answer.headers
        unrouted = httpx.get(f"{server.url}/users")
        assert (unrouted.status_code, unrouted.json()) == (
            403,
            {"message": "Missing Authentication Token"},
        )
        assert httpx.get(f"{server.url}/items").json()["version"] == "1.0"
    finally:
        server.close()
