"""Log events of one function, wherever they were read (``faasport dev``'s log files,
CloudWatch Logs, Cloud Logging, Azure Monitor), shown as ``faasport dev`` shows its log:
``12:00:01 api INFO message`` for the app's lines, one line per invocation in place of
Lambda's START/END/REPORT lines, a traceback as the lines it is made of."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from faasport.local.logformat import BOLD, DIM, LEVELS, RESET, parse_line

_REPORT = re.compile(r"REPORT RequestId: \S+\s+(.*)", re.DOTALL)
_FIELD = re.compile(r"([A-Za-z ]+): ([\d.]+|\w+)")
_SKIPPED = ("START RequestId: ", "END RequestId: ")


@dataclass(frozen=True, slots=True)
class LogEvent:
    #: Seconds since the epoch.
    timestamp: float
    function: str
    #: The line as the function wrote it (or as Lambda wrote it: START, END, REPORT).
    message: str
    #: For an invocation's REPORT line written by ``faasport dev``: what invoked it and
    #: what it answered (``GET /items/42 200``, ``sqs 10 records ok``).
    what: str = ""
    #: For a failed invocation: its error (``ValueError: bad id``).
    error: str = ""


def matches(event: LogEvent, text: str | None) -> bool:
    """``--filter``: the text anywhere in the line (or in the invocation's summary)."""
    return text is None or text in event.message or text in event.what or text in event.error


class LogView:
    """Renders events; a traceback's lines continue under the line that started it."""

    def __init__(self, *, colour: bool = False) -> None:
        self.colour = colour
        self._tracebacks: set[str] = set()

    def render(self, event: LogEvent) -> list[str]:
        text = event.message.rstrip("\n")
        if text.startswith(_SKIPPED):
            return []
        report = _REPORT.match(text)
        if report is not None:
            return [self._invocation(event, report.group(1))]
        if text[:1] in (" ", "\t"):
            return [f"    {text}"]
        if event.function in self._tracebacks:
            self._tracebacks.discard(event.function)
            return [f"    {text}"]
        if text.startswith("Traceback (most recent call last):"):
            self._tracebacks.add(event.function)
        level, message, extra = parse_line(text)
        head = f"{self._time(event)} {self._paint(event.function, BOLD)}"
        if level:
            head += " " + self._paint(f"{level:<5}", LEVELS.get(level, ""))
        return [f"{head} {message}", *(f"    {line}" for line in extra)]

    def _invocation(self, event: LogEvent, fields: str) -> str:
        found = {name.strip(): value for name, value in _FIELD.findall(fields)}
        start = "warm"
        if "Init Duration" in found:
            start = f"cold (init {float(found['Init Duration']):.1f} ms)"
        numbers = (
            f"{float(found.get('Duration', 0)):.1f} ms {found.get('Max Memory Used', '?')} MB "
            f"{start}"
        )
        if found.get("Status") == "timeout":
            numbers += " " + self._paint("timed out", LEVELS["ERROR"])
        what = event.what or "invocation"
        line = f"{self._time(event)} {self._paint(event.function, BOLD)} {what} {numbers}"
        if event.error:
            line += " " + self._paint(event.error, DIM)
        return line

    def _time(self, event: LogEvent) -> str:
        return self._paint(time.strftime("%H:%M:%S", time.localtime(event.timestamp)), DIM)

    def _paint(self, text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if self.colour and code else text
