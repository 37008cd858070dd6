"""What the AWS infrastructure holds, decided once from the configuration: the queues, the
API routes, the bucket notifications, the alarms. The SAM and Terraform writers only spell
these out, so both deploy the same thing."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from faasport.config.model import (
    BucketEvent,
    Function,
    JwtAuth,
    Project,
    QueueEvent,
    ScheduleEvent,
    Throttle,
    TopicEvent,
)
from faasport.deploy.aws import naming
from faasport.deploy.errors import config_error
from faasport.secrets.names import aws_name, is_ssm

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
#: Failed messages and failed asynchronous invocations are kept this long (the SQS maximum).
DEAD_LETTER_RETENTION = 14 * 24 * 3600
QUEUE_RETENTION = 4 * 24 * 3600
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
#: The DynamoDB state store's key schema: one string partition key, and a TTL attribute
#: holding the expiry as epoch seconds.
STATE_KEY = "pk"
STATE_TTL = "expires"

_SECRET_ID = re.compile(r"[A-Za-z0-9/_+=.@-]{1,512}")
_PARAMETER = re.compile(r"/?[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*")
_TABLE = re.compile(r"[A-Za-z0-9_.-]{3,255}")


def runtime(project: Project) -> str:
    return f"python{project.python}"


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


def failure_queue(function: Function) -> str | None:
    """The queue that keeps a function's failed asynchronous invocations (schedules, bucket
    and topic events); None for functions only invoked synchronously or by a queue."""
    asynchronous = (ScheduleEvent, BucketEvent, TopicEvent)
    if any(isinstance(event, asynchronous) for event in function.events):
        return f"{function.name}-failures"
    return None


def queues(project: Project) -> tuple[QueueSpec, ...]:
    specs: dict[str, QueueSpec] = {}
    for queue in project.queues.values():
        specs[queue.name] = QueueSpec(
            key=queue.name,
            name=naming.queue_name(project, queue.name),
            visibility_timeout=queue.visibility_timeout,
            retention=QUEUE_RETENTION,
            dead_letter=queue.dlq,
            max_receive=queue.max_receive if queue.dlq else 0,
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
        )
    targets = {queue.dlq for queue in project.queues.values()}
    return tuple(
        replace(spec, keeps_failures=True) if spec.key in targets else spec
        for spec in specs.values()
    )


def queue_events(function: Function) -> tuple[QueueEvent, ...]:
    return tuple(event for event in function.events if isinstance(event, QueueEvent))


def batching_window(batch: int) -> int:
    """Seconds to gather a batch: SQS requires at least 1 for batches over 10 messages."""
    return 1 if batch > 10 else 0


# -- HTTP ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HttpRoute:
    function: Function
    method: str
    path: str
    auth: JwtAuth | None
    throttle: Throttle | None

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def http_routes(project: Project) -> tuple[HttpRoute, ...]:
    """Every API route, in configuration order. A catch-all ``/{proxy+}`` does not match
    ``/`` on API Gateway, so it is paired with a ``/`` route for the same method unless a
    function already has one."""
    taken = {route.key for fn in project.functions.values() for route in fn.routes}
    routes: list[HttpRoute] = []
    for function in project.functions.values():
        auth = project.auth[function.auth] if function.auth != "none" else None
        for route in function.routes:
            routes.append(HttpRoute(function, route.method, route.path, auth, function.throttle))
            root = f"{route.method} /"
            if route.greedy and len(route.segments) == 1 and root not in taken:
                taken.add(root)
                routes.append(HttpRoute(function, route.method, "/", auth, function.throttle))
    return tuple(routes)


def authorizers(project: Project) -> tuple[JwtAuth, ...]:
    """The [auth.*] entries some route uses, sorted by name."""
    used = {route.auth.name: route.auth for route in http_routes(project) if route.auth}
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


def bucket_notifications(project: Project) -> Mapping[str, tuple[Notification, ...]]:
    """The bucket events of all functions, by bucket name (sorted)."""
    found: dict[str, list[Notification]] = {}
    for function in project.functions.values():
        for index, event in enumerate(function.events):
            if isinstance(event, BucketEvent):
                found.setdefault(event.bucket, []).append(Notification(function, event, index))
    return {bucket: tuple(found[bucket]) for bucket in sorted(found)}


def topics(project: Project) -> tuple[str, ...]:
    return tuple(
        sorted(
            {
                event.topic
                for function in project.functions.values()
                for event in function.events
                if isinstance(event, TopicEvent)
            }
        )
    )


def function_topics(function: Function) -> tuple[str, ...]:
    return tuple(event.topic for event in function.events if isinstance(event, TopicEvent))


def schedules(project: Project, function: Function) -> tuple[tuple[str, str], ...]:
    """``(rule name, expression)`` for each schedule event of ``function``."""
    expressions = [e.schedule for e in function.events if isinstance(e, ScheduleEvent)]
    base = naming.function_name(project, function)
    return tuple(
        (naming.physical(base, f"schedule{index}", limit=64), expression)
        for index, expression in enumerate(expressions)
    )


# -- state, alarms ---------------------------------------------------------------------------


def state_table(project: Project) -> str | None:
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


# -- checks ----------------------------------------------------------------------------------


def check(project: Project) -> None:
    """Fail on what the configuration allows but AWS would refuse, naming the key."""
    if project.api.type == "rest":
        _check_rest(project)
    else:
        for auth in authorizers(project):
            if not auth.audience:
                raise config_error(
                    project,
                    ("auth", auth.name, "audience"),
                    "API Gateway JWT authorizers need at least one audience",
                )
    for function in project.functions.values():
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
    if naming.alarm_topic(project) in {naming.topic_name(project, t) for t in topics(project)}:
        raise config_error(
            project,
            ("functions",),
            f"a topic event names the topic {naming.alarm_topic(project)}, which receives the "
            "functions' alarms; rename the topic",
        )
    _check_buckets(project)
    state_table(project)
    queues(project)


def _check_rest(project: Project) -> None:
    if project.api.cors is not None:
        raise config_error(
            project,
            ("api", "cors"),
            'is supported with type = "http"; on a REST API answer CORS in the app '
            "(Starlette CORSMiddleware, flask-cors)",
        )
    for function in project.functions.values():
        if function.routes and function.auth != "none":
            raise config_error(
                project,
                ("functions", function.name, "auth"),
                'API Gateway REST APIs have no JWT authorizer; use [api] type = "http" '
                'or auth = "none"',
            )


def _check_buckets(project: Project) -> None:
    # S3 refuses two notifications of one event type whose key filters can both match.
    for bucket, notifications in bucket_notifications(project).items():
        for index, first in enumerate(notifications):
            for second in notifications[index + 1 :]:
                a, b = first.event, second.event
                if a.on == b.on and _overlap(a, b):
                    raise config_error(
                        project,
                        ("functions", second.function.name, "events"),
                        f'bucket "{bucket}" already notifies function {first.function.name} '
                        f'of "{a.on}" events for overlapping keys; give them distinct '
                        "prefixes or suffixes",
                    )


def _overlap(a: BucketEvent, b: BucketEvent) -> bool:
    prefixes = a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)
    suffixes = a.suffix.endswith(b.suffix) or b.suffix.endswith(a.suffix)
    return prefixes and suffixes
