"""A supervised child process: started in its own process group, its output forwarded line
by line, its resident memory readable, and stopped the way Lambda stops an environment
(SIGTERM, a grace period, then SIGKILL for the whole group). Inert until :meth:`start`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Callable, Coroutine, Mapping
from pathlib import Path
from typing import Any

from faasport.local.metric_lines import readable

Log = Callable[[str], None]


class ProcessMemory:
    """Resident memory of a process from ``/proc/<pid>/statm``, kept open: re-reading an
    open proc file from offset 0 gives fresh numbers without an open() per look (and statm
    costs the kernel a sixth of what ``status`` does)."""

    PAGE_MB = os.sysconf("SC_PAGE_SIZE") / (1024 * 1024) if hasattr(os, "sysconf") else 0.0

    def __init__(self, pid: int) -> None:
        try:
            self._fd: int | None = os.open(f"/proc/{pid}/statm", os.O_RDONLY)
        except OSError:  # not Linux, or already gone
            self._fd = None

    def rss(self) -> int:
        """Resident memory in MB; 0 when unknown."""
        if self._fd is None:
            return 0
        try:
            return int(int(os.pread(self._fd, 128, 0).split()[1]) * self.PAGE_MB)
        except (OSError, ValueError, IndexError):
            return 0

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    os.setsid()
    if sys.platform == "linux":
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: no orphans if we are killed


class Supervisor:
    def __init__(self, log: Log) -> None:
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self.exited = asyncio.Event()
        self.memory = ProcessMemory(-1)
        #: The highest resident memory seen (MB), kept after the process is gone.
        self.peak_mb = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._on_exit: list[Callable[[], None]] = []

    @property
    def pid(self) -> int:
        return self.process.pid if self.process else 0

    @property
    def running(self) -> bool:
        return self.process is not None and not self.exited.is_set()

    def on_exit(self, callback: Callable[[], None]) -> None:
        self._on_exit.append(callback)

    async def start(self, argv: list[str], env: Mapping[str, str], cwd: Path) -> None:
        self.process = await asyncio.create_subprocess_exec(
            *argv,
            env=dict(env),
            cwd=str(cwd),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
        self.memory = ProcessMemory(self.process.pid)
        self._spawn(self._watch_exit())
        self._spawn(self._forward_output())

    def peak(self) -> int:
        """The highest resident memory measured, in MB (measured now if it still runs)."""
        if self.running:
            self.rss()
        return self.peak_mb

    def rss(self) -> int:
        """Resident memory now, in MB (what the memory watcher compares with the limit)."""
        rss = self.memory.rss()
        self.peak_mb = max(self.peak_mb, rss)
        return rss

    def signal(self, signum: int) -> None:
        """Send ``signum`` to the process group (the runtime and what it started)."""
        if self.process is None or self.process.returncode is not None:
            return
        try:
            os.killpg(self.process.pid, signum)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signum)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    async def stop(self, grace: float) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds (at once when ``grace`` is 0)."""
        if self.process is None:
            return
        if grace > 0:
            self.signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.exited.wait(), grace)
        self.kill()
        await self.exited.wait()
        if self._tasks:  # the rest of its output; a descendant that escaped may hold the pipe
            await asyncio.wait(list(self._tasks), timeout=1.0)

    def exit_text(self) -> str:
        code = self.process.returncode if self.process else None
        if code is None:
            return "unknown"
        if code < 0:
            return f"signal: {signal.Signals(-code).name.lower().removeprefix('sig')}"
        return f"exit status {code}"

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watch_exit(self) -> None:
        assert self.process is not None
        await self.process.wait()
        self.memory.close()  # too late for /proc: peak_mb keeps the last measured value
        self.exited.set()
        for callback in self._on_exit:
            callback()

    async def _forward_output(self) -> None:
        assert self.process is not None and self.process.stdout is not None
        stdout = self.process.stdout
        while line := await stdout.readline():
            self.log(readable(line.decode("utf-8", "replace").rstrip("\n")))
