"""The SQS event a queue mapping sends, read back by ``events.records``, and how a response
decides what is retried (the rules of Lambda's ReportBatchItemFailures)."""

from __future__ import annotations

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
    first, second = events.records(json.loads(json.dumps(event)))
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
