"""SNS's limits on a real ``faasport dev``: a publish over 256 KiB, a long subject and a
malformed ``MessageStructure=json`` are refused as SNS refuses them; a message that a
subscribed queue refuses once wrapped in its envelope is published all the same (as on AWS,
where deliveries come after the answer) and the failed delivery is logged, never dropped
without a word."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from dev_process import Dev, wait_for

CONFIG = textwrap.dedent(
    """
    name = "limits"

    [queues.audit]
    [queues.raw]

    [topics.alerts]
    queues = [{ queue = "audit" }, { queue = "raw", raw = true }]

    [functions.note]
    handler = "app:note"
    events = [{ topic = "alerts" }, { bus = "default", pattern = { source = ["big"] } }]
    """
)

APP = "def note(event, context):\n    return None\n"

ARN = "arn:aws:sns:us-east-1:123456789012:alerts"


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    root = tmp_path_factory.mktemp("limits")
    (root / "faasport.toml").write_text(CONFIG)
    (root / "app.py").write_text(APP)
    dev = Dev(root, "--no-reload")
    try:
        yield dev
    finally:
        dev.close()


def drain(dev: Dev, queue: str) -> list[dict[str, Any]]:
    sqs = dev.client("sqs")
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    messages: list[dict[str, Any]] = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get(
        "Messages", []
    )
    for message in messages:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return messages


def refused(dev: Dev, **request: Any) -> str:
    with pytest.raises(ClientError) as info:
        dev.client("sns").publish(TopicArn=ARN, **request)
    error = info.value.response["Error"]
    assert (error["Code"], info.value.response["ResponseMetadata"]["HTTPStatusCode"]) == (
        "InvalidParameter",
        400,
    )
    return str(error["Message"])


def test_a_message_over_256_kib_is_refused(dev: Dev) -> None:
    assert "Message too long" in refused(dev, Message="x" * 300_000)
    attribute = {"a": {"DataType": "String", "StringValue": "v" * 100}}
    assert "Message too long" in refused(dev, Message="x" * 262_100, MessageAttributes=attribute)
    assert drain(dev, "raw") == []


def test_a_delivery_a_queue_refuses_is_logged(dev: Dev) -> None:
    # 256 KiB fits SNS and the raw subscription; the envelope takes it past SQS's limit.
    id = dev.client("sns").publish(TopicArn=ARN, Message="x" * 262_144)["MessageId"]
    [raw] = drain(dev, "raw")
    assert len(raw["Body"]) == 262_144
    assert drain(dev, "audit") == []

    def logged(subscriber: str) -> list[str]:
        return [
            line
            for line in dev.lines
            if f"topic alerts: message {id} not delivered to {subscriber}:" in line
        ]

    wait_for(lambda: logged("queue audit") and logged("function note"), 10, "the log lines")
    [line] = logged("queue audit")
    assert "InvalidParameterValue" in line and "262144" in line


@pytest.mark.parametrize("subject", ["s" * 101, "two\nlines"])
def test_a_subject_sns_refuses(dev: Dev, subject: str) -> None:
    assert "Subject" in refused(dev, Message="x", Subject=subject)


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("not json", "failed to parse"),
        ('["default"]', "failed to parse"),
        ('{"sqs": "x"}', "No default entry"),
        ('{"default": 1}', "No default entry"),
    ],
)
def test_a_message_structure_sns_refuses(dev: Dev, message: str, reason: str) -> None:
    assert reason in refused(dev, Message=message, MessageStructure="json")


def test_a_message_structure_gives_queues_their_message(dev: Dev) -> None:
    message = json.dumps({"default": "for anyone", "sqs": "for queues"})
    dev.client("sns").publish(TopicArn=ARN, Message=message, MessageStructure="json")
    [raw] = drain(dev, "raw")
    [audit] = drain(dev, "audit")
    assert raw["Body"] == "for queues"
    assert json.loads(audit["Body"])["Message"] == "for queues"


def test_an_event_a_rule_target_refuses_is_logged(dev: Dev) -> None:
    """EventBridge answers PutEvents before it delivers: a delivery that fails is logged."""
    detail = json.dumps({"blob": "x" * 262_100})
    answer = dev.client("events").put_events(
        Entries=[{"Source": "big", "DetailType": "Big", "Detail": detail}]
    )
    id = answer["Entries"][0]["EventId"]
    line = f"bus default: event {id} not delivered to function note:"
    wait_for(lambda: any(line in x for x in dev.lines), 10, "the log line")
