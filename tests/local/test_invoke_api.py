"""boto3's real ``lambda`` client against the local Invoke API."""

from __future__ import annotations

import base64
import contextlib
import json
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from faasport.local.emulator import Emulator
from faasport.local.invoke_api import InvokeApi, function_name
from faasport.local.spec import FunctionSpec
from rawhttp import exchange, statuses


@pytest.fixture(scope="module")
def lines() -> list[str]:
    return []


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> Iterator[int]:
    root = tmp_path_factory.mktemp("project")
    (root / "fn.py").write_text(
        textwrap.dedent(
            """
            import time

            def handle(event, context):
                time.sleep(event.get("sleep", 0))
                if event.get("fail"):
                    raise RuntimeError("asked to fail")
                custom = context.client_context and context.client_context.get("custom")
                return {"echo": event, "custom": custom}
            """
        )
    )
    specs = [
        FunctionSpec("echo", "fn.handle", Path(root)),
        FunctionSpec("warm", "fn.handle", Path(root), alias="live"),
        FunctionSpec("single", "fn.handle", Path(root), concurrency=1),
    ]
    runtime = Emulator(specs, log=lines.append)
    runtime.start()
    api = InvokeApi(runtime)
    yield runtime.call(api.start("127.0.0.1", 0))
    runtime.call(api.close())
    runtime.stop()


@pytest.fixture(scope="module")
def client(port: int) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


def test_request_response(client: Any) -> None:
    context = base64.b64encode(json.dumps({"custom": {"k": "v"}}).encode()).decode()
    result = client.invoke(FunctionName="echo", Payload=b'{"a": 1}', ClientContext=context)
    assert result["StatusCode"] == 200
    assert result["ExecutedVersion"] == "$LATEST"
    assert "FunctionError" not in result
    assert json.loads(result["Payload"].read()) == {"echo": {"a": 1}, "custom": {"k": "v"}}


def test_function_error(client: Any) -> None:
    result = client.invoke(FunctionName="echo", Payload=b'{"fail": true}')
    assert result["StatusCode"] == 200
    assert result["FunctionError"] == "Unhandled"
    error = json.loads(result["Payload"].read())
    assert error["errorType"] == "RuntimeError"
    assert error["errorMessage"] == "asked to fail"


def test_event_invocation_runs_later(client: Any, lines: list[str]) -> None:
    before = sum(line.startswith("REPORT") for line in lines)
    result = client.invoke(FunctionName="echo", InvocationType="Event", Payload=b'{"b": 2}')
    assert result["StatusCode"] == 202
    deadline = time.monotonic() + 10
    while sum(line.startswith("REPORT") for line in lines) == before:
        assert time.monotonic() < deadline, "the queued invocation never ran"
        time.sleep(0.01)


def test_dry_run(client: Any) -> None:
    assert client.invoke(FunctionName="echo", InvocationType="DryRun")["StatusCode"] == 204


def test_unknown_function(client: Any) -> None:
    with pytest.raises(client.exceptions.ResourceNotFoundException, match="Function not found"):
        client.invoke(FunctionName="nope", Payload=b"{}")


def test_invalid_json_payload(client: Any) -> None:
    with pytest.raises(client.exceptions.InvalidRequestContentException, match="json"):
        client.invoke(FunctionName="echo", Payload=b"{not json")


def error_of(call: Any) -> tuple[int, str, str]:
    """(HTTP status, error code, message) of the service error ``call`` raises."""
    with pytest.raises(ClientError) as caught:
        call()
    response: Any = caught.value.response
    return (
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Code"],
        response["Error"]["Message"],
    )


def test_payload_over_6_mb(client: Any) -> None:
    # What Lambda answers (the service's own code, not the one in its API model).
    payload = b'"' + b"x" * (6 * 1024 * 1024) + b'"'
    assert error_of(lambda: client.invoke(FunctionName="echo", Payload=payload)) == (
        413,
        "RequestEntityTooLargeException",
        "Request must be smaller than 6291456 bytes for the InvokeFunction operation",
    )


def test_event_payload_over_1_mb_is_refused(client: Any) -> None:
    def event(size: int) -> Any:
        payload = b'"' + b"x" * (size - 2) + b'"'
        return client.invoke(FunctionName="echo", InvocationType="Event", Payload=payload)

    assert error_of(lambda: event(1024 * 1024 + 1)) == (
        413,
        "RequestEntityTooLargeException",
        "1048577 byte payload is too large for the Event invocation type (limit 1048576 bytes)",
    )
    assert event(1024 * 1024)["StatusCode"] == 202


def test_deeply_nested_json_is_400_not_a_dropped_connection(client: Any) -> None:
    payload = b"[" * 100_000 + b"]" * 100_000
    status, code, message = error_of(lambda: client.invoke(FunctionName="echo", Payload=payload))
    assert (status, code) == (400, "InvalidRequestContentException")
    assert message == "Could not parse request body into json: nested too deeply"
    assert client.invoke(FunctionName="echo", Payload=b"{}")["StatusCode"] == 200


def test_ambiguous_framing_is_a_400_in_the_services_shape(port: int) -> None:
    request = (
        b"POST /2015-03-31/functions/echo/invocations HTTP/1.1\r\nhost: x\r\n"
        b"content-length: 2\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n"
    )
    answer = exchange(("127.0.0.1", port), request)
    assert statuses(answer) == [400]
    assert b"x-amzn-errortype: InvalidRequestContentException" in answer
    assert answer.endswith(b'{"Type": "User", "message": "The request is malformed."}')


@pytest.mark.parametrize(
    "name",
    [
        "echo",
        "echo:$LATEST",
        "arn:aws:lambda:us-east-1:123456789012:function:echo",
        "arn:aws:lambda:eu-west-1:123456789012:function:echo:$LATEST",
        "123456789012:function:echo",
        "warm:live",  # the alias its deployment publishes (warm, snapstart)
    ],
)
@pytest.mark.parametrize("how", ["invoke", "stream"])
def test_names_lambda_takes(client: Any, name: str, how: str) -> None:
    if how == "invoke":
        assert client.invoke(FunctionName=name, Payload=b"{}")["StatusCode"] == 200
    else:
        answer = client.invoke_with_response_stream(FunctionName=name, Payload=b"{}")
        assert answer["StatusCode"] == 200
        assert [e for e in answer["EventStream"] if "InvokeComplete" in e]


@pytest.mark.parametrize(
    ("name", "qualifier", "error"),
    [
        ("echo:live", None, "ResourceNotFoundException"),  # no alias without warm/snapstart
        ("echo:7", None, "ResourceNotFoundException"),  # no published versions locally
        ("echo", "bogus", "ResourceNotFoundException"),
        ("echo:$LATEST", "live", "InvalidParameterValueException"),
        ("arn:aws:lambda:us-east-1:123456789012:function:echo:bogus", None, "ResourceNotFound"),
        ("echo!", None, "ValidationException"),
        ("x" * 65, None, "ValidationException"),
    ],
)
@pytest.mark.parametrize("how", ["invoke", "stream"])
def test_names_lambda_refuses(
    client: Any, name: str, qualifier: str | None, error: str, how: str
) -> None:
    call = client.invoke if how == "invoke" else client.invoke_with_response_stream
    options = {"Qualifier": qualifier} if qualifier else {}
    with pytest.raises(ClientError) as refused:
        call(FunctionName=name, Payload=b"{}", **options)
    assert refused.value.response["Error"]["Code"].startswith(error)


def test_function_names_in_paths() -> None:
    assert function_name("/2015-03-31/functions/echo%3A1/invocations") == "echo%3A1"
    assert function_name("/2015-03-31/functions/echo/other") is None


@pytest.mark.parametrize(
    "context",
    [
        base64.b64encode(b"not json").decode(),
        base64.b64encode(b"[1, 2]").decode(),
        base64.b64encode(b'{"a": NaN}').decode(),
        base64.b64encode(json.dumps({"custom": {"k": "v" * 3000}}).encode()).decode(),
    ],
    ids=["not-json", "not-an-object", "nan", "over-3583-bytes"],
)
def test_a_client_context_lambda_would_refuse_is_a_400(client: Any, context: str) -> None:
    """Not the function's error: the request never reaches it."""
    with pytest.raises(ClientError) as refused:
        client.invoke(FunctionName="echo", Payload=b"{}", ClientContext=context)
    assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_payload_that_is_not_json_as_lambda_reads_it_is_refused(client: Any) -> None:
    with pytest.raises(ClientError) as refused:
        client.invoke(FunctionName="echo", Payload=b'{"a": NaN}')
    assert refused.value.response["Error"]["Code"] == "InvalidRequestContentException"


def test_over_its_concurrency_a_call_is_throttled_with_lambdas_reason(
    client: Any, port: int, lines: list[str]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    seen = len(lines)
    other = boto3.client(
        "lambda",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    with ThreadPoolExecutor(1) as pool, contextlib.closing(other):
        slow = pool.submit(other.invoke, FunctionName="single", Payload=b'{"sleep": 2}')
        deadline = time.monotonic() + 10
        while not any(line.startswith("START") for line in lines[seen:]):
            assert time.monotonic() < deadline, "the first call never started"
            time.sleep(0.02)
        with pytest.raises(ClientError) as throttled:  # its only environment is busy
            client.invoke(FunctionName="single", Payload=b"{}")
        assert slow.result()["StatusCode"] == 200
    assert throttled.value.response["Error"]["Code"] == "TooManyRequestsException"
    assert throttled.value.response["Reason"] == (
        "ReservedFunctionConcurrentInvocationLimitExceeded"
    )
