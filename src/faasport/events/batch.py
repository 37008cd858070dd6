"""Batches with partial failures: one record's failure does not redo the others.

``process(event, handle)`` calls ``handle(record)`` for every record and returns what the
platform needs to retry only the failures. For SQS that is the ``batchItemFailures``
response (the event source mapping has ``ReportBatchItemFailures`` on, as faasport's
generated infrastructure sets it); on a FIFO queue, the records after a failure are
reported failed unprocessed, so their order holds. Other sources cannot retry part of an
event, so a failure raises :class:`BatchFailedError` after every record was tried, and the
platform redelivers the event (Pub/Sub, Azure queues and S3/SNS async invocations retry).
"""

from __future__ import annotations

from faasport.core.errors import FaasportError
from faasport.events.records import Message, Record, records

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

BatchResponse = dict[str, list[dict[str, str]]]


class BatchFailedError(FaasportError):
    """Some records of an event that cannot be retried in part failed."""


def _fifo(record: Record) -> bool:
    return isinstance(record, Message) and record.channel.endswith(".fifo")


def process(event: Any, handle: Callable[[Record], object]) -> BatchResponse:
    """Call ``handle`` on each record of ``event``; the partial-failure response."""
    from faasport.core.logs import logger

    failed: list[Record] = []
    first: Exception | None = None
    for record in records(event):
        if failed and _fifo(record):
            failed.append(record)  # after a failure in a FIFO group: not processed
            continue
        try:
            handle(record)
        except Exception as exc:
            logger().exception("record %s failed", getattr(record, "id", record))
            failed.append(record)
            first = first or exc
    if not failed:
        return {"batchItemFailures": []}
    retried = [r.id for r in failed if isinstance(r, Message) and r.source == "aws.sqs"]
    if len(retried) == len(failed):
        return {"batchItemFailures": [{"itemIdentifier": id} for id in retried]}
    raise BatchFailedError(
        f"{len(failed)} of the event's records failed, first with {type(first).__name__}: {first}"
    ) from first
