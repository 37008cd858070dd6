"""The project configuration: ``faasport.toml`` or ``[tool.faasport]`` in ``pyproject.toml``,
parsed once into frozen dataclasses. ``load_project(".")`` is the entry point."""

from faasport.config.load import CONFIG_FILE, load_project, parse_project
from faasport.config.model import (
    Api,
    Auth,
    BucketEvent,
    Cors,
    EventSource,
    Function,
    JwtAuth,
    Project,
    Queue,
    QueueEvent,
    ScheduleEvent,
    State,
    Throttle,
    TopicEvent,
)
from faasport.config.routes import METHODS, Route, parse_route

__all__ = [
    "CONFIG_FILE",
    "METHODS",
    "Api",
    "Auth",
    "BucketEvent",
    "Cors",
    "EventSource",
    "Function",
    "JwtAuth",
    "Project",
    "Queue",
    "QueueEvent",
    "Route",
    "ScheduleEvent",
    "State",
    "Throttle",
    "TopicEvent",
    "load_project",
    "parse_project",
    "parse_route",
]
