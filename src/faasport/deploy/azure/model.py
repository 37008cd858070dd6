"""What the Azure deployment holds, decided once from the configuration, with every check
that Azure adds to the configuration's own.

All functions run in one Function App (``function_app.py`` holds them all), so memory and
instance limits are the app's: the largest memory, the sum of the instance counts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from faasport.config.model import (
    BucketEvent,
    Function,
    Project,
    TopicEvent,
)
from faasport.core.errors import ConfigError
from faasport.deploy.azure import names
from faasport.deploy.errors import config_error
from faasport.deploy.unsupported import Supports, refuse

#: The Python versions Flex Consumption runs.
PYTHONS = ("3.11", "3.12", "3.13")
#: The instance sizes Flex Consumption offers, in MB.
INSTANCE_MEMORY = (512, 2048, 4096)
MAX_INSTANCES = 1000

#: Storage queue and blob container names: 3-63 lowercase letters, digits and single '-'.
_STORAGE_NAME = re.compile(r"(?!.*--)[a-z0-9][a-z0-9-]{1,61}[a-z0-9]")
_STORAGE_RULE = "3 to 63 lowercase letters, digits and single '-', starting and ending alnum"


@dataclass(frozen=True)
class Event:
    """Event ``index`` of ``function``, delivered by Event Grid into ``queue``."""

    function: Function
    index: int
    source: BucketEvent | TopicEvent
    queue: str


@dataclass(frozen=True)
class Model:
    project: Project
    #: The Storage queues: configured ones, then those Event Grid fills.
    queues: tuple[str, ...]
    containers: tuple[str, ...]
    topics: tuple[str, ...]
    #: Bucket and topic events: Event Grid delivers them into a queue of their own.
    events: tuple[Event, ...]
    instance_memory: int
    maximum_instances: int
    #: Always-ready instances by Flex Consumption scale group (``http``, ``function:NAME``).
    always_ready: Mapping[str, int]
    #: Every function's environment: one app has one set of settings.
    environment: Mapping[str, str]


def is_http(function: Function) -> bool:
    return function.app is not None


def build(project: Project) -> Model:
    """The model of ``project``; a :class:`ConfigError` naming the key when Azure cannot
    deploy it as configured."""
    if project.python not in PYTHONS:
        raise config_error(
            project,
            ("python",),
            f"Azure Functions (Flex Consumption) runs Python {', '.join(PYTHONS)}, "
            f"not {project.python}",
        )
    refuse(project, Supports("Azure"))
    functions = list(project.functions.values())
    for function in functions:
        if function.snapstart:
            raise config_error(
                project,
                ("functions", function.name, "snapstart"),
                "SnapStart is AWS Lambda's; Azure has none (warm keeps instances ready)",
            )
        if function.events and is_http(function):
            raise config_error(
                project,
                ("functions", function.name, "events"),
                "an HTTP function (app) takes no events on Azure; move the events to a "
                "function with a handler",
            )
    for name in project.queues:
        if not _STORAGE_NAME.fullmatch(name):
            raise config_error(
                project,
                ("queues", name),
                f'"{name}" cannot name an Azure Storage queue: use {_STORAGE_RULE}',
            )
    events = _events(project)
    return Model(
        project=project,
        queues=(*sorted(project.queues), *(event.queue for event in events)),
        containers=tuple(
            sorted({e.source.bucket for e in events if isinstance(e.source, BucketEvent)})
        ),
        topics=tuple(sorted({e.source.topic for e in events if isinstance(e.source, TopicEvent)})),
        events=events,
        instance_memory=_instance_memory(project, functions),
        maximum_instances=min(MAX_INSTANCES, sum(f.concurrency for f in functions) or 1),
        always_ready=_always_ready(functions),
        environment=_environment(project, functions),
    )


def _events(project: Project) -> tuple[Event, ...]:
    events: list[Event] = []
    taken = set(project.queues)
    for function in project.functions.values():
        for index, source in enumerate(function.events):
            if not isinstance(source, BucketEvent | TopicEvent):
                continue
            if isinstance(source, BucketEvent) and not _STORAGE_NAME.fullmatch(source.bucket):
                raise _event_error(
                    project,
                    function,
                    index,
                    "bucket",
                    f'"{source.bucket}" cannot name an Azure blob container: use {_STORAGE_RULE}',
                )
            queue = names.event_queue(function, index)
            if queue in taken:
                raise _event_error(
                    project,
                    function,
                    index,
                    names.event_kind(source),
                    f'Event Grid delivers this event into the Storage queue "{queue}", which '
                    "another queue or event already uses; rename that queue or function",
                )
            taken.add(queue)
            events.append(Event(function, index, source, queue))
    return tuple(events)


def _instance_memory(project: Project, functions: list[Function]) -> int:
    largest = max(functions, key=lambda f: f.memory, default=None)
    need = largest.memory if largest else INSTANCE_MEMORY[0]
    for size in INSTANCE_MEMORY:
        if need <= size:
            return size
    assert largest is not None
    raise config_error(
        project,
        ("functions", largest.name, "memory"),
        f"Flex Consumption instances have at most {INSTANCE_MEMORY[-1]} MB, got {need}",
    )


def _environment(project: Project, functions: list[Function]) -> dict[str, str]:
    merged: dict[str, tuple[str, str]] = {}
    for function in functions:
        for key, value in function.environment.items():
            first = merged.setdefault(key, (function.name, value))
            if first[1] != value:
                raise config_error(
                    project,
                    ("functions", function.name, "environment", key),
                    f"is {value!r} but function {first[0]} sets {first[1]!r}: on Azure all "
                    "functions run in one Function App, with one set of settings",
                )
    return {key: value for key, (_, value) in sorted(merged.items())}


def _always_ready(functions: list[Function]) -> dict[str, int]:
    ready: dict[str, int] = {}
    http = sum(f.warm for f in functions if is_http(f))
    if http:
        ready["http"] = http  # HTTP functions share one scale group
    for function in functions:
        if function.warm and function.events and not is_http(function):
            # function_app.py names a handler's first trigger after the function.
            ready[f"function:{function.name}"] = function.warm
    return ready


def _event_error(
    project: Project, function: Function, index: int, key: str, message: str
) -> ConfigError:
    path = ("functions", function.name, "events", index, key)
    return config_error(project, path, message)
