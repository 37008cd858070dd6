"""The record classes, and :func:`records`, which reads them out of any event."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Literal


class Message:
    """A message from a queue or a topic: SQS, SNS, Pub/Sub, Azure Storage queues."""

    __slots__ = ("attributes", "body", "channel", "deliveries", "id", "raw", "source", "time")

    def __init__(
        self,
        id: str,
        body: bytes,
        *,
        source: str,
        channel: str = "",
        attributes: Mapping[str, str] | None = None,
        deliveries: int = 1,
        time: str = "",
        raw: Any = None,
    ) -> None:
        self.id = id
        self.body = body
        #: Where it came from: "aws.sqs", "aws.sns", "gcp.pubsub", "azure.queue".
        self.source = source
        #: The queue, topic or subscription name.
        self.channel = channel
        self.attributes: Mapping[str, str] = attributes or {}
        #: How many times it has been delivered, this time included (1 when unknown).
        self.deliveries = deliveries
        #: When it was sent, ISO 8601, when the provider says.
        self.time = time
        #: The provider's own record, untouched.
        self.raw = raw

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        import json

        return json.loads(self.body)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Message) and _fields(self) == _fields(other)

    def __repr__(self) -> str:
        return f"<Message {self.source} {self.channel} {self.id} {len(self.body)} bytes>"


class ObjectChange:
    """An object created or removed in a bucket: S3, Cloud Storage, Azure Blob storage."""

    __slots__ = ("bucket", "change", "etag", "key", "raw", "size", "source", "time")

    def __init__(
        self,
        bucket: str,
        key: str,
        change: Literal["created", "removed"],
        *,
        source: str,
        size: int | None = None,
        etag: str | None = None,
        time: str = "",
        raw: Any = None,
    ) -> None:
        self.bucket = bucket
        #: The object's key (name), decoded.
        self.key = key
        self.change: Literal["created", "removed"] = change
        #: "aws.s3", "gcp.storage", "azure.blob".
        self.source = source
        self.size = size
        self.etag = etag
        self.time = time
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ObjectChange) and _fields(self) == _fields(other)

    def __repr__(self) -> str:
        return f"<ObjectChange {self.change} {self.source} {self.bucket}/{self.key}>"


class Tick:
    """A scheduled invocation: EventBridge schedule, Azure timer (Cloud Scheduler on GCP
    arrives through Pub/Sub as a :class:`Message`)."""

    __slots__ = ("late", "name", "raw", "source", "time")

    def __init__(
        self, time: str, *, source: str, name: str = "", late: bool = False, raw: Any = None
    ) -> None:
        #: The scheduled time, ISO 8601.
        self.time = time
        self.source = source
        #: The rule or timer that fired.
        self.name = name
        #: True when the platform reports the tick as past due.
        self.late = late
        self.raw = raw

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Tick) and _fields(self) == _fields(other)

    def __repr__(self) -> str:
        return f"<Tick {self.source} {self.name} {self.time}>"


Record = Message | ObjectChange | Tick


def _fields(record: Message | ObjectChange | Tick) -> tuple[Any, ...]:
    return tuple(getattr(record, name) for name in record.__slots__ if name != "raw")


def records(event: Any) -> list[Record]:
    """The typed records in ``event``: an AWS Lambda event dict, or the record list that
    faasport's GCP and Azure entry points pass to event handlers (returned as it is).

    Raises :class:`~faasport.core.errors.UnsupportedEventError` naming what it saw when
    the event holds no records it knows.
    """
    if isinstance(event, list) and all(isinstance(r, Message | ObjectChange | Tick) for r in event):
        return event
    from faasport.events.aws import aws_records

    return aws_records(event)
