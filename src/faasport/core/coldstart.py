"""What this execution environment knows about its own cold start."""

from __future__ import annotations

import time


class ColdStart:
    __slots__ = ("app_init_seconds", "pending", "started_at")

    def __init__(self) -> None:
        #: perf_counter() when faasport's runtime was first imported in this environment.
        self.started_at = time.perf_counter()
        #: True until the first invocation has been counted.
        self.pending = True
        #: Seconds spent importing the app, once measured.
        self.app_init_seconds: float | None = None

    def take(self) -> bool:
        """True exactly once: for the first invocation of this environment."""
        if self.pending:
            self.pending = False
            return True
        return False


#: One record per process, as a Lambda execution environment is one process.
record = ColdStart()
