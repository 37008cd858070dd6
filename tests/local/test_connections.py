"""Slow, idle and too many clients over real sockets: a read timeout, an idle keep-alive
timeout and a cap on open connections (503 over it), all passed in as limits."""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from faasport.config import load_project
from faasport.local.connections import Limits
from faasport.local.gateway import Gateway
from rawhttp import read_all, statuses, write_project

CONFIG = """
name = "limits"

[functions.echo]
handler = "{module}:handle"
routes = ["ANY /{{proxy+}}"]
"""

LIMITS = Limits(max_connections=20, read_timeout=0.6, keep_alive_timeout=0.4)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    root: Path = tmp_path_factory.mktemp("limits")
    write_project(root, CONFIG)
    gateway = Gateway(load_project(root), port=0, log=lambda line: None, limits=LIMITS)
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.close()


def connect(gateway: Gateway) -> socket.socket:
    host, port = gateway.server_address
    return socket.create_connection((str(host), port), timeout=10)


def test_a_slow_request_head_is_408_after_the_read_timeout(gateway: Gateway) -> None:
    with connect(gateway) as sock:
        start = time.monotonic()
        sock.sendall(b"GET /echo HTTP/1.1\r\nhost: x\r\n")  # and never the blank line
        answer = read_all(sock)
        elapsed = time.monotonic() - start
    assert statuses(answer) == [408]
    assert 0.5 < elapsed < 5


def test_a_slow_body_is_408_after_the_read_timeout(gateway: Gateway) -> None:
    with connect(gateway) as sock:
        sock.sendall(b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-length: 10\r\n\r\nabc")
        assert statuses(read_all(sock)) == [408]


def test_an_idle_keep_alive_connection_is_closed(gateway: Gateway) -> None:
    with connect(gateway) as sock:
        sock.sendall(b"GET /echo HTTP/1.1\r\nhost: x\r\n\r\n")
        first = sock.recv(65536)
        assert statuses(first) == [200]
        start = time.monotonic()
        assert read_all(sock) == b""  # closed without a word
        assert 0.3 < time.monotonic() - start < 5


def test_a_silent_connection_is_closed(gateway: Gateway) -> None:
    with connect(gateway) as sock:
        start = time.monotonic()
        assert read_all(sock) == b""
        assert 0.5 < time.monotonic() - start < 5


@pytest.fixture
def capped(tmp_path: Path) -> Iterator[Gateway]:
    write_project(tmp_path, CONFIG)
    limits = Limits(max_connections=20, read_timeout=2.0, keep_alive_timeout=0.4)
    gateway = Gateway(load_project(tmp_path), port=0, log=lambda line: None, limits=limits)
    gateway.start()
    try:
        yield gateway
    finally:
        gateway.close()


def test_slow_clients_over_the_cap_get_503_and_service_resumes(capped: Gateway) -> None:
    # 60 clients each dripping a few bytes: 20 hold every slot, the other 40 are refused,
    # and legitimate clients are answered 503 (not reset) until the slow ones time out.
    gateway = capped
    slow = [connect(gateway) for _ in range(60)]
    try:
        for sock in slow:
            sock.sendall(b"G")
        time.sleep(0.1)
        for sock in slow:
            sock.sendall(b"ET /")
        readable, _, _ = select.select(slow, [], [], 0.5)
        time.sleep(0.1)
        readable, _, _ = select.select(slow, [], [], 0)
        refused = sum(statuses(sock.recv(65536)) == [503] for sock in readable)
        assert (len(readable), refused) == (40, 40)
        with connect(gateway) as sock:
            sock.sendall(b"GET /echo HTTP/1.1\r\nhost: x\r\n\r\n")
            answer = read_all(sock)
        assert statuses(answer) == [503]
        assert b'{"message":"Service Unavailable"}' in answer
        deadline = time.monotonic() + 10
        while (status := httpx.get(gateway.url + "/echo", timeout=5).status_code) != 200:
            assert status == 503
            assert time.monotonic() < deadline, "the slow clients should time out"
            time.sleep(0.1)
        for sock in set(slow) - set(readable):
            sock.settimeout(5)
            assert statuses(read_all(sock)) == [408]
    finally:
        for sock in slow:
            sock.close()
