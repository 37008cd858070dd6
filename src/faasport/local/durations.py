"""Invocation durations measured by ``faasport dev`` and ``faasport invoke``, kept for
``faasport cost --from-dev``.

Each function's durations (what its REPORT lines print as ``Duration``) are appended to
``.faasport/durations/<function>.txt`` in the project, one number a line. Appending keeps
what every process records: a ``faasport invoke`` while ``faasport dev`` runs, two dev
servers. The hot path stays an append to a bounded deque: what was recorded goes out in one
write at most every ten seconds, and when the runtime stops; only the last :data:`KEEP` of
them are held (more would be cut at once), so a write under heavy load stays small. The file
is cut back to the last :data:`KEEP` durations once it holds twice as many. Nothing is
written for a directory without ``.faasport/`` (a runtime started outside a project).
"""

from __future__ import annotations

import os
import tempfile
import time
from collections import deque
from pathlib import Path

DIRECTORY = Path(".faasport") / "durations"
#: Durations kept per function: enough for a stable median.
KEEP = 1000
WRITE_EVERY = 10.0


def path(root: Path, function: str) -> Path:
    return root / DIRECTORY / f"{function}.txt"


class DurationLog:
    def __init__(self, root: Path, function: str) -> None:
        self.enabled = (root / ".faasport").is_dir()
        self.root = root
        self.path = path(root, function)
        self.function = function
        self.pending: deque[float] = deque(maxlen=KEEP)
        self._written = float("-inf")

    def record(self, duration_ms: float) -> None:
        if not self.enabled:
            return
        self.pending.append(round(duration_ms, 3))
        now = time.monotonic()
        if now - self._written >= WRITE_EVERY:
            self._written = now
            self.write()

    def flush(self) -> None:
        """Write what was recorded since the last write (when the runtime stops)."""
        if self.enabled and self.pending:
            self.write()

    def write(self) -> None:
        pending, self.pending = self.pending, deque(maxlen=KEEP)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # O_APPEND and one write: lines other processes append are kept.
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, "".join(f"{v}\n" for v in pending).encode())
                size = os.fstat(fd).st_size
            finally:
                os.close(fd)
            if size > KEEP * 8:  # perhaps twice KEEP lines (4 to 10 bytes each): look
                self._compact()
        except OSError:
            self.enabled = False  # a read-only project: measuring must never fail a request

    def _compact(self) -> None:
        kept = _values(self.path)
        if len(kept) <= 2 * KEEP:
            return
        fd, temporary = tempfile.mkstemp(prefix=".durations-", dir=self.path.parent)
        with os.fdopen(fd, "w") as out:
            out.write("".join(f"{v}\n" for v in kept[-KEEP:]))
        os.replace(temporary, self.path)


def read(root: Path, function: str) -> list[float]:
    """The durations recorded for ``function``, the last :data:`KEEP` (empty when none
    were)."""
    return _values(path(root, function))[-KEEP:]


def _values(file: Path) -> list[float]:
    try:
        text = file.read_text()
    except OSError:
        return []
    found = []
    for line in text.splitlines():
        try:
            value = float(line)
        except ValueError:
            continue  # a line cut short by a crash
        if value >= 0 and value == value:
            found.append(value)
    return found
