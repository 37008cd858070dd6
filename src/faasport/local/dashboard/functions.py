"""The project's functions as the dashboard shows them, and the event it invokes one with:
faasport's event generator (:mod:`faasport.testing.events`) for the source it picks."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from faasport.testing import events as sample

if TYPE_CHECKING:
    from faasport.config.model import EventSource, Function, Project

#: Sources the page offers besides the function's own.
SOURCES = ("apigw-v2", "apigw-v1", "sqs", "sns", "s3", "schedule", "kinesis", "eventbridge")
_PARAM = re.compile(r"\{([^}+]+)\+?\}")


class BadEvent(ValueError):
    """The request to generate an event is not one faasport can serve."""


def _source_text(source: EventSource) -> tuple[str, str]:
    from faasport.config.model import BucketEvent, QueueEvent, ScheduleEvent

    if isinstance(source, QueueEvent):
        return "sqs", f"queue {source.queue}"
    if isinstance(source, ScheduleEvent):
        return "schedule", f"schedule {source.schedule}"
    if isinstance(source, BucketEvent):
        return "s3", f"bucket {source.bucket} ({source.on})"
    return "sns", f"topic {source.topic}"


def _sources(function: Function) -> list[tuple[str, str]]:
    """(event source, what it is) of each of the function's triggers but HTTP."""
    sources = [_source_text(s) for s in function.events]
    sources += [("kinesis", f"stream {s.stream}") for s in function.streams]
    sources += [("eventbridge", f"bus {r.bus} rule") for r in function.rules]
    return sources


def default_source(project: Project, function: Function) -> str:
    """The source to invoke ``function`` with by default: its API's event when it has
    routes (or nothing else), else its first trigger's."""
    sources = _sources(function)
    if function.routes or not sources:
        return "apigw-v1" if project.api.type == "rest" else "apigw-v2"
    return sources[0][0]


def describe(project: Project) -> list[dict[str, Any]]:
    """Each function: its target, limits, routes, event sources and the source to invoke
    it with by default."""
    described = []
    for function in project.functions.values():
        sources = _sources(function)
        described.append(
            {
                "name": function.name,
                "target": function.target,
                "memory": function.memory,
                "timeout": function.timeout,
                "concurrency": function.concurrency,
                "warm": function.warm,
                "routes": [f"{r.method} {r.path}" for r in function.routes],
                "events": [text for _, text in sources],
                "source": default_source(project, function),
                "path": _example_path(function),
            }
        )
    return described


def _example_path(function: Function) -> str:
    """A path the function's first route matches (``/items/{id}`` -> ``/items/1``)."""
    for route in function.routes:
        return _PARAM.sub("1", route.path)
    return "/"


def generate(
    project: Project, function: str, source: str, path: str = "/", body: str = ""
) -> dict[str, Any]:
    """The event ``source`` would send ``function``; raises :class:`BadEvent`."""
    spec = project.functions.get(function)
    if spec is None:
        raise BadEvent(f'unknown function "{function}"')
    if source in ("apigw-v1", "apigw-v2"):
        if not path.startswith("/"):
            raise BadEvent("the path must start with /")
        return sample.event(source, "POST" if body else "GET", path, body=body or None)
    named = _name_for(spec, source)
    if source == "sqs":
        return sample.sqs_event(body or sample.SAMPLE_BODIES["sqs"], queue=named or "jobs")
    if source == "sns":
        return sample.sns_event(body or sample.SAMPLE_BODIES["sns"], topic=named or "alerts")
    if source == "s3":
        return sample.s3_event(body or "in/example.txt", bucket=named or "uploads")
    if source == "schedule":
        return sample.schedule_event()
    if source == "kinesis":
        data = body or sample.SAMPLE_BODIES["kinesis"]
        return sample.kinesis_event(data, stream=named or "clicks")
    if source == "eventbridge":
        try:
            detail = json.loads(body) if body else {"order": 42}
        except ValueError:
            raise BadEvent("the EventBridge detail must be JSON") from None
        if not isinstance(detail, dict):
            raise BadEvent("the EventBridge detail must be a JSON object")
        return sample.eventbridge_event(detail)
    raise BadEvent(f'unknown event source "{source}"; one of: {", ".join(SOURCES)}')


def _name_for(function: Function, source: str) -> str | None:
    """The function's own queue, topic, bucket or stream for ``source``, if it has one."""
    from faasport.config.model import BucketEvent, QueueEvent, TopicEvent

    for event in function.events:
        if source == "sqs" and isinstance(event, QueueEvent):
            return event.queue
        if source == "sns" and isinstance(event, TopicEvent):
            return event.topic
        if source == "s3" and isinstance(event, BucketEvent):
            return event.bucket
    if source == "kinesis" and function.streams:
        return function.streams[0].stream
    return None
