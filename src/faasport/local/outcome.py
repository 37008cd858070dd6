"""The result of one invocation in the local runtime, with what REPORT lines print."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Status(Enum):
    OK = "ok"
    #: The handler raised: Lambda's ``X-Amz-Function-Error: Unhandled``.
    FUNCTION_ERROR = "function_error"
    #: The environment was killed at the function's timeout.
    TIMEOUT = "timeout"
    #: The runtime process died (crash, out of memory) or its init failed.
    CRASH = "crash"
    #: Every environment is busy and the concurrency limit is reached.
    THROTTLED = "throttled"
    #: The response exceeded Lambda's 6 MB payload limit.
    TOO_LARGE = "too_large"


@dataclass(slots=True)
class Outcome:
    request_id: str
    status: Status
    payload: bytes
    duration_ms: float = 0.0
    init_ms: float | None = None
    max_memory_mb: int = 0
    memory_mb: int = 0
    #: The invocation's log (START to REPORT), when it was asked for.
    log: str | None = None
    #: The payload decoded as JSON (in a 1-tuple), once whoever read the result decoded it:
    #: the log lines written later read its status without decoding it again.
    decoded: tuple[Any] | None = None
    _report: str | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    @property
    def billed_ms(self) -> int:
        return max(1, math.ceil(self.duration_ms))

    def report(self) -> str:
        """The REPORT line (made once: the log and the log files both write it; the
        outcome is complete by the time anyone asks)."""
        if self._report is not None:
            return self._report
        line = (
            f"REPORT RequestId: {self.request_id}\tDuration: {self.duration_ms:.2f} ms\t"
            f"Billed Duration: {self.billed_ms} ms\tMemory Size: {self.memory_mb} MB\t"
            f"Max Memory Used: {self.max_memory_mb} MB"
        )
        if self.init_ms is not None:
            line += f"\tInit Duration: {self.init_ms:.2f} ms"
        if self.status is Status.TIMEOUT:
            line += "\tStatus: timeout"
        self._report = line
        return line


def error_payload(message: str, error_type: str) -> bytes:
    return json.dumps({"errorMessage": message, "errorType": error_type}).encode()


def with_request_id(payload: bytes, request_id: str) -> bytes:
    """An error document with the invocation's request id: an init error is posted before
    any invocation exists, but the invocation it fails reports its own id, as Invoke does."""
    try:
        document = json.loads(payload)
    except ValueError:
        return payload
    if not isinstance(document, dict) or document.get("requestId"):
        return payload
    document["requestId"] = request_id
    return json.dumps(document).encode()
