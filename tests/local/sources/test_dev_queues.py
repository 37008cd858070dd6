"""Queues through a real ``faasport dev``: at-least-once delivery under handler failures,
partial batch failures, the dead-letter queue, FIFO order and deduplication, a SIGKILL in the
middle of a batch, and boto3 calls from inside a function."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from dev_process import Dev, wait_for

CONFIG = textwrap.dedent(
    """
    name = "evtest"

    [queues.jobs]
    visibility_timeout = 3
    max_receive = 3
    dlq = "jobs-dlq"

    [queues.retry]
    visibility_timeout = 3
    dlq = false

    [queues.crash]
    visibility_timeout = 4
    dlq = false

    [queues."orders.fifo"]
    visibility_timeout = 5
    content_dedup = true

    [functions.worker]
    handler = "worker:handle"
    timeout = 3
    concurrency = 2
    events = [{ queue = "jobs", batch = 10 }]

    [functions.retrier]
    handler = "worker:handle"
    timeout = 3
    concurrency = 2
    events = [{ queue = "retry", batch = 10 }]

    [functions.slowpoke]
    handler = "worker:handle"
    timeout = 4
    events = [{ queue = "crash", batch = 3 }]

    [functions.orders]
    handler = "worker:orders"
    timeout = 5
    concurrency = 1
    events = [{ queue = "orders.fifo", batch = 3 }]

    [functions.producer]
    handler = "worker:produce"
    timeout = 5
    """
)

WORKER = textwrap.dedent(
    """
    import json, os, random, time
    from pathlib import Path

    import boto3
    from faasport import events

    LOG = Path(__file__).with_name("processed.log")

    def note(kind, record):
        with LOG.open("a") as out:
            out.write(json.dumps([kind, record.text, record.deliveries]) + "\\n")

    def work(record):
        body = record.text
        note("start", record)
        if body.startswith("slow"):
            time.sleep(0.3)
        if body.startswith("bad"):
            raise ValueError("bad message")
        if body.startswith("flaky") and random.random() < 0.4:
            raise RuntimeError("flaky")
        note("done", record)

    def handle(event, context):
        return events.process(event, work)

    def orders(event, context):
        return events.process(event, work)

    def produce(event, context):
        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName="jobs")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=event["body"])
        return {"sent": event["body"]}
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "faasport.toml").write_text(CONFIG)
    (tmp_path / "worker.py").write_text(WORKER)
    return tmp_path


@pytest.fixture
def dev(project: Path) -> Iterator[Dev]:
    server = Dev(project, "--no-reload")
    try:
        yield server
    finally:
        server.close()


def processed(project: Path, kind: str = "done") -> list[tuple[str, int]]:
    log = project / "processed.log"
    if not log.exists():
        return []
    rows = [json.loads(line) for line in log.read_text().splitlines() if line]
    return [(body, deliveries) for k, body, deliveries in rows if k == kind]


def queue_url(sqs: object, name: str) -> str:
    return sqs.get_queue_url(QueueName=name)["QueueUrl"]  # type: ignore[attr-defined, no-any-return]


def test_every_message_is_delivered_at_least_once_under_random_failures(
    dev: Dev, project: Path
) -> None:
    sqs = dev.client("sqs")
    url = queue_url(sqs, "retry")  # no dlq: retried until it succeeds
    bodies = [f"flaky-{i}" for i in range(40)]
    for start in range(0, len(bodies), 10):
        entries = [
            {"Id": str(i), "MessageBody": b} for i, b in enumerate(bodies[start : start + 10])
        ]
        assert not sqs.send_message_batch(QueueUrl=url, Entries=entries).get("Failed")
    wait_for(lambda: {b for b, _ in processed(project)} >= set(bodies), 60, "every message")
    # At least once: a batch cut short by a timeout on a loaded machine may repeat some.
    done = [b for b, _ in processed(project)]
    assert set(done) == set(bodies)
    wait_for(
        lambda: (
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"][
                "ApproximateNumberOfMessagesNotVisible"
            ]
            == "0"
        ),
        10,
        "an empty queue",
    )


def test_only_failed_items_are_redelivered_then_the_dlq_takes_them(dev: Dev, project: Path) -> None:
    sqs = dev.client("sqs")
    url = queue_url(sqs, "jobs")
    entries = [{"Id": str(i), "MessageBody": b} for i, b in enumerate(["ok-a", "bad-1", "ok-b"])]
    sqs.send_message_batch(QueueUrl=url, Entries=entries)
    wait_for(lambda: len(processed(project, "start")) >= 5, 30, "three tries of bad-1")
    starts = processed(project, "start")
    assert sorted(b for b, _ in starts if b.startswith("ok")) == ["ok-a", "ok-b"]
    assert [d for b, d in starts if b == "bad-1"] == [1, 2, 3]
    dlq = queue_url(sqs, "jobs-dlq")
    wait_for(
        lambda: (
            sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["All"])["Attributes"][
                "ApproximateNumberOfMessages"
            ]
            == "1"
        ),
        10,
        "the message in the dlq",
    )
    [dead] = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10)["Messages"]
    assert dead["Body"] == "bad-1"


def test_fifo_keeps_order_per_group_and_drops_duplicates(dev: Dev, project: Path) -> None:
    sqs = dev.client("sqs")
    url = queue_url(sqs, "orders.fifo")
    for i in range(6):
        for group in ("a", "b"):
            sqs.send_message(QueueUrl=url, MessageBody=f"{group}{i}", MessageGroupId=group)
    # Same body, content-based deduplication: dropped.
    again = sqs.send_message(QueueUrl=url, MessageBody="a0", MessageGroupId="a")
    wait_for(lambda: len(processed(project)) >= 12, 30, "twelve orders")
    done = [b for b, _ in processed(project)]
    assert len(done) == 12
    assert [b for b in done if b.startswith("a")] == [f"a{i}" for i in range(6)]
    assert [b for b in done if b.startswith("b")] == [f"b{i}" for i in range(6)]
    assert again["MessageId"]


def test_a_sigkill_in_the_middle_of_a_batch_loses_nothing(project: Path) -> None:
    first = Dev(project, "--no-reload")
    try:
        sqs = first.client("sqs")
        url = queue_url(sqs, "crash")
        sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": f"slow-{i}"} for i in range(3)],
        )
        wait_for(lambda: processed(project, "start"), 20, "the batch to start")
        first.kill()
    finally:
        first.close()
    assert len(processed(project)) < 3
    second = Dev(project, "--no-reload")
    try:
        wait_for(
            lambda: {b for b, _ in processed(project)} == {"slow-0", "slow-1", "slow-2"},
            30,
            "the in-flight batch after its visibility timeout",
        )
        redelivered = [d for _, d in processed(project, "start") if d > 1]
        assert redelivered  # they came back with a higher receive count
    finally:
        second.close()


def test_boto3_inside_a_function_reaches_the_local_queue(dev: Dev, project: Path) -> None:
    result = dev.client("lambda").invoke(
        FunctionName="producer", Payload=json.dumps({"body": "from-inside"}).encode()
    )
    assert json.loads(result["Payload"].read()) == {"sent": "from-inside"}
    wait_for(lambda: ("from-inside", 1) in processed(project), 20, "the worker to get it")
