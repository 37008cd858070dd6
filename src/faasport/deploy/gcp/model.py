"""What the Google Cloud deployment holds, decided once from the configuration, with every
check that Google Cloud adds to the configuration's own: the Pub/Sub topics, the buckets,
the schedules in unix-cron, and which queues wait for a consumer."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from faasport.config.model import (
    BucketEvent,
    EventSource,
    Function,
    Project,
    QueueEvent,
    ScheduleEvent,
    TopicEvent,
)
from faasport.core.errors import ConfigError
from faasport.deploy.errors import config_error
from faasport.deploy.gcp.filters import pubsub_filter
from faasport.deploy.package.ncrontab import ncrontab
from faasport.deploy.unsupported import Supports, refuse

#: The Python versions Cloud Functions runs.
PYTHONS = ("3.11", "3.12", "3.13")
#: Pub/Sub waits at most this long for a push delivery to be answered.
MAX_ACK_DEADLINE = 600
MIN_ACK_DEADLINE = 10
#: The range Pub/Sub accepts for a dead-letter policy's delivery attempts.
DELIVERY_ATTEMPTS = (5, 100)

_TOPIC = re.compile(r"[A-Za-z][A-Za-z0-9._~+%-]{2,254}")
_TOPIC_RULE = (
    "Pub/Sub topic names start with a letter, have 3 or more characters and do not start "
    'with "goog"'
)


@dataclass(frozen=True)
class Event:
    """Event ``index`` of ``function``."""

    function: Function
    index: int
    source: EventSource

    @property
    def kind(self) -> str:
        return _KINDS[type(self.source)]


_KINDS: Mapping[type, str] = {
    QueueEvent: "queue",
    TopicEvent: "topic",
    ScheduleEvent: "schedule",
    BucketEvent: "bucket",
}

#: Cloud Scheduler takes a schedule's time zone as is.
SUPPORTS = Supports("Google Cloud", topic_filters=True, timezones=True)


@dataclass(frozen=True)
class Model:
    project: Project
    #: Pub/Sub topic names of the queues (with their dead-letter queues) and of the topics.
    queues: tuple[str, ...]
    topics: tuple[str, ...]
    #: Queues no function consumes: a pull subscription keeps their messages.
    held: tuple[str, ...]
    buckets: tuple[str, ...]
    events: tuple[Event, ...]
    #: The unix-cron of each schedule event, by (function name, event index).
    crons: Mapping[tuple[str, int], str]

    @property
    def pushes(self) -> bool:
        """Whether Pub/Sub pushes to a function (queue, topic and schedule events)."""
        return any(event.kind != "bucket" for event in self.events)


def build(project: Project) -> Model:
    """The model of ``project``; a :class:`ConfigError` naming the key when Google Cloud
    cannot deploy it as configured."""
    if project.python not in PYTHONS:
        raise config_error(
            project,
            ("python",),
            f"Cloud Functions runs Python {', '.join(PYTHONS)}, not {project.python}",
        )
    refuse(project, SUPPORTS)
    events = tuple(
        Event(function, index, source)
        for function in project.functions.values()
        for index, source in enumerate(function.events)
    )
    for function in project.functions.values():
        _check_function(project, function)
    for event in events:
        source = event.source
        if isinstance(source, TopicEvent) and source.filter and not pubsub_filter(source.filter):
            raise _event_error(
                project,
                event,
                "filter",
                "only a filter of attributes each equal to one of a list of strings maps to a "
                "Pub/Sub subscription filter on Google Cloud",
            )
    queues = sorted({*project.queues, *(q.dlq for q in project.queues.values() if q.dlq)})
    topics = sorted({e.source.topic for e in events if isinstance(e.source, TopicEvent)})
    _check_topic_names(project, events)
    consumed: dict[str, Event] = {}
    crons: dict[tuple[str, int], str] = {}
    for event in events:
        source = event.source
        if isinstance(source, QueueEvent):
            first = consumed.setdefault(source.queue, event)
            if first is not event:
                raise _event_error(
                    project,
                    event,
                    "queue",
                    f'queue "{source.queue}" is already consumed by function '
                    f'"{first.function.name}"; on Google Cloud a queue pushes each message to '
                    "one function, so give each function its own queue",
                )
        elif isinstance(source, ScheduleEvent):
            try:
                crons[(event.function.name, event.index)] = unix_cron(source.schedule)
            except ValueError as exc:
                raise _event_error(
                    project, event, "schedule", f"cannot run on Cloud Scheduler: {exc}"
                ) from None
    return Model(
        project=project,
        queues=tuple(queues),
        topics=tuple(topics),
        held=tuple(name for name in queues if name not in consumed),
        buckets=tuple(
            sorted({e.source.bucket for e in events if isinstance(e.source, BucketEvent)})
        ),
        events=events,
        crons=crons,
    )


def unix_cron(expression: str) -> str:
    """The five-field unix-cron Cloud Scheduler reads: NCRONTAB without its seconds."""
    return ncrontab(expression).partition(" ")[2]


def is_http(function: Function) -> bool:
    """HTTP functions serve an app; the others are CloudEvent functions fed by events."""
    return function.app is not None


def ack_deadline(seconds: int) -> int:
    return max(MIN_ACK_DEADLINE, min(MAX_ACK_DEADLINE, seconds))


def delivery_attempts(max_receive: int) -> int:
    low, high = DELIVERY_ATTEMPTS
    return max(low, min(high, max_receive))


def _check_function(project: Project, function: Function) -> None:
    if function.snapstart:
        raise config_error(
            project,
            ("functions", function.name, "snapstart"),
            "SnapStart is AWS Lambda's; Google Cloud has none (warm keeps instances ready)",
        )
    if function.events and is_http(function):
        raise config_error(
            project,
            ("functions", function.name, "events"),
            "an HTTP function (app) takes no events on Google Cloud; move the events to a "
            "function with a handler",
        )
    if not is_http(function) and function.timeout > MAX_ACK_DEADLINE:
        raise config_error(
            project,
            ("functions", function.name, "timeout"),
            f"event functions run at most {MAX_ACK_DEADLINE} seconds on Google Cloud (the "
            f"longest Pub/Sub and Eventarc wait for an answer), got {function.timeout}",
        )


def _check_topic_names(project: Project, events: tuple[Event, ...]) -> None:
    named: list[tuple[str, tuple[str, ...]]] = [(name, ("queues", name)) for name in project.queues]
    named += [
        (queue.dlq, ("queues", queue.name, "dlq")) for queue in project.queues.values() if queue.dlq
    ]
    for name, key in named:
        if not _is_topic(name):
            raise config_error(project, key, f'"{name}" cannot name a Pub/Sub topic: {_TOPIC_RULE}')
    for event in events:
        source = event.source
        if isinstance(source, TopicEvent):
            if not _is_topic(source.topic):
                raise _event_error(project, event, "topic", f"{_TOPIC_RULE}; rename it")
            if any(source.topic == name for name, _ in named):
                raise _event_error(
                    project,
                    event,
                    "topic",
                    f'"{source.topic}" is also a queue, and both would be one Pub/Sub topic; '
                    "rename one",
                )
        elif isinstance(source, BucketEvent) and (
            source.bucket.startswith("goog") or "google" in source.bucket
        ):
            raise _event_error(
                project,
                event,
                "bucket",
                'Cloud Storage bucket names cannot start with "goog" or contain "google"',
            )


def _is_topic(name: str) -> bool:
    return bool(_TOPIC.fullmatch(name)) and not name.startswith("goog")


def _event_error(project: Project, event: Event, key: str, message: str) -> ConfigError:
    path = ("functions", event.function.name, "events", event.index, key)
    return config_error(project, path, message)
