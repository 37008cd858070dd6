"""The Runtime API of one environment, driven by faasport's real runtime client over TCP
and a Unix socket: invocations handed to /next, results, errors, and extension registration."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from faasport.aws.runtime_client import EXTENSION_PREFIX, PREFIX, RuntimeClient
from faasport.local.outcome import Status
from faasport.local.runtime_api import Invocation, RuntimeApi

T = TypeVar("T")


class Loop:
    """An event loop on a thread, as the emulator runs one."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    def close(self) -> None:
        async def cancel_the_rest() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(cancel_the_rest())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture
def loop() -> Iterator[Loop]:
    running = Loop()
    yield running
    running.close()


@pytest.fixture(params=["tcp", "unix"])
def served(
    request: pytest.FixtureRequest, loop: Loop, tmp_path: Path
) -> Iterator[tuple[RuntimeApi, RuntimeClient]]:
    async def serve() -> tuple[RuntimeApi, RuntimeClient]:
        api = RuntimeApi("arn:aws:lambda:us-east-1:123456789012:function:fn", "fn", "m.h")
        address = await api.serve_tcp()
        socket = None
        if request.param == "unix":
            socket = str(tmp_path / "api.sock")
            await api.serve_unix(socket)
        return api, RuntimeClient(address, socket)

    api, client = loop.run(serve())
    yield api, client
    if client.sock is not None:
        client.sock.close()
    loop.loop.call_soon_threadsafe(api.close)


def submit(loop: Loop, api: RuntimeApi, payload: bytes) -> Invocation:
    async def put() -> Invocation:
        invocation = Invocation(payload, deadline_ms=int(time.time() * 1000) + 3000)
        invocation.result = asyncio.get_running_loop().create_future()
        api.submit(invocation)
        return invocation

    return loop.run(put())


def result(loop: Loop, invocation: Invocation) -> tuple[Status, bytes]:
    async def wait() -> tuple[Status, bytes]:
        assert invocation.result is not None
        return await invocation.result

    return loop.run(wait())


def test_invocations_reach_next_and_results_come_back(
    loop: Loop, served: tuple[RuntimeApi, RuntimeClient]
) -> None:
    api, client = served
    first = submit(loop, api, b'{"n": 1}')
    body, headers = client.next()
    assert api.ready.is_set()
    assert json.loads(body) == {"n": 1}
    assert headers["lambda-runtime-aws-request-id"] == first.request_id
    assert headers["lambda-runtime-invoked-function-arn"].endswith(":function:fn")
    assert int(headers["lambda-runtime-deadline-ms"]) == first.deadline_ms
    second = submit(loop, api, b'{"n": 2}')
    # Pipelined: the response and the next /next in one write.
    body, headers = client.respond_and_next(first.request_id, b'"one"')
    assert result(loop, first) == (Status.OK, b'"one"')
    assert headers["lambda-runtime-aws-request-id"] == second.request_id
    assert client.fail(second.request_id, ValueError("broken")) == 202
    status, error = result(loop, second)
    assert status is Status.FUNCTION_ERROR
    assert json.loads(error)["errorType"] == "ValueError"


def test_a_result_posted_with_the_next_poll_is_answered_with_the_next_invocation(
    loop: Loop, served: tuple[RuntimeApi, RuntimeClient]
) -> None:
    # One send and one wake-up of the runtime per invocation: the 202 to a result waits for
    # the /next pipelined behind it; a result posted alone is answered at once.
    api, client = served
    first = submit(loop, api, b"1")
    client.next()
    sock = client.sock
    assert sock is not None
    sock.sendall(
        client._encode("POST", f"{PREFIX}/invocation/{first.request_id}/response", b'"one"')
        + client._encode("GET", f"{PREFIX}/invocation/next")
    )
    assert result(loop, first) == (Status.OK, b'"one"')
    sock.settimeout(0.2)
    with pytest.raises(TimeoutError):
        sock.recv(65536)  # nothing yet: the 202 is held
    second = submit(loop, api, b"2")
    sock.settimeout(5)
    answer = b""
    while answer.count(b"\r\n\r\n") < 2 or not answer.endswith(b"2"):
        answer += sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 202 Accepted\r\n")
    assert f"lambda-runtime-aws-request-id: {second.request_id}".encode() in answer
    assert client.respond(second.request_id, b'"two"') == 202  # alone: answered at once
    assert result(loop, second) == (Status.OK, b'"two"')


def test_results_for_no_or_another_invocation_are_refused(
    loop: Loop, served: tuple[RuntimeApi, RuntimeClient]
) -> None:
    api, client = served
    status, _, body = client.request("POST", f"{PREFIX}/invocation/abc/response", b"{}")
    assert (status, json.loads(body)["errorType"]) == (403, "InvalidStateTransition")
    invocation = submit(loop, api, b"{}")
    client.next()
    status, _, body = client.request("POST", f"{PREFIX}/invocation/other/response", b"{}")
    assert (status, json.loads(body)["errorType"]) == (400, "InvalidRequestID")
    status, _, _ = client.request("GET", f"{PREFIX}/nothing")
    assert status == 404
    assert not invocation.result.done()  # type: ignore[union-attr]


def test_response_over_6_mb_is_refused_and_fails_the_invocation(
    loop: Loop, served: tuple[RuntimeApi, RuntimeClient]
) -> None:
    api, client = served
    invocation = submit(loop, api, b"{}")
    client.next()
    path = f"{PREFIX}/invocation/{invocation.request_id}/response"
    status, _, _ = client.request("POST", path, b"x" * (6 * 1024 * 1024 + 1))
    assert status == 413
    assert result(loop, invocation)[0] is Status.TOO_LARGE


def test_init_error_is_kept(served: tuple[RuntimeApi, RuntimeClient]) -> None:
    api, client = served
    message = "Unable to import module 'x': No module named 'x'"
    assert client.init_error("Runtime.ImportModuleError", message) == 202
    assert api.init_error is not None
    assert json.loads(api.init_error) == {
        "errorMessage": message,
        "errorType": "Runtime.ImportModuleError",
        "requestId": "",
        "stackTrace": [],
    }


def test_internal_extension_registers_during_init_only(
    loop: Loop, served: tuple[RuntimeApi, RuntimeClient]
) -> None:
    api, client = served
    register = f"{EXTENSION_PREFIX}/register"
    name = {"Lambda-Extension-Name": "probe"}
    status, _, body = client.request("POST", register, b'{"events":["SHUTDOWN"]}', name)
    assert status == 400 and b"internal extension" in body
    status, _, _ = client.request("POST", register, b'{"events":[]}')
    assert status == 400  # no name
    status, headers, body = client.request("POST", register, b'{"events":[]}', name)
    assert status == 200
    assert json.loads(body) == {
        "functionName": "fn",
        "functionVersion": "$LATEST",
        "handler": "m.h",
    }
    assert api.extensions == {headers["lambda-extension-identifier"]: "probe"}
    status, _, _ = client.request(
        "GET", f"{EXTENSION_PREFIX}/event/next", headers={"Lambda-Extension-Identifier": "x"}
    )
    assert status == 403
    submit(loop, api, b"{}")
    client.next()  # init is over
    status, _, body = client.request("POST", register, b'{"events":[]}', name)
    assert status == 403


def test_extension_event_next_ends_with_the_environment(
    loop: Loop, served: tuple[RuntimeApi, RuntimeClient]
) -> None:
    api, client = served
    _, headers, _ = client.request(
        "POST", f"{EXTENSION_PREFIX}/register", b'{"events":[]}', {"Lambda-Extension-Name": "x"}
    )
    identifier = headers["lambda-extension-identifier"]
    ended = threading.Event()

    def wait() -> None:
        try:
            client.request(
                "GET",
                f"{EXTENSION_PREFIX}/event/next",
                headers={"Lambda-Extension-Identifier": identifier},
            )
        except OSError:
            ended.set()

    waiter = threading.Thread(target=wait, daemon=True)
    waiter.start()
    assert not ended.wait(0.2)  # a long-poll: nothing to say while the environment lives
    loop.loop.call_soon_threadsafe(api.close)
    assert ended.wait(5)


def raw_exchange(api: RuntimeApi, client: RuntimeClient, data: bytes, answers: int) -> bytes:
    """Send raw bytes on the client's own connection; read ``answers`` HTTP responses."""
    client.sock = client.sock or client._connect()
    client.sock.sendall(data)
    got = b""
    for _ in range(answers):
        status, _, body = client._response(client.sock)
        got += f"{status} ".encode() + body + b"\n"
    return got


def test_chunked_bodies_and_expect_continue_are_understood(
    loop: Loop, served: tuple[RuntimeApi, RuntimeClient]
) -> None:
    api, client = served
    invocation = submit(loop, api, b"{}")
    client.next()
    path = f"{PREFIX}/invocation/{invocation.request_id}/response"
    chunked = (
        f"POST {path} HTTP/1.1\r\nHost: r\r\nTransfer-Encoding: chunked\r\n"
        'Expect: 100-continue\r\n\r\n4\r\n"abc\r\n1\r\n"\r\n0\r\n\r\n'
    ).encode()
    answer = raw_exchange(api, client, chunked, 2)
    assert answer.startswith(b"100 ")  # the interim answer, then the 202
    assert b"202 " in answer
    assert result(loop, invocation) == (Status.OK, b'"abc"')


def test_malformed_request_is_a_400_and_closes(served: tuple[RuntimeApi, RuntimeClient]) -> None:
    api, client = served
    answer = raw_exchange(api, client, b"GET / HTTP/1.1\r\nBad Header\r\n\r\n", 1)
    assert answer.startswith(b"400 ")
    assert client.sock is not None and client.sock.recv(10) == b""
