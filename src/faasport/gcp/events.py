"""``gcp.event_handler(handler)``: a CloudEvent function that hands faasport's typed records
to a plain ``handler(event, context)``.

It accepts what functions-framework passes for either signature type: a ``CloudEvent``
object (``--signature-type=cloudevent``), or the ``flask.Request`` of an HTTP delivery in
binary mode (``ce-*`` headers) or structured mode (``application/cloudevents+json``). Pub/Sub
messages become :class:`~faasport.events.Message` records and Cloud Storage object events
:class:`~faasport.events.ObjectChange` records. An event that cannot be read is answered
400 and a handler that raises 500, so the platform redelivers it: nothing is dropped.
"""

from __future__ import annotations

from faasport.core import invocation, logs
from faasport.core.errors import UnsupportedEventError
from faasport.core.options import AppOptions
from faasport.core.records import Message, ObjectChange, Record, Tick
from faasport.core.runner import AppRunner

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from typing import Any, Literal

_REQUIRED = ("id", "source", "type", "specversion")
_STORAGE = "google.cloud.storage.object.v1."
_PUBSUB = "google.cloud.pubsub.topic.v1.messagePublished"
#: The attribute faasport's Cloud Scheduler jobs put on the messages they publish.
SCHEDULE_ATTRIBUTE = "faasport-schedule"

#: ``(bucket, change, prefix, suffix)``: the object events a handler wants.
ObjectFilter = tuple[str, str, str, str]


class CloudEventContext:
    """The CloudEvent's attributes, handed to the handler as its ``context``."""

    __slots__ = ("attributes", "id", "source", "subject", "time", "type")

    def __init__(self, attributes: dict[str, Any]) -> None:
        self.attributes = attributes
        self.id: str = attributes["id"]
        self.source: str = attributes["source"]
        self.type: str = attributes["type"]
        self.subject: str = attributes.get("subject", "")
        self.time: str = attributes.get("time", "")

    def __repr__(self) -> str:
        return f"<CloudEventContext {self.type} {self.id}>"


def from_http(request: Any) -> tuple[dict[str, Any], Any]:
    """``(attributes, data)`` of the CloudEvent in an HTTP request, either mode."""
    import json

    environ = request.environ
    content_type = environ.get("CONTENT_TYPE", "").partition(";")[0].strip().lower()
    body = request.get_data(cache=False)
    if content_type == "application/cloudevents+json":
        try:
            envelope = json.loads(body)
        except ValueError as exc:
            raise UnsupportedEventError(f"structured CloudEvent is not valid JSON: {exc}") from None
        if not isinstance(envelope, dict):
            raise UnsupportedEventError("structured CloudEvent must be a JSON object")
        if "data_base64" in envelope:
            from base64 import b64decode

            return envelope, b64decode(envelope.pop("data_base64"))
        return envelope, envelope.pop("data", None)
    attributes = {
        key[8:].lower(): value for key, value in environ.items() if key.startswith("HTTP_CE_")
    }
    if not attributes:
        raise UnsupportedEventError(
            "request carries no CloudEvent: expected ce-* headers (binary mode) or a "
            "Content-Type of application/cloudevents+json (structured mode)"
        )
    data: Any = body
    if body and (content_type == "application/json" or content_type.endswith("+json")):
        try:
            data = json.loads(body)
        except ValueError as exc:
            raise UnsupportedEventError(f"CloudEvent data is not valid JSON: {exc}") from None
    return attributes, data


def to_records(attributes: dict[str, Any], data: Any) -> list[Record]:
    """The typed records of one Pub/Sub or Cloud Storage CloudEvent."""
    missing = [name for name in _REQUIRED if not attributes.get(name)]
    if missing:
        raise UnsupportedEventError(f"CloudEvent lacks required attributes: {', '.join(missing)}")
    kind = str(attributes["type"])
    try:
        if kind == _PUBSUB:
            return [_pubsub(attributes, data)]
        if kind.startswith(_STORAGE):
            return [_storage(kind[len(_STORAGE) :], attributes, data)]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise UnsupportedEventError(
            f"malformed {kind} event data: {type(exc).__name__}: {exc}"
        ) from None
    raise UnsupportedEventError(
        f"faasport.gcp.event_handler reads Pub/Sub ({_PUBSUB}) and Cloud Storage "
        f"({_STORAGE}finalized|deleted) events, not {kind}"
    )


def _pubsub(attributes: dict[str, Any], data: Any) -> Message | Tick:
    from base64 import b64decode

    message = data["message"]
    channel = str(attributes["source"]).rpartition("/topics/")[2]
    published = message.get("publishTime") or message.get("publish_time") or ""
    if SCHEDULE_ATTRIBUTE in (message.get("attributes") or {}):
        return Tick(published, source="gcp.scheduler", name=channel, raw=data)
    return Message(
        message.get("messageId") or message["message_id"],
        b64decode(message.get("data") or b"", validate=True),
        source="gcp.pubsub",
        channel=channel,
        attributes=dict(message.get("attributes") or {}),
        deliveries=int(data.get("deliveryAttempt") or 1),
        time=published,
        raw=data,
    )


def _storage(action: str, attributes: dict[str, Any], data: Any) -> ObjectChange:
    change: Literal["created", "removed"]
    if action == "finalized":
        change = "created"
    elif action == "deleted":
        change = "removed"
    else:
        raise ValueError(f"{action} object events are not object changes faasport delivers")
    size = data.get("size")
    return ObjectChange(
        data["bucket"],
        data["name"],
        change,
        source="gcp.storage",
        size=int(size) if size is not None else None,
        etag=data.get("etag"),
        time=data.get("timeCreated" if change == "created" else "updated") or "",
        raw=data,
    )


def wanted(record: Record, filters: Iterable[ObjectFilter]) -> bool:
    """Whether an object change matches one of ``filters`` (other records always do).
    Eventarc cannot filter object names, so a bucket event's prefix and suffix are
    applied here."""
    if not isinstance(record, ObjectChange):
        return True
    return any(
        record.bucket == bucket
        and record.change == change
        and record.key.startswith(prefix)
        and record.key.endswith(suffix)
        for bucket, change, prefix, suffix in filters
    )


class EventHandler:
    def __init__(self, handler: Any, object_filters: Iterable[ObjectFilter] | None) -> None:
        self.runner = AppRunner(handler, AppOptions(lifespan="off"), kind="handler")
        self.object_filters = None if object_filters is None else tuple(object_filters)

    def __call__(self, event: Any) -> Any:
        http = hasattr(event, "environ")
        try:
            if http:
                attributes, data = from_http(event)
            else:
                attributes, data = dict(event.get_attributes()), event.data
            records = to_records(attributes, data)
        except UnsupportedEventError as exc:
            logs.logger().warning("rejected event: %s", exc)
            if not http:
                raise
            return _answer(400, str(exc))
        invocation.begin(attributes["id"])
        filters = self.object_filters
        if filters is not None:
            records = [record for record in records if wanted(record, filters)]
            if not records:  # acknowledged: nothing here for this handler
                return _answer(204, "") if http else None
        self.runner.call_handler(records, CloudEventContext(attributes))
        return _answer(204, "") if http else None


def _answer(status: int, message: str) -> Any:
    from faasport.core.http import HttpResponse
    from faasport.core.runner import error_response
    from faasport.gcp.codec import encode

    return encode(error_response(status, message, None) if message else HttpResponse(status))


def event_handler(
    handler: Any, *, object_filters: Iterable[ObjectFilter] | None = None
) -> Callable[[Any], Any]:
    """A CloudEvent function calling ``handler(records, context)`` (a function or a
    ``"module:attr"`` string imported on first use) with a list of typed records; the
    :class:`EventHandler` behind it is its ``faasport`` attribute.

    ``object_filters``: ``(bucket, "created" | "removed", prefix, suffix)`` tuples; when
    given, Cloud Storage events matching none of them are acknowledged without calling
    the handler. A Pub/Sub message carrying the ``faasport-schedule`` attribute (published
    by a Cloud Scheduler job of faasport's) arrives as a :class:`~faasport.events.Tick`."""
    from faasport.gcp.handler import as_function

    return as_function(EventHandler(handler, object_filters))
