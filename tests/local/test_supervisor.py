"""The process supervisor: output forwarded, exit reported, memory kept, and Lambda's stop
(SIGTERM, a grace period, SIGKILL)."""

from __future__ import annotations

import asyncio
import sys
import textwrap
import time
from pathlib import Path

from faasport.local.supervisor import Supervisor

TERM_AWARE = textwrap.dedent(
    """
    import os, signal, sys, time
    def on_term(signum, frame):
        # Not print: the signal may come while print("ready") is still in its write.
        os.write(1, b"got SIGTERM\\n")
        sys.exit(0)
    if sys.argv[1] == "handle":
        signal.signal(signal.SIGTERM, on_term)
    else:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    blob = bytearray(60 * 1024 * 1024)
    for i in range(0, len(blob), 4096):
        blob[i] = 1
    print("ready", flush=True)
    time.sleep(60)
    """
)


def run_child(tmp_path: Path, mode: str, grace: float) -> tuple[list[str], str, int, float]:
    async def main() -> tuple[list[str], str, int, float]:
        lines: list[str] = []
        supervisor = Supervisor(lines.append)
        assert supervisor.pid == 0 and not supervisor.running  # inert until started
        await supervisor.start([sys.executable, "-c", TERM_AWARE, mode], {}, tmp_path)
        while "ready" not in lines:
            await asyncio.sleep(0.01)
        supervisor.rss()
        loop = asyncio.get_running_loop()
        started = loop.time()
        await supervisor.stop(grace)
        return lines, supervisor.exit_text(), supervisor.peak(), loop.time() - started

    return asyncio.run(main())


def test_sigterm_then_exit_within_the_grace_period(tmp_path: Path) -> None:
    lines, exit_text, peak, _ = run_child(tmp_path, "handle", grace=30.0)
    assert lines == ["ready", "got SIGTERM"]
    assert exit_text == "exit status 0"  # its own exit, not SIGKILL
    assert peak >= 60  # measured while it ran, kept once it is gone


def test_sigkill_after_the_grace_period(tmp_path: Path) -> None:
    lines, exit_text, _, took = run_child(tmp_path, "ignore", grace=0.3)
    assert lines == ["ready"]
    assert exit_text == "signal: kill"
    assert took >= 0.3


def test_no_grace_is_sigkill_at_once(tmp_path: Path) -> None:
    lines, exit_text, _, _ = run_child(tmp_path, "handle", grace=0)
    assert lines == ["ready"]
    assert exit_text == "signal: kill"


def test_drain_logs_what_the_child_wrote_without_a_turn_of_the_loop(tmp_path: Path) -> None:
    child = "import sys, time\nprint('one')\nprint('two')\nsys.stdout.write('three')\n"
    child += "sys.stdout.flush()\ntime.sleep(60)\n"

    async def main() -> tuple[list[str], list[str]]:
        lines: list[str] = []
        supervisor = Supervisor(lines.append)
        await supervisor.start([sys.executable, "-c", child], {}, tmp_path)
        deadline = time.monotonic() + 20
        # Blocking waits: the loop cannot read the pipe meanwhile, only drain() can.
        while len(lines) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
            supervisor.drain()
        drained = list(lines)
        await supervisor.stop(0)
        return drained, lines

    drained, lines = asyncio.run(main())
    assert drained == ["one", "two"]  # the line without its newline waits for the rest
    assert lines == ["one", "two", "three"]  # ... or for the end of the output
