"""What this execution environment knows about its own cold start."""

from __future__ import annotations


class ColdStart:
    __slots__ = ("pending",)

    def __init__(self) -> None:
        #: True until the first invocation has been counted.
        self.pending = True

    def take(self) -> bool:
        """True exactly once: for the first invocation of this environment."""
        if self.pending:
            self.pending = False
            return True
        return False


#: One record per process, as a Lambda execution environment is one process.
record = ColdStart()
