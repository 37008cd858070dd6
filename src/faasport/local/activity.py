"""What happens inside the local runtime, for whoever watches it: the readable log of
``faasport dev`` and its dashboard.

A :class:`FunctionPool` calls its observers when an execution environment changes state,
when an invocation starts and ends, and for each line an environment writes. An
environment's busy and idle follow from the invocation events, which name it: they are not
sent apart (two calls per observer and invocation less). Observers run
on the emulator's loop and must not block: they note what they need and return. With no
observer attached, the pool pays one empty loop per call.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, Protocol

if TYPE_CHECKING:
    from faasport.local.environment import Environment
    from faasport.local.outcome import Outcome
    from faasport.local.runtime_api import Invocation

#: starting: its init runs; warm: ready, never invoked; busy: running an invocation;
#: idle: ready again after one; killed: stopped (retired, crashed, timed out, reloaded).
#: Observers are sent starting, warm and killed; busy and idle are the invocation events'.
EnvState = Literal["starting", "warm", "busy", "idle", "killed"]


class Observer(Protocol):
    def environment_changed(self, function: str, env: Environment, state: EnvState) -> None: ...

    def invocation_started(
        self, function: str, env: Environment | None, invocation: Invocation
    ) -> None: ...

    def invocation_ended(
        self, function: str, env: Environment | None, invocation: Invocation, outcome: Outcome
    ) -> None: ...

    def output(self, function: str, env: Environment, line: str) -> None: ...


@dataclass(frozen=True, slots=True)
class Trigger:
    """What an event came from, in a few words: an HTTP request or an event source."""

    kind: str  # "http", "sqs", "sns", "s3", "kinesis", "dynamodb", "schedule", "event"...
    method: str = ""
    path: str = ""
    records: int = 0

    def text(self) -> str:
        if self.kind == "http":
            return f"{self.method} {self.path}"
        if self.records:
            plural = "s" if self.records != 1 else ""
            return f"{self.kind} {self.records} record{plural}"
        return self.kind


def trigger(payload: bytes) -> Trigger:
    """The :class:`Trigger` of an invocation's event (``invoke`` when it is none we know)."""
    try:
        event = json.loads(payload)
    except ValueError:
        return Trigger("invoke")
    if not isinstance(event, dict):
        return Trigger("invoke")
    return trigger_of(event)


def trigger_of(event: dict[str, Any]) -> Trigger:
    """:func:`trigger` for an event not yet encoded."""
    context = event.get("requestContext")
    if isinstance(context, dict) and isinstance(context.get("http"), dict):  # 2.0
        http = context["http"]
        return Trigger("http", str(http.get("method", "")), str(event.get("rawPath", "")))
    if "httpMethod" in event:  # 1.0 (REST, ALB)
        return Trigger("http", str(event["httpMethod"]), str(event.get("path", "")))
    records = event.get("Records")
    if isinstance(records, list) and records and isinstance(records[0], dict):
        first = records[0]
        source = str(first.get("eventSource") or first.get("EventSource") or "")
        return Trigger(source.rpartition(":")[2] or "records", records=len(records))
    if event.get("source") == "aws.events" and event.get("detail-type") == "Scheduled Event":
        return Trigger("schedule")
    if "detail-type" in event:
        return Trigger(f"event {event['detail-type']}")
    return Trigger("invoke")


def http_status(result: bytes, ok: bool, fallback: int, decoded: tuple[Any] | None = None) -> int:
    """The HTTP status the gateway answers for a function's result: its ``statusCode``, 200
    for a plain JSON result, ``fallback`` when the invocation failed. ``decoded`` is the
    result already decoded (in a 1-tuple), when the caller has it."""
    if not ok:
        return fallback
    if decoded is not None:
        document = decoded[0]
    else:
        try:
            document = json.loads(result)
        except ValueError:
            return 502
    if isinstance(document, dict) and "statusCode" in document:
        try:
            return int(document["statusCode"])
        except (TypeError, ValueError):
            return 502
    return 200
