"""faasport logs FUNCTION without --cloud: what a real faasport dev wrote for the function,
read back in dev's readable format, filtered, from --since, and followed live with --tail."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from cli_output import one_error_line
from dev_process import Dev, wait_for
from faasport.cli.main import main
from faasport.testing.events import sqs_event
from log_project import CONFIG, write_log_project

TIME = r"\d\d:\d\d:\d\d"


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_log_project(tmp_path_factory.mktemp("logs"))


@pytest.fixture(scope="module")
def dev(project: Path) -> Iterator[Dev]:
    server = Dev(project, "--no-reload")
    try:
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert client.get("/items/42").status_code == 201
            assert client.get("/items/43").status_code == 201
            assert client.get("/boom").status_code == 500
        server.client("lambda").invoke(
            FunctionName="worker", Payload=json.dumps(sqs_event("fail")).encode()
        )["Payload"].read()
        assert server.settled(at_least=4) == 4
        yield server
    finally:
        server.close()


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["logs", *args])


def lines(result: Result) -> list[str]:
    assert result.exit_code == 0, result.output
    return [re.sub(TIME, "T", line) for line in result.stdout.splitlines()]


def read(project: Path, function: str, invocations: int) -> list[str]:
    """The function's log once its invocations' lines reached the file (the writer thread
    batches them, a little after the invocations)."""

    def shown() -> list[str]:
        return lines(run(function, "--project", str(project)))

    def complete() -> bool:
        ended = [line for line in shown() if re.match(rf"T {function} (GET|sqs) ", line)]
        return len(ended) >= invocations

    wait_for(complete, what=f"{invocations} invocations of {function} in its log")
    return shown()


def test_the_log_as_dev_shows_it(dev: Dev, project: Path) -> None:
    shown = read(project, "api", 3)
    invocations = [line for line in shown if line.startswith("T api GET")]
    assert len(invocations) == 3, shown
    assert re.fullmatch(r"T api GET /items/42 201 \d+\.\d ms \d+ MB cold \(init \d+\.\d ms\)",
                        invocations[0])  # fmt: skip
    assert re.fullmatch(r"T api GET /items/43 201 \d+\.\d ms \d+ MB warm", invocations[1])
    assert re.fullmatch(r"T api GET /boom 500 \d+\.\d ms \d+ MB warm", invocations[2])
    assert "T api WARNING handling /items/42" in shown
    assert "    ValueError: boom <b>" in shown
    assert not [line for line in shown if "RequestId" in line]
    # The same lines, in the same form, as dev's own pretty log.
    worker = read(project, "worker", 1)
    assert "T worker job fail" in worker
    assert any(
        re.fullmatch(r"T worker sqs 1 record function error .* RuntimeError: cannot do it", line)
        for line in worker
    ), worker


def test_filter_and_since(dev: Dev, project: Path) -> None:
    read(project, "api", 3)
    shown = lines(run("api", "--filter", "/items/43", "--project", str(project)))
    assert len(shown) == 2 and all("/items/43" in line for line in shown)
    assert lines(run("api", "--since", "2099-01-01T00:00:00", "--project", str(project))) == []
    # Its deployed name works too.
    assert lines(run("logs-api", "--filter", "/boom", "--project", str(project)))


def test_tail_follows_new_lines(dev: Dev, project: Path) -> None:
    read(project, "api", 3)
    tail = subprocess.Popen(
        [sys.executable, "-m", "faasport.cli.main", "logs", "api", "--tail",
         "--filter", "/items/77", "--project", str(project)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    seen: list[str] = []

    def collect() -> None:
        assert tail.stdout is not None
        for line in tail.stdout:
            seen.append(line.rstrip("\n"))

    reader = threading.Thread(target=collect, daemon=True)
    reader.start()
    try:
        with httpx.Client(base_url=dev.url, timeout=30) as client:
            assert client.get("/items/77").status_code == 201
        wait_for(lambda: len(seen) == 2, what="the two lines of the request")
        shown = sorted(re.sub(TIME, "T", line) for line in seen)
        assert shown[1] == "T api WARNING handling /items/77"
        assert re.fullmatch(r"T api GET /items/77 201 .* warm", shown[0])
    finally:
        tail.terminate()
        tail.wait(timeout=10)
        reader.join(timeout=10)
        assert tail.stdout is not None
        tail.stdout.close()


def test_no_log_yet_and_unknown_function(project: Path, tmp_path: Path) -> None:
    (tmp_path / "faasport.toml").write_text(CONFIG)
    result = run("api", "--project", str(tmp_path))
    assert result.exit_code == 0 and result.stdout == ""
    assert 'no log of "api" yet: faasport dev writes it' in result.stderr
    line = one_error_line(run("apii", "--project", str(tmp_path)))
    assert "apii" in line


def test_a_reader_that_leaves_early_ends_the_command_quietly(tmp_path: Path) -> None:
    """`faasport logs api | head -1`: no "error: Broken pipe", the status a tool killed by
    SIGPIPE has."""
    (tmp_path / "faasport.toml").write_text('[functions.api]\nhandler = "h:h"\n')
    logs = tmp_path / ".faasport" / "logs"
    logs.mkdir(parents=True)
    now = time.time()
    lines = (json.dumps({"t": now, "m": f"line {i} " + "y" * 100}) for i in range(20000))
    (logs / "api.log").write_text("\n".join(lines) + "\n")
    command = [sys.executable, "-m", "faasport.cli.main", "logs", "api"]
    with subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as reading:
        assert reading.stdout is not None and reading.stderr is not None
        assert b"line 0" in reading.stdout.readline()
        reading.stdout.close()
        stderr = reading.stderr.read()
    assert (reading.returncode, stderr) == (141, b"")
