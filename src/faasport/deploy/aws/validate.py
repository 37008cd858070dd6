"""What the configuration allows but AWS would refuse, found before anything is written: each
a :class:`ConfigError` naming the file and key."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from faasport.config.model import (
    BucketEvent,
    Function,
    JwtAuth,
    Project,
    QueueEvent,
    ScheduleEvent,
)
from faasport.deploy.aws import naming
from faasport.deploy.errors import config_error
from faasport.secrets.names import aws_name, is_ssm

if TYPE_CHECKING:
    from faasport.deploy.aws.model import Infrastructure

_SECRET_ID = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")
_PARAMETER = re.compile(r"/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")


def check(infrastructure: Infrastructure) -> None:
    """Fail on what the configuration allows but AWS would refuse, naming the key."""
    project = infrastructure.project
    if project.api.type == "rest":
        _check_rest(project)
    else:
        for auth in infrastructure.authorizers:
            if isinstance(auth, JwtAuth) and not auth.audience:
                raise config_error(
                    project,
                    ("auth", auth.name, "audience"),
                    "API Gateway JWT authorizers need at least one audience",
                )
    for function in project.functions.values():
        if function.snapstart:
            _check_snapstart(project, function)
        _check_managed_instances(project, function)
        for secret in function.secrets:
            if is_ssm(secret):
                valid = _PARAMETER.fullmatch(aws_name(secret))
                what = "an SSM parameter name like ssm:/app/prod/db"
            else:
                valid = _SECRET_ID.fullmatch(secret)
                what = "a Secrets Manager name (letters, digits and /_+=.@-)"
            if not valid:
                raise config_error(
                    project, ("functions", function.name, "secrets"), f"{secret!r} is not {what}"
                )
    topics = {naming.topic_name(project, topic) for topic in infrastructure.topics}
    if naming.alarm_topic(project) in topics:
        raise config_error(
            project,
            ("functions",),
            f"a topic event names the topic {naming.alarm_topic(project)}, which receives the "
            "functions' alarms; rename the topic",
        )
    _check_buckets(infrastructure)
    _check_events(project)


def _check_managed_instances(project: Project, function: Function) -> None:
    """Several invocations per environment exist on Lambda only on Managed Instances, which
    keep their own environments running (no provisioned concurrency)."""
    key = ("functions", function.name)
    if function.max_concurrency > 1 and function.capacity_provider is None:
        raise config_error(
            project,
            (*key, "max_concurrency"),
            f"max_concurrency = {function.max_concurrency} runs on Lambda Managed Instances: "
            "set capacity_provider to the ARN of a capacity provider (or max_concurrency = 1)",
        )
    if function.capacity_provider is not None and function.warm:
        raise config_error(
            project,
            (*key, "warm"),
            f"Lambda Managed Instances take no provisioned concurrency (warm = {function.warm}): "
            "the capacity provider keeps the environments; set warm = 0",
        )


def _check_snapstart(project: Project, function: Function) -> None:
    key = ("functions", function.name, "snapstart")
    major, minor = (int(part) for part in project.python.split("."))
    if (major, minor) < (3, 12):
        raise config_error(
            project,
            key,
            f'Lambda SnapStart runs Python 3.12 and later, not python = "{project.python}"',
        )
    if function.warm:
        raise config_error(
            project,
            key,
            f"Lambda SnapStart cannot be combined with provisioned concurrency (warm = "
            f"{function.warm}); set warm = 0 or snapstart = false",
        )


def _check_rest(project: Project) -> None:
    if project.api.cors is not None:
        raise config_error(
            project,
            ("api", "cors"),
            'is supported with type = "http"; on a REST API answer CORS in the app '
            "(Starlette CORSMiddleware, flask-cors)",
        )
    for function in project.functions.values():
        if function.routes and isinstance(project.auth.get(function.auth), JwtAuth):
            raise config_error(
                project,
                ("functions", function.name, "auth"),
                'API Gateway REST APIs have no JWT authorizer; use [api] type = "http" '
                'or auth = "none"',
            )


def _check_buckets(infrastructure: Infrastructure) -> None:
    # S3 refuses two notifications of one event type whose key filters can both match.
    for bucket, notifications in infrastructure.notifications.items():
        for index, first in enumerate(notifications):
            for second in notifications[index + 1 :]:
                a, b = first.event, second.event
                if a.on == b.on and _overlap(a, b):
                    raise config_error(
                        infrastructure.project,
                        ("functions", second.function.name, "events"),
                        f'bucket "{bucket}" already notifies function {first.function.name} '
                        f'of "{a.on}" events for overlapping keys; give them distinct '
                        "prefixes or suffixes",
                    )


def _overlap(a: BucketEvent, b: BucketEvent) -> bool:
    prefixes = a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)
    suffixes = a.suffix.endswith(b.suffix) or b.suffix.endswith(a.suffix)
    return prefixes and suffixes


def _check_events(project: Project) -> None:
    """FIFO queues take no batching window nor batches over 10, receive no destination
    notes and no standard topic's messages; schedules are EventBridge rules, which run in
    UTC."""
    fifo = {name for name, queue in project.queues.items() if queue.fifo}
    for function in project.functions.values():
        key = ("functions", function.name)
        for index, event in enumerate(function.events):
            at = (*key, "events", index)
            if isinstance(event, QueueEvent) and event.queue in fifo:
                if event.window:
                    raise config_error(
                        project, (*at, "window"), "SQS takes no batching window on FIFO queues"
                    )
                if event.batch > 10:
                    raise config_error(
                        project, (*at, "batch"), "SQS FIFO batches are at most 10 messages"
                    )
            if isinstance(event, ScheduleEvent) and event.timezone:
                raise config_error(
                    project,
                    (*at, "timezone"),
                    "AWS schedules are deployed as EventBridge rules, which run in UTC; "
                    "write the cron expression in UTC",
                )
        if function.on_failure in fifo:
            raise config_error(
                project, (*key, "on_failure"), "Lambda sends failures to standard queues only"
            )
        for stream in function.streams:
            if stream.on_failure in fifo:
                raise config_error(
                    project, (*key, "events"), "Lambda sends failures to standard queues only"
                )
    for topic in project.topics.values():
        for subscription in topic.queues:
            if subscription.queue in fifo:
                raise config_error(
                    project,
                    ("topics", topic.name, "queues"),
                    f'standard SNS topics cannot send to the FIFO queue "{subscription.queue}"',
                )
