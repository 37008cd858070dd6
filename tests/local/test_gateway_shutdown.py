"""``faasport dev`` stopped with requests in flight (a real process, real sockets): it stops
accepting, lets the requests finish within the grace period, answers 503 to those left, and
logs no traceback."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx

from dev_process import Dev
from rawhttp import write_project

CONFIG = """
name = "drain"

[functions.slow]
handler = "{module}:slow"
concurrency = 3
timeout = 20
routes = ["GET /slow"]
"""


def test_sigterm_drains_requests_in_flight(tmp_path: Path) -> None:
    write_project(tmp_path, CONFIG)
    dev = Dev(tmp_path, "--no-reload", "--grace", "3")
    try:
        results: dict[str, object] = {}

        def call(name: str, seconds: float) -> None:
            try:
                response = httpx.get(f"{dev.url}/slow", params={"s": seconds}, timeout=30)
                results[name] = (response.status_code, response.text, time.monotonic())
            except httpx.HTTPError as exc:
                results[name] = exc

        threads = [
            threading.Thread(target=call, args=("quick", 0.5)),
            threading.Thread(target=call, args=("long", 10)),
        ]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while sum(line.startswith("START") for line in dev.lines) < 2:
            assert time.monotonic() < deadline, dev.lines
            time.sleep(0.02)
        signalled = time.monotonic()
        dev.process.send_signal(signal.SIGTERM)
        assert stops_accepting(dev.url, before=signalled + 2.5)
        for thread in threads:
            thread.join(timeout=30)
        assert dev.process.wait(timeout=30) == 0
        quick, long = results["quick"], results["long"]
        assert isinstance(quick, tuple) and quick[:2] == (200, "done")
        assert isinstance(long, tuple) and long[:2] == (
            503,
            '{"message":"Service Unavailable"}',
        )
        assert 2.9 < long[2] - signalled < 10
    finally:
        dev.close()
    assert not [
        line
        for line in dev.lines
        if "Traceback" in line or "handler is closed" in line or "Exception" in line
    ], dev.lines


def stops_accepting(url: str, before: float) -> bool:
    """Whether connecting to ``url``'s port is refused before the monotonic time ``before``
    (the signal reaches the server when a loaded machine lets it: a connection made before
    is answered, or reset if it was still in the listener's backlog)."""
    parts = urlsplit(url)
    while time.monotonic() < before:
        try:
            httpx.get(f"http://{parts.hostname}:{parts.port}/slow", params={"s": 0}, timeout=5)
        except httpx.ConnectError:
            return True
        except httpx.TransportError:
            pass
        time.sleep(0.02)
    return False
