"""``faasport dev --log-format``: the readable log and the JSON one, over a real process."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dev_process import Dev, wait_for
from faasport.local.logformat import SETTLE, PrettyLog, summary
from faasport.local.outcome import Outcome, Status, error_payload
from faasport.local.runtime_api import Invocation
from faasport.testing.events import sqs_event
from log_project import write_log_project

TIME = r"\d\d:\d\d:\d\d"
ESC = "\x1b["


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return write_log_project(tmp_path)


def _run(dev: Dev) -> None:
    """Two requests (a cold then a warm one), an app that raises, a handler that raises."""
    with httpx.Client(base_url=dev.url, timeout=30) as client:
        assert client.get("/items/42").status_code == 201
        assert client.get("/items/43").status_code == 201
        assert client.get("/boom").status_code == 500
    result = dev.client("lambda").invoke(
        FunctionName="worker", Payload=json.dumps(sqs_event("fail")).encode()
    )
    assert result["FunctionError"] == "Unhandled"
    assert json.loads(result["Payload"].read())["errorType"]


def _after_ready(dev: Dev) -> list[str]:
    start = next(i for i, line in enumerate(dev.lines) if line.startswith("AWS services on"))
    return dev.lines[start + 1 :]


@pytest.fixture
def pretty(project: Path) -> Iterator[Dev]:
    server = Dev(project, "--log-format", "pretty")
    try:
        _run(server)
        wait_for(lambda: any("worker sqs 1 record" in line for line in server.lines))
        wait_for(lambda: any("RuntimeError: cannot do it" in x for x in _after_ready(server)))
        yield server
    finally:
        server.close()


def test_pretty_prints_one_line_per_request_instead_of_start_end_report(pretty: Dev) -> None:
    lines = _after_ready(pretty)
    assert not [line for line in lines if re.match(r"(START|END|REPORT) RequestId", line)]
    requests = [line for line in lines if re.match(rf"{TIME} api GET /items/", line)]
    assert len(requests) == 2, lines
    cold, warm = requests
    assert re.fullmatch(
        rf"{TIME} api GET /items/42 201 \d+\.\d ms \d+ MB cold \(init \d+\.\d ms\)", cold
    ), cold
    assert re.fullmatch(rf"{TIME} api GET /items/43 201 \d+\.\d ms \d+ MB warm", warm), warm
    # The app's own line comes before the request's line.
    own = lines.index(next(line for line in lines if "handling /items/42" in line))
    assert re.fullmatch(rf"{TIME} api WARNING handling /items/42", lines[own])
    assert own < lines.index(cold)


def test_pretty_renders_tracebacks_on_several_lines(pretty: Dev) -> None:
    lines = _after_ready(pretty)
    assert any(re.fullmatch(rf"{TIME} api GET /boom 500 .* warm", line) for line in lines)
    error = next(i for i, line in enumerate(lines) if "unhandled exception in app" in line)
    assert re.fullmatch(rf"{TIME} api ERROR unhandled exception in app for GET /boom", lines[error])
    traceback = lines[error + 1 : lines.index("    ValueError: boom <b>") + 1]
    assert traceback[0] == "    Traceback (most recent call last):"
    assert any(line.startswith('      File "') and "webapp.py" in line for line in traceback)
    assert not any("\\n" in line for line in lines)
    # A plain handler's exception: the runtime's own traceback, and the failure in its line.
    failed = next(line for line in lines if " worker sqs 1 record " in line)
    assert re.fullmatch(
        rf"{TIME} worker sqs 1 record function error \d+\.\d ms \d+ MB cold \(init .*\) "
        "RuntimeError: cannot do it",
        failed,
    ), failed
    printed = next(
        i for i, line in enumerate(lines) if re.fullmatch(rf"{TIME} worker Traceback .*", line)
    )
    end = lines.index("    RuntimeError: cannot do it")
    assert all(line.startswith("    ") for line in lines[printed + 1 : end])
    assert any("jobs.py" in line for line in lines[printed + 1 : end])


def test_pretty_has_no_colour_codes_unless_asked(pretty: Dev, project: Path) -> None:
    assert not [line for line in pretty.lines if ESC in line]
    coloured = Dev(project, "--log-format", "pretty", env={"FORCE_COLOR": "1"})
    try:
        with httpx.Client(base_url=coloured.url, timeout=30) as client:
            client.get("/items/1")
        wait_for(lambda: any("GET /items/1" in line for line in coloured.lines))
        line = next(line for line in coloured.lines if "GET /items/1" in line)
        assert f"{ESC}32m201{ESC}0m" in line
        wait_for(lambda: any(f"{ESC}33mWARNING" in line for line in coloured.lines))
    finally:
        coloured.close()


@pytest.mark.parametrize("options", [(), ("--log-format", "json")], ids=["default", "json"])
def test_json_keeps_the_cloud_lines(project: Path, options: tuple[str, ...]) -> None:
    dev = Dev(project, *options)
    try:
        _run(dev)
        assert dev.settled(at_least=4) == 4
        lines = _after_ready(dev)
        reports = [line for line in lines if line.startswith("REPORT RequestId: ")]
        assert len(reports) == 4 and "Init Duration: " in reports[0]
        records = [json.loads(line[6:]) for line in lines if line.startswith("[api] {")]
        failed = next(r for r in records if r.get("message", "").startswith("unhandled exception"))
        assert failed["level"] == "ERROR"
        assert failed["exception"].startswith("Traceback (most recent call last):\n")
        assert not any(re.match(rf"{TIME} api GET", line) for line in lines)
        assert not [line for line in dev.lines if ESC in line]
        # Metrics as the EMF document CloudWatch reads, not as the pretty log shows them.
        (emf,) = [json.loads(line[6:]) for line in lines if line.startswith('[api] {"_aws"')]
        assert emf["ColdStart"] == 1
    finally:
        dev.close()


def test_pretty_shows_metrics_in_a_few_words(pretty: Dev) -> None:
    shown = rf"{TIME} api metrics logs-api: ColdStart=1 Count \[function=logs-api\]"
    assert any(re.fullmatch(shown, line) for line in _after_ready(pretty))


def test_lambda_runtime_lines_get_their_level() -> None:
    """awslambdaric's format, ``[LEVEL]\\ttime\\trequest id\\tmessage``, multi-line with \\r."""
    written: list[str] = []
    log = PrettyLog(written.append)
    log.line("[api] [ERROR]\t2024-01-01T00:00:00.000Z\tabc\tfailed\rTraceback\r  File x")
    log.line("[api] printed text")
    log.line("START RequestId: abc Version: $LATEST")
    assert [re.sub(TIME, "T", line) for line in written] == [
        "T api ERROR failed",
        "    Traceback",
        "      File x",
        "T api printed text",
    ]


def test_an_invocation_without_an_environment_says_init_failed() -> None:
    written: list[str] = []
    log = PrettyLog(written.append)
    invocation = Invocation(json.dumps(sqs_event("x")).encode(), deadline_ms=0)
    error = error_payload("Runtime exited with error: exit status 1", "Runtime.ExitError")
    outcome = Outcome(invocation.request_id, Status.CRASH, error, memory_mb=512)

    async def run() -> None:
        log.invocation_ended("worker", None, invocation, outcome)
        await asyncio.sleep(SETTLE * 2)

    asyncio.run(run())
    assert [re.sub(TIME, "T", line) for line in written] == [
        "T worker sqs 1 record crash init failed Runtime.ExitError: Runtime exited with error: "
        "exit status 1"
    ]


def test_a_batch_with_failed_records_is_not_shown_as_ok() -> None:
    """``batchItemFailures``: the records named come back, so the line says how many (in
    the log file's line, ``summary``, too)."""
    written: list[str] = []
    log = PrettyLog(written.append)
    invocation = Invocation(json.dumps(sqs_event("a", "b", "c")).encode(), deadline_ms=0)
    failures = {"batchItemFailures": [{"itemIdentifier": "1"}, {"itemIdentifier": "2"}]}
    outcome = Outcome(invocation.request_id, Status.OK, json.dumps(failures).encode(), 3.0)

    async def run() -> None:
        log.invocation_ended("worker", None, invocation, outcome)
        await asyncio.sleep(SETTLE * 2)

    asyncio.run(run())
    assert [re.sub(TIME, "T", line) for line in written] == [
        "T worker sqs 3 records 2 failed init failed"
    ]
    assert summary(invocation, outcome) == ("sqs 3 records 2 failed", "")


def test_an_invocation_line_goes_before_the_next_invocation_of_its_environment() -> None:
    """The line waits for its invocation's own lines, but not past the environment's next
    invocation: that one's lines come after it."""
    written: list[str] = []
    log = PrettyLog(written.append)
    env: Any = object()
    first = Invocation(json.dumps(sqs_event("a")).encode(), deadline_ms=0)
    second = Invocation(json.dumps(sqs_event("b")).encode(), deadline_ms=0)

    async def run() -> None:
        log.line("[worker] first's line")
        outcome = Outcome(first.request_id, Status.OK, b"null", 1.0)
        log.invocation_ended("worker", env, first, outcome)
        log.invocation_started("worker", env, second)
        log.line("[worker] second's line")
        await asyncio.sleep(SETTLE * 2)

    asyncio.run(run())
    assert [re.sub(TIME, "T", line).split(" ms")[0] for line in written] == [
        "T worker first's line",
        "T worker sqs 1 record ok 1.0",
        "T worker second's line",
    ]


def test_the_log_file_keeps_that_order_too(tmp_path: Path) -> None:
    from faasport.local.logfiles import LogFiles, log_path

    (tmp_path / ".faasport").mkdir()
    files = LogFiles(tmp_path)
    files.start()
    env: Any = object()
    first = Invocation(json.dumps(sqs_event("a")).encode(), deadline_ms=0)
    second = Invocation(json.dumps(sqs_event("b")).encode(), deadline_ms=0)
    files.output("worker", env, "first's line")
    files.invocation_ended("worker", env, first, Outcome(first.request_id, Status.OK, b"null"))
    files.invocation_started("worker", env, second)
    files.output("worker", env, "second's line")
    files.close()
    lines = [json.loads(x) for x in log_path(tmp_path, "worker").read_text().splitlines()]
    assert [x.get("what", x["m"]) for x in lines] == [
        "first's line",
        "sqs 1 record ok",
        "second's line",
    ]
