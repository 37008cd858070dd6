"""faasport's runtime client: Lambda's handler strings resolved, failing as Lambda reports it,
and the internal extension it (or any runtime) registers at import of the entry module."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from tests.lambda_runtime_api import LambdaStyleApi, run_runtime_client

from faasport.aws.runtime_client import HandlerNotFound, init_failure, load_handler


@pytest.fixture
def module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    (tmp_path / "rc_target.py").write_text(
        "class Box:\n    @staticmethod\n    def run(event, context):\n        return 1\n"
        "def handle(event, context):\n    return event\nVALUE = 3\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return "rc_target"


def test_lambda_and_import_string_forms(module: str) -> None:
    assert load_handler(f"{module}.handle")({"a": 1}, None) == {"a": 1}
    assert load_handler(f"{module}:handle")({"b": 2}, None) == {"b": 2}
    assert load_handler(f"{module}:Box.run")(None, None) == 1


@pytest.mark.parametrize(
    ("spec", "error", "message"),
    [
        ("rc_missing.handle", ModuleNotFoundError, "No module named 'rc_missing'"),
        ("rc_target.nothing", HandlerNotFound, "Handler 'nothing' missing on module 'rc_target'"),
        ("rc_target.VALUE", HandlerNotFound, "Handler 'VALUE' on module 'rc_target' is not"),
    ],
)
def test_bad_handlers_fail_as_lambda_reports_them(
    module: str, spec: str, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as raised:
        load_handler(spec)
    assert (
        init_failure(spec, raised.value)[0]
        == {
            ModuleNotFoundError: "Runtime.ImportModuleError",
            HandlerNotFound: "Runtime.HandlerNotFound",
        }[error]
    )


REGISTER = textwrap.dedent(
    """
    import json, sys
    from faasport.aws import extension
    first = extension.register()
    print(json.dumps([first, extension.register()]))
    """
)


def run_register(environ: dict[str, str]) -> list[str | None]:
    done = subprocess.run(
        [sys.executable, "-c", REGISTER],
        env={"PATH": "/usr/bin:/bin", **environ},
        capture_output=True,
        text=True,
        timeout=30,
        check=True,
    )
    result: list[str | None] = json.loads(done.stdout)
    return result


def test_no_registration_outside_lambda() -> None:
    assert run_register({}) == [None, None]


def test_refused_registration_never_fails_init() -> None:
    # Nothing listens there: init goes on without the extension.
    assert run_register({"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9"}) == [None, None]


# -- the invocation loop against a Runtime API that writes as Lambda's does ----------------

CONTEXT_HANDLER = textwrap.dedent(
    """
    import os

    def handle(event, context):
        return {
            "event": event,
            "request_id": context.aws_request_id,
            "arn": context.invoked_function_arn,
            "function": [
                context.function_name,
                context.function_version,
                context.memory_limit_in_mb,
                context.log_group_name,
                context.log_stream_name,
            ],
            "identity": context.identity,
            "client_context": context.client_context,
            "remaining": context.get_remaining_time_in_millis(),
            "trace": os.environ.get("_X_AMZN_TRACE_ID"),
        }
    """
)

FUNCTION_ENVIRON = {
    "AWS_LAMBDA_FUNCTION_NAME": "ctx",
    "AWS_LAMBDA_FUNCTION_VERSION": "7",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/ctx",
    "AWS_LAMBDA_LOG_STREAM_NAME": "2026/01/01/[7]abc",
}


@pytest.mark.parametrize("transport", ["tcp", "unix"])
def test_each_invocation_gets_its_own_context_and_trace(tmp_path: Path, transport: str) -> None:
    (tmp_path / "ctx_target.py").write_text(CONTEXT_HANDLER)
    deadline = int(time.time() * 1000) + 60_000
    arn = "arn:aws:lambda:us-east-1:123456789012:function:ctx"
    first = [
        ("Lambda-Runtime-Aws-Request-Id", "11111111-aaaa"),
        ("Lambda-Runtime-Deadline-Ms", str(deadline)),
        ("Lambda-Runtime-Invoked-Function-Arn", arn),
        ("Lambda-Runtime-Trace-Id", "Root=1-00000001-aaaaaaaaaaaaaaaaaaaaaaaa;Sampled=1"),
        ("Lambda-Runtime-Client-Context", '{"custom": {"k": "v"}}'),
        ("Lambda-Runtime-Cognito-Identity", '{"cognitoIdentityId": "id-1"}'),
    ]
    second = [
        ("Lambda-Runtime-Aws-Request-Id", "22222222-bbbb"),
        ("Lambda-Runtime-Deadline-Ms", str(deadline)),
        ("Lambda-Runtime-Invoked-Function-Arn", arn + ":live"),
    ]
    api = LambdaStyleApi([(first, b'{"n": 1}'), (second, '{"n": "\u00e9"}'.encode())])
    output = run_runtime_client(tmp_path, api, "ctx_target.handle", transport, FUNCTION_ENVIRON)
    assert [path for path, _ in api.posted] == [
        "/2018-06-01/runtime/invocation/11111111-aaaa/response",
        "/2018-06-01/runtime/invocation/22222222-bbbb/response",
    ], output
    one, two = (json.loads(body) for _, body in api.posted)
    function = ["ctx", "7", 256, "/aws/lambda/ctx", "2026/01/01/[7]abc"]
    assert one["event"] == {"n": 1}
    assert one["request_id"] == "11111111-aaaa"
    assert one["arn"] == arn
    assert one["function"] == function
    assert one["identity"] == {"cognitoIdentityId": "id-1"}
    assert one["client_context"] == {"custom": {"k": "v"}}
    assert 50_000 < one["remaining"] <= 60_000
    assert one["trace"] == "Root=1-00000001-aaaaaaaaaaaaaaaaaaaaaaaa;Sampled=1"
    # The second invocation carries no trace, identity or client context: none leaks over.
    assert two["event"] == {"n": "\u00e9"}
    assert two["request_id"] == "22222222-bbbb"
    assert two["arn"] == arn + ":live"
    assert two["function"] == function
    assert two["identity"] is None
    assert two["client_context"] is None
    assert two["trace"] is None


def test_a_send_cut_short_by_a_signal_sends_the_rest_in_order() -> None:
    # A blocking send returns what it sent when a signal arrives while it waits for room:
    # the rest of a chunk must follow, or the stream's framing breaks.
    import signal
    import time

    from faasport.aws.runtime_client import RuntimeClient

    sender, receiver = socket.socketpair()
    sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    client = RuntimeClient("127.0.0.1:1")
    client.sock = sender
    pieces = (b"%x\r\n" % (1 << 20), b"x" * (1 << 20), b"\r\n")
    received = bytearray()

    def read() -> None:
        time.sleep(0.3)  # the send fills the buffer and waits, the signal comes meanwhile
        while len(received) < sum(map(len, pieces)):
            received.extend(receiver.recv(65536))

    signals: list[int] = []
    previous = signal.signal(signal.SIGALRM, lambda number, frame: signals.append(number))
    reader = threading.Thread(target=read)
    reader.start()
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        client.send(*pieces)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        reader.join(10)
        sender.close()
        receiver.close()
    assert signals == [signal.SIGALRM]
    assert bytes(received) == b"".join(pieces)
