"""Real servers the tests start on a free local port: the functions-framework CLI."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import httpx

FUNCTIONS_FRAMEWORK = Path(sys.executable).parent / "functions-framework"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def functions_framework(
    source: Path, target: str, environment: Mapping[str, str] | None = None
) -> Iterator[str]:
    """The real functions-framework CLI serving ``target`` of ``source``, with ``environment``
    added to this process's; its base URL once it answers."""
    port = free_port()
    env = {**os.environ, **(environment or {}), "PYTHONPATH": str(source.parent)}
    command = [str(FUNCTIONS_FRAMEWORK), "--source", str(source), "--target", target]
    server = subprocess.Popen(
        [*command, "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
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
                assert time.monotonic() < deadline, "functions-framework did not start"
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
