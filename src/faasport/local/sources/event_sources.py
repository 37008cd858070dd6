"""The event sources of ``faasport dev`` together, driven by the project's configuration and
stored durably in one SQLite database under ``.faasport/``.

:class:`EventSources` is inert until opened. ``open()`` opens the database, serves the
AWS-compatible endpoint and returns the project with ``AWS_ENDPOINT_URL_<SERVICE>`` in every
function's environment (so environments started afterwards reach it); ``start(invoke)``,
given a function that invokes a configured function by name and blocks until it ends, feeds
every function whose ``events`` name a queue; ``stop()`` ends both.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from faasport.local.aws_services.server import Services
from faasport.local.aws_services.sqs import queue_url
from faasport.local.sources import cron, patterns
from faasport.local.sources.buckets import Buckets, notifications, s3_event
from faasport.local.sources.bus import Bus, bus_event, rules
from faasport.local.sources.consumer import ACCOUNT, Functions, QueueConsumer
from faasport.local.sources.dev_state import DEV_STATE
from faasport.local.sources.queues import Queues, QueueSpec
from faasport.local.sources.schedules import Schedule, Scheduler
from faasport.local.sources.store import Store
from faasport.local.sources.streams import StreamMapping, Streams
from faasport.local.sources.tables import Tables
from faasport.local.sources.topics import FAILED, Topics, sns_event, subscriptions

if TYPE_CHECKING:
    from faasport.config.model import Function, Project

#: Where the database lives, relative to the project root.
DATABASE = Path(".faasport") / "events.db"
#: boto3 reads AWS_ENDPOINT_URL_<service id>; EventBridge's id is EVENTBRIDGE (EVENTS too,
#: for tools that use the endpoint prefix). APIGATEWAYMANAGEMENTAPI: the WebSocket APIs'
#: @connections calls (faasport.websocket.send too), which the endpoint passes to the gateway.
SERVICES = ("SQS", "SNS", "S3", "KINESIS", "EVENTBRIDGE", "EVENTS", "APIGATEWAYMANAGEMENTAPI")
#: At most this many pollers per queue mapping (Lambda starts with five).
MAX_POLLERS = 5


def schedules(project: Project) -> list[Schedule]:
    """Every schedule of the project, named after its function (``worker``, or ``worker-2``
    for a function's second schedule)."""
    from faasport.config.model import ScheduleEvent
    from faasport.core.errors import FaasportError

    out: list[Schedule] = []
    for function in project.functions.values():
        events = [e for e in function.events if isinstance(e, ScheduleEvent)]
        for index, event in enumerate(events, 1):
            name = function.name if len(events) == 1 else f"{function.name}-{index}"
            try:
                timing = cron.parse(event.schedule, event.timezone)
            except cron.ScheduleError as exc:
                raise FaasportError(
                    f"{project.source.name}: functions.{function.name}.events: schedule "
                    f'"{event.schedule}": {exc}'
                ) from None
            out.append(Schedule(name, function.name, event.schedule, timing))
    return out


def check_patterns(project: Project) -> None:
    """Every filter policy and event pattern is EventBridge's grammar, or one error naming
    where it is."""
    import json

    from faasport.config.model import TopicEvent
    from faasport.core.errors import FaasportError

    found: list[tuple[str, str]] = []
    for function in project.functions.values():
        for event in function.events:
            if isinstance(event, TopicEvent) and event.filter:
                found.append((f"functions.{function.name}.events: filter", event.filter))
        for rule in function.rules:
            found.append((f"functions.{function.name}.events: pattern", rule.pattern))
    for topic in project.topics.values():
        for sub in topic.queues:
            if sub.filter:
                found.append((f"topics.{topic.name}.queues: filter", sub.filter))
    for where, text in found:
        try:
            patterns.check(json.loads(text))
        except patterns.PatternError as exc:
            raise FaasportError(f"{project.source.name}: {where}: {exc}") from None


def queue_specs(project: Project) -> dict[str, QueueSpec]:
    """Every queue of the project, dead-letter queues included."""
    specs: dict[str, QueueSpec] = {}
    for queue in project.queues.values():
        specs[queue.name] = QueueSpec(
            queue.name,
            visibility_timeout=queue.visibility_timeout,
            max_receive=queue.max_receive,
            dlq=queue.dlq,
            delay=queue.delay,
            content_dedup=queue.content_dedup,
        )
    for queue in project.queues.values():
        if queue.dlq is not None and queue.dlq not in specs:
            specs[queue.dlq] = QueueSpec(queue.dlq)
    # Deliveries to functions from topics and rules: Lambda's asynchronous invocation, one
    # try and two retries, then kept aside.
    for name, function in _async_targets(project):
        timeout = project.functions[function].timeout
        specs[name] = QueueSpec(name, visibility_timeout=timeout, max_receive=3, dlq=FAILED)
    specs[FAILED] = QueueSpec(FAILED)
    return specs


def _async_targets(project: Project) -> list[tuple[str, str]]:
    """``(internal queue, function)`` of every topic subscription and rule of a function."""
    out = [
        (sub.queue, sub.function)
        for subs in subscriptions(project).values()
        for sub in subs
        if sub.function is not None
    ]
    out += [(rule.queue, rule.function) for rule in rules(project)]
    out += [(n.queue, n.function) for n in notifications(project)]
    return out


class EventSources:
    def __init__(
        self,
        project: Project,
        log: Callable[[str], None] = lambda line: None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        database: Path | None = None,
    ) -> None:
        self.project = project
        self.log = log
        self.store = Store(database or project.root / DATABASE)
        self.queues = Queues(self.store, queue_specs(project))
        self.topics = Topics(self.queues, project, log)
        self.bus = Bus(self.queues, project, log)
        self.buckets = Buckets(self.store, self.queues, project)
        names = {
            s.stream for f in project.functions.values() for s in f.streams if s.source == "kinesis"
        }
        self.streams = Streams(self.store, names, project.region)
        self.tables = Tables(self.streams, project.tables, project.region)
        self.mappings: list[StreamMapping] = []
        self.services = Services(
            self.queues,
            host,
            port,
            topics=self.topics,
            bus=self.bus,
            buckets=self.buckets,
            streams=self.streams,
            tables=self.tables,
        )
        self.consumers: list[QueueConsumer] = []
        self.scheduler: Scheduler | None = None
        self.url = ""

    def open(self) -> Project:
        """Open the database and serve the endpoint; the project as functions should see it."""
        self._schedules = schedules(self.project)  # a bad expression fails before any I/O
        check_patterns(self.project)
        self.store.open()
        self.streams.open()
        self.tables.open()
        self.buckets.start()
        self.url = self.services.start()
        state = self.project.root / DEV_STATE
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({"pid": os.getpid(), "services": self.url}))
        return with_endpoints(self.project, self.url)

    def start(self, functions: Functions) -> None:
        """Feed the functions: queue mappings poll on ``functions.loop``; streams and
        schedules invoke from their own threads."""
        from faasport.config.model import QueueEvent

        invoke, invoke_async, loop = functions.invoke, functions.invoke_async, functions.loop

        for function in self.project.functions.values():
            for source in function.events:
                if isinstance(source, QueueEvent):
                    self.consumers.append(
                        QueueConsumer(
                            self.queues,
                            source.queue,
                            function.name,
                            invoke_async,
                            loop,
                            batch=source.batch,
                            window=source.window,
                            pollers=max(1, min(function.concurrency, MAX_POLLERS)),
                            region=self.project.region,
                            log=self.log,
                        )
                    )
        region = self.project.region
        for topic, subs in self.topics.subscriptions.items():
            arn = self.topics.arn(topic)
            for sub in subs:
                if sub.function is not None:
                    self.consumers.append(
                        QueueConsumer(
                            self.queues,
                            sub.queue,
                            sub.function,
                            invoke_async,
                            loop,
                            batch=1,
                            region=region,
                            log=self.log,
                            event=lambda batch, arn=arn: sns_event(arn, batch, region),  # type: ignore[misc]
                        )
                    )
        for notification in self.buckets.notifications:
            self.consumers.append(
                QueueConsumer(
                    self.queues,
                    notification.queue,
                    notification.function,
                    invoke_async,
                    loop,
                    batch=1,
                    region=region,
                    log=self.log,
                    event=s3_event,
                )
            )
        for rule in self.bus.rules:
            self.consumers.append(
                QueueConsumer(
                    self.queues,
                    rule.queue,
                    rule.function,
                    invoke_async,
                    loop,
                    batch=1,
                    region=region,
                    log=self.log,
                    event=bus_event,
                )
            )
        for consumer in self.consumers:
            consumer.start()
        for function in self.project.functions.values():
            for stream in function.streams:
                records = self.tables if stream.source == "dynamodb" else self.streams
                mapping = StreamMapping(
                    self.streams, self.queues, function.name, stream, invoke, self.log, records
                )
                self.mappings.append(mapping)
                mapping.start()
        self.scheduler = Scheduler(self._schedules, invoke, self.project.region, log=self.log)
        self.services.scheduler = self.scheduler
        self.scheduler.start()

    def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        for consumer in self.consumers:
            consumer.stop()
        for mapping in self.mappings:
            mapping.stop()
        self.buckets.stop()
        self.services.stop()
        state = self.project.root / DEV_STATE
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            if json.loads(state.read_text())["pid"] == os.getpid():  # not a later one's
                state.unlink()
        self.store.close()


def with_endpoints(project: Project, url: str) -> Project:
    """``project`` with the endpoint in each function's environment (the function's own
    settings win), and dummy credentials when this machine has none, so boto3 can sign."""
    extra = {f"AWS_ENDPOINT_URL_{service}": url for service in SERVICES}
    if project.tables:
        # Only then: without [tables.*], DynamoDB calls (a dynamodb:// state store) go where
        # the machine's own settings send them.
        extra["AWS_ENDPOINT_URL_DYNAMODB"] = url
    if "AWS_ACCESS_KEY_ID" not in os.environ:
        extra |= {"AWS_ACCESS_KEY_ID": "faasport", "AWS_SECRET_ACCESS_KEY": "faasport"}
    functions = {
        name: replace(
            function,
            environment=MappingProxyType(
                {**extra, **_addresses(project, function, url), **function.environment}
            ),
        )
        for name, function in project.functions.items()
    }
    return replace(project, functions=MappingProxyType(functions))


def _addresses(project: Project, function: Function, url: str) -> dict[str, str]:
    """What the function ``sends`` to, as the deployed function finds it: a topic's ARN, a
    stream's name, a queue's URL."""
    found = {}
    for send in function.sends:
        if send.kind == "topic":
            found[send.variable] = f"arn:aws:sns:{project.region}:{ACCOUNT}:{send.name}"
        elif send.kind == "queue":
            found[send.variable] = queue_url(url, send.name)
        else:
            found[send.variable] = send.name
    return found
