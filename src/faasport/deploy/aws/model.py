"""What the AWS infrastructure holds, decided once from the configuration: the queues, the
API routes, the bucket notifications, the alarms. The SAM and Terraform writers only spell
these out, so both deploy the same thing."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from types import MappingProxyType
from typing import cast
from urllib.parse import urlsplit

from faasport.config.model import (
    Auth,
    BucketEvent,
    Function,
    Project,
    QueueEvent,
    ScheduleEvent,
    Throttle,
    TopicEvent,
    TopicQueue,
)
from faasport.deploy.aws import naming
from faasport.deploy.aws.validate import check
from faasport.deploy.aws.yaml_text import Data
from faasport.deploy.errors import config_error
from faasport.local.policies import STATE_VARIABLE

LOG_RETENTION_DAYS = 30
#: The stage of a REST API (HTTP APIs use ``$default``, which adds no path prefix).
REST_STAGE = "prod"
#: The REST API treats every payload as binary. faasport decides per response whether the
#: body is text (passed as is) or binary (base64, ``isBase64Encoded``); with ``*/*`` API
#: Gateway decodes every base64 body whatever the client's Accept header, and sends request
#: bodies base64 (the codec decodes them). A narrower list would leave a gzip-encoded JSON
#: answer, or an image requested with ``Accept: application/json``, as base64 text.
BINARY_MEDIA_TYPES = ("*/*",)
#: The OpenAPI version of a SAM REST API: without it, the SAM transform adds a second,
#: unthrottled stage named ``Stage``.
OPENAPI_VERSION = "3.0.1"
#: The OpenAPI security scheme of REST API keys (``x-api-key``), as SAM names it.
API_KEY_SCHEME = "api_key"
#: Failed messages and failed asynchronous invocations are kept this long (the SQS maximum).
DEAD_LETTER_RETENTION = 14 * 24 * 3600
QUEUE_RETENTION = 4 * 24 * 3600
#: Kinesis keeps records this long (its minimum, at no extra cost).
STREAM_RETENTION_HOURS = 24
#: The alarm on Duration fires at this share of the function's timeout.
DURATION_ALARM_SHARE = 0.9
ALARM_PERIOD = 300
#: Buckets drop unfinished multipart uploads and replaced object versions after these days.
BUCKET_UPLOAD_DAYS = 7
BUCKET_NONCURRENT_DAYS = 30
S3_EVENTS = {"created": "s3:ObjectCreated:*", "removed": "s3:ObjectRemoved:*"}
ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","method":"$context.httpMethod",'
    '"path":"$context.path","status":"$context.status",'
    '"responseLength":"$context.responseLength",'
    '"integrationLatency":"$context.integrationLatency",'
    '"error":"$context.error.message"}'
)
#: The stage of a function's WebSocket API (``wss://{api}.execute-api.{region}.../prod``);
#: ``faasport dev`` puts the same stage in its events.
WEBSOCKET_STAGE = "prod"
WEBSOCKET_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","routeKey":"$context.routeKey",'
    '"eventType":"$context.eventType","connectionId":"$context.connectionId",'
    '"status":"$context.status","error":"$context.error.message"}'
)
#: The DynamoDB state store's key schema: one string partition key, and a TTL attribute
#: holding the expiry as epoch seconds.
STATE_KEY = "pk"
STATE_TTL = "expires"

_TABLE = re.compile(r"[A-Za-z0-9_.-]{3,255}")


# -- queues ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueSpec:
    #: The name in the configuration ([queues.KEY], a dlq name, or FUNCTION-failures).
    key: str
    name: str
    visibility_timeout: int
    retention: int
    #: The key of the queue that receives messages after ``max_receive`` failed receives.
    dead_letter: str | None = None
    max_receive: int = 0
    #: Whether it keeps failed messages or invocations: an alarm watches its depth.
    keeps_failures: bool = False
    #: A FIFO queue (``.fifo``), deduplicating by body with ``content_dedup``.
    fifo: bool = False
    content_dedup: bool = False
    delay: int = 0


#: The script in the artifact that Lambda's managed Python runtime runs instead of its own
#: runtime client when a function streams (``AWS_LAMBDA_EXEC_WRAPPER``).
EXEC_WRAPPER = "faasport_bootstrap"


def environment(function: Function, state_url: str | None = None) -> dict[str, str]:
    """The function's environment variables; a streaming function's name the wrapper that
    starts faasport's runtime client, the one that streams responses. ``state_url``, the
    deployed state table's, is ``FAASPORT_STATE_URL`` unless the function sets it."""
    variables = dict(sorted(function.environment.items()))
    if state_url is not None:
        variables.setdefault(STATE_VARIABLE, state_url)
    if function.stream:
        variables["AWS_LAMBDA_EXEC_WRAPPER"] = f"/var/task/{EXEC_WRAPPER}"
    return variables


def failure_queue(function: Function) -> str | None:
    """The queue that keeps a function's failed asynchronous invocations (schedules, bucket
    and topic events, bus rules); None for functions only invoked synchronously or by a
    queue or stream."""
    asynchronous = (ScheduleEvent, BucketEvent, TopicEvent)
    if function.rules or any(isinstance(event, asynchronous) for event in function.events):
        return f"{function.name}-failures"
    return None


def _queues(project: Project) -> tuple[QueueSpec, ...]:
    specs: dict[str, QueueSpec] = {}
    for queue in project.queues.values():
        specs[queue.name] = QueueSpec(
            key=queue.name,
            name=naming.queue_name(project, queue.name),
            visibility_timeout=queue.visibility_timeout,
            retention=QUEUE_RETENTION,
            dead_letter=queue.dlq,
            max_receive=queue.max_receive if queue.dlq else 0,
            fifo=queue.fifo,
            content_dedup=queue.content_dedup,
            delay=queue.delay,
        )
    dead_letters = sorted({q.dlq for q in project.queues.values() if q.dlq} - set(specs))
    for function in project.functions.values():
        key = failure_queue(function)
        if key is None:
            continue
        if key in specs or key in dead_letters:
            raise config_error(
                project,
                ("queues", key),
                f"the queue name {key} is taken by the failed invocations of function "
                f"{function.name}; rename the queue",
            )
        dead_letters.append(key)
    for key in dead_letters:
        specs[key] = QueueSpec(
            key=key,
            name=naming.queue_name(project, key),
            visibility_timeout=30,
            retention=DEAD_LETTER_RETENTION,
            keeps_failures=True,
            fifo=key.endswith(".fifo"),
        )
    targets = {queue.dlq for queue in project.queues.values()}
    return tuple(
        replace(spec, keeps_failures=True) if spec.key in targets else spec
        for spec in specs.values()
    )


def queue_events(function: Function) -> tuple[QueueEvent, ...]:
    return tuple(event for event in function.events if isinstance(event, QueueEvent))


def batching_window(event: QueueEvent) -> int:
    """Seconds to gather a batch: the configured window, and at least 1 for batches over 10
    messages, as SQS requires."""
    return max(event.window, 1 if event.batch > 10 else 0)


# -- HTTP ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRoute:
    function: Function
    method: str
    path: str
    auth: Auth | None
    throttle: Throttle | None
    #: The JWT scopes, any one of which the route needs (AuthorizationScopes).
    scopes: tuple[str, ...] = ()

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def _http_routes(project: Project) -> tuple[HttpRoute, ...]:
    """Every API route, in configuration order. A catch-all ``/{proxy+}`` does not match
    ``/`` on API Gateway, so it is paired with a ``/`` route for the same method unless a
    function already has one."""
    taken = {route.key for fn in project.functions.values() for route in fn.routes}
    taken |= {proxy.route.key for proxy in project.proxies}
    routes: list[HttpRoute] = []
    for function in project.functions.values():
        auth = project.auth[function.auth] if function.auth != "none" else None
        for route in function.routes:
            scopes = function.scopes.get(route.key, ())
            routes.append(
                HttpRoute(function, route.method, route.path, auth, function.throttle, scopes)
            )
            root = f"{route.method} /"
            if route.greedy and len(route.segments) == 1 and root not in taken:
                taken.add(root)
                routes.append(
                    HttpRoute(function, route.method, "/", auth, function.throttle, scopes)
                )
    return tuple(routes)


def _authorizers(routes: tuple[HttpRoute, ...]) -> tuple[Auth, ...]:
    """The [auth.*] entries some route uses, sorted by name."""
    used = {route.auth.name: route.auth for route in routes if route.auth}
    return tuple(used[name] for name in sorted(used))


def path_parameters(path: str) -> tuple[str, ...]:
    return tuple(re.findall(r"\{([^}+]+)\+?\}", path))


def rest_resource_path(path: str) -> str:
    """A REST API stage setting's resource path: ``/items/{id}`` -> ``/~1items~1{id}``."""
    return "/" if path == "/" else "/" + path.replace("/", "~1")


def rest_method(method: str) -> str:
    return "*" if method == "ANY" else method


def rest_method_path(path: str, method: str) -> str:
    """Terraform's ``method_path`` of a stage setting: ``~1items~1{id}/GET``, ``~1/*``."""
    resource = "~1" if path == "/" else path.replace("/", "~1")
    return f"{resource}/{rest_method(method)}"


# -- buckets, topics, schedules ----------------------------------------------------------------


@dataclass(frozen=True)
class Notification:
    function: Function
    event: BucketEvent
    #: The event's place in the function's events: unique among that function's events.
    index: int


def _bucket_notifications(project: Project) -> Mapping[str, tuple[Notification, ...]]:
    """The bucket events of all functions, by bucket name (sorted)."""
    found: dict[str, list[Notification]] = {}
    for function in project.functions.values():
        for index, event in enumerate(function.events):
            if isinstance(event, BucketEvent):
                found.setdefault(event.bucket, []).append(Notification(function, event, index))
    return {bucket: tuple(found[bucket]) for bucket in sorted(found)}


def _topics(project: Project) -> tuple[str, ...]:
    """The topics functions subscribe to and the ``[topics.*]`` tables, sorted."""
    return tuple(
        sorted(
            {
                event.topic
                for function in project.functions.values()
                for event in function.events
                if isinstance(event, TopicEvent)
            }
            | set(project.topics)
        )
    )


def subscriptions(project: Project) -> tuple[tuple[str, TopicQueue], ...]:
    """``(topic, subscription)`` of each queue subscribed to a topic, in configuration order."""
    return tuple((topic.name, queue) for topic in project.topics.values() for queue in topic.queues)


def subscribed_queues(project: Project) -> Mapping[str, tuple[str, ...]]:
    """The topics that send to each subscribed queue, by queue key (for its queue policy)."""
    found: dict[str, list[str]] = {}
    for topic, subscription in subscriptions(project):
        found.setdefault(subscription.queue, []).append(topic)
    return {queue: tuple(dict.fromkeys(found[queue])) for queue in sorted(found)}


def filter_policy(text: str) -> Data | None:
    """An SNS filter policy (canonical JSON text in the configuration) as data; None if
    the configuration has none."""
    return cast(Data, json.loads(text)) if text else None


def streams(project: Project) -> tuple[str, ...]:
    """The Kinesis streams the functions read, sorted."""
    return tuple(
        sorted(
            {
                s.stream
                for function in project.functions.values()
                for s in function.streams
                if s.source == "kinesis"
            }
        )
    )


def buses(project: Project) -> tuple[str, ...]:
    """The event buses the rules use other than the account's ``default`` bus, sorted."""
    return tuple(
        sorted(
            {
                rule.bus
                for function in project.functions.values()
                for rule in function.rules
                if rule.bus != "default"
            }
        )
    )


def rule_name(project: Project, function: Function, index: int) -> str:
    return naming.physical(naming.function_name(project, function), f"rule{index}", limit=64)


def invoke_failure(project: Project, function: Function) -> tuple[str, str] | None:
    """Where ``on_failure`` sends a failed asynchronous invocation: ``("function", name)``
    or ``("queue", key)``; None without one."""
    target = function.on_failure
    if target is None:
        return None
    return ("function", target) if target in project.functions else ("queue", target)


def function_topics(function: Function) -> tuple[str, ...]:
    return tuple(event.topic for event in function.events if isinstance(event, TopicEvent))


def _schedules(project: Project, function: Function) -> tuple[tuple[str, str], ...]:
    """``(rule name, expression)`` for each schedule event of ``function``."""
    expressions = [e.schedule for e in function.events if isinstance(e, ScheduleEvent)]
    base = naming.function_name(project, function)
    return tuple(
        (naming.physical(base, f"schedule{index}", limit=64), expression)
        for index, expression in enumerate(expressions)
    )


# -- state, alarms ---------------------------------------------------------------------------


def _state_table(project: Project) -> str | None:
    """The DynamoDB table of ``[state] url = "dynamodb://TABLE"``, else None."""
    url = urlsplit(project.state.url)
    if url.scheme != "dynamodb":
        return None
    if not _TABLE.fullmatch(url.netloc) or url.path not in ("", "/"):
        raise config_error(
            project,
            ("state", "url"),
            "must be dynamodb://TABLE with a table name of 3 to 255 letters, digits, "
            f"'_', '-' or '.', got {project.state.url!r}",
        )
    return url.netloc


@dataclass(frozen=True)
class Alarm:
    suffix: str
    metric: str
    statistic: str
    threshold: int


#: A dead-letter queue's alarm: a message is waiting there.
DEPTH_ALARM = Alarm("depth", "ApproximateNumberOfMessagesVisible", "Maximum", 1)


def alarms(function: Function) -> tuple[Alarm, ...]:
    near_timeout = int(function.timeout * 1000 * DURATION_ALARM_SHARE)
    return (
        Alarm("errors", "Errors", "Sum", 1),
        Alarm("throttles", "Throttles", "Sum", 1),
        Alarm("duration", "Duration", "Maximum", near_timeout),
    )


# -- the model -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Infrastructure:
    """Everything the SAM and Terraform writers spell out, decided once by :func:`build`."""

    project: Project
    queues: tuple[QueueSpec, ...]
    #: The API routes in configuration order, and the JWT authorizers they use (by name).
    routes: tuple[HttpRoute, ...]
    authorizers: tuple[Auth, ...]
    #: Bucket events by bucket name (sorted).
    notifications: Mapping[str, tuple[Notification, ...]]
    topics: tuple[str, ...]
    #: ``(rule name, expression)`` of each schedule event, by function name.
    schedules: Mapping[str, tuple[tuple[str, str], ...]]
    #: The DynamoDB table of ``[state] url = "dynamodb://TABLE"``, else None.
    state_table: str | None
    #: The Kinesis streams the functions read, and the event buses (not ``default``) their
    #: rules watch, sorted.
    streams: tuple[str, ...] = ()
    buses: tuple[str, ...] = ()
    #: The functions run one container image (``--package container``), not the zip.
    container: bool = False

    @property
    def state_url(self) -> str | None:
        """``[state] url`` as the functions reach the table this deployment creates."""
        if self.state_table is None:
            return None
        return f"dynamodb://{self.state_table}?region={self.project.region}"

    @property
    def runtime(self) -> str:
        return f"python{self.project.python}"

    def function_routes(self, function: Function) -> tuple[HttpRoute, ...]:
        return tuple(route for route in self.routes if route.function is function)


def build(project: Project) -> Infrastructure:
    """The infrastructure of ``project``; a :class:`ConfigError` naming the key when AWS would
    refuse what the configuration allows."""
    routes = _http_routes(project)
    infrastructure = Infrastructure(
        project=project,
        queues=_queues(project),
        routes=routes,
        authorizers=_authorizers(routes),
        notifications=_bucket_notifications(project),
        topics=_topics(project),
        schedules=MappingProxyType(
            {name: _schedules(project, fn) for name, fn in project.functions.items()}
        ),
        state_table=_state_table(project),
        streams=streams(project),
        buses=buses(project),
    )
    check(infrastructure)
    return infrastructure
