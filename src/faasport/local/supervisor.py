"""A supervised child process: started in its own process group, its output forwarded line
by line, its resident memory readable, and stopped the way Lambda stops an environment
(SIGTERM, a grace period, then SIGKILL for the whole group). Inert until :meth:`start`.

Output is read by a protocol on a pipe of our own, each line logged in the callback that
read it (no task in between), and :meth:`Supervisor.drain` reads what the child wrote and
the loop has not read yet, at once: what a function printed before it answered is logged
before its END line without waiting for turns of the loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import cast

Log = Callable[[str], None]

#: A line this long without its newline is logged as it is (CloudWatch cuts events at 256 KB).
MAX_LINE = 256 * 1024


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
        self.exited = asyncio.Event()
        self.returncode: int | None = None
        self.memory = ProcessMemory(-1)
        #: The highest resident memory seen (MB), kept after the process is gone.
        self.peak_mb = 0
        self._pid = 0
        self._running = False
        self._transport: asyncio.SubprocessTransport | None = None
        self._pipe: asyncio.ReadTransport | None = None
        self._fd = -1
        self._partial = b""
        self._output_done = asyncio.Event()
        self._on_exit: list[Callable[[], None]] = []

    @property
    def pid(self) -> int:
        return self._pid

    @property
    def running(self) -> bool:
        return self._running

    def on_exit(self, callback: Callable[[], None]) -> None:
        self._on_exit.append(callback)

    async def start(self, argv: list[str], env: Mapping[str, str], cwd: Path) -> None:
        loop = asyncio.get_running_loop()
        read, write = os.pipe()
        try:
            self._transport, _ = await loop.subprocess_exec(
                lambda: _Process(self),
                *argv,
                env=dict(env),
                cwd=str(cwd),
                stdin=subprocess.DEVNULL,
                stdout=write,
                stderr=write,
                preexec_fn=_die_with_parent,
            )
        except BaseException:
            os.close(read)
            raise
        finally:
            os.close(write)
        self._pid = self._transport.get_pid()
        self._running = not self.exited.is_set()
        if self._running:
            self.memory = ProcessMemory(self._pid)
        self._fd = read
        self._pipe, _ = await loop.connect_read_pipe(
            lambda: _Output(self), os.fdopen(read, "rb", buffering=0)
        )

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
        if not self._pid or self.returncode is not None:
            return
        try:
            os.killpg(self._pid, signum)
        except (ProcessLookupError, PermissionError):
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signum)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)

    async def stop(self, grace: float) -> None:
        """SIGTERM, then SIGKILL after ``grace`` seconds (at once when ``grace`` is 0)."""
        if not self._pid:
            return
        if grace > 0:
            self.signal(signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.exited.wait(), grace)
        self.kill()
        await self.exited.wait()
        # The rest of its output; a descendant that escaped may hold the pipe.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._output_done.wait(), 1.0)
        if self._pipe is not None:
            self._pipe.close()

    def exit_text(self) -> str:
        code = self.returncode
        if code is None:
            return "unknown"
        if code < 0:
            return f"signal: {signal.Signals(-code).name.lower().removeprefix('sig')}"
        return f"exit status {code}"

    def drain(self) -> None:
        """Log now what the child wrote and the loop has not read yet."""
        fd = self._fd
        if fd < 0:
            return
        while True:
            try:
                data = os.read(fd, 65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            if not data:
                return  # the end: the pipe's protocol logs what is left when told
            self._received(data)
            if len(data) < 65536:
                return

    def _received(self, data: bytes) -> None:
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        if len(self._partial) >= MAX_LINE:
            lines.append(self._partial)
            self._partial = b""
        log = self.log
        for line in lines:
            log(line.decode("utf-8", "replace"))

    def _output_ended(self) -> None:
        self._fd = -1
        if self._partial:
            partial, self._partial = self._partial, b""
            self.log(partial.decode("utf-8", "replace"))
        self._output_done.set()
        self._close_transport()

    def _exited(self) -> None:
        assert self._transport is not None
        self.returncode = self._transport.get_returncode()
        self._running = False
        self.memory.close()  # too late for /proc: peak_mb keeps the last measured value
        self.exited.set()
        for callback in self._on_exit:
            callback()
        self._close_transport()

    def _close_transport(self) -> None:
        if self._transport is not None and self.exited.is_set() and self._output_done.is_set():
            self._transport.close()


class _Process(asyncio.SubprocessProtocol):
    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # Before process_exited, which may come before subprocess_exec returns.
        self.supervisor._transport = cast(asyncio.SubprocessTransport, transport)

    def process_exited(self) -> None:
        self.supervisor._exited()


class _Output(asyncio.Protocol):
    """The child's stdout and stderr (one pipe, as Lambda's log stream has one order)."""

    def __init__(self, supervisor: Supervisor) -> None:
        self.supervisor = supervisor

    def data_received(self, data: bytes) -> None:
        self.supervisor._received(data)

    def eof_received(self) -> bool | None:
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.supervisor._output_ended()
