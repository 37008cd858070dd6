"""``faasport dev``'s log, kept per function in ``.faasport/logs/<function>.log`` for
``faasport logs``: each line a function wrote, and one line per invocation (its REPORT line,
what invoked it, what it answered), as JSON lines ``{"t": seconds, "m": line, ...}``.

A file rather than the dashboard's memory: ``faasport logs`` reads it with or without a
running ``faasport dev``, from any terminal, and ``--tail`` follows it as it grows. Writes are
gathered per turn of the emulator's loop (one ``write`` per file per turn, no flush per line).
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from faasport.local.logformat import summary
from faasport.local.logview import LogEvent

if TYPE_CHECKING:
    from faasport.local.activity import EnvState
    from faasport.local.environment import Environment
    from faasport.local.outcome import Outcome
    from faasport.local.runtime_api import Invocation

LOGS_DIR = Path(".faasport") / "logs"
#: Seconds an invocation's line waits for the invocation's own lines to be read.
SETTLE = 0.1
#: A file this big is renamed ``<function>.log.1`` (replacing the older one) and restarted.
MAX_BYTES = 8 * 1024 * 1024


def log_path(root: Path, function: str) -> Path:
    return root / LOGS_DIR / f"{function}.log"


class LogFiles:
    """An observer of the emulator (see :mod:`faasport.local.activity`) writing the files."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._pending: dict[str, list[str]] = {}
        self._files: dict[str, IO[str]] = {}

    # -- the observer -------------------------------------------------------------------

    def environment_changed(self, function: str, env: Environment, state: EnvState) -> None:
        pass

    def invocation_started(
        self, function: str, env: Environment | None, invocation: Invocation
    ) -> None:
        pass

    def output(self, function: str, env: Environment, line: str) -> None:
        self._add(function, {"m": line})

    def invocation_ended(
        self, function: str, env: Environment | None, invocation: Invocation, outcome: Outcome
    ) -> None:
        what, error = summary(invocation, outcome)
        record = {"m": outcome.report(), "what": what}
        if error:
            record["error"] = error
        # After the invocation's own lines, still in the environment's pipe (as dev's log
        # does, waiting longer: nobody watches this file line by line).
        asyncio.get_running_loop().call_later(SETTLE, self._add, function, record)

    # -- writing ------------------------------------------------------------------------

    def _add(self, function: str, fields: dict[str, str]) -> None:
        if not self._pending:
            asyncio.get_running_loop().call_soon(self.flush)
        record = {"t": round(time.time(), 3), **fields}
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        self._pending.setdefault(function, []).append(line)

    def flush(self) -> None:
        pending, self._pending = self._pending, {}
        for function, lines in pending.items():
            try:
                file = self._open(function)
                file.write("".join(lines))
                file.flush()
            except OSError:
                continue  # a full disk loses log lines, never an invocation

    def _open(self, function: str) -> IO[str]:
        file = self._files.get(function)
        if file is not None and file.tell() < MAX_BYTES:
            return file
        path = log_path(self.root, function)
        if file is not None:
            file.close()
            os.replace(path, path.with_name(path.name + ".1"))
        path.parent.mkdir(parents=True, exist_ok=True)
        file = self._files[function] = path.open("a", encoding="utf-8")
        return file

    def close(self) -> None:
        self.flush()
        for file in self._files.values():
            file.close()
        self._files.clear()


def _event(function: str, line: str) -> LogEvent | None:
    try:
        record = json.loads(line)
        return LogEvent(
            float(record["t"]),
            function,
            str(record["m"]),
            str(record.get("what", "")),
            str(record.get("error", "")),
        )
    except (ValueError, KeyError, TypeError):
        return None  # a line cut short by a crash, or not ours


def read_events(root: Path, function: str, since: float) -> Iterator[LogEvent]:
    """The function's events from ``since`` on, oldest first (the rotated file first)."""
    path = log_path(root, function)
    for each in (path.with_name(path.name + ".1"), path):
        try:
            with each.open(encoding="utf-8", errors="replace") as file:
                for line in file:
                    event = _event(function, line)
                    if event is not None and event.timestamp >= since:
                        yield event
        except FileNotFoundError:
            continue


class Follower:
    """New events of the function's file, as it grows (``faasport logs --tail``): from its
    end at the start, again from the start of a new file after a rotation."""

    def __init__(self, root: Path, function: str, *, from_start: bool = False) -> None:
        self.path = log_path(root, function)
        self._inode, self._offset = self._where()
        if from_start:
            self._offset = 0
        self._partial = ""
        self.function = function

    def _where(self) -> tuple[int, int]:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return 0, 0
        return stat.st_ino, stat.st_size

    def poll(self) -> list[LogEvent]:
        inode, size = self._where()
        if inode != self._inode or size < self._offset:  # rotated, or a new file
            self._inode, self._offset, self._partial = inode, 0, ""
        if size == self._offset:
            return []
        with self.path.open("rb") as file:
            file.seek(self._offset)
            data = file.read()
        self._offset += len(data)
        text = self._partial + data.decode("utf-8", errors="replace")
        *lines, self._partial = text.split("\n")
        return [e for e in (_event(self.function, line) for line in lines) if e is not None]
