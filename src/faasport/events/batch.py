"""Batches with partial failures: one record's failure does not redo the others.

``process(event, handle)`` calls ``handle(record)`` for every record and returns what the
platform needs to retry only the failures: the ``batchItemFailures`` response (the event
source mapping has ``ReportBatchItemFailures`` on, as faasport's generated infrastructure
sets it), whose ``itemIdentifier`` is the message id for SQS and the sequence number for
Kinesis and DynamoDB Streams. Where order matters (a FIFO queue, a stream shard), the records
after a failure are reported failed unprocessed, so they are retried in order and not run
twice. Other sources cannot retry part of an event, so a failure raises
:class:`BatchFailedError` after every record was tried, and the platform redelivers the event
(Pub/Sub, Azure queues, S3/SNS/EventBridge async invocations retry).
"""

from __future__ import annotations

from faasport.core.errors import FaasportError
from faasport.events.records import records

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from faasport.core.records import Record

BatchResponse = dict[str, list[dict[str, str]]]

#: source -> the attribute naming a record in ``batchItemFailures``.
_IDENTIFIER = {"aws.sqs": "id", "aws.kinesis": "sequence", "aws.dynamodb": "sequence"}
_STREAMS = ("aws.kinesis", "aws.dynamodb")


class BatchFailedError(FaasportError):
    """Some records of an event that cannot be retried in part failed."""


def _ordered(record: Record) -> bool:
    source = record.source
    return source in _STREAMS or (source == "aws.sqs" and record.channel.endswith(".fifo"))  # type: ignore[union-attr]


def process(event: Any, handle: Callable[[Record], object]) -> BatchResponse:
    """Call ``handle`` on each record of ``event``; the partial-failure response."""
    batch = records(event)
    for index, record in enumerate(batch):
        try:
            handle(record)
        except Exception as exc:
            # The uncommon path starts here: the loop above does nothing else per record.
            return _failures(batch, index, exc, handle)
    return {"batchItemFailures": []}


def _failures(
    batch: list[Record], index: int, first: Exception, handle: Callable[[Record], object]
) -> BatchResponse:
    from faasport.core.logs import logger

    log = logger()
    failed = [batch[index]]
    log.error("record %s failed", _name(batch[index]), exc_info=first)
    if _ordered(batch[index]):
        failed += batch[index + 1 :]  # not processed: retried after the failure, in order
    else:
        for record in batch[index + 1 :]:
            try:
                handle(record)
            except Exception as exc:
                log.error("record %s failed", _name(record), exc_info=exc)
                failed.append(record)
    names = [_IDENTIFIER.get(record.source) for record in failed]
    if None not in names:
        return {
            "batchItemFailures": [
                {"itemIdentifier": getattr(record, str(name))}
                for record, name in zip(failed, names, strict=True)
            ]
        }
    raise BatchFailedError(
        f"{len(failed)} of the event's records failed, first with {type(first).__name__}: {first}"
    ) from first


def _name(record: Record) -> str:
    return str(getattr(record, "id", None) or getattr(record, "key", "") or record)
