"""faasport logs --cloud aws: CloudWatch Logs read through boto3 from moto's server, shown as
faasport dev shows its log; the stage's log group; filters, --since, --tail; and the
failures as one line."""

from __future__ import annotations

import contextlib
import re
import time
from pathlib import Path
from typing import Any

import boto3
import pytest
from click.testing import CliRunner, Result

from cli_output import one_error_line
from faasport.cli.main import main
from faasport.config import load_project
from faasport.deploy.logs import follow, reader
from projects import write_project

CONFIG = """
name = "shop"
[functions.api]
app = "shop.web:app"
[stages.prod]
"""
TIME = r"\d\d:\d\d:\d\d"


def invocation(request_id: str, text: str, init: bool) -> list[str]:
    """The lines Lambda's Python runtime writes for one invocation of faasport's app."""
    report = (
        f"REPORT RequestId: {request_id}\tDuration: 12.34 ms\tBilled Duration: 13 ms\t"
        "Memory Size: 512 MB\tMax Memory Used: 61 MB"
    )
    return [
        f"START RequestId: {request_id} Version: $LATEST",
        f'{{"level":"INFO","message":"{text}","logger":"shop","requestId":"{request_id}"}}',
        f"[ERROR]\t2026-11-28T21:00:00.000Z\t{request_id}\tfailed {text}",
        f"END RequestId: {request_id}",
        report + ("\tInit Duration: 250.00 ms" if init else ""),
    ]


def put(client: Any, group: str, lines: list[str], at: float) -> None:
    with contextlib.suppress(client.exceptions.ResourceAlreadyExistsException):
        client.create_log_group(logGroupName=group)
    stream = f"2026/11/28/[$LATEST]{time.monotonic_ns()}"
    client.create_log_stream(logGroupName=group, logStreamName=stream)
    events = [{"timestamp": int(at * 1000) + i, "message": line} for i, line in enumerate(lines)]
    client.put_log_events(logGroupName=group, logStreamName=stream, logEvents=events)


@pytest.fixture
def logs(aws_env: str) -> Any:
    return boto3.client("logs", region_name="us-east-1", endpoint_url=aws_env)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_project(tmp_path / "shop", CONFIG)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["logs", *args])


def shown(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [re.sub(TIME, "T", line) for line in result.stdout.splitlines()]


def test_the_functions_log_group_in_the_readable_format(logs: Any, root: Path) -> None:
    now = time.time()
    put(logs, "/aws/lambda/shop-api", invocation("r1", "item 1", True), now - 5)
    put(logs, "/aws/lambda/shop-api", invocation("r2", "item 2", False), now - 2)
    lines = shown(run("api", "--cloud", "aws", "--project", str(root)))
    assert lines == [
        "T api INFO  item 1",
        "T api ERROR failed item 1",
        "T api invocation 12.3 ms 61 MB cold (init 250.0 ms)",
        "T api INFO  item 2",
        "T api ERROR failed item 2",
        "T api invocation 12.3 ms 61 MB warm",
    ]
    # The deployed name works as well as the short one.
    assert shown(run("shop-api", "--cloud", "aws", "--project", str(root))) == lines


def test_a_stage_reads_the_stages_log_group(logs: Any, root: Path) -> None:
    put(logs, "/aws/lambda/shop-prod-api", invocation("p1", "prod item", False), time.time())
    lines = shown(run("api", "--cloud", "aws", "--stage", "prod", "--project", str(root)))
    assert "T api INFO  prod item" in lines
    assert not any("item 1" in line for line in lines)


def test_filter_and_since(logs: Any, root: Path) -> None:
    group = "/aws/lambda/shop-api"
    now = time.time()
    put(logs, group, invocation("old", "old item", False), now - 7200)
    put(logs, group, invocation("f1", "wanted needle", False), now - 1)
    args = ("api", "--cloud", "aws", "--project", str(root))
    assert shown(run(*args, "--filter", "needle")) == [
        "T api INFO  wanted needle",
        "T api ERROR failed wanted needle",
    ]
    assert not any("old item" in line for line in shown(run(*args)))
    assert "T api INFO  old item" in shown(run(*args, "--since", "3h"))


def test_follow_gives_new_events_once(logs: Any, root: Path) -> None:
    group = "/aws/lambda/shop-api"
    now = time.time()
    put(logs, group, ["first"], now - 1)
    source = reader("aws", load_project(root), load_project(root).functions["api"])
    polls = []

    def running() -> bool:
        polls.append(1)
        if len(polls) == 1:
            put(logs, group, ["second", "third"], time.time())
        return len(polls) < 3

    got = [e.message for e in follow(source, now - 2, "hir", interval=0, running=running)]
    # Only "third" holds "hir"; it comes once though read twice.
    assert got.count("third") == 1 and "first" not in got and "second" not in got
    got = [e.message for e in follow(source, now - 2, None, interval=0, running=lambda: False)]
    assert got.count("first") == 1


def test_a_function_never_deployed_is_one_line(aws_env: str, tmp_path: Path) -> None:
    root = write_project(tmp_path / "ghost", CONFIG.replace('"shop"', '"ghost"'))
    line = one_error_line(run("api", "--cloud", "aws", "--stage", "prod", "--project", str(root)))
    assert "there is no log group /aws/lambda/ghost-prod-api in us-east-1" in line
    assert "faasport deploy aws --stage prod" in line


def test_an_unreachable_endpoint_is_one_line(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from servers import free_port

    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    line = one_error_line(run("api", "--cloud", "aws", "--project", str(root)))
    assert line.startswith("error: cannot read log group /aws/lambda/shop-api in us-east-1: ")


def test_an_unknown_function_or_a_bad_since(root: Path) -> None:
    line = one_error_line(run("nope", "--cloud", "aws", "--project", str(root)))
    assert "nope" in line
    result = run("api", "--since", "yesterday", "--project", str(root))
    assert result.exit_code == 2 and "--since" in result.output
