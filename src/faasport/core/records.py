"""Canonical event records: what any cloud's non-HTTP event becomes, beside
:class:`~faasport.core.http.HttpRequest` for HTTP.

Each provider decodes its own events into these classes (``aws/events.py``,
``gcp/events.py``, ``azure/events.py``); :mod:`faasport.events` reads them out of any event
and processes batches. A provider may subclass a record to decode its fields on first access
(the hot path of a batch touches only what the handler reads); equality and ``repr`` go
through the public fields, so a lazy record equals an eager one.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Mapping
    from typing import Any, Literal


class _Fields:
    __slots__ = ()
    #: The public fields, compared by ``==`` (``raw`` is not).
    FIELDS: tuple[str, ...] = ()

    def _values(self) -> tuple[Any, ...]:
        return tuple(getattr(self, name) for name in self.FIELDS)

    def __eq__(self, other: object) -> bool:
        # A provider's lazy subclass inherits its record class's FIELDS tuple itself, so the
        # identity check matches records of one class, lazy or not.
        return (
            isinstance(other, _Fields)
            and other.FIELDS is self.FIELDS
            and other._values() == self._values()
        )

    __hash__ = None  # type: ignore[assignment]


class _Payload(_Fields):
    """A record carrying bytes: ``text`` and ``json()`` read them."""

    __slots__ = ()
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        import json

        return json.loads(self.body)


class Message(_Payload):
    """A message from a queue or a topic: SQS, SNS, Pub/Sub, Azure Storage queues."""

    __slots__ = ("attributes", "body", "channel", "deliveries", "id", "raw", "source", "time")
    FIELDS = ("id", "body", "source", "channel", "attributes", "deliveries", "time")

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

    def __repr__(self) -> str:
        return f"<Message {self.source} {self.channel} {self.id} {len(self.body)} bytes>"


class ObjectChange(_Fields):
    """An object created or removed in a bucket: S3, Cloud Storage, Azure Blob storage."""

    __slots__ = ("bucket", "change", "etag", "key", "raw", "size", "source", "time")
    FIELDS = ("bucket", "key", "change", "source", "size", "etag", "time")

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

    def __repr__(self) -> str:
        return f"<ObjectChange {self.change} {self.source} {self.bucket}/{self.key}>"


class Tick(_Fields):
    """A scheduled invocation: EventBridge schedule, Azure timer (Cloud Scheduler on GCP
    arrives through Pub/Sub as a :class:`Message`)."""

    __slots__ = ("late", "name", "raw", "source", "time")
    FIELDS = ("time", "source", "name", "late")

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

    def __repr__(self) -> str:
        return f"<Tick {self.source} {self.name} {self.time}>"


class StreamRecord(_Payload):
    """A record of an ordered stream: Kinesis Data Streams. ``sequence`` orders the records
    of one shard and identifies a failed one to retry from."""

    __slots__ = ("body", "channel", "partition_key", "raw", "sequence", "shard", "source", "time")
    FIELDS = ("sequence", "body", "source", "channel", "partition_key", "shard", "time")

    def __init__(
        self,
        sequence: str,
        body: bytes,
        *,
        source: str,
        channel: str = "",
        partition_key: str = "",
        shard: str = "",
        time: str = "",
        raw: Any = None,
    ) -> None:
        self.sequence = sequence
        #: The record's data, decoded (Kinesis carries it base64-encoded).
        self.body = body
        #: "aws.kinesis".
        self.source = source
        #: The stream name.
        self.channel = channel
        self.partition_key = partition_key
        self.shard = shard
        #: When the stream received it, ISO 8601.
        self.time = time
        self.raw = raw

    @property
    def id(self) -> str:
        return self.sequence

    def __repr__(self) -> str:
        return f"<StreamRecord {self.source} {self.channel} {self.sequence}>"


class ChangeRecord(_Fields):
    """A row changed in a table: DynamoDB Streams. Images hold Python values (numbers as
    :class:`~decimal.Decimal`, sets as ``set``, binary as ``bytes``)."""

    __slots__ = (
        "change",
        "id",
        "keys",
        "new",
        "old",
        "raw",
        "sequence",
        "source",
        "table",
        "time",
    )
    FIELDS = ("id", "sequence", "change", "source", "table", "keys", "new", "old", "time")

    def __init__(
        self,
        id: str,
        sequence: str,
        change: Literal["INSERT", "MODIFY", "REMOVE"],
        *,
        source: str,
        table: str = "",
        keys: Mapping[str, Any] | None = None,
        new: Mapping[str, Any] | None = None,
        old: Mapping[str, Any] | None = None,
        time: str = "",
        raw: Any = None,
    ) -> None:
        self.id = id
        self.sequence = sequence
        self.change: Literal["INSERT", "MODIFY", "REMOVE"] = change
        #: "aws.dynamodb".
        self.source = source
        self.table = table
        self.keys: Mapping[str, Any] = keys or {}
        #: The row after the change (None when the stream view does not carry it).
        self.new = new
        #: The row before the change.
        self.old = old
        self.time = time
        self.raw = raw

    def __repr__(self) -> str:
        return f"<ChangeRecord {self.change} {self.source} {self.table} {self.sequence}>"


class BusEvent(_Fields):
    """A custom event from an event bus: EventBridge ``put_events``."""

    __slots__ = (
        "bus",
        "detail",
        "detail_type",
        "event_source",
        "id",
        "raw",
        "resources",
        "source",
        "time",
    )
    FIELDS = ("id", "detail_type", "detail", "event_source", "source", "bus", "resources", "time")

    def __init__(
        self,
        id: str,
        detail_type: str,
        detail: Any,
        *,
        event_source: str,
        source: str,
        bus: str = "default",
        resources: tuple[str, ...] = (),
        time: str = "",
        raw: Any = None,
    ) -> None:
        self.id = id
        self.detail_type = detail_type
        #: The event's ``detail``, as parsed JSON.
        self.detail = detail
        #: The application's own source name, such as "app.orders".
        self.event_source = event_source
        #: The provider: "aws.events".
        self.source = source
        self.bus = bus
        self.resources = resources
        self.time = time
        self.raw = raw

    def __repr__(self) -> str:
        return f"<BusEvent {self.event_source} {self.detail_type} {self.id}>"


Record = Message | ObjectChange | Tick | StreamRecord | ChangeRecord | BusEvent
RECORD_TYPES = (Message, ObjectChange, Tick, StreamRecord, ChangeRecord, BusEvent)
