"""Asynchronous ("Event") invocations through a real ``faasport dev``: retried twice with
their errors logged, then sent to the on_failure function; kept across a SIGTERM and run at
the next start."""

from __future__ import annotations

import json
import signal
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from dev_process import Dev, wait_for

HANDLERS = textwrap.dedent(
    """
    import json, os, time

    ROOT = os.path.dirname(os.path.abspath(__file__))

    def fail(event, context):
        raise RuntimeError("cannot process " + event["id"])

    def sink(event, context):
        with open(os.path.join(ROOT, "sink.part"), "w") as file:
            json.dump(event, file)
        os.replace(os.path.join(ROOT, "sink.part"), os.path.join(ROOT, "sink.json"))

    def slow(event, context):
        time.sleep(0.3)
        with open(os.path.join(ROOT, "done-" + event["id"]), "w") as file:
            file.write(str(os.getpid()))
    """
)

CONFIG = textwrap.dedent(
    """
    name = "asyncs"

    [functions.fail]
    handler = "jobs:fail"
    on_failure = "sink"

    [functions.sink]
    handler = "jobs:sink"

    [functions.slow]
    handler = "jobs:slow"
    concurrency = 1
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "faasport.toml").write_text(CONFIG)
    (tmp_path / "jobs.py").write_text(HANDLERS)
    return tmp_path


@pytest.fixture
def servers() -> Iterator[list[Dev]]:
    started: list[Dev] = []
    yield started
    for server in started:
        server.close()


def send(dev: Dev, function: str, event: dict[str, Any]) -> None:
    answer = dev.client("lambda").invoke(
        FunctionName=function, InvocationType="Event", Payload=json.dumps(event).encode()
    )
    assert (answer["StatusCode"], answer["Payload"].read()) == (202, b"")


def test_failures_are_retried_twice_then_sent_to_on_failure(
    project: Path, servers: list[Dev]
) -> None:
    dev = Dev(project, "--no-reload", "--retry-delay", "0.1")
    servers.append(dev)
    send(dev, "fail", {"id": "a1"})
    wait_for(lambda: (project / "sink.json").exists(), timeout=20)
    failures = [
        line for line in dev.lines if "asynchronous invocation" in line and "(attempt" in line
    ]
    assert [f"(attempt {n} of 3)" in line for n, line in enumerate(failures, 1)] == [True] * 3
    assert all("cannot process a1" in line for line in failures)
    record = json.loads((project / "sink.json").read_text())
    assert record["requestPayload"] == {"id": "a1"}
    assert record["requestContext"]["condition"] == "RetriesExhausted"
    assert record["requestContext"]["approximateInvokeCount"] == 3
    assert record["requestContext"]["functionArn"].endswith(":function:asyncs-fail:$LATEST")
    assert record["responsePayload"]["errorMessage"] == "cannot process a1"
    assert record["responseContext"]["functionError"] == "Unhandled"


def test_queued_invocations_survive_sigterm_and_run_at_the_next_start(
    project: Path, servers: list[Dev]
) -> None:
    dev = Dev(project, "--no-reload")
    servers.append(dev)
    ids = [f"j{n}" for n in range(6)]
    for key in ids:
        send(dev, "slow", {"id": key})
    dev.process.send_signal(signal.SIGTERM)
    assert dev.process.wait(timeout=15) == 0
    done = {key for key in ids if (project / f"done-{key}").exists()}
    assert len(done) < len(ids), "the test needs invocations still queued at SIGTERM"
    assert (project / ".faasport" / "async.db").exists()
    again = Dev(project, "--no-reload")
    servers.append(again)
    wait_for(lambda: all((project / f"done-{key}").exists() for key in ids), timeout=20)
    assert any("resuming" in line for line in again.lines)
