"""Local SNS topics: a message published to a topic fans out to the functions whose events
name it and to the queues subscribed in ``[topics.NAME]``, each through its filter policy.

A function's deliveries wait in an internal queue of the event store (``_sns:TOPIC:FUNCTION``)
until the function succeeded, so a crash loses none; like SNS's asynchronous invocation, a
failed delivery is retried twice, then kept in ``_failed``.

A publish is checked as SNS checks it (at most 256 KiB, a subject of at most 100 characters).
As on AWS, where deliveries happen after the publish is answered, a subscription that refuses
the message (a queue's own limits: the JSON envelope adds to the message's size) does not fail
the publish; each such delivery is logged, naming topic, subscriber and reason.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from faasport.local.sources.consumer import ACCOUNT
from faasport.local.sources.patterns import matches
from faasport.local.sources.queues import (
    Outgoing,
    QueueError,
    Queues,
    Received,
    attributes_size,
)

if TYPE_CHECKING:
    from faasport.config.model import Project

FAILED = "_failed"
Attributes = Mapping[str, Mapping[str, str]]
#: SNS's limits: a message with its attributes, and a subject.
MAX_SIZE = 262_144
MAX_SUBJECT = 100


@dataclass(frozen=True)
class Subscription:
    #: The internal queue of a function, or the subscribed queue.
    queue: str
    function: str | None
    raw: bool
    filter: dict[str, Any] | None


def delivery_queue(topic: str, function: str) -> str:
    return f"_sns:{topic}:{function}"


def subscriptions(project: Project) -> dict[str, list[Subscription]]:
    out: dict[str, list[Subscription]] = {}
    for topic in project.topics.values():
        for sub in topic.queues:
            out.setdefault(topic.name, []).append(
                Subscription(sub.queue, None, sub.raw, json.loads(sub.filter or "null"))
            )
    from faasport.config.model import TopicEvent

    for function in project.functions.values():
        for event in function.events:
            if isinstance(event, TopicEvent):
                out.setdefault(event.topic, []).append(
                    Subscription(
                        delivery_queue(event.topic, function.name),
                        function.name,
                        False,
                        json.loads(event.filter or "null"),
                    )
                )
    return out


def policy_values(attributes: Attributes) -> dict[str, Any]:
    """Message attributes as a filter policy sees them: numbers as numbers, string arrays
    as lists."""
    values: dict[str, Any] = {}
    for name, value in attributes.items():
        kind = value.get("DataType", "String")
        text = value.get("StringValue", "")
        if kind.startswith("Number"):
            try:
                values[name] = float(text)
            except ValueError:
                continue
        elif kind == "String.Array":
            try:
                values[name] = json.loads(text)
            except ValueError:
                continue
        elif "StringValue" in value:
            values[name] = text
    return values


def sns_event(topic_arn: str, batch: list[Received], region: str) -> dict[str, Any]:
    return {
        "Records": [
            {
                "EventSource": "aws:sns",
                "EventVersion": "1.0",
                "EventSubscriptionArn": f"{topic_arn}:{uuid.uuid5(uuid.NAMESPACE_URL, topic_arn)}",
                "Sns": json.loads(message.body),
            }
            for message in batch
        ]
    }


class Topics:
    def __init__(
        self, queues: Queues, project: Project, log: Callable[[str], None] = lambda line: None
    ) -> None:
        self.queues = queues
        self.log = log
        self.region = project.region
        self.subscriptions = subscriptions(project)

    def arn(self, topic: str) -> str:
        return f"arn:aws:sns:{self.region}:{ACCOUNT}:{topic}"

    def known(self, topic: str) -> str:
        if topic not in self.subscriptions:
            known = ", ".join(sorted(self.subscriptions)) or "none"
            raise QueueError("NotFound", f'topic "{topic}" does not exist; the topics are: {known}')
        return topic

    def publish(
        self,
        topic: str,
        message: str | Mapping[str, str],
        attributes: Attributes | None = None,
        subject: str = "",
    ) -> str:
        """Fan ``message`` out; a mapping is a message per protocol (``MessageStructure=json``):
        queues take its ``sqs`` entry, functions its ``lambda`` one, else its ``default``."""
        self.known(topic)
        if not message:
            raise QueueError("InvalidParameter", "Invalid parameter: Empty message")
        attributes = attributes or {}
        whole = message if isinstance(message, str) else json.dumps(message)
        size = len(whole.encode("utf-8", "surrogatepass")) + attributes_size(attributes)
        if size > MAX_SIZE:
            raise QueueError(
                "InvalidParameter",
                f"Invalid parameter: Message too long: {size} bytes with its attributes,"
                f" at most {MAX_SIZE}",
            )
        if len(subject) > MAX_SUBJECT or not all(" " <= c <= "~" for c in subject):
            raise QueueError(
                "InvalidParameter",
                f"Invalid parameter: Subject: at most {MAX_SUBJECT} printable ASCII characters,"
                " without line breaks",
            )
        id = str(uuid.uuid4())
        envelope = {
            "Type": "Notification",
            "MessageId": id,
            "TopicArn": self.arn(topic),
            "Subject": subject or None,
            "Message": "",
            "Timestamp": datetime.now(UTC).isoformat(timespec="milliseconds")[:23] + "Z",
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertUrl": f"https://sns.{self.region}.amazonaws.com/cert.pem",
            "UnsubscribeUrl": f"https://sns.{self.region}.amazonaws.com/?Action=Unsubscribe",
            "MessageAttributes": {
                name: {
                    "Type": value.get("DataType", "String"),
                    "Value": value.get("StringValue", value.get("BinaryValue")),
                }
                for name, value in attributes.items()
            },
        }
        values = policy_values(attributes)
        for sub in self.subscriptions[topic]:
            if sub.filter is not None and not matches(sub.filter, values):
                continue
            if isinstance(message, str):
                text = message
            else:
                text = message.get("lambda" if sub.function else "sqs") or message["default"]
            envelope["Message"] = text
            body = text if sub.raw else json.dumps(envelope)
            outgoing = Outgoing(body, attributes if sub.raw else None)
            if self.queues.spec(sub.queue).fifo:
                outgoing.group, outgoing.dedup = topic, id
            [sent] = self.queues.send_batch(sub.queue, [outgoing])
            if isinstance(sent, QueueError):
                subscriber = f"function {sub.function}" if sub.function else f"queue {sub.queue}"
                self.log(
                    f"topic {topic}: message {id} not delivered to {subscriber}:"
                    f" {sent.code}: {sent}"
                )
        return id
