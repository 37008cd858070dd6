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


# -- the other direction: the event AWS sends for records (tests, faasport events generate) --

ACCOUNT = "123456789012"


def _millis(iso: str) -> str:
    from datetime import datetime

    moment = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return str(int(moment.timestamp() * 1000))


def _now() -> str:
    from datetime import UTC, datetime

    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _sqs_record(message: Message, region: str) -> dict[str, Any]:
    import hashlib

    sent = _millis(message.time) if message.time else _millis(_now())
    return {
        "messageId": message.id,
        "receiptHandle": f"AQEB{hashlib.sha256(message.id.encode()).hexdigest()}",
        "body": message.text,
        "attributes": {
            "ApproximateReceiveCount": str(message.deliveries),
            "SentTimestamp": sent,
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": sent,
        },
        "messageAttributes": {
            name: {
                "stringValue": value,
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": "String",
            }
            for name, value in message.attributes.items()
        },
        "md5OfBody": hashlib.md5(message.body).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{region}:{ACCOUNT}:{message.channel}",
        "awsRegion": region,
    }


def _sns_record(message: Message, region: str) -> dict[str, Any]:
    topic = f"arn:aws:sns:{region}:{ACCOUNT}:{message.channel}"
    return {
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": f"{topic}:2bcfbf39-05c3-41de-beaa-fcfcc21c8f55",
        "Sns": {
            "Type": "Notification",
            "MessageId": message.id,
            "TopicArn": topic,
            "Subject": None,
            "Message": message.text,
            "Timestamp": message.time or _now(),
            "SignatureVersion": "1",
            "Signature": "EXAMPLE",
            "SigningCertUrl": f"https://sns.{region}.amazonaws.com/SimpleNotificationService.pem",
            "UnsubscribeUrl": f"https://sns.{region}.amazonaws.com/?Action=Unsubscribe",
            "MessageAttributes": {
                name: {"Type": "String", "Value": value}
                for name, value in message.attributes.items()
            },
        },
    }


def _s3_record(change: ObjectChange, region: str) -> dict[str, Any]:
    from urllib.parse import quote_plus

    created = change.change == "created"
    obj: dict[str, Any] = {
        "key": quote_plus(change.key, safe="/"),
        "sequencer": "0A1B2C3D4E5F678901",
    }
    if created:
        obj["size"] = change.size or 0
        obj["eTag"] = change.etag or "d41d8cd98f00b204e9800998ecf8427e"
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": change.time or _now(),
        "eventName": "ObjectCreated:Put" if created else "ObjectRemoved:Delete",
        "userIdentity": {"principalId": "AWS:AIDAINPONIXQXHT3IKHL2"},
        "requestParameters": {"sourceIPAddress": "203.0.113.7"},
        "responseElements": {"x-amz-request-id": "C3D13FE58DE4C810", "x-amz-id-2": "FMyUVURIY8"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": "faasport",
            "bucket": {
                "name": change.bucket,
                "ownerIdentity": {"principalId": "A3NL1KOZZKExample"},
                "arn": f"arn:aws:s3:::{change.bucket}",
            },
            "object": obj,
        },
    }


def build_event(records: list[Record], region: str = "us-east-1") -> dict[str, Any]:
    """The event AWS delivers for ``records``, all from one source: SQS or SNS messages, S3
    object changes, or one scheduled tick. :func:`aws_records` reads it back."""
    sources = {record.source for record in records}
    if len(sources) != 1:
        raise ValueError(f"records must come from one source, got {sorted(sources) or 'none'}")
    [source] = sources
    if source == "aws.events":
        [tick] = records
        assert isinstance(tick, Tick)
        return {
            "version": "0",
            "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
            "detail-type": "Scheduled Event",
            "source": "aws.events",
            "account": ACCOUNT,
            "time": tick.time or _now(),
            "region": region,
            "resources": [f"arn:aws:events:{region}:{ACCOUNT}:rule/{tick.name}"],
            "detail": {},
        }
    builders: dict[str, Callable[[Any, str], dict[str, Any]]] = {
        "aws.sqs": _sqs_record,
        "aws.sns": _sns_record,
        "aws.s3": _s3_record,
    }
    build = builders.get(source)
    if build is None:
        raise ValueError(f"no AWS event carries {source} records")
    return {"Records": [build(record, region) for record in records]}
