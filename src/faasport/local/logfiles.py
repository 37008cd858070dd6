"""``faasport dev``'s log, kept per function in ``.faasport/logs/<function>.log`` for
``faasport logs``: each line a function wrote, and one line per invocation (its REPORT line,
what invoked it, what it answered), as JSON lines ``{"t": seconds, "m": line, ...}``.

A file rather than the dashboard's memory: ``faasport logs`` reads it with or without a
running ``faasport dev``, from any terminal, and ``--tail`` follows it as it grows.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections import deque
from collections.abc import Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING

from faasport.core.json_text import reused_encoder
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
#: Seconds the writer waits, once woken, for more to write in the same batch.
BATCH = 0.05
#: A file this big is renamed ``<function>.log.1`` (replacing the older one) and restarted.
MAX_BYTES = 8 * 1024 * 1024


_encode = reused_encoder(compact=True, ensure_ascii=False, check_circular=False)


def log_path(root: Path, function: str) -> Path:
    return root / LOGS_DIR / f"{function}.log"


class LogFiles:
    """An observer of the emulator (see :mod:`faasport.local.activity`) writing the files.

    The loop only notes what happened (a deque append); a thread of its own makes the lines
    (the invocation's summary parses its event) and writes them, a batch at a time, so the
    log costs the runtime's loop about a microsecond per line.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        #: (time, function, what): a line, an invocation ended (with its environment's key),
        #: or the key of an environment that started its next invocation.
        self._queue: deque[tuple[float, str, str | int | tuple[Invocation, Outcome, int]]] = deque()
        self._wake = threading.Event()
        self._closing = False
        self._thread: threading.Thread | None = None
        self._files: dict[str, IO[str]] = {}

    def start(self) -> None:
        self._thread = threading.Thread(target=self._write, name="faasport-logs", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Write what is left, then stop."""
        self._closing = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        for file in self._files.values():
            file.close()
        self._files.clear()

    # -- the observer -------------------------------------------------------------------

    def environment_changed(self, function: str, env: Environment, state: EnvState) -> None:
        pass

    def invocation_started(
        self, function: str, env: Environment | None, invocation: Invocation
    ) -> None:
        if env is not None:  # the line of its last invocation goes before this one's lines
            self._queue.append((time.time(), function, id(env)))

    def output(self, function: str, env: Environment, line: str) -> None:
        self._queue.append((time.time(), function, line))
        if not self._wake.is_set():
            self._wake.set()

    def invocation_ended(
        self, function: str, env: Environment | None, invocation: Invocation, outcome: Outcome
    ) -> None:
        key = id(env) if env is not None else 0
        self._queue.append((time.time(), function, (invocation, outcome, key)))
        if not self._wake.is_set():
            self._wake.set()

    # -- the writer thread --------------------------------------------------------------

    def _write(self) -> None:
        # Invocation lines wait SETTLE: the invocation's own lines, still in the
        # environment's pipe when it ended, are read a little later and go first (as in
        # dev's own log).
        # In the order they were noted, so due in that order too: each batch takes those
        # due from the front, without looking at the others.
        held: deque[tuple[float, str, str, int]] = deque()
        while True:
            self._wake.wait(SETTLE if held else None)
            if not self._closing:
                time.sleep(BATCH)  # gather a batch rather than wake for each line
            self._wake.clear()
            closing = self._closing
            pending: dict[str, list[str]] = {}
            while self._queue:
                moment, function, item = self._queue.popleft()
                if isinstance(item, str):
                    line = _encode({"t": moment, "m": item})
                    pending.setdefault(function, []).append(line + "\n")
                    continue
                if isinstance(item, int):  # the environment's next invocation started
                    for entry in [h for h in held if h[3] == item]:
                        held.remove(entry)
                        pending.setdefault(entry[1], []).append(entry[2])
                    continue
                invocation, outcome, key = item
                what, error = summary(invocation, outcome)
                record = {"t": moment, "m": outcome.report(), "what": what}
                if error:
                    record["error"] = error
                held.append((moment + SETTLE, function, _encode(record) + "\n", key))
            now = time.time()
            while held and (closing or held[0][0] <= now):
                _, function, line, _ = held.popleft()
                pending.setdefault(function, []).append(line)
            for function, lines in pending.items():
                try:
                    file = self._open(function)
                    file.write("".join(lines))
                    file.flush()
                except OSError:
                    continue  # a full disk loses log lines, never an invocation
            if closing and not self._queue:
                return

    def _open(self, function: str) -> IO[str]:
        file = self._files.get(function)
        if file is not None and file.tell() < MAX_BYTES:
            return file
        if file is not None:
            file.close()
        path = log_path(self.root, function)
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.is_file() and path.stat().st_size >= MAX_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
        file = self._files[function] = path.open("a", encoding="utf-8")
        return file


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
