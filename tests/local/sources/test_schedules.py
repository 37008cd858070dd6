"""Schedules firing on time (a clock set just before a minute turns), and on demand through
``faasport schedule run`` against a real ``faasport dev``."""

from __future__ import annotations

import json
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner

from cli_output import one_error_line
from dev_process import Dev, wait_for
from faasport import events
from faasport.cli.main import main
from faasport.local.sources.cron import parse
from faasport.local.sources.schedules import Schedule, Scheduler


def test_a_cron_schedule_fires_when_its_minute_comes() -> None:
    real = datetime.now(UTC)
    # The scheduler's clock reads 0.3 s before the next minute.
    offset = real.replace(second=59, microsecond=700_000) - real
    fired: list[tuple[str, dict[str, object]]] = []
    done = threading.Event()

    def invoke(function: str, payload: bytes) -> None:
        fired.append((function, json.loads(payload)))
        done.set()

    schedule = Schedule("nightly", "worker", "cron(* * * * ? *)", parse("cron(* * * * ? *)"))
    scheduler = Scheduler([schedule], invoke, clock=lambda: datetime.now(UTC) + offset)
    scheduler.start()
    try:
        assert done.wait(5)
    finally:
        scheduler.stop()
    [(function, event)] = fired[:1]
    [tick] = events.records(event)
    expected = (real + offset + timedelta(seconds=1)).replace(second=0, microsecond=0)
    assert function == "worker"
    assert tick == events.Tick(
        expected.strftime("%Y-%m-%dT%H:%M:%SZ"), source="aws.events", name="nightly"
    )


CONFIG = textwrap.dedent(
    """
    name = "schedtest"

    [functions.report]
    handler = "jobs:report"
    events = [{ schedule = "cron(0 3 * * ? *)", timezone = "Europe/Paris" }]

    [functions.compact]
    handler = "jobs:report"
    events = [{ schedule = "rate(1 day)" }, { schedule = "cron(0 4 ? * SUN *)" }]
    """
)

JOBS = textwrap.dedent(
    """
    from pathlib import Path
    from faasport import events

    def report(event, context):
        [tick] = events.records(event)
        with Path(__file__).with_name("ticks.log").open("a") as out:
            out.write(tick.name + "\\n")
    """
)


def test_schedule_run_fires_one_now(tmp_path: Path) -> None:
    (tmp_path / "faasport.toml").write_text(CONFIG)
    (tmp_path / "jobs.py").write_text(JOBS)
    dev = Dev(tmp_path, "--no-reload")
    try:

        def run(*args: str) -> str:
            result = CliRunner().invoke(main, ["schedule", *args, "--project", str(tmp_path)])
            assert result.exit_code == 0, result.output
            return result.output

        listed = run("list").splitlines()
        assert [line.split()[:2] for line in listed] == [
            ["compact-1", "compact"],
            ["compact-2", "compact"],
            ["report", "report"],
        ]
        assert run("run", "compact-2") == "fired compact-2\n"
        log = tmp_path / "ticks.log"
        wait_for(lambda: log.exists() and log.read_text() == "compact-2\n", 20, "the tick")
        unknown = CliRunner().invoke(main, ["schedule", "run", "nope", "--project", str(tmp_path)])
        assert 'no schedule "nope"; the schedules are: compact-1, compact-2, report' in (
            one_error_line(unknown)
        )
    finally:
        dev.close()
