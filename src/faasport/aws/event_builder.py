"""The other direction of :mod:`faasport.aws.events`: the event AWS sends for records, used by
:mod:`faasport.testing`, ``faasport events generate`` and the local event sources."""

from __future__ import annotations

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
    from collections.abc import Callable
    from typing import Any

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


def _kinesis_record(record: StreamRecord, region: str) -> dict[str, Any]:
    from base64 import b64encode

    shard = record.shard or "shardId-000000000000"
    arrived = _millis(record.time or _now())
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record.partition_key,
            "sequenceNumber": record.sequence,
            "data": b64encode(record.body).decode("ascii"),
            "approximateArrivalTimestamp": int(arrived) / 1000,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard}:{record.sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
        "awsRegion": region,
        "eventSourceARN": f"arn:aws:kinesis:{region}:{ACCOUNT}:stream/{record.channel}",
    }


def _dynamodb_record(record: ChangeRecord, region: str) -> dict[str, Any]:
    from faasport.aws.attribute_values import serialize

    def image(values: Any) -> dict[str, Any]:
        return {name: serialize(value) for name, value in values.items()}

    data: dict[str, Any] = {
        "ApproximateCreationDateTime": int(_millis(record.time or _now())) // 1000,
        "Keys": image(record.keys),
        "SequenceNumber": record.sequence,
        "SizeBytes": 26,
        "StreamViewType": "NEW_AND_OLD_IMAGES",
    }
    if record.new is not None:
        data["NewImage"] = image(record.new)
    if record.old is not None:
        data["OldImage"] = image(record.old)
    table = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{record.table}"
    return {
        "eventID": record.id,
        "eventName": record.change,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": data,
        "eventSourceARN": f"{table}/stream/2015-06-27T00:48:05.899",
    }


def _bus_event(event: BusEvent, region: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": event.id,
        "detail-type": event.detail_type,
        "source": event.event_source,
        "account": ACCOUNT,
        "time": event.time or _now()[:19] + "Z",
        "region": region,
        "resources": list(event.resources),
        "detail": event.detail,
    }


def _tick_event(tick: Tick, region: str) -> dict[str, Any]:
    return {
        "version": "0",
        "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": tick.time or _now()[:19] + "Z",
        "region": region,
        "resources": [f"arn:aws:events:{region}:{ACCOUNT}:rule/{tick.name}"],
        "detail": {},
    }


_RECORDS: dict[str, Callable[[Any, str], dict[str, Any]]] = {
    "aws.sqs": _sqs_record,
    "aws.sns": _sns_record,
    "aws.s3": _s3_record,
    "aws.kinesis": _kinesis_record,
    "aws.dynamodb": _dynamodb_record,
}


def build_event(records: list[Record], region: str = "us-east-1") -> dict[str, Any]:
    """The event AWS delivers for ``records``, all from one source: SQS or SNS messages, S3
    object changes, Kinesis or DynamoDB stream records, or one EventBridge event (a scheduled
    tick or a custom event). :func:`faasport.aws.events.aws_records` reads it back."""
    sources = {record.source for record in records}
    if len(sources) != 1:
        raise ValueError(f"records must come from one source, got {sorted(sources) or 'none'}")
    [source] = sources
    if source == "aws.events":
        if len(records) != 1:
            raise ValueError("EventBridge delivers one event per invocation")
        [one] = records
        if isinstance(one, Tick):
            return _tick_event(one, region)
        if isinstance(one, BusEvent):
            return _bus_event(one, region)
    build = _RECORDS.get(source)
    if build is None:
        raise ValueError(f"no AWS event carries {source} records")
    return {"Records": [build(record, region) for record in records]}
