"""The event-source settings a cloud has no counterpart for: refused with one line naming the
source, the key and the file, rather than deployed without them."""

from __future__ import annotations

from dataclasses import dataclass

from faasport.config.model import LambdaAuth, Project, QueueEvent, ScheduleEvent, TopicEvent
from faasport.deploy.errors import config_error


@dataclass(frozen=True)
class Supports:
    """What a cloud's deployment maps; everything else in :func:`refuse` is refused."""

    cloud: str
    topic_filters: bool = False
    timezones: bool = False


def refuse(project: Project, supports: Supports) -> None:
    """Raise a ConfigError for the first setting ``supports.cloud`` cannot deploy."""
    cloud = supports.cloud
    for name, auth in project.auth.items():
        if isinstance(auth, LambdaAuth):
            raise config_error(
                project,
                ("auth", name, "type"),
                f"Lambda authorizers cannot be deployed to {cloud}: check the request in the "
                'app, or use type = "jwt" (enforced there by faasport\'s middleware)',
            )
    if project.api_keys or project.usage_plans:
        raise config_error(
            project,
            ("api_keys",) if project.api_keys else ("usage_plans",),
            f"API keys and usage plans (API Gateway REST APIs) cannot be deployed to {cloud}",
        )
    for name, queue in project.queues.items():
        if queue.fifo:
            raise config_error(
                project, ("queues", name), f"FIFO queues (SQS .fifo) cannot be deployed to {cloud}"
            )
        if queue.delay:
            raise config_error(
                project, ("queues", name, "delay"), f"delayed queues cannot be deployed to {cloud}"
            )
    for name, topic in project.topics.items():
        if topic.queues:
            raise config_error(
                project,
                ("topics", name, "queues"),
                f"queues subscribed to a topic cannot be deployed to {cloud}",
            )
    for proxy in project.proxies:
        raise config_error(
            project,
            ("proxy", proxy.route.key),
            f"proxy routes (API Gateway HTTP proxy integrations) cannot be deployed to {cloud}",
        )
    for function in project.functions.values():
        key = ("functions", function.name)
        if function.streams:
            stream = function.streams[0]
            what = (
                f'table "{stream.stream}" stream (DynamoDB Streams)'
                if stream.source == "dynamodb"
                else f'stream "{stream.stream}" (Kinesis)'
            )
            raise config_error(project, (*key, "events"), f"{what} cannot be deployed to {cloud}")
        if function.rules:
            raise config_error(
                project,
                (*key, "events"),
                f'bus "{function.rules[0].bus}" rule (EventBridge) cannot be deployed to {cloud}',
            )
        if function.sends:
            raise config_error(
                project,
                (*key, "sends"),
                f"sends (the project's topics, streams and queues as targets) cannot be "
                f"deployed to {cloud}",
            )
        if function.on_failure:
            raise config_error(
                project,
                (*key, "on_failure"),
                f"an on-failure destination cannot be deployed to {cloud}",
            )
        if function.websocket is not None:
            raise config_error(
                project,
                (*key, "websocket"),
                f"API Gateway WebSocket APIs cannot be deployed to {cloud}; there an ASGI "
                "WebSocket app under a server that holds connections is the model "
                "(docs/websockets.md)",
            )
        for index, event in enumerate(function.events):
            at = (*key, "events", index)
            if isinstance(event, TopicEvent) and event.filter and not supports.topic_filters:
                raise config_error(
                    project, (*at, "filter"), f"topic filter policies cannot be deployed to {cloud}"
                )
            if isinstance(event, QueueEvent) and event.window:
                raise config_error(
                    project, (*at, "window"), f"batching windows cannot be deployed to {cloud}"
                )
            if isinstance(event, ScheduleEvent) and event.timezone and not supports.timezones:
                raise config_error(
                    project,
                    (*at, "timezone"),
                    f"schedule time zones cannot be deployed to {cloud}",
                )
    # After the functions: a table's stream mapping is the more precise answer.
    for name in project.tables:
        raise config_error(
            project, ("tables", name), f"DynamoDB tables cannot be deployed to {cloud}"
        )
