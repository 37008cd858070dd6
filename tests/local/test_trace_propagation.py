"""A function calling another through the local Invoke API with boto3 keeps its X-Ray
trace: botocore sends X-Amzn-Trace-Id from _X_AMZN_TRACE_ID, which the runtime client set
from the invocation's Lambda-Runtime-Trace-Id."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from faasport.local.emulator import Emulator
from faasport.local.invoke_api import InvokeApi
from faasport.local.spec import FunctionSpec

FUNCTIONS = """
import json
import boto3
from faasport.core import trace

def front(event, context):
    client = boto3.client(
        "lambda", endpoint_url=event["url"], region_name="us-east-1",
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )
    answer = client.invoke(FunctionName="back", Payload=b"{}")
    return {"front": trace.trace_id(), "back": json.loads(answer["Payload"].read())}

def back(event, context):
    return trace.trace_id()
"""


@pytest.fixture(scope="module")
def port(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    root = tmp_path_factory.mktemp("traced")
    (root / "fns.py").write_text(textwrap.dedent(FUNCTIONS))
    specs = [FunctionSpec(name, f"fns.{name}", Path(root)) for name in ("front", "back")]
    runtime = Emulator(specs, log=lambda line: None)
    runtime.start()
    api = InvokeApi(runtime)
    yield runtime.call(api.start("127.0.0.1", 0))
    runtime.call(api.close())
    runtime.stop()


def client(port: int) -> Any:
    return boto3.client(
        "lambda",
        endpoint_url=f"http://127.0.0.1:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )


def invoke_front(port: int, headers: dict[str, str]) -> dict[str, Any]:
    lam = client(port)

    def add_headers(request: Any, **kwargs: Any) -> None:
        for key, value in headers.items():
            request.headers[key] = value

    lam.meta.events.register("before-send.lambda.Invoke", add_headers)
    payload = json.dumps({"url": f"http://127.0.0.1:{port}"}).encode()
    result: dict[str, Any] = json.loads(
        lam.invoke(FunctionName="front", Payload=payload)["Payload"].read()
    )
    return result


def test_the_called_function_shares_the_callers_trace(port: int) -> None:
    first = invoke_front(port, {})
    second = invoke_front(port, {})
    assert first["front"] is not None and len(first["front"]) == 32
    assert first["back"] == first["front"]
    # Each top-level invocation starts its own trace.
    assert second["front"] != first["front"] and second["back"] == second["front"]


def test_a_callers_trace_header_is_kept_and_a_malformed_one_replaced(port: int) -> None:
    given = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
    kept = invoke_front(port, {"X-Amzn-Trace-Id": given})
    assert kept == {"front": "5759e988bd862e3fe1be46a994272793", "back": kept["front"]}
    replaced = invoke_front(port, {"X-Amzn-Trace-Id": "Root=garbage"})
    assert replaced["front"] is not None and replaced["front"] != kept["front"]
    assert replaced["back"] == replaced["front"]
