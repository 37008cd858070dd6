"""Real servers the tests start on a free local port: the functions-framework CLI, moto's
standalone server, and a recording server standing in for a cloud's JSON API."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

FUNCTIONS_FRAMEWORK = Path(sys.executable).parent / "functions-framework"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def functions_framework(
    source: Path,
    target: str,
    environment: Mapping[str, str] | None = None,
    options: Sequence[str] = (),
    path: Sequence[Path] = (),
) -> Iterator[str]:
    """The real functions-framework CLI serving ``target`` of ``source`` (with ``options``
    after its own), from the folder of ``source``, with ``environment`` added to this
    process's and ``path`` before that folder on its PYTHONPATH; its base URL once it
    answers."""
    port = free_port()
    env = {
        **os.environ,
        **(environment or {}),
        "PYTHONPATH": os.pathsep.join(map(str, [*path, source.parent])),
    }
    command = [str(FUNCTIONS_FRAMEWORK), "--source", str(source), "--target", target]
    command += ["--host", "127.0.0.1", "--port", str(port), *options]
    with _answering(command, env, source.parent, port) as url:
        yield url


@contextmanager
def gunicorn(directory: Path, target: str) -> Iterator[str]:
    """gunicorn (the WSGI server functions-framework runs on) serving ``target``
    (``module:app`` in ``directory``) on a free loopback port; its base URL once it answers."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "gunicorn"), "-b", f"127.0.0.1:{port}", target]
    with _answering(command, {**os.environ, "PYTHONPATH": str(directory)}, directory, port) as url:
        yield url


@contextmanager
def uvicorn(directory: Path, target: str) -> Iterator[str]:
    """uvicorn serving the ASGI app ``target`` (``module:app`` in ``directory``) on a free
    loopback port; its base URL once it answers."""
    port = free_port()
    command = [str(Path(sys.executable).parent / "uvicorn"), "--port", str(port), target]
    with _answering(command, {**os.environ, "PYTHONPATH": str(directory)}, directory, port) as url:
        yield url


@contextmanager
def _answering(command: list[str], env: dict[str, str], cwd: Path, port: int) -> Iterator[str]:
    """``command`` started, serving HTTP on loopback ``port``: its base URL once it answers
    (its stderr in the failure when it stops first); terminated afterwards."""
    server = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url, timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline, f"{Path(command[0]).name} did not start"
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.communicate(timeout=10)


@contextmanager
def moto_server() -> Iterator[str]:
    """moto's standalone server (``python -m moto.server``) on a free loopback port; its URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(url + "/moto-api/", timeout=1)
                break
            except httpx.HTTPError:
                assert process.poll() is None, "moto's server exited"
                assert time.monotonic() < deadline, "moto's server did not start"
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


@dataclass
class Recorder:
    """What a recording server got (path, headers, JSON body of each POST), and what it
    answers: ``answers`` in order, the last one repeated."""

    answers: list[tuple[int, Any]] = field(default_factory=list)
    seen: list[tuple[str, dict[str, str], Any]] = field(default_factory=list)
    url: str = ""

    def answer(self, path: str, headers: dict[str, str], body: Any) -> tuple[int, Any]:
        self.seen.append((path, headers, body))
        return self.answers[min(len(self.seen), len(self.answers)) - 1]


@contextmanager
def recording_server() -> Iterator[Recorder]:
    """A loopback HTTP server standing in for a cloud's JSON API: it records each POST and
    answers with the :class:`Recorder`'s canned answers (JSON, or bytes as they are)."""
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
    try:
        yield recording
    finally:
        server.shutdown()
        server.server_close()
