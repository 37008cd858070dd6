"""What reading a request costs the local servers, per request, on one event loop: the two
parsers uvicorn offers, h11 (pure Python) and httptools (llhttp, in C), and
:func:`faasport.local.http11.read_request` (httptools plus the checks llhttp leaves out).

Run it with ``.venv/bin/python bench/gateway_http.py`` (a few seconds; needs h11 and
httptools, both installed with ``.[dev]``). Each case reads the same keep-alive stream of N
requests of a browser's size (9 headers, a small JSON body) from an
``asyncio.StreamReader``, cutting it the same way (head up to the blank line, then the body
by its Content-Length) and feeding each piece to a fresh parser:

- ``h11``: an ``h11.Connection`` per request; headers validated by h11's regexes.
- ``httptools``: a ``HttpRequestParser`` per request, callbacks collecting URL, headers and
  body (what uvicorn's httptools protocol does).
- ``read_request``: what the gateway, the Invoke API and the Runtime API run.

It prints microseconds per request, medians of several rounds run in turn, and each parser's
cost set against the local gateway's 2 ms added-latency budget.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

from faasport.local.http11 import read_request

REQUEST = (
    b"POST /items?q=blue%20shoes&page=2 HTTP/1.1\r\n"
    b"host: api.example.com\r\n"
    b"user-agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20100101 Firefox/128.0\r\n"
    b"accept: application/json\r\n"
    b"accept-language: en-GB,en;q=0.8\r\n"
    b"accept-encoding: gzip, deflate, br\r\n"
    b"content-type: application/json\r\n"
    b"authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl\r\n"
    b"cookie: session=abc123; theme=dark\r\n"
    b"content-length: 32\r\n"
    b"\r\n"
    b'{"name": "phone", "price": 99.5}'
)
N = 2000
ROUNDS = 7


async def read_request_case(stream: bytes) -> None:
    reader = asyncio.StreamReader(limit=16 * 1024)
    reader.feed_data(stream)
    reader.feed_eof()
    while await read_request(reader, 10 * 1024 * 1024) is not None:
        pass


async def h11_case(stream: bytes) -> None:
    import h11

    reader = asyncio.StreamReader(limit=16 * 1024)
    reader.feed_data(stream)
    reader.feed_eof()
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return
        connection = h11.Connection(h11.SERVER)
        connection.receive_data(head)
        request: Any = connection.next_event()
        length = next(int(v) for k, v in request.headers if k == b"content-length")
        connection.receive_data(await reader.readexactly(length))
        assert isinstance(connection.next_event(), h11.Data)
        assert isinstance(connection.next_event(), h11.EndOfMessage)


async def httptools_case(stream: bytes) -> None:
    import httptools

    class Collect:
        def __init__(self) -> None:
            self.url = b""
            self.headers: list[tuple[bytes, bytes]] = []
            self.body: list[bytes] = []
            self.done = False

        def on_url(self, url: bytes) -> None:
            self.url += url

        def on_header(self, name: bytes, value: bytes) -> None:
            self.headers.append((name.lower(), value))

        def on_body(self, body: bytes) -> None:
            self.body.append(body)

        def on_message_complete(self) -> None:
            self.done = True

    reader = asyncio.StreamReader(limit=16 * 1024)
    reader.feed_data(stream)
    reader.feed_eof()
    while True:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return
        collect = Collect()
        parser: Any = httptools.HttpRequestParser(collect)
        parser.feed_data(head)
        length = next(int(v) for k, v in collect.headers if k == b"content-length")
        parser.feed_data(await reader.readexactly(length))
        assert collect.done and parser.get_method() == b"POST"


def main() -> None:
    stream = REQUEST * N
    cases = {"h11": h11_case, "httptools": httptools_case, "read_request": read_request_case}
    timings: dict[str, list[float]] = {name: [] for name in cases}
    loop = asyncio.new_event_loop()
    for _ in range(ROUNDS):
        for name, case in cases.items():
            start = time.perf_counter()
            loop.run_until_complete(case(stream))
            timings[name].append((time.perf_counter() - start) / N * 1e6)
    loop.close()
    print(f"reading {N} keep-alive requests ({len(REQUEST)} bytes each), median of {ROUNDS}")
    print("| parser | us per request |")
    print("|---|---|")
    medians = {name: statistics.median(values) for name, values in timings.items()}
    for name, value in medians.items():
        print(f"| {name} | {value:.1f} |")
    for name, value in medians.items():
        print(f"{name}: {value / 2000:.2%} of the 2 ms budget")


if __name__ == "__main__":
    main()
