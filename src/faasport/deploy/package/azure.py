"""Azure Functions (Python v2 model): a zip with ``function_app.py``, ``host.json`` and
``requirements.txt``, from which the platform installs the dependencies.

The first HTTP function is the app's own (``azure.function_app``), further routes and HTTP
functions are added with ``azure.http_trigger``, and each event of a plain handler becomes a
queue, timer or blob trigger. Routes carry no route prefix (host.json sets ``routePrefix``
to ``""``), so paths are the same as on the other clouds.
"""

from __future__ import annotations

import json
from typing import Any

from faasport.config.model import (
    Function,
    Project,
    QueueEvent,
    ScheduleEvent,
)
from faasport.config.routes import GREEDY, PARAM, Route
from faasport.deploy.azure.names import event_queue
from faasport.deploy.errors import config_error
from faasport.deploy.package.bundle import Bundle
from faasport.deploy.package.dependencies import Log, read_requirements, runtime_extra
from faasport.deploy.package.ncrontab import ncrontab
from faasport.deploy.package.policies import EntryPolicies, entry_policies
from faasport.deploy.package.sources import code_files

FUNCTION_APP = "function_app.py"
HOST_JSON = "host.json"
REQUIREMENTS = "requirements.txt"
EXTENSION_BUNDLE = {"id": "Microsoft.Azure.Functions.ExtensionBundle", "version": "[4.*, 5.0.0)"}
#: ``azure.function_app``'s default route: every path.
CATCH_ALL = "{*route}"


def azure_route(route: Route) -> str:
    """The Azure route template of an API Gateway route path (``{proxy+}`` -> ``{*proxy}``)."""
    parts = []
    for kind, text in route.segments:
        parts.append(f"{{*{text}}}" if kind == GREEDY else f"{{{text}}}" if kind == PARAM else text)
    if len(parts) == 1 and route.greedy:
        return CATCH_ALL
    return "/".join(parts)


class _Writer:
    """Collects the lines of function_app.py, giving each Azure function a unique name."""

    def __init__(self, project: Project, policies: EntryPolicies) -> None:
        self.project = project
        self.policies = policies
        self.lines: list[str] = []
        self.names: set[str] = set()
        self.routes: dict[str, tuple[str, str]] = {}  # template -> (function, route key)
        self.app_line: str | None = None
        self.left_out: list[str] = []

    def name(self, base: str) -> str:
        name, number = base, 1
        while name in self.names or (name != base and name in self.project.functions):
            number += 1
            name = f"{base}_{number}"
        self.names.add(name)
        return name

    def call(self, helper: str, target: str, *extra: str, **options: Any) -> None:
        args = ["app", repr(target), *(f"{k}={v!r}" for k, v in options.items()), *extra]
        self.lines.append(f"azure.{helper}({', '.join(args)})")

    def http(self, function: Function) -> None:
        assert function.app is not None
        for index, route in enumerate(function.routes):
            key = ("functions", function.name, "routes", index)
            if not route.segments:
                problem = 'Azure Functions cannot route the bare path /; use "ANY /{proxy+}"'
                raise config_error(self.project, key, problem)
            template = azure_route(route)
            owner = self.routes.get(template)
            if owner and owner[0] == function.name:
                continue  # another method of a path already routed to this function
            if owner:
                problem = (
                    f"Azure routes by path, not method, and {route.key!r} has the same path "
                    f"as {owner[1]!r} of function {owner[0]!r}"
                )
                raise config_error(self.project, key, problem)
            self.routes[template] = (function.name, route.key)
            options: dict[str, Any] = {"name": self.name(function.name)}
            if template != CATCH_ALL:
                options["route"] = template
            options["route_prefix"] = ""
            if function.health:
                options["health_path"] = function.health
            policies = self.policies.arguments.get(function.name)
            extra = [f"policies={policies}"] if policies else []
            if self.app_line is None:
                args = [repr(function.app), *(f"{k}={v!r}" for k, v in options.items()), *extra]
                self.app_line = f"app = azure.function_app({', '.join(args)})"
            else:
                self.call("http_trigger", function.app, *extra, **options)

    def events(self, function: Function) -> None:
        target = function.target
        if not function.events:
            self.left_out.append(function.name)
        for index, event in enumerate(function.events):
            key = ("functions", function.name, "events", index)
            if isinstance(event, QueueEvent):
                self.call("queue_trigger", target, name=self.name(function.name), queue=event.queue)
            elif isinstance(event, ScheduleEvent):
                try:
                    schedule = ncrontab(event.schedule)
                except ValueError as exc:
                    raise config_error(
                        self.project, (*key, "schedule"), f"cannot run on Azure: {exc}"
                    ) from None
                self.call("timer_trigger", target, name=self.name(function.name), schedule=schedule)
            else:
                # Bucket and topic events come through Event Grid, into a queue of their own.
                queue = event_queue(function, index)
                self.call("event_grid_trigger", target, name=self.name(function.name), queue=queue)


def function_app_source(
    project: Project, policies: EntryPolicies | None = None
) -> tuple[str, list[str]]:
    """The text of function_app.py, and the functions left out of it (no trigger)."""
    policies = policies or EntryPolicies()
    writer = _Writer(project, policies)
    for function in project.functions.values():
        if function.app is not None:
            writer.http(function)
    for function in project.functions.values():
        if function.app is None:
            writer.events(function)
    lines = [f'"""Generated by faasport from {project.source.name}; do not edit."""', ""]
    if writer.app_line is None:  # no HTTP function: a bare app for the triggers
        lines += ["import azure.functions as func", "", "from faasport import azure", ""]
        lines.append("app = func.FunctionApp()")
    else:
        lines += [*policies.imports, "from faasport import azure", ""]
        lines += [*policies.setup, *([""] if policies.setup else []), writer.app_line]
    return "\n".join([*lines, *writer.lines]) + "\n", writer.left_out


def _max_dequeue_count(project: Project) -> int | None:
    """host.json has one maxDequeueCount for every queue: their max_receive must agree."""
    used = [
        event.queue
        for function in project.functions.values()
        if function.app is None
        for event in function.events
        if isinstance(event, QueueEvent)
    ]
    if not used:
        return None
    first = project.queues[used[0]]
    for name in used[1:]:
        queue = project.queues[name]
        if queue.max_receive != first.max_receive:
            raise config_error(
                project,
                ("queues", name, "max_receive"),
                f"is {queue.max_receive} but queues.{first.name}.max_receive is "
                f"{first.max_receive}: Azure applies one maxDequeueCount to every queue",
            )
    return first.max_receive


def host_json(project: Project) -> str:
    seconds = max((f.timeout for f in project.functions.values()), default=30)
    extensions: dict[str, Any] = {}
    if any(f.app is not None for f in project.functions.values()):
        extensions["http"] = {"routePrefix": ""}
    dequeue = _max_dequeue_count(project)
    if dequeue is not None:
        extensions["queues"] = {"maxDequeueCount": dequeue}
    host: dict[str, Any] = {
        "version": "2.0",
        "extensionBundle": EXTENSION_BUNDLE,
        "functionTimeout": f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}",
        "extensions": extensions,
        "logging": {"logLevel": {"default": "Information"}},
    }
    return json.dumps(host, indent=2) + "\n"


def bundle(project: Project, log: Log) -> Bundle:
    policies = entry_policies(project, "azure")
    source, left_out = function_app_source(project, policies)
    requirements = read_requirements(project)
    generated = {
        FUNCTION_APP: source.encode(),
        HOST_JSON: host_json(project).encode(),
        REQUIREMENTS: requirements.text(*runtime_extra("azure")),
    }
    warnings = requirements.uploaded_credentials("Azure", "an app setting") + [
        f"function {name} has no events, and Azure Functions runs only triggered "
        f"functions: it is left out of {FUNCTION_APP}"
        for name in left_out
    ]
    return Bundle({**code_files(project), **policies.files}, generated, warnings)
