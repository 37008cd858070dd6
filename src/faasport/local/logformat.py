"""The log of ``faasport dev`` for a person at a terminal (``--log-format pretty``).

One line per invocation (``12:00:01 api GET /items/42 200 3.1 ms 48 MB warm``) in place of
Lambda's START/END/REPORT lines; the app's own log lines (faasport's JSON lines, the Lambda
runtime's tab-separated ones, or plain prints) as ``time function LEVEL message`` with the
level in colour; a traceback as the lines it is made of. ``--log-format json`` keeps the
lines as CloudWatch gets them.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from faasport.local.activity import EnvState, http_status, trigger
from faasport.local.metric_lines import readable
from faasport.local.outcome import Status

if TYPE_CHECKING:
    from faasport.local.environment import Environment
    from faasport.local.outcome import Outcome
    from faasport.local.runtime_api import Invocation

Write = Callable[[str], None]
#: Seconds the invocation line waits for the invocation's own lines to be read.
SETTLE = 0.01

RESET = "\x1b[0m"
DIM = "\x1b[2m"
BOLD = "\x1b[1m"
LEVELS = {
    "DEBUG": "\x1b[2m",
    "INFO": "\x1b[32m",
    "WARNING": "\x1b[33m",
    "WARN": "\x1b[33m",
    "ERROR": "\x1b[31m",
    "CRITICAL": "\x1b[1;31m",
    "FATAL": "\x1b[1;31m",
}
#: What the gateway answers when the invocation failed (as :data:`invoker.GATEWAY_STATUS`).
_FAILED = {Status.TIMEOUT: 504, Status.THROTTLED: 429}
#: Lambda's own lines, which the invocation line replaces.
_LAMBDA_LINES = ("START RequestId: ", "END RequestId: ", "REPORT RequestId: ")
_PREFIXED = re.compile(r"\[([\w.-]+)\] (.*)", re.DOTALL)
#: The Lambda runtime's log format: ``[LEVEL]\ttimestamp\trequest id\tmessage``.
_LAMBDA_FORMAT = re.compile(r"\[([A-Z]+)\]\t[^\t]*\t[^\t]*\t(.*)", re.DOTALL)


class PrettyLog:
    """A line sink for the emulator's log and an observer of its invocations."""

    def __init__(self, write: Write, *, colour: bool = False) -> None:
        self.write = write
        self.colour = colour
        #: Sources in the middle of a printed traceback: its last line (the exception) is
        #: the first one not indented.
        self._tracebacks: set[str] = set()
        #: Invocation lines waiting for their invocation's own lines, by environment.
        self._held: dict[int, tuple[asyncio.TimerHandle, str]] = {}

    # -- the line sink ------------------------------------------------------------------

    def line(self, text: str) -> None:
        if text.startswith(_LAMBDA_LINES):
            return
        found = _PREFIXED.match(text)
        if found is None:
            self.write(f"{self._now()} {text}")
            return
        source, rest = found.groups()
        self._app_line(source, rest)

    def _app_line(self, source: str, text: str) -> None:
        if text[:1] in (" ", "\t"):  # a traceback's frames, a multi-line print
            self.write(f"    {text}")
            return
        if source in self._tracebacks:
            self._tracebacks.discard(source)
            self.write(f"    {text}")
            return
        if text.startswith("Traceback (most recent call last):"):
            self._tracebacks.add(source)
        level, message, extra = parse_line(text)
        head = f"{self._now()} {self._paint(source, BOLD)}"
        if level:
            shown = f"{level:<5}"
            head += " " + self._paint(shown, LEVELS.get(level, ""))
        self.write(f"{head} {message}")
        for line in extra:
            self.write(f"    {line}")

    # -- the observer -------------------------------------------------------------------

    def environment_changed(self, function: str, env: Environment, state: EnvState) -> None:
        pass

    def invocation_started(
        self, function: str, env: Environment | None, invocation: Invocation
    ) -> None:
        if env is not None:  # the line of its last invocation goes before this one's lines
            self._release(id(env))

    def output(self, function: str, env: Environment, line: str) -> None:
        pass

    def invocation_ended(
        self, function: str, env: Environment | None, invocation: Invocation, outcome: Outcome
    ) -> None:
        cause = invocation.trigger or trigger(invocation.payload)
        result, colour = _result(cause.kind, outcome)
        what = f"{cause.text()} {self._paint(result, colour)}"
        start = "cold" if outcome.init_ms is not None else "warm"
        if outcome.init_ms is not None:
            start += f" (init {outcome.init_ms:.1f} ms)"
        numbers = f"{outcome.duration_ms:.1f} ms {outcome.max_memory_mb} MB {start}"
        if env is None:  # no environment could start
            numbers = "init failed"
        line = f"{self._now()} {self._paint(function, BOLD)} {what} {numbers}"
        if not outcome.ok:
            line += " " + self._paint(_error_text(outcome.payload), DIM)
        # The app's lines of this invocation are in the environment's pipe already (written
        # before the result was posted), but read on a later turn of the loop: they come
        # first, unless the environment's next invocation starts sooner.
        loop = asyncio.get_running_loop()
        if env is None:
            loop.call_later(SETTLE, self.write, line)
            return
        key = id(env)
        self._release(key)
        self._held[key] = (loop.call_later(SETTLE, self._release, key), line)

    def _release(self, key: int) -> None:
        held = self._held.pop(key, None)
        if held is not None:
            held[0].cancel()
            self.write(held[1])

    # -- helpers ------------------------------------------------------------------------

    def _now(self) -> str:
        return self._paint(time.strftime("%H:%M:%S"), DIM)

    def _paint(self, text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if self.colour and code else text


def parse_line(text: str) -> tuple[str, str, list[str]]:
    """``(level, message, further lines)`` of one line an environment wrote; an EMF
    document as the metrics it holds."""
    if text.startswith('{"_aws":'):
        return "", readable(text), []
    if text.startswith("{"):
        try:
            record: Any = json.loads(text)
        except ValueError:
            record = None
        if isinstance(record, dict) and "message" in record:
            level = str(record.get("level", "")).upper()
            lines = str(record["message"]).splitlines() or [""]
            for key in ("exception", "stack_trace", "stackTrace"):
                value = record.get(key)
                if isinstance(value, list):
                    lines += "".join(str(v) for v in value).splitlines()
                elif value:
                    lines += str(value).splitlines()
            return level, lines[0], lines[1:]
    found = _LAMBDA_FORMAT.match(text)
    if found is not None:
        level, message = found.groups()
        lines = message.replace("\r", "\n").splitlines() or [""]
        return level, lines[0], lines[1:]
    return "", text, []


def _status_colour(status: int) -> str:
    if status >= 500:
        return LEVELS["ERROR"]
    if status >= 400:
        return LEVELS["WARNING"]
    return LEVELS["INFO"]


def _error_text(payload: bytes) -> str:
    try:
        error = json.loads(payload)
    except ValueError:
        return ""
    if not isinstance(error, dict):
        return ""
    kind, message = error.get("errorType", ""), str(error.get("errorMessage", ""))
    return f"{kind}: {message}" if kind else message


def summary(invocation: Invocation, outcome: Outcome) -> tuple[str, str]:
    """What invoked the function and what it answered, as the invocation line shows them
    (``GET /items/42 200``, ``sqs 3 records ok``), and its error when it failed."""
    cause = invocation.trigger or trigger(invocation.payload)
    result, _ = _result(cause.kind, outcome)
    return f"{cause.text()} {result}", "" if outcome.ok else _error_text(outcome.payload)


def _result(kind: str, outcome: Outcome) -> tuple[str, str]:
    """What an invocation answered, as its line shows it, and the colour for it: an HTTP
    status; ``ok``, ``2 failed`` (records a batch reported failed: they come back) or how
    it failed."""
    if kind == "http":
        status = http_status(
            outcome.payload, outcome.ok, _FAILED.get(outcome.status, 502), outcome.decoded
        )
        return str(status), _status_colour(status)
    if not outcome.ok:
        return outcome.status.value.replace("_", " "), LEVELS["ERROR"]
    failed = _batch_failures(outcome)
    if failed:
        return f"{failed} failed", LEVELS["WARNING"]
    return "ok", ""


def _batch_failures(outcome: Outcome) -> int:
    """How many records a batch's ``batchItemFailures`` names (0 for any other result)."""
    if b"batchItemFailures" not in outcome.payload:
        return 0
    try:
        document = json.loads(outcome.payload)
    except ValueError:
        return 0
    found = document.get("batchItemFailures") if isinstance(document, dict) else None
    return len(found) if isinstance(found, list) else 0
