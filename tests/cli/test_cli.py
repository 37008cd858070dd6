"""The ``faasport`` command line: exit codes, one-line errors, and real runs of each command."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner, Result

from apps import APPS
from cli_output import one_error_line
from faasport import aws, events
from faasport.cli.main import main
from faasport.testing import LambdaContext
from faasport.testing.events import codec_for

PHONEY = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "phoney"
HTTP_SOURCES = ["apigw-v1", "apigw-v2", "alb", "function-url"]
BAD_MEMORY = '[functions.api]\napp = "phoney.main:app"\nmemory = 99999\n'


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin)


@pytest.mark.parametrize(
    "args",
    [[], ["dev"], ["invoke"], ["events"], ["events", "generate"]],
)
def test_every_command_has_help(args: list[str]) -> None:
    result = run(*args, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.stdout


def test_usage_errors_exit_2() -> None:
    assert run("dev", "--port", "http").exit_code == 2
    assert run("events", "generate", "sqs-but-not-really").exit_code == 2
    assert run("events", "generate", "alb", "--header", "no-colon").exit_code == 2
    assert run("events", "generate", "apigw-v2", "--body", "a", "--body", "b").exit_code == 2
    assert run("events", "generate", "dynamodb", "--body", "[1]").exit_code == 2  # not an item
    assert run("nonsense").exit_code == 2


# -- events generate ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["sqs", "--body", '{"item": 1}', "--body", "two", "--name", "jobs"], "aws.sqs jobs 2"),
        (["sns", "--body", "disk full"], "aws.sns alerts 1"),
        (["s3", "--key", "in/a b.txt", "--name", "photos", "--removed"], "aws.s3 photos 1"),
        (["schedule", "--name", "nightly"], "aws.events nightly 1"),
    ],
)
def test_generated_record_events_read_back_as_records(args: list[str], expected: str) -> None:
    result = run("events", "generate", *args)
    assert result.exit_code == 0, result.output
    records = events.records(json.loads(result.stdout))
    channels = {
        getattr(r, "channel", None) or getattr(r, "bucket", None) or r.name for r in records
    }  # type: ignore[union-attr]
    assert f"{records[0].source} {channels.pop()} {len(records)}" == expected


def test_a_generated_sqs_batch_drives_the_phoney_worker() -> None:
    generated = run("events", "generate", "sqs", "--body", '{"item": 1}', "--body", "not json")
    batch = json.loads(generated.stdout)
    result = run(
        "invoke", "worker", "--project", str(PHONEY), "--event", "-", stdin=generated.stdout
    )
    assert result.exit_code == 0, result.output
    failed = batch["Records"][1]["messageId"]
    assert json.loads(result.stdout) == {"batchItemFailures": [{"itemIdentifier": failed}]}


@pytest.mark.parametrize("source", HTTP_SOURCES)
def test_generated_events_are_accepted_by_aws_handler(source: str) -> None:
    result = run(
        "events",
        "generate",
        source,
        "--method",
        "POST",
        "--path",
        "/echo/hello",
        "--body",
        "ping",
        "--header",
        "X-Test: yes",
        "--query",
        "a=1",
        "--query",
        "b=two words",
    )
    assert result.exit_code == 0, result.output
    event = json.loads(result.stdout)
    handler = aws.handler(APPS["starlette"]())
    answer = codec_for(source)[0].parse_result(handler(event, LambdaContext()))
    assert answer.status == 200
    seen = json.loads(answer.body)
    assert (seen["method"], seen["route_path"]) == ("POST", "/echo/hello")
    assert seen["query"] == [["a", "1"], ["b", "two words"]]
    assert ["x-test", "yes"] in seen["headers"]
    assert bytes.fromhex(seen["body"]) == b"ping"


# -- invoke ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def items_event(tmp_path_factory: pytest.TempPathFactory) -> Path:
    result = run("events", "generate", "apigw-v2", "--path", "/items/5", "--query", "q=x")
    assert result.exit_code == 0
    path = tmp_path_factory.mktemp("events") / "items.json"
    path.write_text(result.stdout)
    return path


def test_invoke_with_an_event_file(items_event: Path) -> None:
    result = run("invoke", "api", "--project", str(PHONEY), "--event", str(items_event))
    assert result.exit_code == 0, result.output
    answer: dict[str, Any] = json.loads(result.stdout)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"]) == {"item_id": 5, "q": "x"}
    assert re.search(r"^START RequestId: \S+ Version: \$LATEST$", result.stderr, re.M)
    assert re.search(r"^REPORT RequestId: .*\tMemory Size: 512 MB\t", result.stderr, re.M)


def sqs_record(message_id: str, body: str) -> dict[str, Any]:
    return {
        "messageId": message_id,
        "body": body,
        "attributes": {"ApproximateReceiveCount": "1"},
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:phoney-jobs",
    }


def test_invoke_with_the_event_on_stdin() -> None:
    jobs = ['{"item": 1}', "not json", '{"item": 3}']
    records = json.dumps({"Records": [sqs_record(f"m{i}", job) for i, job in enumerate(jobs)]})
    result = run("invoke", "worker", "--project", str(PHONEY), "--event", "-", stdin=records)
    assert result.exit_code == 0, result.output
    # The job that cannot be read is retried alone.
    assert json.loads(result.stdout) == {"batchItemFailures": [{"itemIdentifier": "m1"}]}


def test_invoke_unknown_function() -> None:
    result = run("invoke", "nope", "--project", str(PHONEY))
    line = one_error_line(result)
    assert '"nope"' in line and "api, worker" in line


def test_invoke_missing_event_file(tmp_path: Path) -> None:
    missing = tmp_path / "missing.json"
    result = run("invoke", "api", "--project", str(PHONEY), "--event", str(missing))
    assert str(missing) in one_error_line(result)


def test_invoke_event_that_is_not_json() -> None:
    result = run("invoke", "worker", "--project", str(PHONEY), "--event", "-", stdin="{nope")
    assert "not valid JSON" in one_error_line(result)


def test_invoke_function_that_fails_prints_the_lambda_error_document() -> None:
    result = run("invoke", "api", "--project", str(PHONEY), "--event", "-", stdin="{}")
    assert result.exit_code == 1
    assert json.loads(result.stdout)["errorType"] == "UnsupportedEventError"
    assert result.stderr.strip().splitlines()[-1].startswith('error: function "api" failed: ')


@pytest.mark.parametrize("command", [["invoke", "api", "--project", "."], ["dev", "."]])
def test_bad_config_is_one_line_naming_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    (tmp_path / "faasport.toml").write_text(BAD_MEMORY)
    monkeypatch.chdir(tmp_path)
    result = run(*command)
    assert one_error_line(result) == (
        "error: faasport.toml: functions.api.memory: must be an integer from 128 to 10240, "
        "got 99999"
    )


def test_missing_config(tmp_path: Path) -> None:
    result = run("dev", str(tmp_path))
    assert "faasport.toml" in one_error_line(result)


# -- real processes ----------------------------------------------------------------------


def faasport(*args: str, **kwargs: Any) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "faasport.cli.main", *args],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        **kwargs,
    )


@pytest.fixture
def dev_server() -> Iterator[tuple[subprocess.Popen[str], queue.Queue[str]]]:
    process = faasport(
        "dev", str(PHONEY), "--port", "0", "--lambda-port", "0", "--services-port", "0"
    )
    lines: queue.Queue[str] = queue.Queue()
    assert process.stderr is not None
    stderr = process.stderr

    def read() -> None:
        for line in stderr:
            lines.put(line.rstrip("\n"))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        yield process, lines
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        reader.join(timeout=10)
        stderr.close()


def wait_for_url(lines: queue.Queue[str], timeout: float = 30.0) -> str:
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen.append(line)
        found = re.match(r"Listening on (http://\S+)", line)
        if found:
            return found.group(1)
    raise AssertionError(f"faasport dev did not start: {seen}")


def test_dev_serves_the_project_and_stops_on_sigterm(
    dev_server: tuple[subprocess.Popen[str], queue.Queue[str]],
) -> None:
    process, lines = dev_server
    url = wait_for_url(lines)
    with httpx.Client(base_url=url, timeout=30) as client:
        deadline = time.monotonic() + 30
        while True:
            try:
                health = client.get("/health")
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        assert client.get("/items/3").json() == {"item_id": 3, "q": None}
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=15) == 0


def test_dev_with_bad_config_exits_1_without_traceback(tmp_path: Path) -> None:
    (tmp_path / "faasport.toml").write_text(BAD_MEMORY)
    process = faasport("dev", ".", cwd=tmp_path)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 1
    assert stderr.splitlines() == [
        "error: faasport.toml: functions.api.memory: must be an integer from 128 to 10240, "
        "got 99999"
    ]


def test_an_empty_event_on_stdin_is_named_as_such() -> None:
    result = run("invoke", "worker", "--project", str(PHONEY), "--event", "-", stdin="\n")
    assert result.exit_code == 1
    assert result.stderr.strip() == (
        "error: stdin is empty: the event is a JSON document, {} at least"
    )
