"""AWS event sources as typed records: SQS, SNS, S3 and EventBridge schedules."""

from __future__ import annotations

from faasport.core.errors import UnsupportedEventError
from faasport.events.records import Message, ObjectChange, Record, Tick

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any


def _arn_name(arn: str) -> str:
    return arn.rsplit(":", 1)[-1]


def _sqs(record: dict[str, Any]) -> Message:
    attributes = {
        name: str(value.get("stringValue", value.get("binaryValue", "")))
        for name, value in (record.get("messageAttributes") or {}).items()
    }
    system = record.get("attributes") or {}
    sent = system.get("SentTimestamp")
    return Message(
        record["messageId"],
        str(record.get("body", "")).encode("utf-8"),
        source="aws.sqs",
        channel=_arn_name(record.get("eventSourceARN", "")),
        attributes=attributes,
        deliveries=int(system.get("ApproximateReceiveCount", 1)),
        time=_iso_from_millis(sent) if sent else "",
        raw=record,
    )


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


def _iso_from_millis(millis: str) -> str:
    from datetime import UTC, datetime

    moment = datetime.fromtimestamp(int(millis) / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


_BY_SOURCE: dict[str, Callable[[dict[str, Any]], Record]] = {
    "aws:sqs": _sqs,
    "aws:sns": _sns,
    "aws:s3": _s3,
}


def aws_records(event: Any) -> list[Record]:
    if isinstance(event, dict):
        if event.get("detail-type") == "Scheduled Event":
            resources = event.get("resources") or [""]
            return [
                Tick(
                    event.get("time", ""),
                    source="aws.events",
                    name=_arn_name(resources[0]).rpartition("/")[2],
                    raw=event,
                )
            ]
        found = event.get("Records")
        if isinstance(found, list):
            out: list[Record] = []
            for record in found:
                source = (
                    record.get("eventSource") or record.get("EventSource")
                    if isinstance(record, dict)
                    else None
                )
                parse = _BY_SOURCE.get(str(source))
                if parse is None:
                    raise UnsupportedEventError(
                        f"faasport.events cannot read a record from {source!r}; "
                        "it reads aws:sqs, aws:sns and aws:s3 records"
                    )
                try:
                    out.append(parse(record))
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    raise UnsupportedEventError(
                        f"malformed {source} record: {type(exc).__name__}: {exc}"
                    ) from None
            return out
    keys = sorted(str(k) for k in event)[:8] if isinstance(event, dict) else type(event).__name__
    raise UnsupportedEventError(
        f"faasport.events.records received {keys}, which is not an SQS, SNS, S3 or scheduled event"
    )
