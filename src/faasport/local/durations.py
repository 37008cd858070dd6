"""Invocation durations measured by ``faasport dev``, kept for ``faasport cost --from-dev``.

Each function's most recent durations (what its REPORT lines print as ``Duration``) go to
``.faasport/durations/<function>.json`` in the project, rewritten at most every ten seconds
and when the runtime stops, so the hot path stays a list append: the rewrite runs on the
event loop, where on a busy machine it can take milliseconds. Nothing is written for a
directory without ``.faasport/`` (a runtime started outside a project).
"""

from __future__ import annotations

import json
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
    return root / DIRECTORY / f"{function}.json"


class DurationLog:
    def __init__(self, root: Path, function: str) -> None:
        self.enabled = (root / ".faasport").is_dir()
        self.path = path(root, function)
        self.function = function
        self.values: deque[float] = deque(maxlen=KEEP)
        self._written = float("-inf")

    def record(self, duration_ms: float) -> None:
        if not self.enabled:
            return
        self.values.append(round(duration_ms, 3))
        now = time.monotonic()
        if now - self._written >= WRITE_EVERY:
            self._written = now
            self.write()

    def flush(self) -> None:
        """Write what was recorded since the last write (when the runtime stops)."""
        if self.enabled and self.values and self._written != float("-inf"):
            self.write()

    def write(self) -> None:
        data = {"function": self.function, "durations_ms": list(self.values)}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, temporary = tempfile.mkstemp(prefix=".durations-", dir=self.path.parent)
            with os.fdopen(fd, "w") as out:
                out.write(json.dumps(data))  # one write: json.dump writes piece by piece
            os.replace(temporary, self.path)
        except OSError:
            self.enabled = False  # a read-only project: measuring must never fail a request


def read(root: Path, function: str) -> list[float]:
    """The durations recorded for ``function`` (empty when none were)."""
    try:
        data = json.loads(path(root, function).read_text())
    except (OSError, ValueError):
        return []
    values = data.get("durations_ms") if isinstance(data, dict) else None
    if not isinstance(values, list):
        return []
    return [float(v) for v in values if isinstance(v, int | float) and v >= 0]
