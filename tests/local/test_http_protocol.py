"""Whole requests answered straight from the transport, over real sockets: what the stream
reader guaranteed still holds when a connection is served the fast way (order, half-closed
clients, keep-alive, the stop with requests in flight), and which requests count as whole."""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest

from faasport.core.http import HttpResponse
from faasport.local.connections import Limits, Server
from faasport.local.emulator import new_event_loop
from faasport.local.http11 import Request, parse_whole
from rawhttp import read_all, statuses

LIMITS = Limits(max_connections=50, read_timeout=2.0, keep_alive_timeout=2.0, max_body=100)


async def answer(request: Request, peer: tuple[str, int]) -> HttpResponse:
    if request.path == "/slow":
        await asyncio.sleep(0.3)
    if request.path == "/sized":  # an app that answers HEAD with the length of its GET
        body = b"" if request.method == "HEAD" else b"hello"
        return HttpResponse(200, [(b"x-a", b"1"), (b"content-length", b"5"), (b"x-b", b"2")], body)
    if request.path == "/empty":
        return HttpResponse(204, [(b"x-a", b"1")], b"")
    body = f"{request.method} {request.target} {len(request.body)}".encode()
    return HttpResponse(200, [(b"content-type", b"text/plain")], body)


def reject(status: int) -> HttpResponse:
    return HttpResponse(status, [], b"")


class Running:
    def __init__(self, limits: Limits = LIMITS) -> None:
        self.loop = new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = Server(answer, reject, limits, lambda line: None)
        self.call(self.server.start("127.0.0.1", 0))

    def call(self, coro: object) -> object:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(30)  # type: ignore[arg-type]

    def connect(self) -> socket.socket:
        host, port = self.server.address
        return socket.create_connection((str(host), port), timeout=10)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


@pytest.fixture
def running() -> Iterator[Running]:
    served = Running()
    try:
        yield served
    finally:
        served.call(served.server.close())
        served.stop()


def bodies(answer: bytes) -> list[bytes]:
    return [part.split(b"\r\n\r\n", 1)[1][:40] for part in answer.split(b"HTTP/1.1 ")[1:]]


def test_a_half_closed_client_gets_its_answer(running: Running) -> None:
    with running.connect() as sock:
        sock.sendall(b"GET /a HTTP/1.1\r\nhost: x\r\n\r\n")
        sock.shutdown(socket.SHUT_WR)
        answer = read_all(sock)
    assert statuses(answer) == [200]
    assert answer.endswith(b"GET /a 0")


def test_requests_sent_during_an_answer_are_answered_in_order(running: Running) -> None:
    with running.connect() as sock:
        sock.sendall(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n")
        time.sleep(0.1)  # the first is being answered
        sock.sendall(b"POST /b HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\nabc")
        sock.sendall(b"GET /c HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        answer = read_all(sock)
    assert statuses(answer) == [200, 200, 200]
    assert [b.split(b" ")[1] for b in bodies(answer)] == [b"/slow", b"/b", b"/c"]


def test_a_connection_carries_on_after_a_request_in_pieces(running: Running) -> None:
    with running.connect() as sock:
        sock.sendall(b"POST /a HTTP/1.1\r\nhost: x\r\ncontent-length: 4\r\n\r\nab")
        time.sleep(0.05)
        sock.sendall(b"cd")
        first = sock.recv(65536)
        sock.sendall(b"GET /b HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        answer = first + read_all(sock)
    assert statuses(answer) == [200, 200]
    assert bodies(answer) == [b"POST /a 4", b"GET /b 0"]


def test_keep_alive_serves_many_requests_on_one_connection(running: Running) -> None:
    with running.connect() as sock:
        for i in range(20):
            sock.sendall(b"GET /n%d HTTP/1.1\r\nhost: x\r\n\r\n" % i)
            data = b""
            while not data.endswith(b"GET /n%d 0" % i):
                data += sock.recv(65536)
            assert statuses(data) == [200]


@pytest.mark.parametrize(("grace", "status"), [(2.0, 200), (0.0, 503)])
def test_a_stop_lets_a_request_in_flight_finish_within_its_grace_then_answers_503(
    running: Running, grace: float, status: int
) -> None:
    with running.connect() as sock:
        sock.sendall(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n")
        time.sleep(0.1)
        stopping = asyncio.run_coroutine_threadsafe(running.server.close(grace), running.loop)
        answer = read_all(sock)
        stopping.result(10)
    assert statuses(answer) == [status]
    if status == 200:
        assert b"connection: close" in answer


@pytest.mark.parametrize("pipelined", [False, True], ids=["one-by-one", "pipelined"])
def test_the_response_head_is_framed_by_the_server(running: Running, pipelined: bool) -> None:
    requests = [
        b"HEAD /sized HTTP/1.1\r\nhost: x\r\n\r\n",
        b"GET /sized HTTP/1.1\r\nhost: x\r\n\r\n",
        b"GET /empty HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
    ]
    with running.connect() as sock:
        if pipelined:  # read by the stream reader
            sock.sendall(b"".join(requests))
            answer = read_all(sock)
        else:  # each answered straight from the transport
            answer = b""
            for request, end in zip(requests[:2], [b"\r\n\r\n", b"hello"], strict=True):
                sock.sendall(request)
                part = b""
                while not part.endswith(end):
                    part += sock.recv(65536)
                answer += part
            sock.sendall(requests[2])
            answer += read_all(sock)
    head, get, empty = [b"HTTP/1.1 " + part for part in answer.split(b"HTTP/1.1 ")[1:]]
    date = rb"date: [A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT"
    assert re.fullmatch(
        rb"HTTP/1\.1 200 OK\r\nx-a: 1\r\nx-b: 2\r\n" + date + rb"\r\ncontent-length: 5\r\n\r\n",
        head,
    )
    assert re.fullmatch(
        rb"HTTP/1\.1 200 OK\r\nx-a: 1\r\nx-b: 2\r\n"
        + date
        + rb"\r\ncontent-length: 5\r\n\r\nhello",
        get,
    )
    assert re.fullmatch(
        rb"HTTP/1\.1 204 No Content\r\nx-a: 1\r\n" + date + rb"\r\nconnection: close\r\n\r\n",
        empty,
    )


@pytest.fixture
def brisk() -> Iterator[Running]:
    """Idle connections closed after 0.2 s (shorter than a /slow answer)."""
    served = Running(Limits(max_connections=50, read_timeout=0.2, keep_alive_timeout=0.2))
    try:
        yield served
    finally:
        served.call(served.server.close())
        served.stop()


def test_the_idle_timeout_counts_from_the_last_answer(brisk: Running) -> None:
    with brisk.connect() as sock:
        for i in range(6):  # 0.6 s in all, three times the idle timeout
            sock.sendall(b"GET /n%d HTTP/1.1\r\nhost: x\r\n\r\n" % i)
            data = b""
            while not data.endswith(b"GET /n%d 0" % i):
                data += sock.recv(65536)
            time.sleep(0.1)
        start = time.monotonic()
        assert read_all(sock) == b""  # closed without a word
        assert 0.05 < time.monotonic() - start < 3


def test_a_keep_alive_timeout_shorter_than_the_read_timeout_applies_after_the_first_answer() -> (
    None
):
    served = Running(Limits(max_connections=50, read_timeout=5.0, keep_alive_timeout=0.2))
    try:
        with served.connect() as sock:
            sock.sendall(b"GET /a HTTP/1.1\r\nhost: x\r\n\r\n")
            data = b""
            while not data.endswith(b"GET /a 0"):
                data += sock.recv(65536)
            start = time.monotonic()
            assert read_all(sock) == b""
            assert 0.1 < time.monotonic() - start < 2.5  # not the read timeout's 5 s
    finally:
        served.call(served.server.close())
        served.stop()


def test_an_answer_slower_than_the_idle_timeout_is_delivered_then_the_connection_idles(
    brisk: Running,
) -> None:
    with brisk.connect() as sock:
        sock.sendall(b"GET /slow HTTP/1.1\r\nhost: x\r\n\r\n")
        data = b""
        while not data.endswith(b"GET /slow 0"):
            data += sock.recv(65536)
        sock.sendall(b"GET /next HTTP/1.1\r\nhost: x\r\n\r\n")  # still open for the next
        data = b""
        while not data.endswith(b"GET /next 0"):
            data += sock.recv(65536)
        start = time.monotonic()
        assert read_all(sock) == b""
        assert 0.1 < time.monotonic() - start < 3


WHOLE = [
    b"GET /a?b=1 HTTP/1.1\r\nhost: x\r\n\r\n",
    b"GET / HTTP/1.0\r\n\r\n",
    b"POST /a HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\nabc",
]
NOT_WHOLE = {
    "head cut short": b"GET / HTTP/1.1\r\nhost: x\r\n",
    "body cut short": b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n\r\nab",
    "a pipelined request": b"GET / HTTP/1.1\r\nhost: x\r\n\r\nGET / HTTP/1.1\r\nhost: x\r\n\r\n",
    "chunked": b"POST / HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
    "expect": b"POST / HTTP/1.1\r\nhost: x\r\nexpect: 100-continue\r\ncontent-length: 1\r\n\r\n",
    "upgrade": b"GET / HTTP/1.1\r\nhost: x\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n",
    "no host": b"GET / HTTP/1.1\r\n\r\n",
    "non-ascii target": "GET /é HTTP/1.1\r\nhost: x\r\n\r\n".encode(),
    "body over the limit": b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 101\r\n\r\n"
    + b"a" * 101,
    "smuggling": b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 3\r\n"
    b"transfer-encoding: chunked\r\n\r\nabc",
    "two lengths": b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 1\r\ncontent-length: 2"
    b"\r\n\r\nab",
    "NUL in a value": b"GET / HTTP/1.1\r\nhost: x\r\nx-a: a\x00b\r\n\r\n",
    "HTTP/2.0": b"GET / HTTP/2.0\r\nhost: x\r\n\r\n",
    "head over the limit": b"GET / HTTP/1.1\r\nhost: x\r\nx-a: " + b"a" * 300 + b"\r\n\r\n",
}


@pytest.mark.parametrize("data", WHOLE)
def test_whole_requests_are_parsed(data: bytes) -> None:
    request = parse_whole(data, 100, 256)
    assert request is not None
    assert request.body == data.split(b"\r\n\r\n", 1)[1]


@pytest.mark.parametrize("data", list(NOT_WHOLE.values()), ids=list(NOT_WHOLE))
def test_anything_else_goes_to_the_stream_reader(data: bytes) -> None:
    assert parse_whole(data, 100, 256) is None
