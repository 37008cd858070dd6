"""``faasport.events.records`` on the events AWS sends (shapes as documented for SQS, SNS,
S3 notifications and EventBridge schedules)."""

from __future__ import annotations

from typing import Any

import pytest

from faasport import events
from faasport.aws.event_builder import build_event
from faasport.core.errors import UnsupportedEventError

SQS: dict[str, Any] = {
    "Records": [
        {
            "messageId": "059f36b4-87a3-44ab-83d2-661975830a7d",
            "receiptHandle": "AQEBwJnKyrHigUMZj6rYigCgxlaS3SLy0a...",
            "body": '{"job": 1}',
            "attributes": {
                "ApproximateReceiveCount": "3",
                "SentTimestamp": "1545082649183",
                "SenderId": "AIDAIENQZJOLO23YVJ4VO",
                "ApproximateFirstReceiveTimestamp": "1545082649185",
            },
            "messageAttributes": {
                "kind": {"stringValue": "report", "dataType": "String"},
            },
            "md5OfBody": "e4e68fb7bd0e697a0ae8f1bb342846b3",
            "eventSource": "aws:sqs",
            "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:phoney-jobs",
            "awsRegion": "us-east-1",
        }
    ]
}

SNS: dict[str, Any] = {
    "Records": [
        {
            "EventSource": "aws:sns",
            "EventVersion": "1.0",
            "EventSubscriptionArn": "arn:aws:sns:us-east-1:123456789012:alerts:2bcfbf39",
            "Sns": {
                "Type": "Notification",
                "MessageId": "95df01b4-ee98-5cb9-9903-4c221d41eb5e",
                "TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts",
                "Subject": "example subject",
                "Message": "disk full",
                "Timestamp": "1970-01-01T00:00:00.000Z",
                "MessageAttributes": {"level": {"Type": "String", "Value": "high"}},
            },
        }
    ]
}

S3: dict[str, Any] = {
    "Records": [
        {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventTime": "2026-11-22T10:00:00.000Z",
            "eventName": "ObjectCreated:Put",
            "s3": {
                "bucket": {"name": "uploads", "arn": "arn:aws:s3:::uploads"},
                "object": {"key": "in/my+file%21.txt", "size": 1024, "eTag": "d41d8cd9"},
            },
        },
        {
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "eventTime": "2026-11-22T10:01:00.000Z",
            "eventName": "ObjectRemoved:Delete",
            "s3": {"bucket": {"name": "uploads"}, "object": {"key": "old.txt"}},
        },
    ]
}

SCHEDULE: dict[str, Any] = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-11-22T03:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/phoney-nightly"],
    "detail": {},
}


def test_sqs_message() -> None:
    [message] = events.records(SQS)
    assert message == events.Message(
        "059f36b4-87a3-44ab-83d2-661975830a7d",
        b'{"job": 1}',
        source="aws.sqs",
        channel="phoney-jobs",
        attributes={"kind": "report"},
        deliveries=3,
        time="2018-12-17T21:37:29.183Z",
    )
    assert message.json() == {"job": 1}
    assert message.raw is SQS["Records"][0]


def test_sns_notification() -> None:
    [message] = events.records(SNS)
    assert isinstance(message, events.Message)
    assert (message.source, message.channel, message.text) == ("aws.sns", "alerts", "disk full")
    assert message.attributes == {"level": "high"}


def test_s3_created_and_removed_with_decoded_keys() -> None:
    created, removed = events.records(S3)
    assert created == events.ObjectChange(
        "uploads",
        "in/my file!.txt",
        "created",
        source="aws.s3",
        size=1024,
        etag="d41d8cd9",
        time="2026-11-22T10:00:00.000Z",
    )
    assert (removed.change, removed.key, removed.size) == ("removed", "old.txt", None)


def test_scheduled_event_is_a_tick() -> None:
    [tick] = events.records(SCHEDULE)
    assert tick == events.Tick("2026-11-22T03:00:00Z", source="aws.events", name="phoney-nightly")


def test_record_lists_from_other_clouds_pass_through() -> None:
    given = [events.Tick("t", source="azure.timer")]
    assert events.records(given) is given


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({"Records": [{"eventSource": "aws:mq"}]}, "cannot read a record from 'aws:mq'"),
        ({"Records": [{"eventSource": "aws:sqs"}]}, "malformed aws:sqs record: no 'messageId'"),
        ({"Records": [{"eventSource": "aws:kinesis"}]}, "malformed aws:kinesis record: no 'kin"),
        ({"Records": [{"eventSource": "aws:dynamodb", "dynamodb": {}}]}, "no 'eventName'"),
        ({"Records": ["x"]}, "an event record must be an object"),
        ({"detail-type": "x", "source": "y"}, "malformed EventBridge event: KeyError"),
        ({"httpMethod": "GET"}, "received ['httpMethod'], which is not an SQS"),
        ("text", "received str"),
    ],
)
def test_unreadable_events_name_what_they_saw(event: Any, message: str) -> None:
    with pytest.raises(UnsupportedEventError) as info:
        events.records(event)
    assert message in str(info.value)


# -- batches with partial failures -----------------------------------------------------------


def sqs_batch(*bodies: str, queue: str = "phoney-jobs") -> dict[str, Any]:
    template = SQS["Records"][0]
    arn = f"arn:aws:sqs:us-east-1:123456789012:{queue}"
    return {
        "Records": [
            {**template, "messageId": f"m{i}", "body": body, "eventSourceARN": arn}
            for i, body in enumerate(bodies)
        ]
    }


def failing_on(word: str) -> Any:
    seen: list[str] = []

    def handle(record: events.Record) -> None:
        assert isinstance(record, events.Message)
        seen.append(record.text)
        if record.text == word:
            raise ValueError(f"cannot do {word}")

    handle.seen = seen  # type: ignore[attr-defined]
    return handle


def test_a_clean_batch_reports_no_failures() -> None:
    assert events.process(sqs_batch("a", "b"), failing_on("x")) == {"batchItemFailures": []}


def test_only_the_failed_sqs_messages_are_retried() -> None:
    handle = failing_on("bad")
    response = events.process(sqs_batch("a", "bad", "c"), handle)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}]}
    assert handle.seen == ["a", "bad", "c"]


def test_a_fifo_queue_stops_at_the_first_failure_to_keep_order() -> None:
    handle = failing_on("bad")
    response = events.process(sqs_batch("a", "bad", "c", queue="jobs.fifo"), handle)
    assert response == {"batchItemFailures": [{"itemIdentifier": "m1"}, {"itemIdentifier": "m2"}]}
    assert handle.seen == ["a", "bad"]


def test_sources_that_cannot_retry_part_of_an_event_raise() -> None:
    # SNS (and Pub/Sub, Azure queues) redeliver whole events: a failure must fail the call.
    with pytest.raises(events.BatchFailedError, match="1 of the event's records failed"):
        events.process(SNS, failing_on("disk full"))
    message = events.Message("p-1", b"bad", source="gcp.pubsub")
    with pytest.raises(events.BatchFailedError, match="ValueError: cannot do bad"):
        events.process([message], failing_on("bad"))


# -- the other direction: events built from records ------------------------------------------


@pytest.mark.parametrize(
    "given",
    [
        [
            events.Message(
                "m1",
                b'{"a": 1}',
                source="aws.sqs",
                channel="jobs",
                attributes={"kind": "x"},
                deliveries=2,
                time="2026-11-22T10:00:00.000Z",
            ),
            events.Message(
                "m2",
                "ü".encode(),
                source="aws.sqs",
                channel="jobs",
                time="2026-11-22T10:00:01.000Z",
            ),
        ],
        [
            events.Message(
                "n1", b"hi", source="aws.sns", channel="alerts", attributes={"l": "h"}, time="t"
            )
        ],
        [
            events.ObjectChange(
                "uploads", "in/my file!.txt", "created", source="aws.s3", size=9, etag="e", time="t"
            ),
            events.ObjectChange("uploads", "old.txt", "removed", source="aws.s3", time="t"),
        ],
        [events.Tick("2026-11-22T03:00:00Z", source="aws.events", name="nightly")],
    ],
)
def test_built_events_read_back_as_the_same_records(given: list[events.Record]) -> None:
    assert events.records(build_event(given)) == given


def test_built_s3_keys_are_form_encoded_as_s3_sends_them() -> None:
    change = events.ObjectChange("b", "in/my file!.txt", "created", source="aws.s3")
    assert build_event([change])["Records"][0]["s3"]["object"]["key"] == "in/my+file%21.txt"


def test_one_event_carries_one_source() -> None:
    with pytest.raises(ValueError, match="one source"):
        build_event([events.Tick("t", source="aws.events"), events.Tick("t", source="azure.timer")])
    with pytest.raises(ValueError, match=r"no AWS event carries gcp\.pubsub"):
        build_event([events.Message("1", b"", source="gcp.pubsub")])
