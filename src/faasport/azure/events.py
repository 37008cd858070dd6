"""Event Grid events, as a subscription delivers them to a Storage queue, to typed records.

Azure's Flex Consumption plan has no polling blob trigger: Blob storage events reach a
function through Event Grid, which filters them by prefix and suffix and puts each event
(EventGridSchema JSON) on a Storage queue. ``Microsoft.Storage.BlobCreated`` and
``BlobDeleted`` events become :class:`~faasport.events.ObjectChange` records; any other
event (a custom topic's) becomes a :class:`~faasport.events.Message` whose body is the
event's data.
"""

from __future__ import annotations

from faasport.core.errors import UnsupportedEventError
from faasport.core.records import Message, ObjectChange, Record

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

_BLOB_CHANGES = {
    "Microsoft.Storage.BlobCreated": "created",
    "Microsoft.Storage.BlobDeleted": "removed",
}
_SUBJECT = "/blobServices/default/containers/"


def event_grid_record(body: bytes, raw: Any = None) -> Record:
    """The record for one Event Grid event (a queue message's body)."""
    import json

    try:
        event = json.loads(body)
        if isinstance(event, list) and len(event) == 1:
            event = event[0]
        kind = event["eventType"]
        change = _BLOB_CHANGES.get(kind)
        if change is not None:
            return _blob(event, "created" if change == "created" else "removed", raw)
        data = event.get("data")
        payload = data.encode() if isinstance(data, str) else json.dumps(data).encode()
        return Message(
            event["id"],
            payload,
            source="azure.eventgrid",
            channel=str(event.get("topic", "")).rpartition("/")[2],
            attributes={"type": kind, "subject": str(event.get("subject", ""))},
            time=event.get("eventTime", ""),
            raw=raw if raw is not None else event,
        )
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise UnsupportedEventError(
            f"queue message is not an Event Grid event: {type(exc).__name__}: {exc}"
        ) from None


def _blob(event: dict[str, Any], change: Any, raw: Any) -> ObjectChange:
    subject: str = event["subject"]
    if not subject.startswith(_SUBJECT) or "/blobs/" not in subject:
        raise ValueError(f"unexpected Blob storage event subject {subject!r}")
    container, _, key = subject[len(_SUBJECT) :].partition("/blobs/")
    data = event.get("data") or {}
    size = data.get("contentLength")
    return ObjectChange(
        container,
        key,
        change,
        source="azure.blob",
        size=int(size) if size is not None else None,
        etag=data.get("eTag"),
        time=event.get("eventTime", ""),
        raw=raw if raw is not None else event,
    )
