"""Response streaming through a real ``faasport dev``: the gateway passes chunks on while the
function runs, holds no whole body, cuts a failed stream short, and the Invoke API answers
boto3's ``invoke_with_response_stream`` with event-stream events."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.dev_process import Dev, wait_for

from faasport.aws.runtime_client import PREFIX
from faasport.aws.streaming import HTTP_INTEGRATION
from faasport.local.outcome import Status
from faasport.local.runtime_api import Invocation, Request, RuntimeApi
from faasport.local.stream_body import BUFFER
from faasport.local.streaming import (
    FIRST_BYTES,
    HIGH_WATER,
    LocalStream,
    StreamedResponse,
    http_response,
    invoke_streaming,
    write_streamed,
)

CONFIG = """
name = "streams"

[functions.feed]
app = "feed:app"
stream = true
memory = 1024

[functions.buffered]
handler = "feed:plain"
routes = ["GET /plain"]

[functions.wsgi]
app = "feed:wsgi"
stream = true
routes = ["GET /wsgi"]

[functions.gen]
handler = "feed:generate"
stream = true
routes = ["GET /gen"]

[functions.guarded]
app = "feed:guarded"
stream = true
routes = ["GET /guarded/{proxy+}"]

[functions.slow]
app = "feed:app"
stream = true
timeout = 2
warm = 1                # the app is imported at init: the timeout falls mid-stream
routes = ["GET /forever"]
"""

APP = textwrap.dedent(
    """
    import asyncio

    from fastapi import FastAPI
    from fastapi.responses import StreamingResponse

    app = FastAPI()

    @app.get("/ticks")
    async def ticks():
        async def chunks():
            for i in range(20):
                yield f"tick {i}\\n"
                await asyncio.sleep(0.1)

        return StreamingResponse(chunks(), media_type="text/plain", headers={"x-feed": "yes"})

    @app.get("/boom")
    async def boom():
        async def chunks():
            yield "first\\n"
            await asyncio.sleep(0.05)
            raise RuntimeError("feed broke mid-stream")

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/forever")
    async def forever():
        async def chunks():
            while True:
                yield "more\\n"
                await asyncio.sleep(0.1)

        return StreamingResponse(chunks(), media_type="text/plain")

    @app.get("/big")
    async def big(mb: int = 20):
        block = b"x" * 65536

        async def chunks():
            for _ in range(mb * 16):
                yield block

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    @app.get("/pattern")
    async def pattern(mb: int = 8):
        async def chunks():
            for i in range(mb * 16):
                yield bytes([i % 251]) * 65536

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    @app.get("/guarded/ticks")
    async def guarded_ticks():
        return await ticks()

    # The same app behind faasport's policies as ASGI middleware: they stream too.
    from faasport import gateway

    guarded = gateway.asgi(app, gateway.Cors(origins=["https://app.example.com"]))

    def plain(event, context):
        return {"statusCode": 200, "body": "whole"}

    def wsgi(environ, start_response):
        import time

        start_response("200 OK", [("Content-Type", "text/plain"), ("X-Kind", "wsgi")])

        def lines():
            for i in range(5):
                yield f"w{i}\\n".encode()
                time.sleep(0.15)

        return lines()

    def generate(event, context):
        import time

        yield {"statusCode": 202, "headers": {"x-kind": "generator"}, "cookies": ["c=1"]}
        for i in range(5):
            yield f"g{i}\\n"
            time.sleep(0.15)
    """
)


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    root: Path = tmp_path_factory.mktemp("streams")
    (root / "faasport.toml").write_text(CONFIG)
    (root / "feed.py").write_text(APP)
    server = Dev(root)
    try:
        # A warm environment: the timings below are the stream's, not a cold start's.
        assert httpx.get(server.url + "/big?mb=1", timeout=30).status_code == 200
        yield server
    finally:
        server.close()


@pytest.mark.parametrize("path", ["/ticks", "/guarded/ticks"])
def test_chunks_arrive_while_the_function_runs(dev: Dev, path: str) -> None:
    """Also behind the policies as ASGI middleware (``gateway.asgi``), which add their
    headers to the streamed response and pass its chunks on as they come."""
    arrivals: list[tuple[float, str]] = []
    origin = "https://app.example.com"
    # The client is made first: building its TLS context takes up to a second on a busy
    # machine, and that is not the stream's time.
    with httpx.Client(timeout=30) as client:
        started = time.perf_counter()
        with client.stream("GET", dev.url + path, headers={"origin": origin}) as response:
            assert response.status_code == 200
            assert response.headers["x-feed"] == "yes"
            if path.startswith("/guarded"):
                assert response.headers["access-control-allow-origin"] == origin
            assert response.headers["transfer-encoding"] == "chunked"
            assert "content-length" not in response.headers
            for line in response.iter_lines():
                arrivals.append((time.perf_counter() - started, line))
    assert [line for _, line in arrivals] == [f"tick {i}" for i in range(20)]
    first, last = arrivals[0][0], arrivals[-1][0]
    # The function sleeps 1.9 s between its first and last chunk, however loaded the machine:
    # the first chunk came in the first half of the response, most before the function ended,
    # not all at the end.
    assert first < last / 2, f"first chunk after {first:.3f} s of {last:.3f} s"
    assert last - first > 1.0
    assert sum(1 for at, _ in arrivals if at < last - 0.5) >= 10


@pytest.mark.parametrize(("path", "status", "prefix"), [("/wsgi", 200, "w"), ("/gen", 202, "g")])
def test_wsgi_iterables_and_generators_stream(
    dev: Dev, path: str, status: int, prefix: str
) -> None:
    arrivals: list[tuple[float, str]] = []
    started = time.perf_counter()
    with httpx.stream("GET", dev.url + path, timeout=30) as response:
        assert response.status_code == status
        for line in response.iter_lines():
            arrivals.append((time.perf_counter() - started, line))
    assert [line for _, line in arrivals] == [f"{prefix}{i}" for i in range(5)]
    # Five chunks 150 ms apart: the first came well before the last was sent.
    assert arrivals[-1][0] - arrivals[0][0] > 0.3
    if path == "/gen":
        assert response.headers["x-kind"] == "generator"
        assert response.headers["set-cookie"] == "c=1"
    else:
        assert response.headers["x-kind"] == "wsgi"


def _rss_peak(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


def test_twenty_megabytes_stream_without_the_gateway_holding_them(dev: Dev) -> None:
    with httpx.stream("GET", dev.url + "/big?mb=2", timeout=60) as response:
        assert sum(len(c) for c in response.iter_raw()) == 2 * 1024 * 1024
    before = _rss_peak(dev.process.pid)
    received = 0
    with httpx.stream("GET", dev.url + "/big?mb=20", timeout=60) as response:
        for data in response.iter_raw():
            received += len(data)
    assert received == 20 * 1024 * 1024
    grown = _rss_peak(dev.process.pid) - before
    assert grown < 5 * 1024 * 1024, f"the gateway's peak RSS grew by {grown / 2**20:.1f} MB"


def _first_chunk_size(url: str, path: str) -> int:
    """The size of the first chunk of a chunked response, as written on the wire."""
    host, _, port = url.removeprefix("http://").rpartition(":")
    with socket.create_connection((host, int(port)), timeout=30) as sock:
        sock.sendall(f"GET {path} HTTP/1.1\r\nhost: test\r\nconnection: close\r\n\r\n".encode())
        received = b""
        while b"\r\n" not in received.partition(b"\r\n\r\n")[2]:
            data = sock.recv(65536)
            assert data, received
            received += data
        head, _, body = received.partition(b"\r\n\r\n")
        assert b"transfer-encoding: chunked" in head.lower()
        while sock.recv(1 << 20):  # the rest, so that the function ends as usual
            pass
    return int(body.split(b"\r\n", 1)[0], 16)


def test_the_first_chunk_goes_out_before_what_follows_is_read(dev: Dev) -> None:
    # The function sends 4 MB as fast as it can: while its first chunk is on its way to
    # the client, up to a socket buffer more is there to read. The client's first chunk is
    # what came with the first read, not that buffer too.
    for _ in range(3):
        assert _first_chunk_size(dev.url, "/big?mb=4") <= BUFFER


def test_a_slow_client_gets_every_byte_in_order(dev: Dev) -> None:
    # The client's socket fills up: what the gateway handed it stays in its buffers while
    # the function's next bytes are read.
    expected = b"".join(bytes([i % 251]) * 65536 for i in range(8 * 16))
    received = bytearray()
    with httpx.stream("GET", dev.url + "/pattern?mb=8", timeout=60) as response:
        for index, data in enumerate(response.iter_raw()):
            if index < 8:
                time.sleep(0.05)
            received += data
    assert len(received) == len(expected)
    assert received == expected


def test_an_error_mid_stream_cuts_the_response_short_and_is_logged(dev: Dev) -> None:
    received: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("GET", dev.url + "/boom", timeout=30) as response,
    ):
        assert response.status_code == 200
        for line in response.iter_lines():
            received.append(line)
    assert received == ["first"]
    wait_for(
        lambda: any("failed mid-stream: RuntimeError: feed broke" in x for x in dev.lines),
        10,
        "the gateway's log line",
    )
    wait_for(
        lambda: any(line.endswith("RuntimeError: feed broke mid-stream") for line in dev.lines),
        10,
        "the function's traceback",
    )


def test_a_stream_cut_by_the_timeout_ends_short(dev: Dev) -> None:
    received: list[str] = []
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream("GET", dev.url + "/forever", timeout=30) as response,
    ):
        for line in response.iter_lines():
            received.append(line)
    assert len(received) >= 5 and set(received) == {"more"}  # what came before the timeout
    wait_for(
        lambda: any("Task timed out after 2.00 seconds" in line for line in dev.lines),
        10,
        "the timeout line",
    )


def _events(result: dict[str, object]) -> list[dict[str, object]]:
    return list(result["EventStream"])  # type: ignore[call-overload]


def test_boto3_reads_the_streamed_events(dev: Dev) -> None:
    client = dev.client("lambda")
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/ticks",
        "rawQueryString": "",
        "headers": {"host": "local"},
        "requestContext": {
            "http": {"method": "GET", "path": "/ticks", "protocol": "HTTP/1.1", "sourceIp": "1"},
            "requestId": "r",
            "routeKey": "$default",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }
    result = client.invoke_with_response_stream(FunctionName="feed", Payload=json.dumps(event))
    assert result["StatusCode"] == 200
    events = _events(result)
    chunks = [e["PayloadChunk"]["Payload"] for e in events if "PayloadChunk" in e]  # type: ignore[index]
    assert len(chunks) >= 20  # one event per chunk the function sent
    prelude, _, body = b"".join(chunks).partition(b"\0" * 8)
    assert json.loads(prelude)["statusCode"] == 200
    assert body == b"".join(f"tick {i}\n".encode() for i in range(20))
    assert events[-1] == {"InvokeComplete": {}}

    event["rawPath"] = event["requestContext"]["http"]["path"] = "/boom"  # type: ignore[index]
    failed = _events(
        client.invoke_with_response_stream(FunctionName="feed", Payload=json.dumps(event))
    )
    complete = failed[-1]["InvokeComplete"]
    assert complete["ErrorCode"] == "RuntimeError"  # type: ignore[index]
    assert "feed broke mid-stream" in complete["ErrorDetails"]  # type: ignore[index]


def test_a_buffered_invoke_of_a_streaming_function_gathers_the_stream(dev: Dev) -> None:
    client = dev.client("lambda")
    event = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": "/big",
        "rawQueryString": "mb=1",
        "queryStringParameters": {"mb": "1"},
        "headers": {"host": "local"},
        "requestContext": {
            "http": {"method": "GET", "path": "/big", "protocol": "HTTP/1.1", "sourceIp": "1"},
            "requestId": "r",
            "routeKey": "$default",
            "stage": "$default",
        },
        "isBase64Encoded": False,
    }
    result = client.invoke(FunctionName="feed", Payload=json.dumps(event))
    prelude, _, body = result["Payload"].read().partition(b"\0" * 8)
    assert json.loads(prelude)["statusCode"] == 200
    assert body == b"x" * 1024 * 1024
    # Past the 6 MB of a buffered response, the stream is refused as Lambda refuses it.
    event["rawQueryString"], event["queryStringParameters"] = "mb=7", {"mb": "7"}
    result = client.invoke(FunctionName="feed", Payload=json.dumps(event))
    assert result["FunctionError"] == "Unhandled"
    assert json.loads(result["Payload"].read())["errorType"] == "Function.ResponseSizeTooLarge"


def test_a_buffered_function_answers_in_one_chunk(dev: Dev) -> None:
    client = dev.client("lambda")
    events = _events(client.invoke_with_response_stream(FunctionName="buffered", Payload="{}"))
    assert events[0]["PayloadChunk"]["Payload"] == b'{"statusCode": 200, "body": "whole"}'  # type: ignore[index]
    assert events[1] == {"InvokeComplete": {}}
    missing = client.exceptions.ResourceNotFoundException
    with pytest.raises(missing):
        client.invoke_with_response_stream(FunctionName="nothing", Payload="{}")


def test_a_client_that_leaves_mid_stream_does_not_block_the_function(dev: Dev) -> None:
    with httpx.stream("GET", dev.url + "/big?mb=20", timeout=30) as response:
        next(response.iter_raw())
    # The function runs to its end, as on Lambda: its invocation ends (REPORT) and the
    # environment serves the next request.
    dev.settled()
    assert httpx.get(dev.url + "/big?mb=1", timeout=30).status_code == 200


def test_a_stream_past_its_limit_ends_with_lambdas_size_error() -> None:
    async def run() -> tuple[list[bytes], LocalStream, tuple[Status, bytes]]:
        invocation = Invocation(b"{}", deadline_ms=0)
        invocation.result = asyncio.get_running_loop().create_future()
        stream = LocalStream(invocation, "text/plain", lambda: None, lambda: None, limit=1000)
        assert stream.feed(b"a" * 600)
        assert not stream.feed(b"b" * 600)  # over 1000 bytes: refused, the stream ends
        assert not stream.feed(b"c")
        received = [data async for data in stream.chunks()]
        return received, stream, await invocation.result

    received, stream, (status, payload) = asyncio.run(run())
    assert received == [b"a" * 600]
    assert stream.error_type == "Function.ResponseSizeTooLarge"
    assert status is Status.FUNCTION_ERROR
    assert "(1000 bytes)" in json.loads(payload)["errorMessage"]


def test_faasport_invoke_prints_a_streamed_response_as_a_proxy_result(dev: Dev) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "faasport.cli.main", "invoke", "gen", "--project", str(dev.project)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "statusCode": 202,
        "headers": {"x-kind": "generator"},
        "cookies": ["c=1"],
        "body": "".join(f"g{i}\n" for i in range(5)),
        "isBase64Encoded": False,
    }


@pytest.mark.parametrize(
    ("sent", "status"),
    [
        (b'{"statusCode":201,"headers":{"x-a":"1"},"cookies":["c=1"]}' + b"\0" * 8 + b"body", 201),
        (b"{not json" + b"\0" * 8 + b"body", None),
        (b'{"statusCode":99}' + b"\0" * 8, None),
        (b" " * (17 * 1024) + b"\0" * 8, None),  # past the 16 KB API Gateway reads it from
        (b'{"statusCode":200}', None),  # the stream ended before the delimiter
    ],
)
def test_the_gateway_reads_the_prelude_as_api_gateway_does(sent: bytes, status: int | None) -> None:
    async def run() -> StreamedResponse | None:
        invocation = Invocation(b"{}", deadline_ms=0)
        invocation.result = asyncio.get_running_loop().create_future()
        stream = LocalStream(invocation, HTTP_INTEGRATION, lambda: None, lambda: None)
        stream.feed(sent)
        stream.finish()
        return await http_response(stream)

    response = asyncio.run(run())
    if status is None:
        assert response is None
        return
    assert response is not None
    assert response.status == status
    assert response.headers == [(b"x-a", b"1"), (b"set-cookie", b"c=1")]


def _stream(content_type: str = HTTP_INTEGRATION) -> tuple[LocalStream, list[str]]:
    """A stream of a fresh invocation; the list records the pauses and resumes it asks
    the Runtime API for."""
    invocation = Invocation(b"{}", deadline_ms=0)
    invocation.result = asyncio.get_running_loop().create_future()
    flow: list[str] = []
    stream = LocalStream(
        invocation, content_type, lambda: flow.append("pause"), lambda: flow.append("resume")
    )
    return stream, flow


async def _written(response: StreamedResponse) -> tuple[bytes, Exception | None]:
    """What :func:`write_streamed` puts on a real loopback connection, and what it raised."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await write_streamed(writer, response, "GET", close=True)
            done.set_result(None)
        except Exception as exc:
            done.set_exception(exc)
        finally:
            writer.close()

    server = await asyncio.start_server(serve, "127.0.0.1", 0)
    reader, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
    try:
        received = await asyncio.wait_for(reader.read(), 10)
        await asyncio.wait([done])
    finally:
        writer.close()
        server.close()
    return received, done.exception()


def test_a_batch_goes_out_as_one_chunk_with_the_prelude_split_across_pieces() -> None:
    prelude = b'{"statusCode":200,"headers":{"x-a":"1"}}' + b"\0" * 8

    async def run() -> bytes:
        stream, _ = _stream()
        # The delimiter straddles two pieces; the body's first bytes share the second.
        for piece in (prelude[:-3], prelude[-3:] + b"ab", b"c" * 70000, b"d"):
            stream.feed(piece)
        response = await http_response(stream)
        assert response is not None
        stream.feed(b"e" * 10)
        stream.finish()
        received, error = await _written(response)
        assert error is None
        return received

    head, _, body = asyncio.run(run()).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\nx-a: 1\r\n" in head
    assert b"\r\ntransfer-encoding: chunked" in head
    # Everything that came with the prelude is one chunk, the piece after it another.
    assert body == b"%x\r\nab%b%b\r\na\r\n%b\r\n0\r\n\r\n" % (70003, b"c" * 70000, b"d", b"e" * 10)


def test_a_failed_stream_written_in_batches_is_cut_short() -> None:
    async def run() -> tuple[bytes, Exception | None]:
        stream, _ = _stream("text/plain")
        stream.feed(b"one")
        stream.feed(b"two")
        response = await http_response(stream)
        assert response is not None
        stream.finish("Unhandled", b'{"errorMessage":"x"}')
        return await _written(response)

    received, error = asyncio.run(run())
    assert isinstance(error, ConnectionAbortedError)
    # The batch went out as one chunk; no last chunk follows: the client sees the cut.
    assert received.endswith(b"\r\n\r\n6\r\nonetwo\r\n")


async def _past_the_first_bytes(stream: LocalStream, flow: list[str]) -> AsyncIterator[list[bytes]]:
    """The stream's batches, its first bytes taken (reading goes on as it comes then)."""
    batches = stream.batches()
    stream.feed(b"f" * (FIRST_BYTES + 1))
    assert await anext(batches) == [b"f" * (FIRST_BYTES + 1)]
    waiting = asyncio.ensure_future(anext(batches))
    await asyncio.sleep(0)
    assert flow == ["pause", "resume"]
    flow.clear()
    stream.feed(b"g")
    assert await waiting == [b"g"]
    return batches


def test_the_first_bytes_are_read_only_as_the_consumer_asks() -> None:
    async def run() -> None:
        stream, flow = _stream("text/plain")
        batches = stream.batches()
        stream.feed(b"a")
        # Nobody took it yet: no more is read (the read would hold up its write).
        assert flow == ["pause"]
        stream.feed(b"b" * 1000)  # what the last read held: already paused
        assert await anext(batches) == [b"a", b"b" * 1000]
        # Taken, but not yet written: reading waits until the consumer is back for more.
        await asyncio.sleep(0)
        assert flow == ["pause"]
        waiting = asyncio.ensure_future(anext(batches))
        await asyncio.sleep(0)
        assert flow == ["pause", "resume"]
        stream.feed(b"c" * FIRST_BYTES)
        assert flow == ["pause", "resume", "pause"]
        assert await waiting == [b"c" * FIRST_BYTES]
        flow.clear()
        # Past the first bytes, the consumer back: reading goes on up to the high-water mark.
        waiting = asyncio.ensure_future(anext(batches))
        await asyncio.sleep(0)
        assert flow == ["resume"]
        stream.feed(b"d")
        stream.feed(b"e")
        assert flow == ["resume"]
        assert await waiting == [b"d", b"e"]
        stream.finish()
        assert [batch async for batch in batches] == []

    asyncio.run(run())


def test_an_attached_client_ends_the_first_bytes() -> None:
    async def run() -> list[str]:
        stream, flow = _stream("text/plain")
        stream.feed(b"a")
        served: asyncio.Future[asyncio.StreamWriter] = asyncio.get_running_loop().create_future()
        server = await asyncio.start_server(lambda _, w: served.set_result(w), "127.0.0.1", 0)
        _, writer = await asyncio.open_connection(*server.sockets[0].getsockname()[:2])
        client = await served
        try:
            client.close()
            stream.attach(writer)
            stream.pipe([b"1\r\nb\r\n"], 1)
            stream.pipe([b"1\r\nc\r\n"], 1)
            await writer.drain()
        finally:
            writer.close()
            await writer.wait_closed()
            server.close()
            await server.wait_closed()
        return flow

    assert asyncio.run(run()) == ["pause", "resume"]


def test_the_function_is_paused_past_the_high_water_mark_until_the_batch_is_taken() -> None:
    async def run() -> list[str]:
        stream, flow = _stream("text/plain")
        batches = await _past_the_first_bytes(stream, flow)
        stream.feed(b"x" * (HIGH_WATER // 2))
        stream.feed(b"x" * (HIGH_WATER // 2))
        assert flow == []  # at the mark, not past it: reading goes on
        stream.feed(b"y")
        assert flow == ["pause"]
        stream.feed(b"z")  # already paused: asked once
        batch = await anext(batches)
        assert [len(piece) for piece in batch] == [HIGH_WATER // 2, HIGH_WATER // 2, 1, 1]
        assert flow == ["pause", "resume"]
        stream.feed(b"w")
        stream.finish()
        assert await anext(batches) == [b"w"]
        return flow

    assert asyncio.run(run()) == ["pause", "resume"]


def test_a_stream_whose_request_went_away_before_it_began_is_read_on() -> None:
    """The request stopped waiting (the server stopping) before the function began its
    stream: nobody will read it, so the Runtime API reads it on and drops it rather than
    hold the function at its first bytes until its timeout."""

    async def run() -> list[str]:
        api = RuntimeApi("arn:aws:lambda:us-east-1:123456789012:function:f", "f", "fns.h")
        loop = asyncio.get_running_loop()
        invocation = Invocation(b"{}", deadline_ms=0)
        invocation.result = loop.create_future()
        invocation.started = loop.create_future()
        api.submit(invocation)
        flow: list[str] = []

        class Connection:
            def __init__(self) -> None:
                self._headers = {"content-type": "text/plain"}

            def pause(self) -> None:
                flow.append("pause")

            def resume(self) -> None:
                flow.append("resume")

        connection: Any = Connection()
        assert api.route(Request("GET", f"{PREFIX}/invocation/next", {}, b"", True), connection)
        invocation.started.cancel()
        path = f"{PREFIX}/invocation/{invocation.request_id}/response"
        stream = api.begin_stream(path, connection)
        assert isinstance(stream, LocalStream)
        stream.feed(b"a" * (FIRST_BYTES + 1))
        stream.feed(b"b" * (HIGH_WATER + 1))
        stream.finish()
        return flow

    assert asyncio.run(run()) == []


def test_a_streaming_invocation_whose_request_went_away_runs_on_unread() -> None:
    """Cancelled while it waits for the stream (the server stopping): the invocation runs
    on to its end, and the stream it may begin is marked as one nobody reads."""

    async def run() -> tuple[bool, bool]:
        seen: dict[str, Any] = {}

        class Pool:
            async def invoke(self, payload: bytes, started: Any = None, **options: Any) -> str:
                seen["started"] = started
                await asyncio.sleep(0.05)
                seen["ended"] = True
                return "outcome"

        class Emulator:
            def pool(self, name: str) -> Pool:
                return Pool()

        emulator: Any = Emulator()
        waiting = asyncio.ensure_future(invoke_streaming(emulator, "f", b"{}"))
        await asyncio.sleep(0.01)
        waiting.cancel()
        with pytest.raises(asyncio.CancelledError):
            await waiting
        await asyncio.sleep(0.1)
        return seen["started"].cancelled(), seen.get("ended", False)

    assert asyncio.run(run()) == (True, True)
