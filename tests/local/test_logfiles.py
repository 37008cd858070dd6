"""faasport dev's log files: written per function on the emulator's loop, read back from a
time on (the rotated file first), and followed as they grow, across a rotation and through a
line written in two parts."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from faasport.local import logfiles
from faasport.local.logfiles import Follower, LogFiles, log_path, read_events
from faasport.local.outcome import Outcome, Status, error_payload
from faasport.local.runtime_api import Invocation
from faasport.testing.events import sqs_event


def write(files: LogFiles, steps: list[tuple[str, Any]]) -> None:
    """Feed the observer on a real loop, as the emulator would, and let it settle."""

    async def run() -> None:
        for function, step in steps:
            if isinstance(step, str):
                files.output(function, None, step)  # type: ignore[arg-type]
            else:
                files.invocation_ended(function, None, *step)
        await asyncio.sleep(logfiles.SETTLE * 2)

    asyncio.run(run())


def failed_invocation() -> tuple[Invocation, Outcome]:
    invocation = Invocation(json.dumps(sqs_event("x")).encode(), deadline_ms=0)
    error = error_payload("cannot do it", "RuntimeError")
    outcome = Outcome(invocation.request_id, Status.FUNCTION_ERROR, error, memory_mb=512)
    outcome.duration_ms, outcome.max_memory_mb = 3.25, 40
    return invocation, outcome


def test_lines_and_invocations_per_function(tmp_path: Path) -> None:
    files = LogFiles(tmp_path)
    write(files, [("api", "hello"), ("worker", "job"), ("worker", failed_invocation())])
    files.close()
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
    files = LogFiles(tmp_path)
    for batch in range(4):
        write(files, [("api", f"line {batch}-{i} " + "x" * 40) for i in range(3)])
    files.close()
    path = log_path(tmp_path, "api")
    assert path.with_name("api.log.1").is_file()
    read = [e.message.split()[1] for e in read_events(tmp_path, "api", 0)]
    assert read == sorted(read) and read[-1] == "3-2"
    assert len(read) < 12  # the oldest rotated away


def test_a_line_cut_short_is_skipped(tmp_path: Path) -> None:
    files = LogFiles(tmp_path)
    write(files, [("api", "whole")])
    files.close()
    with log_path(tmp_path, "api").open("a") as file:
        file.write('{"t": 1, "m": "cut')
    assert [e.message for e in read_events(tmp_path, "api", 0)] == ["whole"]


def test_the_follower_gives_complete_new_lines_and_survives_a_rotation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = LogFiles(tmp_path)
    write(files, [("api", "before")])
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
    write(files, [("api", "rotated"), ("api", "away")])
    files.close()
    assert path.with_name("api.log.1").read_text().count("half") == 1
    assert [e.message for e in follower.poll()] == ["rotated", "away"]
    assert [e.message for e in Follower(tmp_path, "api", from_start=True).poll()] == [
        "rotated",
        "away",
    ]
