"""A local EventBridge bus: ``put_events`` entries become EventBridge events, and every rule
(``{ bus = ..., pattern = ... }`` in a function's events) whose pattern matches one invokes
its function with it.

As with topics, a rule's deliveries wait in an internal queue (``_rule:FUNCTION:N``) until the
function succeeded; a failure is retried twice, then kept in ``_failed``.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from faasport.local.sources.consumer import ACCOUNT
from faasport.local.sources.patterns import matches
from faasport.local.sources.queues import Outgoing, QueueError, Queues, Received

if TYPE_CHECKING:
    from collections.abc import Callable

    from faasport.config.model import Project


@dataclass(frozen=True)
class Rule:
    queue: str
    function: str
    bus: str
    pattern: dict[str, Any]


def rule_queue(function: str, index: int) -> str:
    return f"_rule:{function}:{index}"


def rules(project: Project) -> list[Rule]:
    return [
        Rule(rule_queue(function.name, index), function.name, rule.bus, json.loads(rule.pattern))
        for function in project.functions.values()
        for index, rule in enumerate(function.rules, 1)
    ]


def bus_event(batch: list[Received]) -> dict[str, Any]:
    [message] = batch
    event: dict[str, Any] = json.loads(message.body)
    return event


class Bus:
    def __init__(
        self, queues: Queues, project: Project, log: Callable[[str], None] = lambda line: None
    ) -> None:
        self.queues = queues
        #: Where a delivery a rule's target refuses is told (on AWS, deliveries happen after
        #: PutEvents is answered, so the put itself still succeeds).
        self.log = log
        self.region = project.region
        self.rules = rules(project)

    def put(self, entry: dict[str, Any]) -> dict[str, str]:
        """One ``PutEvents`` entry: its ``EventId``, or its ``ErrorCode`` and message."""
        for key in ("Source", "DetailType", "Detail"):
            if not isinstance(entry.get(key), str) or not entry[key]:
                return {"ErrorCode": "InvalidArgument", "ErrorMessage": f"{key} is required"}
        try:
            detail = json.loads(entry["Detail"])
        except ValueError:
            detail = None
        if not isinstance(detail, dict):
            return {"ErrorCode": "MalformedDetail", "ErrorMessage": "Detail is not a JSON object"}
        bus = str(entry.get("EventBusName") or "default").rpartition("/")[2]
        when = entry.get("Time")
        if isinstance(when, int | float):
            time = datetime.fromtimestamp(when, UTC)
        else:
            time = datetime.now(UTC)
        id = str(uuid.uuid4())
        event = {
            "version": "0",
            "id": id,
            "detail-type": entry["DetailType"],
            "source": entry["Source"],
            "account": ACCOUNT,
            "time": time.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "region": self.region,
            "resources": list(entry.get("Resources") or []),
            "detail": detail,
        }
        for rule in self.rules:
            if rule.bus == bus and matches(rule.pattern, event):
                [sent] = self.queues.send_batch(rule.queue, [Outgoing(json.dumps(event))])
                if isinstance(sent, QueueError):
                    self.log(
                        f"bus {bus}: event {id} not delivered to function {rule.function}: "
                        f"{sent.code}: {sent}"
                    )
        return {"EventId": id}
