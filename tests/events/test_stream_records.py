"""Kinesis, DynamoDB Streams and EventBridge custom events as records, read from the example
events of AWS's Lambda developer guide ("Using Lambda with Kinesis", "Using Lambda with
DynamoDB", "Amazon EventBridge events"), and their partial failures in ``events.process``."""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest

from faasport import events
from faasport.aws.event_builder import build_event

KINESIS_ARN = "arn:aws:kinesis:us-east-2:123456789012:stream/lambda-stream"
SEQ_1 = "49590338271490256608559692538361571095921575989136588898"
SEQ_2 = "49590338271490256608559692540925702759324208523137515618"


def kinesis(sequence: str, data: str, arrived: float) -> dict[str, Any]:
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "1",
            "sequenceNumber": sequence,
            "data": data,
            "approximateArrivalTimestamp": arrived,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"shardId-000000000006:{sequence}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": "arn:aws:iam::123456789012:role/lambda-role",
        "awsRegion": "us-east-2",
        "eventSourceARN": KINESIS_ARN,
    }


KINESIS = {
    "Records": [
        kinesis(SEQ_1, "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==", 1545084650.987),
        kinesis(SEQ_2, "VGhpcyBpcyBvbmx5IGEgdGVzdC4=", 1545084711.166),
    ]
}

TABLE_ARN = (
    "arn:aws:dynamodb:us-west-2:123456789012:table/ExampleTableWithStream/stream/"
    "2015-06-27T00:48:05.899"
)


def change(number: str, name: str, **images: Any) -> dict[str, Any]:
    return {
        "eventID": number,
        "eventVersion": "1.0",
        "dynamodb": {
            "ApproximateCreationDateTime": 1428537600,
            "Keys": {"Id": {"N": "101"}},
            **images,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
            "SequenceNumber": number * 3,
            "SizeBytes": 26,
        },
        "awsRegion": "us-west-2",
        "eventName": name,
        "eventSourceARN": TABLE_ARN,
        "eventSource": "aws:dynamodb",
    }


NEW = {"Message": {"S": "New item!"}, "Id": {"N": "101"}}
CHANGED = {"Message": {"S": "This item has changed"}, "Id": {"N": "101"}}
DYNAMODB = {
    "Records": [
        change("1", "INSERT", NewImage=NEW),
        change("2", "MODIFY", OldImage=NEW, NewImage=CHANGED),
        change("3", "REMOVE", OldImage=CHANGED),
    ]
}

CUSTOM = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "time": "2017-12-22T18:43:48Z",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {"instance-id": " i-1234567890abcdef0", "state": "terminated"},
}


def test_kinesis_records_decode_their_data() -> None:
    first, second = events.records(KINESIS)
    assert isinstance(first, events.StreamRecord)
    assert first == events.StreamRecord(
        SEQ_1,
        b"Hello, this is a test.",
        source="aws.kinesis",
        channel="lambda-stream",
        partition_key="1",
        shard="shardId-000000000006",
        time="2018-12-17T22:10:50.987Z",
    )
    assert second.text == "This is only a test."  # type: ignore[union-attr]
    assert first.raw is KINESIS["Records"][0]


def test_kinesis_data_is_decoded_only_when_read() -> None:
    event = copy.deepcopy(KINESIS)
    event["Records"][0]["kinesis"]["data"] = "not base64!"
    [first, _] = events.records(event)
    with pytest.raises(ValueError):
        first.body  # noqa: B018  # type: ignore[union-attr]


def test_dynamodb_images_become_python_values() -> None:
    insert, modify, remove = events.records(DYNAMODB)
    assert insert == events.ChangeRecord(
        "1",
        "111",
        "INSERT",
        source="aws.dynamodb",
        table="ExampleTableWithStream",
        keys={"Id": Decimal(101)},
        new={"Message": "New item!", "Id": Decimal(101)},
        time="2015-04-09T00:00:00.000Z",
    )
    assert isinstance(modify, events.ChangeRecord) and isinstance(remove, events.ChangeRecord)
    assert (modify.old, modify.new) == (
        {"Message": "New item!", "Id": Decimal(101)},
        {"Message": "This item has changed", "Id": Decimal(101)},
    )
    assert (remove.change, remove.new, remove.old["Message"]) == (  # type: ignore[index]
        "REMOVE",
        None,
        "This item has changed",
    )


def test_custom_eventbridge_event() -> None:
    [event] = events.records(CUSTOM)
    assert event == events.BusEvent(
        "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "EC2 Instance State-change Notification",
        {"instance-id": " i-1234567890abcdef0", "state": "terminated"},
        event_source="aws.ec2",
        source="aws.events",
        resources=("arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0",),
        time="2017-12-22T18:43:48Z",
    )


@pytest.mark.parametrize("event", [KINESIS, DYNAMODB])
def test_built_stream_events_read_back_as_the_same_records(event: dict[str, Any]) -> None:
    given = events.records(event)
    assert events.records(build_event(given, region="us-east-2")) == given


def test_built_bus_event_reads_back() -> None:
    given = events.records(CUSTOM)
    assert events.records(build_event(given)) == given


# -- partial failures: sequence numbers, the rest of the shard not run --------------------------


def failing(bad: set[str]) -> Any:
    seen: list[str] = []

    def handle(record: events.Record) -> None:
        assert isinstance(record, events.StreamRecord | events.ChangeRecord)
        seen.append(record.sequence)
        if record.sequence in bad:
            raise RuntimeError("no")

    handle.seen = seen  # type: ignore[attr-defined]
    return handle


def test_a_kinesis_failure_reports_its_sequence_number_and_stops_the_shard() -> None:
    handle = failing({SEQ_1})
    response = events.process(KINESIS, handle)
    assert response == {"batchItemFailures": [{"itemIdentifier": SEQ_1}, {"itemIdentifier": SEQ_2}]}
    assert handle.seen == [SEQ_1]


def test_a_dynamodb_failure_reports_sequence_numbers_from_the_failed_one() -> None:
    handle = failing({"222"})
    response = events.process(DYNAMODB, handle)
    assert response == {"batchItemFailures": [{"itemIdentifier": "222"}, {"itemIdentifier": "333"}]}
    assert handle.seen == ["111", "222"]


def test_a_failed_bus_event_raises_for_redelivery() -> None:
    def handle(record: events.Record) -> None:
        raise RuntimeError("down")

    with pytest.raises(events.BatchFailedError, match="RuntimeError: down"):
        events.process(CUSTOM, handle)
