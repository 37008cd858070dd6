"""A streamed response's body read off a real Runtime API connection by the body reader and
written to a real client socket: the function's chunks go on with their own framing once
the client is attached, whatever the read boundaries; the trailers, the size limit and a
malformed body end the stream as they did through httptools."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
import uvloop
from tests.local.test_streaming import _written as written_on_a_connection

from faasport.aws.runtime_client import PREFIX
from faasport.aws.streaming import chunk, error_trailer, head
from faasport.local.outcome import Status
from faasport.local.runtime_api import Invocation, RuntimeApi
from faasport.local.streaming import LocalStream, StreamedResponse, http_response

T = TypeVar("T")
LOOPS: dict[str, Callable[[], asyncio.AbstractEventLoop]] = {
    "asyncio": asyncio.new_event_loop,
    "uvloop": uvloop.new_event_loop,
}


@pytest.fixture(params=sorted(LOOPS))
def run(request: pytest.FixtureRequest) -> Callable[[Coroutine[Any, Any, T]], T]:
    def run_on(coro: Coroutine[Any, Any, T]) -> T:
        with asyncio.Runner(loop_factory=LOOPS[request.param]) as runner:
            return runner.run(asyncio.wait_for(coro, 20))

    return run_on


def dechunk(body: bytes) -> tuple[bytes, bool]:
    """The payload of a chunked body, strictly parsed; whether its last chunk came."""
    payload, pos = b"", 0
    while pos < len(body):
        line_end = body.index(b"\r\n", pos)
        size = int(body[pos:line_end].split(b";")[0], 16)
        if size == 0:
            assert body[line_end:] == b"\r\n\r\n", body[line_end:]
            return payload, True
        data_end = line_end + 2 + size
        payload += body[line_end + 2 : data_end]
        assert body[data_end : data_end + 2] == b"\r\n", "a chunk longer than its size"
        pos = data_end + 2
    return payload, False


class Exchange:
    """One invocation streamed through a Runtime API on a Unix socket, its response written
    to a loopback TCP client."""

    def __init__(self, tmp_path: Path, *, limit: int | None = None) -> None:
        self.path = str(tmp_path / "api.sock")
        self.limit = limit

    async def run(
        self, pieces: list[bytes], *, content_type: str = "text/plain", attached: bool = False
    ) -> Exchange:
        """Send ``pieces`` (with ``attached``, the ones after the first once the client is
        attached to the stream)."""
        loop = asyncio.get_running_loop()
        api = RuntimeApi("arn:aws:lambda:us-east-1:123456789012:function:fn", "fn", "m.h")
        await api.serve_unix(self.path)
        invocation = Invocation(b"{}", deadline_ms=0)
        invocation.result = loop.create_future()
        invocation.started = started = loop.create_future()
        api.submit(invocation)
        reader, writer = await asyncio.open_unix_connection(self.path)
        writer.write(f"GET {PREFIX}/invocation/next HTTP/1.1\r\nHost: r\r\n\r\n".encode())
        await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(2)
        path = f"{PREFIX}/invocation/{invocation.request_id}/response"
        sender = asyncio.ensure_future(
            self._send(writer, head(path, content_type), pieces, started if attached else None)
        )
        self.stream: LocalStream = await started
        if self.limit is not None:
            self.stream.limit = self.limit
        response = await http_response(self.stream)
        assert response is not None
        self.received, self.error = await _written(response)
        await sender
        # The Runtime API's answer to the streamed response, then the connection is free.
        self.answer = await reader.readuntil(b"}")
        writer.write(f"GET {PREFIX}/invocation/next HTTP/1.1\r\nHost: r\r\n\r\n".encode())
        api.submit(Invocation(b'{"next":1}', deadline_ms=0))
        self.next = await reader.readuntil(b'{"next":1}')
        self.result = await invocation.result
        writer.close()
        api.close()
        return self

    @staticmethod
    async def _send(
        writer: asyncio.StreamWriter,
        first: bytes,
        pieces: list[bytes],
        started: asyncio.Future[LocalStream] | None,
    ) -> None:
        writer.write(first)
        for index, piece in enumerate(pieces):
            await asyncio.sleep(0.001)  # each piece in a read of its own
            if index == 1 and started is not None:
                stream = await started
                while stream.direct is None:
                    await asyncio.sleep(0.001)
            writer.write(piece)
            await writer.drain()


async def _written(response: StreamedResponse) -> tuple[bytes, Exception | None]:
    """The body :func:`write_streamed` puts on a real loopback connection, and what it
    raised."""
    received, error = await written_on_a_connection(response)
    return received.partition(b"\r\n\r\n")[2], error


def _split(data: bytes, sizes: list[int]) -> list[bytes]:
    pieces, pos = [], 0
    for size in sizes:
        pieces.append(data[pos : pos + size])
        pos += size
    return [*pieces, data[pos:]] if pos < len(data) else pieces


BODY = [
    b"first",
    b"x" * 300,
    *(bytes([97 + size % 26]) * size for size in range(1, 40)),
    b"z" * 4096,
    b"last",
]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_chunks_go_on_framed_whatever_the_read_boundaries(
    tmp_path: Path, run: Callable[[Coroutine[Any, Any, Exchange]], Exchange], seed: int
) -> None:
    wire = b"".join(map(chunk, BODY)) + b"3;ext=1\r\nabc\r\n0\r\n\r\n"
    rng = random.Random(seed)
    # Byte by byte at first (size lines and CRLFs cut everywhere), then pieces of any size.
    sizes = [1] * 40 + [rng.randint(1, 40) for _ in range(60)] + [rng.randint(1, 900)] * 8
    done = run(Exchange(tmp_path).run(_split(wire, sizes)))
    assert done.error is None
    payload, complete = dechunk(done.received)
    assert complete
    assert payload == b"".join(BODY) + b"abc"
    assert done.stream.direct is not None  # the client was attached: the rest went on framed
    assert done.answer.startswith(b"HTTP/1.1 202 ")
    assert done.next.endswith(b'{"next":1}')  # the connection went back to its requests
    assert done.result == (Status.OK, b"")


def test_whole_chunks_go_on_as_the_function_framed_them(
    tmp_path: Path, run: Callable[[Coroutine[Any, Any, Exchange]], Exchange]
) -> None:
    # The first piece is written by the gateway (the head comes with it); the chunks read
    # after it go on as they were sent, extensions and all.
    later = b"5;n=1\r\nhello\r\n6\r\n world\r\n"
    done = run(Exchange(tmp_path).run([chunk(b"start"), later, b"0\r\n\r\n"], attached=True))
    assert done.received == b"5\r\nstart\r\n" + later + b"0\r\n\r\n"


def test_error_trailers_cut_the_body_short(
    tmp_path: Path, run: Callable[[Coroutine[Any, Any, Exchange]], Exchange]
) -> None:
    trailer = error_trailer(RuntimeError("broke mid-stream"))
    pieces = [chunk(b"one"), chunk(b"two"), *_split(trailer, [2, 5, 30, 1])]
    done = run(Exchange(tmp_path).run(pieces))
    assert isinstance(done.error, ConnectionAbortedError)
    payload, complete = dechunk(done.received)
    assert (payload, complete) == (b"onetwo", False)
    assert done.stream.error_type == "RuntimeError"
    status, document = done.result
    assert status is Status.FUNCTION_ERROR
    assert json.loads(document)["errorMessage"] == "broke mid-stream"
    assert done.answer.startswith(b"HTTP/1.1 202 ")


def test_a_stream_over_its_limit_is_cut_and_refused(
    tmp_path: Path, run: Callable[[Coroutine[Any, Any, Exchange]], Exchange]
) -> None:
    pieces = [chunk(b"a" * 600), chunk(b"b" * 600), chunk(b"c" * 600), b"0\r\n\r\n"]
    done = run(Exchange(tmp_path, limit=1000).run(pieces))
    assert isinstance(done.error, ConnectionAbortedError)
    payload, complete = dechunk(done.received)
    assert (payload, complete) == (b"a" * 600, False)
    assert done.stream.error_type == "Function.ResponseSizeTooLarge"
    assert done.answer.startswith(b"HTTP/1.1 413 ")
    assert done.next.endswith(b'{"next":1}')


def test_the_prelude_is_read_and_the_body_goes_on(
    tmp_path: Path, run: Callable[[Coroutine[Any, Any, Exchange]], Exchange]
) -> None:
    prelude = b'{"statusCode":201,"headers":{"x-a":"1"}}' + b"\0" * 8
    pieces = [*_split(chunk(prelude + b"ab"), [3, 20, 10]), chunk(b"cd"), b"0\r\n\r\n"]
    done = run(
        Exchange(tmp_path).run(
            pieces, content_type="application/vnd.awslambda.http-integration-response"
        )
    )
    assert dechunk(done.received) == (b"abcd", True)


@pytest.mark.parametrize(
    "bad", [b"zz\r\nabc\r\n", b"3\r\nabcd\r\n", b"0x3\r\nabc\r\n", b"1" * 9000 + b"\r\n"]
)
def test_a_malformed_body_is_a_400_and_ends_the_stream(
    tmp_path: Path, run: Callable[[Coroutine[Any, Any, Exchange]], Exchange], bad: bytes
) -> None:
    async def exchange() -> tuple[bytes, bytes, Exception | None, tuple[Status, bytes]]:
        loop = asyncio.get_running_loop()
        api = RuntimeApi("arn:aws:lambda:us-east-1:123456789012:function:fn", "fn", "m.h")
        path = str(tmp_path / "api.sock")
        await api.serve_unix(path)
        invocation = Invocation(b"{}", deadline_ms=0)
        invocation.result = loop.create_future()
        invocation.started = started = loop.create_future()
        api.submit(invocation)
        reader, writer = await asyncio.open_unix_connection(path)
        writer.write(f"GET {PREFIX}/invocation/next HTTP/1.1\r\nHost: r\r\n\r\n".encode())
        await reader.readuntil(b"\r\n\r\n")
        await reader.readexactly(2)
        target = f"{PREFIX}/invocation/{invocation.request_id}/response"
        writer.write(head(target, "text/plain") + chunk(b"ok"))
        response = await http_response(await started)
        assert response is not None
        written = asyncio.ensure_future(_written(response))
        await asyncio.sleep(0.01)
        writer.write(bad)
        answer = await reader.read()  # the 400, then the connection closes
        received, error = await written
        writer.close()
        api.close()
        return answer, received, error, await invocation.result

    answer, received, error, (status, _) = run(exchange())  # type: ignore[arg-type]
    assert answer.startswith(b"HTTP/1.1 400 ")
    assert b"malformed HTTP request" in answer
    assert isinstance(error, ConnectionAbortedError)
    assert dechunk(received) == (b"ok", False)
    assert status is not Status.OK
