"""faasport's runtime client streaming a response, checked byte for byte against a recording
Runtime API: the request AWS documents for custom runtimes (``Lambda-Runtime-Function-
Response-Mode: streaming``, chunked transfer coding, the HTTP integration prelude and eight
NUL bytes, the error trailers)."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from faasport.aws.runtime_client import PREFIX, STREAM_SNDBUF, RuntimeClient
from faasport.aws.streaming import FIRST_BYTES, StreamWriter
from recording_runtime import Recorder

APP = textwrap.dedent(
    """
    from faasport import aws

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            return
        await send({"type": "http.response.start", "status": 201, "headers": [
            (b"content-type", b"text/plain"), (b"set-cookie", b"a=1"), (b"x-many", b"1"),
            (b"x-many", b"2")]})
        await send({"type": "http.response.body", "body": b"one", "more_body": True})
        if scope["path"] == "/boom":
            raise RuntimeError("broke mid-stream")
        await send({"type": "http.response.body", "body": b"two", "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    def generate(event, context):
        yield "plain "
        yield b"bytes"

    def early(event, context):
        raise ValueError("before any byte")
        yield b"never"

    http = aws.handler(app, stream=True, lifespan="off")
    gen = aws.handler(generate, stream=True)
    fails = aws.handler(early, stream=True)
    unimportable = aws.handler("nowhere_to_be_found:app", stream=True, health_path="/health")
    """
)

EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/feed",
    "rawQueryString": "",
    "headers": {"host": "abc.lambda-url.us-east-1.on.aws"},
    "requestContext": {
        "domainName": "abc.lambda-url.us-east-1.on.aws",
        "http": {"method": "GET", "path": "/feed", "protocol": "HTTP/1.1", "sourceIp": "1.2.3.4"},
        "requestId": "r",
        "routeKey": "$default",
        "stage": "$default",
        "timeEpoch": 0,
    },
    "isBase64Encoded": False,
}

HEAD = (
    b"POST /2018-06-01/runtime/invocation/req-1/response HTTP/1.1\r\n"
    b"Host: runtime\r\n"
    b"Lambda-Runtime-Function-Response-Mode: streaming\r\n"
    b"Transfer-Encoding: chunked\r\n"
    b"Content-Type: %s\r\n"
    b"Trailer: Lambda-Runtime-Function-Error-Type, Lambda-Runtime-Function-Error-Body\r\n"
    b"\r\n"
)


def chunk(data: bytes) -> bytes:
    return f"{len(data):x}\r\n".encode() + data + b"\r\n"


@pytest.fixture
def run(tmp_path: Path) -> Iterator[object]:
    (tmp_path / "stream_app.py").write_text(APP)
    processes: list[subprocess.Popen[bytes]] = []

    def start(handler: str, event: dict[str, object]) -> tuple[bytes, str]:
        recorder = Recorder(event)
        process = subprocess.Popen(
            [sys.executable, "-m", "faasport.aws.runtime_client"],
            env={
                "PATH": "/usr/bin:/bin",
                "PYTHONPATH": ":".join([str(tmp_path), *sys.path]),
                "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{recorder.port}",
                "_HANDLER": f"stream_app.{handler}",
            },
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        processes.append(process)
        assert recorder.done.wait(20), "the runtime client never asked for the next invocation"
        process.kill()
        output, _ = process.communicate(timeout=10)
        recorder.server.close()
        return recorder.recorded, output.decode()

    yield start
    for process in processes:
        if process.poll() is None:
            process.kill()


def test_http_response_streams_with_the_documented_bytes(run) -> None:  # type: ignore[no-untyped-def]
    recorded, _ = run("http", EVENT)
    prelude = (
        b'{"statusCode":201,"headers":{"content-type":"text/plain","x-many":"1, 2"},'
        b'"cookies":["a=1"]}' + b"\0" * 8
    )
    expected = (
        HEAD % b"application/vnd.awslambda.http-integration-response"
        + chunk(prelude)
        + chunk(b"one")
        + chunk(b"two")
        + b"0\r\n\r\n"
    )
    assert recorded == expected


def test_error_mid_stream_ends_with_the_error_trailers(run) -> None:  # type: ignore[no-untyped-def]
    event = json.loads(json.dumps(EVENT).replace("/feed", "/boom"))
    recorded, stderr = run("http", event)
    body, _, trailer = recorded.rpartition(b"0\r\nLambda-Runtime-Function-Error-Type: ")
    assert body.endswith(chunk(b"one"))
    assert b"two" not in body
    error_type, _, rest = trailer.partition(b"\r\n")
    assert error_type == b"RuntimeError"
    name, _, value = rest.partition(b": ")
    assert name == b"Lambda-Runtime-Function-Error-Body"
    assert value.endswith(b"\r\n\r\n")
    document = json.loads(base64.b64decode(value[:-4], validate=True))
    assert document["errorType"] == "RuntimeError"
    assert document["errorMessage"] == "broke mid-stream"
    assert "broke mid-stream" in stderr  # and logged


def test_plain_generator_streams_octet_stream(run) -> None:  # type: ignore[no-untyped-def]
    recorded, _ = run("gen", {"any": "event"})
    expected = HEAD % b"application/octet-stream" + chunk(b"plain ") + chunk(b"bytes")
    expected += b"0\r\n\r\n"
    assert recorded == expected


def test_failure_before_the_first_byte_is_no_stream(run) -> None:  # type: ignore[no-untyped-def]
    recorded, _ = run("fails", {"any": "event"})
    head, _, body = recorded.partition(b"\r\n\r\n")
    assert head.startswith(b"POST /2018-06-01/runtime/invocation/req-1/error HTTP/1.1")
    assert b"Lambda-Runtime-Function-Response-Mode" not in head
    assert json.loads(body)["errorMessage"] == "before any byte"


def _streamed_http(recorded: bytes) -> tuple[dict[str, object], bytes]:
    head, _, chunked = recorded.partition(b"\r\n\r\n")
    assert b"\r\nLambda-Runtime-Function-Response-Mode: streaming\r\n" in head
    body = b""
    while True:
        size_line, _, chunked = chunked.partition(b"\r\n")
        size = int(size_line, 16)
        if size == 0:
            break
        body, chunked = body + chunked[:size], chunked[size + 2 :]
    prelude, _, rest = body.partition(b"\0" * 8)
    return json.loads(prelude), rest


def test_a_health_check_streams_without_importing_the_app(run) -> None:  # type: ignore[no-untyped-def]
    event = json.loads(json.dumps(EVENT).replace("/feed", "/health"))
    prelude, _ = _streamed_http(run("unimportable", event)[0])
    assert prelude["statusCode"] == 200
    # Any other path needs the app, whose import fails: a 500 that hides the exception.
    recorded, stderr = run("unimportable", EVENT)
    prelude, body = _streamed_http(recorded)
    assert prelude["statusCode"] == 500
    assert json.loads(body)["message"] == "Internal Server Error"
    assert "nowhere_to_be_found" in stderr and b"nowhere" not in body


def test_the_first_bytes_go_out_on_a_small_send_buffer(tmp_path: Path) -> None:
    """On the local Runtime API's Unix socket, a function that streams faster than its
    first chunk is read waits for it instead of writing a megabyte ahead (taking the CPU
    the Runtime API needs to pass that chunk on); past its first bytes it gets the large
    buffer again."""
    path = str(tmp_path / "runtime.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    client = RuntimeClient("127.0.0.1:9001", unix_socket=path)
    writer = StreamWriter(client, f"{PREFIX}/invocation/req-1/response")
    block = b"x" * 65536
    failed: list[BaseException] = []

    def produce() -> None:
        try:
            writer.start(200, [(b"content-type", b"application/octet-stream")])
            for _ in range(40):
                writer.write(block)
            writer.end()
        except BaseException as exc:
            failed.append(exc)

    producer = threading.Thread(target=produce, daemon=True)
    producer.start()
    server, _ = listener.accept()
    try:
        # Nothing is read: the producer writes until the socket is full, then waits.
        deadline = time.monotonic() + 10
        while not writer.sent and time.monotonic() < deadline:
            time.sleep(0.01)
        sent = -1
        while sent != writer.sent:
            sent = writer.sent
            time.sleep(0.1)
        assert 0 < sent <= FIRST_BYTES
        received = bytearray()
        while not received.endswith(b"0\r\n\r\n"):
            data = server.recv(1 << 20)
            assert data, "the runtime client closed the stream"
            received += data
        producer.join(10)
        assert not failed
        assert received.count(block) == 40
        assert client.sock is not None
        # Linux reports twice the size asked for (its bookkeeping overhead).
        assert client.sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF) >= STREAM_SNDBUF
    finally:
        server.close()
        listener.close()
        if client.sock is not None:
            client.sock.close()
