"""The SQS event a queue mapping sends, read back by ``events.records``, and how a response
decides what is retried (the rules of Lambda's ReportBatchItemFailures)."""

from __future__ import annotations

import hashlib
import json

import pytest

from faasport import events
from faasport.local.sources.consumer import failed_ids, sqs_event
from faasport.local.sources.queues import Received


def received(id: str, group: str | None = None) -> Received:
    attributes = {"kind": {"DataType": "String", "StringValue": "report"}}
    return Received(id, f"body-{id}", attributes, 2, 1_700_000_000_000, 1_700_000_000_500,
                    f"7:{id}", group, "d" if group else None, 7)  # fmt: skip


def test_the_event_reads_back_as_messages() -> None:
    event = sqs_event("jobs.fifo", [received("a", "g"), received("b", "g")], "eu-west-1")
    first, second = events.records(json.loads(event))
    assert first == events.Message(
        "a",
        b"body-a",
        source="aws.sqs",
        channel="jobs.fifo",
        attributes={"kind": "report"},
        deliveries=2,
        time="2023-11-14T22:13:20.000Z",
    )
    assert first.raw["attributes"]["MessageGroupId"] == "g"  # type: ignore[union-attr]
    assert second.id == "b"  # type: ignore[union-attr]


BATCH = [received("a"), received("b")]


@pytest.mark.parametrize(
    ("payload", "failed"),
    [
        (b"null", set()),
        (b"{}", set()),
        (b'{"batchItemFailures": []}', set()),
        (b'{"batchItemFailures": null}', set()),
        (b'{"batchItemFailures": [{"itemIdentifier": "b"}]}', {"b"}),
        # The whole batch is retried:
        (b"not json", None),
        (b'{"batchItemFailures": [{"itemIdentifier": ""}]}', None),
        (b'{"batchItemFailures": [{"itemIdentifier": null}]}', None),
        (b'{"batchItemFailures": [{"id": "b"}]}', None),
        (b'{"batchItemFailures": [{"itemIdentifier": "zzz"}]}', None),
        (b'{"batchItemFailures": "b"}', None),
    ],
)
def test_what_a_response_retries(payload: bytes, failed: set[str] | None) -> None:
    assert failed_ids(payload, BATCH) == failed


def test_the_event_is_json_with_every_field_sqs_sends() -> None:
    tricky = Received("m-1", 'quote " slash \\ newline \n é 💡', {}, 1, 5, 6, "3:t", None, None, 3)
    fifo = received("m-2", group='g"1')
    [standard, ordered] = json.loads(sqs_event("q", [tricky, fifo], "us-east-1"))["Records"]
    assert standard == {
        "messageId": "m-1",
        "receiptHandle": "3:t",
        "body": 'quote " slash \\ newline \n é 💡',
        "attributes": {
            "ApproximateReceiveCount": "1",
            "SentTimestamp": "5",
            "SenderId": "AIDAIENQZJOLO23YVJ4VO",
            "ApproximateFirstReceiveTimestamp": "6",
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(tricky.body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
        "awsRegion": "us-east-1",
    }
    assert ordered["attributes"]["MessageGroupId"] == 'g"1'
    assert ordered["attributes"]["SequenceNumber"] == "00000000000000000007"
    assert ordered["attributes"]["MessageDeduplicationId"] == "d"
    assert ordered["messageAttributes"] == {
        "kind": {
            "stringListValues": [],
            "binaryListValues": [],
            "dataType": "String",
            "stringValue": "report",
        }
    }
