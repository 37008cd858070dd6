"""faasport dev's log files: written per function on the emulator's loop, read back from a
time on (the rotated file first), and followed as they grow, across a rotation and through a
line written in two parts."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest

from faasport.local import logfiles
from faasport.local.logfiles import Follower, LogFiles, log_path, read_events
from faasport.local.outcome import Outcome, Status, error_payload
from faasport.local.runtime_api import Invocation
from faasport.testing.events import sqs_event


def write(root: Path, steps: list[tuple[str, Any]]) -> None:
    """Feed a writer as the emulator would, and stop it (which writes what is left)."""
    files = LogFiles(root)
    files.start()
    for function, step in steps:
        if isinstance(step, str):
            files.output(function, None, step)  # type: ignore[arg-type]
        else:
            files.invocation_ended(function, None, *step)
    files.close()


def failed_invocation() -> tuple[Invocation, Outcome]:
    invocation = Invocation(json.dumps(sqs_event("x")).encode(), deadline_ms=0)
    error = error_payload("cannot do it", "RuntimeError")
    outcome = Outcome(invocation.request_id, Status.FUNCTION_ERROR, error, memory_mb=512)
    outcome.duration_ms, outcome.max_memory_mb = 3.25, 40
    return invocation, outcome


def test_an_invocations_line_waits_for_its_own_lines(tmp_path: Path) -> None:
    files = LogFiles(tmp_path)
    files.start()
    files.invocation_ended("api", None, *failed_invocation())
    time.sleep(logfiles.SETTLE / 4)
    files.output("api", None, "read from the pipe after the result")  # type: ignore[arg-type]
    time.sleep(logfiles.SETTLE * 3)  # not stopped: written in its own time
    first, second = read_events(tmp_path, "api", 0)
    files.close()
    assert first.message == "read from the pipe after the result"
    assert second.message.startswith("REPORT RequestId: ")


def test_lines_and_invocations_per_function(tmp_path: Path) -> None:
    write(tmp_path, [("api", "hello"), ("worker", "job"), ("worker", failed_invocation())])
    assert [e.message for e in read_events(tmp_path, "api", 0)] == ["hello"]
    job, report = read_events(tmp_path, "worker", 0)
    assert job.message == "job"
    assert report.message.startswith("REPORT RequestId: ")
    assert (report.what, report.error) == (
        "sqs 1 record function error",
        "RuntimeError: cannot do it",
    )
    assert report.timestamp >= job.timestamp
    assert list(read_events(tmp_path, "worker", report.timestamp + 1)) == []


def test_a_big_file_is_rotated_and_read_back_oldest_first(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(logfiles, "MAX_BYTES", 200)
    for batch in range(4):
        write(tmp_path, [("api", f"line {batch}-{i} " + "x" * 40) for i in range(3)])
    path = log_path(tmp_path, "api")
    assert path.with_name("api.log.1").is_file()
    read = [e.message.split()[1] for e in read_events(tmp_path, "api", 0)]
    assert read == sorted(read) and read[-1] == "3-2"
    assert len(read) < 12  # the oldest rotated away


def test_a_line_cut_short_is_skipped(tmp_path: Path) -> None:
    write(tmp_path, [("api", "whole")])
    with log_path(tmp_path, "api").open("a") as file:
        file.write('{"t": 1, "m": "cut')
    assert [e.message for e in read_events(tmp_path, "api", 0)] == ["whole"]


def test_the_follower_gives_complete_new_lines_and_survives_a_rotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write(tmp_path, [("api", "before")])
    follower = Follower(tmp_path, "api")
    assert follower.poll() == []
    path = log_path(tmp_path, "api")
    with path.open("a") as file:
        file.write('{"t": 5, "m": "ha')
    assert follower.poll() == []  # not a whole line yet
    with path.open("a") as file:
        file.write('lf"}\n')
    assert [e.message for e in follower.poll()] == ["half"]
    monkeypatch.setattr(logfiles, "MAX_BYTES", 1)
    write(tmp_path, [("api", "rotated"), ("api", "away")])
    assert path.with_name("api.log.1").read_text().count("half") == 1
    assert [e.message for e in follower.poll()] == ["rotated", "away"]
    assert [e.message for e in Follower(tmp_path, "api", from_start=True).poll()] == [
        "rotated",
        "away",
    ]
