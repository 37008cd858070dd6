"""A plain handler: the queue consumer ``worker`` of the phoney example.

Each message is a JSON job like ``{"item": 42}``. A message that fails is retried alone
(and after ``max_receive`` attempts lands in the ``jobs-dlq`` queue); the rest of its batch
is done.
"""

from __future__ import annotations

import logging
from typing import Any

from faasport import events

log = logging.getLogger(__name__)


def handle(event: Any, context: Any) -> events.BatchResponse:
    return events.process(event, run_job)


def run_job(record: events.Record) -> None:
    if not isinstance(record, events.Message):
        raise TypeError(f"worker reads queue messages, not {type(record).__name__}")
    job = record.json()
    log.info("job %s for item %s", record.id, job["item"])
