""":func:`records`, which reads the canonical records out of any event."""

from __future__ import annotations

from faasport.core.records import RECORD_TYPES

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from faasport.core.records import Record


def records(event: Any) -> list[Record]:
    """The typed records in ``event``: an AWS Lambda event dict, or the record list that
    faasport's GCP and Azure entry points pass to event handlers (returned as it is).

    Raises :class:`~faasport.core.errors.UnsupportedEventError` naming what it saw when
    the event holds no records it knows.
    """
    if isinstance(event, list) and all(isinstance(r, RECORD_TYPES) for r in event):
        return event
    # Imported here: events/ sits above the providers, and only AWS hands over raw events.
    from faasport.aws.events import aws_records

    return aws_records(event)
