"""HTTP framing as a hardened server does it, over real sockets (raw bytes written to the
gateway): whatever two HTTP parsers could read differently is refused with 400 (or 431) and
the connection closed, so no request hides in another's body."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from faasport.config import load_project
from faasport.local.gateway import Gateway
from rawhttp import exchange, statuses, write_project

CONFIG = """
name = "framing"

[functions.echo]
handler = "{module}:handle"
routes = ["ANY /{{proxy+}}"]
"""

SMUGGLED = b"GET /smuggled HTTP/1.1\r\nhost: x\r\n\r\n"


@pytest.fixture(scope="module")
def address(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, int]]:
    root: Path = tmp_path_factory.mktemp("framing")
    write_project(root, CONFIG)
    gateway = Gateway(load_project(root), port=0, log=lambda line: None)
    gateway.start()
    try:
        host, port = gateway.server_address
        yield str(host), port
    finally:
        gateway.close()


def post(headers: bytes, body: bytes = b"") -> bytes:
    return (
        b"POST /echo HTTP/1.1\r\nhost: x\r\ncontent-type: text/plain\r\n" + headers + b"\r\n" + body
    )


BAD = {
    "content-length with transfer-encoding": post(
        b"content-length: 5\r\ntransfer-encoding: chunked\r\n", b"0\r\n\r\n" + SMUGGLED
    ),
    "transfer-encoding with content-length": post(
        b"transfer-encoding: chunked\r\ncontent-length: 40\r\n", b"0\r\n\r\n" + SMUGGLED
    ),
    "conflicting content-lengths": post(
        b"content-length: 3\r\ncontent-length: 36\r\n", b"abc" + SMUGGLED
    ),
    "conflicting content-length list": post(b"content-length: 3, 36\r\n", b"abc" + SMUGGLED),
    "repeated content-length list": post(b"content-length: 3, 3\r\n", b"abc"),
    "superscript two as length": post("content-length: \u00b2\r\n".encode("latin-1"), b"ab"),
    "utf-8 superscript two as length": post("content-length: \u00b2\r\n".encode(), b"ab"),
    "negative length": post(b"content-length: -5\r\n", b"hello"),
    "plus sign length": post(b"content-length: +5\r\n", b"hello"),
    "negative chunk size": post(b"transfer-encoding: chunked\r\n", b"-5\r\nhello\r\n0\r\n\r\n"),
    "0x chunk size": post(b"transfer-encoding: chunked\r\n", b"0x5\r\nhello\r\n0\r\n\r\n"),
    "underscore chunk size": post(b"transfer-encoding: chunked\r\n", b"0_5\r\nhello\r\n0\r\n\r\n"),
    "chunk without its crlf": post(
        b"transfer-encoding: chunked\r\n", b"5\r\nhelloXX0\r\n\r\n" + SMUGGLED
    ),
    "over-long chunk-size line": post(
        b"transfer-encoding: chunked\r\n", b"0" * 4096 + b"5\r\nhello\r\n0\r\n\r\n"
    ),
    "unknown transfer-encoding": post(b"transfer-encoding: gzip, chunked\r\n", b"0\r\n\r\n"),
    "bare cr in a value": post(b"x-a: one\rx-b: two\r\n"),
    "bare lf in a value": post(b"x-a: one\nx-b: two\r\n"),
    "nul in a value": post(b"x-a: one\x00two\r\n"),
    "space before the colon": post(b"x-a : one\r\n"),
    "space inside a name": post(b"x a: one\r\n"),
    "tab inside a name": post(b"x\ta: one\r\n"),
    "non-utf-8 name": post(b"x-\xe9: one\r\n"),
    "utf-8 name": post("x-\u00e9: one\r\n".encode()),
    "folded header": post(b"x-a: one\r\n two\r\n"),
    "no colon": post(b"x-a one\r\n"),
    "no host": b"GET /echo HTTP/1.1\r\n\r\n",
    "bare lf line ends": b"GET /echo HTTP/1.1\nhost: x\n\r\n\r\n",
    "bad request line": b"GET /echo\r\nhost: x\r\n\r\n",
}


@pytest.mark.parametrize("raw", BAD.values(), ids=BAD.keys())
def test_ambiguous_framing_is_400_and_closes(
    address: tuple[str, int], raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        answer = exchange(address, raw)
    expected = 501 if b"gzip" in raw else 400
    assert statuses(answer) == [expected], answer  # one answer: nothing smuggled through
    assert b"connection: close" in answer.lower()
    assert b'{"message":' in answer
    assert not [r for r in caplog.records if "client_connected_cb" in r.getMessage()]


def test_oversized_headers_are_431(address: tuple[str, int]) -> None:
    answer = exchange(address, post(b"x-big: " + b"a" * 20000 + b"\r\n"))
    assert statuses(answer) == [431]
    assert answer.endswith(b'{"message":"Request Header Fields Too Large"}')


def test_headers_within_the_limit_are_served(address: tuple[str, int]) -> None:
    answer = exchange(address, post(b"x-big: " + b"a" * 8000 + b"\r\nconnection: close\r\n"))
    assert statuses(answer) == [200]


def test_well_formed_chunks_and_pipelining_are_served(address: tuple[str, int]) -> None:
    chunked = post(
        b"transfer-encoding: chunked\r\n",
        b"5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nx-trailer: t\r\n\r\n",
    )
    last = b"GET /last HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n"
    answer = exchange(address, chunked + post(b"content-length: 5\r\n", b"again") + last)
    assert statuses(answer) == [200, 200, 200]
    assert b'"body": "hello world"' in answer
    assert b'"body": "again"' in answer
    assert b'"path": "/last"' in answer
