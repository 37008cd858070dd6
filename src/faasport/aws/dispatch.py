"""Non-HTTP events reaching an HTTP app's Lambda handler: ``aws.handler(app, events=...)``.

One function can serve an API and consume the events that feed it (an order API that also
drains the ``orders`` queue, or a chat page and its WebSocket API) without a second
deployment. ``events`` is either one plain
``handler(event, context)`` that receives every non-HTTP event, or a mapping from the
event's kind to such a handler. Handlers may be ``"module:attr"`` strings, imported on the
first event that needs them, so an HTTP request never imports event code and an event never
imports the app. What a handler returns is the invocation's result, so the
``batchItemFailures`` of :func:`faasport.events.process` reach the event source unchanged.
"""

from __future__ import annotations

from faasport.core.errors import ConfigError, UnsupportedEventError
from faasport.websocket.event import is_websocket_event

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    EventHandler = Callable[[Any, Any], Any]
    EventHandlers = EventHandler | str | Mapping[str, EventHandler | str]

#: The kinds a mapping may name, and the ``eventSource`` of the records that carry them.
KINDS = ("sqs", "sns", "s3", "kinesis", "dynamodb", "schedule", "eventbridge", "websocket")
_RECORD_SOURCES = {
    "aws:sqs": "sqs",
    "aws:sns": "sns",
    "aws:s3": "s3",
    "aws:kinesis": "kinesis",
    "aws:dynamodb": "dynamodb",
}


def event_kind(event: Any) -> str | None:
    """The kind (one of :data:`KINDS`) of an AWS event, None for anything else."""
    if type(event) is not dict:
        return None
    found = event.get("Records")
    if type(found) is list and found and type(found[0]) is dict:
        first = found[0]
        return _RECORD_SOURCES.get(str(first.get("eventSource") or first.get("EventSource")))
    if "detail-type" in event and "source" in event:
        return "schedule" if event["detail-type"] == "Scheduled Event" else "eventbridge"
    if is_websocket_event(event):
        return "websocket"
    return None


class _Target:
    """A handler, or the import string of one, resolved on first use."""

    __slots__ = ("_resolved", "spec")

    def __init__(self, spec: EventHandler | str, key: str) -> None:
        if not (isinstance(spec, str) or callable(spec)):
            raise ConfigError(
                f"{key} must be a handler(event, context) or a 'module:attr' string naming "
                f"one, not {type(spec).__name__}"
            )
        self.spec = spec
        self._resolved: EventHandler | None = None if isinstance(spec, str) else spec

    def __call__(self, event: Any, context: Any) -> Any:
        handle = self._resolved
        if handle is None:
            # Imported here: faasport.core.loader imports typing, which `import faasport.aws`
            # must not pay for.
            from faasport.core.loader import import_from_string

            handle = import_from_string(str(self.spec))
            if not callable(handle):
                raise ConfigError(f"event handler {self.spec!r} is not callable")
            self._resolved = handle
        return handle(event, context)


class EventDispatch:
    """Calls the handler registered for a non-HTTP event's kind."""

    __slots__ = ("_all", "_by_kind")

    def __init__(self, events: EventHandlers) -> None:
        self._all: _Target | None = None
        self._by_kind: dict[str, _Target] = {}
        if isinstance(events, str) or callable(events):
            self._all = _Target(events, "events")
            return
        if not hasattr(events, "items"):
            raise ConfigError(
                "events must be a handler(event, context), a 'module:attr' string or a "
                f"mapping from event kind to handler, not {type(events).__name__}"
            )
        for kind, spec in events.items():
            if kind not in KINDS:
                raise ConfigError(
                    f"events has an unknown event kind {kind!r}; kinds are {', '.join(KINDS)}"
                )
            self._by_kind[kind] = _Target(spec, f"events[{kind!r}]")
        if not self._by_kind:
            raise ConfigError("events is an empty mapping: name at least one event kind")

    def __call__(self, event: Any, context: Any) -> Any:
        if self._all is not None:
            return self._all(event, context)
        kind = event_kind(event)
        target = self._by_kind.get(kind) if kind is not None else None
        if target is None:
            registered = ", ".join(self._by_kind)
            what = f"a {kind} event" if kind else "an event neither HTTP nor of a known kind"
            raise UnsupportedEventError(
                f"faasport.aws.handler received {what}, and the app registers handlers only "
                f"for {registered}; add it to aws.handler(app, events={{...}})"
            )
        return target(event, context)
