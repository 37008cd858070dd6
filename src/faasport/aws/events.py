"""AWS event sources as canonical records: SQS, SNS, S3, EventBridge (schedules and custom
events), Kinesis and DynamoDB Streams.

SQS, Kinesis and DynamoDB records decode their fields on first access: a batch handler that
reads only the body never pays for timestamps, attributes or images it does not use.
"""

from __future__ import annotations

from faasport.core.errors import UnsupportedEventError
from faasport.core.records import (
    BusEvent,
    ChangeRecord,
    Message,
    ObjectChange,
    Record,
    StreamRecord,
    Tick,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any, Literal


def _arn_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def iso_from_millis(millis: str | float) -> str:
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(float(millis) / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class SqsMessage(Message):
    """An SQS record, read from the event's own dict as fields are used."""

    __slots__ = ()
    source = "aws.sqs"

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    @property
    def id(self) -> str:  # type: ignore[override]
        return self.raw["messageId"]  # type: ignore[no-any-return]

    @property
    def body(self) -> bytes:  # type: ignore[override]
        return str(self.raw.get("body", "")).encode("utf-8")

    @property
    def text(self) -> str:
        return str(self.raw.get("body", ""))

    @property
    def channel(self) -> str:  # type: ignore[override]
        return _arn_name(self.raw.get("eventSourceARN", ""))

    @property
    def attributes(self) -> Mapping[str, str]:  # type: ignore[override]
        return {
            name: str(value.get("stringValue", value.get("binaryValue", "")))
            for name, value in (self.raw.get("messageAttributes") or {}).items()
        }

    @property
    def deliveries(self) -> int:  # type: ignore[override]
        return int((self.raw.get("attributes") or {}).get("ApproximateReceiveCount", 1))

    @property
    def time(self) -> str:  # type: ignore[override]
        sent = (self.raw.get("attributes") or {}).get("SentTimestamp")
        return iso_from_millis(sent) if sent else ""


class KinesisRecord(StreamRecord):
    """A Kinesis record: ``body`` is its data, decoded from base64 when read."""

    __slots__ = ()
    source = "aws.kinesis"

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    @property
    def sequence(self) -> str:  # type: ignore[override]
        return self.raw["kinesis"]["sequenceNumber"]  # type: ignore[no-any-return]

    @property
    def body(self) -> bytes:  # type: ignore[override]
        from base64 import b64decode

        return b64decode(self.raw["kinesis"].get("data", ""))

    @property
    def channel(self) -> str:  # type: ignore[override]
        return _arn_name(self.raw.get("eventSourceARN", "")).rpartition("/")[2]

    @property
    def partition_key(self) -> str:  # type: ignore[override]
        return str(self.raw["kinesis"].get("partitionKey", ""))

    @property
    def shard(self) -> str:  # type: ignore[override]
        return str(self.raw.get("eventID", "")).partition(":")[0]

    @property
    def time(self) -> str:  # type: ignore[override]
        arrived = self.raw["kinesis"].get("approximateArrivalTimestamp")
        return iso_from_millis(float(arrived) * 1000) if arrived is not None else ""


class DynamoDBRecord(ChangeRecord):
    """A DynamoDB Streams record: keys and images decoded from attribute values when read."""

    __slots__ = ()
    source = "aws.dynamodb"

    def __init__(self, raw: dict[str, Any]) -> None:
        self.raw = raw

    @property
    def id(self) -> str:  # type: ignore[override]
        return str(self.raw.get("eventID", ""))

    @property
    def sequence(self) -> str:  # type: ignore[override]
        return self.raw["dynamodb"]["SequenceNumber"]  # type: ignore[no-any-return]

    @property
    def change(self) -> Literal["INSERT", "MODIFY", "REMOVE"]:  # type: ignore[override]
        return self.raw["eventName"]  # type: ignore[no-any-return]

    @property
    def table(self) -> str:  # type: ignore[override]
        return str(self.raw.get("eventSourceARN", "")).partition(":table/")[2].partition("/")[0]

    @property
    def keys(self) -> Mapping[str, Any]:  # type: ignore[override]
        return _image(self.raw["dynamodb"].get("Keys")) or {}

    @property
    def new(self) -> Mapping[str, Any] | None:  # type: ignore[override]
        return _image(self.raw["dynamodb"].get("NewImage"))

    @property
    def old(self) -> Mapping[str, Any] | None:  # type: ignore[override]
        return _image(self.raw["dynamodb"].get("OldImage"))

    @property
    def time(self) -> str:  # type: ignore[override]
        created = self.raw["dynamodb"].get("ApproximateCreationDateTime")
        return iso_from_millis(float(created) * 1000) if created is not None else ""


def _image(image: dict[str, Any] | None) -> dict[str, Any] | None:
    if image is None:
        return None
    from faasport.aws.attribute_values import deserialize

    return {name: deserialize(value) for name, value in image.items()}


def _sns(record: dict[str, Any]) -> Message:
    sns = record["Sns"]
    attributes = {
        name: str(value.get("Value", ""))
        for name, value in (sns.get("MessageAttributes") or {}).items()
    }
    return Message(
        sns["MessageId"],
        str(sns.get("Message", "")).encode("utf-8"),
        source="aws.sns",
        channel=_arn_name(sns.get("TopicArn", "")),
        attributes=attributes,
        time=sns.get("Timestamp", ""),
        raw=record,
    )


def _s3(record: dict[str, Any]) -> ObjectChange:
    from urllib.parse import unquote_plus

    s3 = record["s3"]
    obj = s3["object"]
    name = str(record.get("eventName", ""))
    size = obj.get("size")
    return ObjectChange(
        s3["bucket"]["name"],
        # S3 notifications carry keys form-encoded: "my+file%21.txt" is "my file!.txt".
        unquote_plus(obj["key"]),
        "removed" if name.startswith("ObjectRemoved") else "created",
        source="aws.s3",
        size=int(size) if size is not None else None,
        etag=obj.get("eTag"),
        time=record.get("eventTime", ""),
        raw=record,
    )


def _checked(record: dict[str, Any], keys: tuple[str, ...], source: str) -> dict[str, Any]:
    # Lazy records read their fields later: what every field needs is checked here, so a
    # malformed record is refused when the event is read, not halfway through a handler.
    for key in keys:
        if not isinstance(record.get(key), dict | str):
            raise UnsupportedEventError(f"malformed {source} record: no {key!r}")
    return record


def _sqs(record: dict[str, Any]) -> Record:
    if "messageId" not in record:
        raise UnsupportedEventError("malformed aws:sqs record: no 'messageId'")
    return SqsMessage(record)


def _kinesis(record: dict[str, Any]) -> Record:
    data = _checked(record, ("kinesis",), "aws:kinesis")["kinesis"]
    if "sequenceNumber" not in data:
        raise UnsupportedEventError("malformed aws:kinesis record: no 'sequenceNumber'")
    return KinesisRecord(record)


def _dynamodb(record: dict[str, Any]) -> Record:
    data = _checked(record, ("dynamodb", "eventName"), "aws:dynamodb")["dynamodb"]
    if "SequenceNumber" not in data:
        raise UnsupportedEventError("malformed aws:dynamodb record: no 'SequenceNumber'")
    return DynamoDBRecord(record)


_BY_SOURCE: dict[str, Callable[[dict[str, Any]], Record]] = {
    "aws:sqs": _sqs,
    "aws:sns": _sns,
    "aws:s3": _s3,
    "aws:kinesis": _kinesis,
    "aws:dynamodb": _dynamodb,
}
KNOWN = "SQS, SNS, S3, Kinesis, DynamoDB Streams or EventBridge event"


def _bus(event: dict[str, Any]) -> Record:
    if event.get("detail-type") == "Scheduled Event":
        resources = event.get("resources") or [""]
        return Tick(
            event.get("time", ""),
            source="aws.events",
            name=_arn_name(resources[0]).rpartition("/")[2],
            raw=event,
        )
    return BusEvent(
        str(event["id"]),
        str(event["detail-type"]),
        event.get("detail"),
        event_source=str(event["source"]),
        source="aws.events",
        resources=tuple(event.get("resources") or ()),
        time=str(event.get("time", "")),
        raw=event,
    )


def aws_records(event: Any) -> list[Record]:
    """The records of an AWS Lambda event."""
    if isinstance(event, dict):
        found = event.get("Records")
        if isinstance(found, list):
            return [_record(record) for record in found]
        if "detail-type" in event and "source" in event:
            try:
                return [_bus(event)]
            except (KeyError, TypeError) as exc:
                raise UnsupportedEventError(
                    f"malformed EventBridge event: {type(exc).__name__}: {exc}"
                ) from None
    keys = sorted(str(k) for k in event)[:8] if isinstance(event, dict) else type(event).__name__
    raise UnsupportedEventError(f"faasport.events.records received {keys}, which is not an {KNOWN}")


def _record(record: Any) -> Record:
    if not isinstance(record, dict):
        raise UnsupportedEventError(f"an event record must be an object, not {type(record)}")
    source = record.get("eventSource") or record.get("EventSource")
    parse = _BY_SOURCE.get(str(source))
    if parse is None:
        raise UnsupportedEventError(
            f"faasport.events cannot read a record from {source!r}; "
            "it reads aws:sqs, aws:sns, aws:s3, aws:kinesis and aws:dynamodb records"
        )
    try:
        return parse(record)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        if isinstance(exc, UnsupportedEventError):
            raise
        raise UnsupportedEventError(
            f"malformed {source} record: {type(exc).__name__}: {exc}"
        ) from None
