"""``faasport queue ...`` against a real ``faasport dev``, and without one."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli_output import one_error_line
from dev_process import Dev, wait_for
from faasport.cli.main import main

CONFIG = textwrap.dedent(
    """
    name = "clitest"

    [queues.jobs]
    visibility_timeout = 1
    max_receive = 1
    dlq = "jobs-dlq"

    [queues.held]

    [queues."orders.fifo"]

    [functions.worker]
    handler = "worker:handle"
    timeout = 1
    events = [{ queue = "jobs" }]
    """
)

WORKER = textwrap.dedent(
    """
    import json
    from pathlib import Path

    def handle(event, context):
        for record in event["Records"]:
            attributes = {k: v["stringValue"] for k, v in record["messageAttributes"].items()}
            with Path(__file__).with_name("seen.log").open("a") as out:
                out.write(json.dumps([record["body"], attributes]) + "\\n")
            if record["body"] == "poison":
                raise ValueError("poison")
        return {}
    """
)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Dev]]:
    root = tmp_path_factory.mktemp("queuecli")
    (root / "faasport.toml").write_text(CONFIG)
    (root / "worker.py").write_text(WORKER)
    dev = Dev(root, "--no-reload")
    try:
        yield root, dev
    finally:
        dev.close()


def seen(root: Path) -> list[list[object]]:
    log = root / "seen.log"
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


def test_send_reaches_the_function_with_attributes(project: tuple[Path, Dev]) -> None:
    root, _ = project
    # A real process, as a user runs it.
    out = subprocess.run(
        [
            *(sys.executable, "-m", "faasport.cli.main", "queue", "send", "jobs", "hello"),
            *("--attr", "kind=report", "--project", str(root)),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(out.stdout.strip()) == 36  # the message id
    wait_for(lambda: ["hello", {"kind": "report"}] in seen(root), 20, "the message")


def test_send_imports_only_what_it_needs(project: tuple[Path, Dev]) -> None:
    """Commands load lazily: ``queue send`` imports neither the other commands, nor the
    configuration, nor the emulator; what it costs is mostly Python's own start-up."""
    root, _ = project
    out = subprocess.run(
        [
            *(sys.executable, "-X", "importtime", "-m", "faasport.cli.main"),
            *("queue", "send", "held", "quick", "--project", str(root)),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    imported = {line.split("|")[-1].strip() for line in out.stderr.splitlines()}
    assert "faasport.cli.running" in imported  # queue.py itself comes by importlib: unlisted
    heavy = {
        "faasport.cli.dev",
        "faasport.cli.deploy",
        "faasport.cli.check",
        "faasport.config",
        "faasport.local.sources.queues",
        "asyncio",
        "sqlite3",
        "ssl",
        "urllib.request",
    }
    assert not heavy & imported
    assert len(out.stdout.strip()) == 36
    assert run("queue", "purge", "held", "--project", str(root)).exit_code == 0


def test_list_purge_dlq_and_redrive(project: tuple[Path, Dev]) -> None:
    root, _ = project
    for body in ("a", "b"):
        assert run("queue", "send", "held", body, "--project", str(root)).exit_code == 0
    listed = run("queue", "list", "--project", str(root))
    assert listed.exit_code == 0
    [row] = [line.split() for line in listed.output.splitlines() if line.startswith("held ")]
    assert row == ["held", "2", "0", "0"]
    assert "_failed" not in listed.output  # internal delivery queues stay hidden
    assert run("queue", "purge", "held", "--project", str(root)).output == "purged held\n"
    assert "held" in run("queue", "list", "--project", str(root)).output
    run("queue", "send", "jobs", "poison", "--project", str(root))
    wait_for(lambda: "poison" in run("queue", "dlq", "jobs", "--project", str(root)).output, 20)
    shown = run("queue", "dlq", "jobs", "--project", str(root)).output
    assert shown.startswith("jobs-dlq: 1 message(s)")
    assert run("queue", "redrive", "jobs", "--project", str(root)).output == (
        "moved 1 message(s) back to jobs\n"
    )
    wait_for(lambda: [b for b, _ in seen(root)].count("poison") >= 2, 20, "the redriven message")


def test_fifo_send_needs_a_group(project: tuple[Path, Dev]) -> None:
    root, _ = project
    line = one_error_line(run("queue", "send", "orders.fifo", "x", "--project", str(root)))
    assert "needs a message group id" in line
    ok = run(
        "queue", "send", "orders.fifo", "x", "--group", "g", "--dedup", "1", "--project", str(root)
    )
    assert ok.exit_code == 0


def test_an_unknown_queue_is_one_line(project: tuple[Path, Dev]) -> None:
    root, _ = project
    line = one_error_line(run("queue", "send", "nope", "x", "--project", str(root)))
    assert 'queue "nope" does not exist' in line


def test_without_a_running_dev_the_commands_say_so(tmp_path: Path) -> None:
    (tmp_path / "faasport.toml").write_text(CONFIG)
    (tmp_path / "worker.py").write_text(WORKER)
    for args in (["send", "jobs", "x"], ["list"], ["dlq", "jobs"], ["redrive", "jobs"]):
        line = one_error_line(run("queue", *args, "-p", str(tmp_path)))
        assert "faasport dev is not running" in line
