"""``[functions.NAME]`` tables: what runs, its limits, its HTTP routes and its events."""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from faasport.config.fields import Table, describe, join
from faasport.config.model import (
    Auth,
    BucketEvent,
    BusRule,
    EventSource,
    Function,
    JwtAuth,
    Queue,
    QueueEvent,
    ScheduleEvent,
    Send,
    StreamEvent,
    Throttle,
    Topic,
    TopicEvent,
)
from faasport.config.policies import (
    parse_idempotency,
    parse_rate_limit,
    parse_scopes,
)
from faasport.config.routes import Route, parse_route
from faasport.config.websocket import parse_websocket

DEFAULT_HTTP_ROUTES = ("ANY /{proxy+}",)

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_TARGET = re.compile(r"[A-Za-z_][\w.]*:[A-Za-z_][\w.]*")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_TOPIC = re.compile(r"[A-Za-z0-9_-]{1,256}")
#: DynamoDB table names.
_TABLE = re.compile(r"[A-Za-z0-9_.-]{3,255}")
_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\(([^()]*)\)")
_CRON_FIELD = re.compile(r"[0-9A-Za-z*?,/#-]+")
_SCHEDULE = '"rate(N unit)" or "cron(m h dom mon dow year)", like "rate(5 minutes)"'
_EVENT_KINDS = ("queue", "schedule", "bucket", "topic", "bus", "stream", "table")
_SEND = re.compile(r"(topic|stream|queue):(\S+)")


def parse_function(
    name: str, table: Table, *, queues: Mapping[str, Queue], auth: Mapping[str, Auth]
) -> Function:
    if not _IDENTIFIER.fullmatch(name) or keyword.iskeyword(name) or len(name) > 64:
        table.source.fail(
            table.path,
            "function names must be Python identifiers of at most 64 characters "
            "(letters, digits, '_'), as they name attributes of faasport_handler",
        )
    expected = 'a "module:attribute" import string, like "myapp.main:app"'
    app = table.string("app", None, pattern=_TARGET, expected=expected)
    handler = table.string("handler", None, pattern=_TARGET, expected=expected)
    if app is None and handler is None:
        table.misspelled("app", "handler")
        table.source.fail(
            table.path,
            "set app (an ASGI/WSGI app), handler (a plain handler(event, context)), or both "
            "(the app answers HTTP, the handler the function's events); got neither",
        )
    memory = table.integer("memory", 512, 128, 10240)
    timeout = table.integer("timeout", 30, 1, 900)
    architecture = table.string(
        "architecture", "x86_64", pattern=re.compile("x86_64|arm64"), expected='"x86_64" or "arm64"'
    )
    concurrency = table.integer("concurrency", 10, 1)
    reserved: int | None = None
    if table.has("reserved_concurrency"):
        reserved = table.integer("reserved_concurrency", 0, 0)
    warm = table.integer("warm", 0, 0)
    if warm > concurrency:
        table.fail("warm", f"must be at most concurrency ({concurrency}), got {warm}")
    if reserved is not None and warm > reserved:
        table.fail(
            "warm",
            f"must be at most reserved_concurrency ({reserved}): Lambda provisions "
            f"environments out of the reserved ones, got {warm}",
        )
    snapstart = table.boolean("snapstart", False)
    stream = table.boolean("stream", False)
    max_concurrency, capacity_provider = _managed_instances(table, snapstart)
    health = table.string(
        "health", None, pattern=re.compile(r"/\S*"), expected="a path starting with '/'"
    )
    auth_name = table.string("auth", "none", expected='the name of an [auth.*] table or "none"')
    if auth_name != "none" and auth_name not in auth:
        defined = ", ".join(auth) or "none"
        table.fail(
            "auth",
            f'no [auth.{auth_name}] table is defined (defined: {defined}); add one or use "none"',
        )
    events = _events(table, queues, timeout)
    if app is not None and handler is None and events:
        table.fail(
            "events",
            'an HTTP function (app) needs handler = "module:function" to receive its '
            "events; the app answers HTTP requests only",
        )
    routes = _routes(table, default=DEFAULT_HTTP_ROUTES if app else ())
    function = Function(
        name=name,
        app=app,
        handler=handler,
        memory=memory,
        timeout=timeout,
        architecture="arm64" if architecture == "arm64" else "x86_64",
        concurrency=concurrency,
        reserved_concurrency=reserved,
        warm=warm,
        snapstart=snapstart,
        stream=stream,
        max_concurrency=max_concurrency,
        capacity_provider=capacity_provider,
        health=health,
        routes=routes,
        auth=auth_name,
        throttle=parse_throttle(table),
        environment=_environment(table),
        secrets=table.strings("secrets", "secret names") or (),
        writes=table.strings("writes", "bucket names") or (),
        events=tuple(e for e in events if not isinstance(e, BusRule | StreamEvent)),
        rules=tuple(e for e in events if isinstance(e, BusRule)),
        streams=tuple(e for e in events if isinstance(e, StreamEvent)),
        on_failure=table.string("on_failure", None, expected="the name of a function or a queue"),
        sends=_sends(table),
        scopes=parse_scopes(table, routes, auth_name, jwt=isinstance(auth.get(auth_name), JwtAuth)),
        rate_limit=parse_rate_limit(table, auth_name),
        idempotency=parse_idempotency(table),
        api_key_required=table.boolean("api_key_required", False),
        websocket=parse_websocket(table, handler),
    )
    table.finish()
    return function


def check_on_failure(
    top: Table, functions: Mapping[str, Function], queues: Mapping[str, Queue]
) -> None:
    """Each ``on_failure`` names another function or a configured queue."""
    for function in functions.values():
        target = function.on_failure
        if target is None or target in queues or (target in functions and target != function.name):
            continue
        others = sorted({*functions, *queues} - {function.name})
        top.source.fail(
            join(join(join(top.path, "functions"), function.name), "on_failure"),
            f'"{target}" is neither another function nor a queue '
            f"(defined: {', '.join(others) or 'none'})",
        )


def _sends(table: Table) -> tuple[Send, ...]:
    def one(value: Any, key: str) -> Send:
        found = _SEND.fullmatch(value) if isinstance(value, str) else None
        if found is None:
            table.source.fail(
                key,
                'must be "topic:NAME", "stream:NAME" or "queue:NAME", like "topic:orders", '
                f"got {describe(value)}",
            )
        kind = found.group(1)
        return Send(
            "topic" if kind == "topic" else "stream" if kind == "stream" else "queue",
            found.group(2),
        )

    sends = table.array("sends", one, 'strings like "topic:orders"') or []
    return tuple(dict.fromkeys(sends))


def check_sends(
    top: Table,
    functions: Mapping[str, Function],
    topics: Mapping[str, Topic],
    queues: Mapping[str, Queue],
) -> None:
    """Each ``sends`` entry names a topic, stream or queue the project defines: a stream
    exists when a function reads it, a topic when it has a table or a subscriber."""
    defined = {
        "topic": set(topics)
        | {e.topic for f in functions.values() for e in f.events if isinstance(e, TopicEvent)},
        "stream": {
            s.stream for f in functions.values() for s in f.streams if s.source == "kinesis"
        },
        "queue": set(queues),
    }
    for function in functions.values():
        for index, send in enumerate(function.sends):
            if send.name in defined[send.kind]:
                continue
            known = ", ".join(sorted(defined[send.kind])) or "none"
            how = {
                "topic": f"a [topics.{send.name}] table",
                "stream": f'a function with events = [{{ stream = "{send.name}" }}]',
                "queue": f"a [queues.{send.name}] table",
            }[send.kind]
            key = join(join(join(join(top.path, "functions"), function.name), "sends"), index)
            top.source.fail(
                key, f'no {send.kind} "{send.name}" in the project ({known}); add {how}'
            )


def check_writes(top: Table, functions: Mapping[str, Function]) -> None:
    """Each bucket in ``writes`` is one the deployment creates: a bucket of some function's
    events."""
    buckets = sorted(
        {e.bucket for f in functions.values() for e in f.events if isinstance(e, BucketEvent)}
    )
    for function in functions.values():
        for index, bucket in enumerate(function.writes):
            if bucket not in buckets:
                top.source.fail(
                    join(join(join(join(top.path, "functions"), function.name), "writes"), index),
                    f'"{bucket}" is not a bucket of this project: writes names buckets that '
                    "a function's events = [{ bucket = ... }] creates "
                    f"(buckets: {', '.join(buckets) or 'none'})",
                )


def _routes(table: Table, default: tuple[str, ...]) -> tuple[Route, ...]:
    def one(value: Any, key: str) -> Route:
        if not isinstance(value, str):
            table.source.fail(
                key, f'must be a string like "GET /items/{{id}}", got {describe(value)}'
            )
        try:
            return parse_route(value)
        except ValueError as exc:
            table.source.fail(key, f"bad route {describe(value)}: {exc}")

    routes = table.array("routes", one, 'route strings like "GET /items/{id}"')
    if routes is None:
        return tuple(parse_route(text) for text in default)
    return tuple(routes)


def parse_throttle(table: Table) -> Throttle | None:
    sub = table.table("throttle")
    if sub is None:
        return None
    throttle = Throttle(rate=sub.number("rate", 10000.0), burst=sub.integer("burst", 5000, 0))
    sub.finish()
    return throttle


def _environment(table: Table) -> Mapping[str, str]:
    sub = table.table("environment")
    if sub is None:
        return MappingProxyType({})
    env: dict[str, str] = {}
    for key, value in sub.data.items():
        sub.has(key)
        if not _ENV_NAME.fullmatch(key):
            sub.fail(key, "variable names are letters, digits and '_', not starting with a digit")
        if not isinstance(value, str):
            hint = f' (quote it: "{value}")' if isinstance(value, int | float) else ""
            sub.fail(key, f"must be a string, got {describe(value)}{hint}")
        env[key] = value
    return MappingProxyType(env)


def _events(
    table: Table, queues: Mapping[str, Queue], timeout: int
) -> tuple[EventSource | BusRule | StreamEvent, ...]:
    def one(value: Any, key: str) -> EventSource | BusRule | StreamEvent:
        if not isinstance(value, dict):
            table.source.fail(
                key, f'must be a table like {{ queue = "jobs" }}, got {describe(value)}'
            )
        sub = Table(table.source, key, value)
        kinds = [kind for kind in _EVENT_KINDS if kind in value]
        if len(kinds) != 1:
            sub.misspelled(*_EVENT_KINDS)
            got = " and ".join(kinds) if kinds else "none"
            sub.source.fail(key, f"must have exactly one of {', '.join(_EVENT_KINDS)}, got {got}")
        event = _EVENT_PARSERS[kinds[0]](sub, queues, timeout)
        sub.finish()
        return event

    return tuple(table.array("events", one, "event tables") or ())


def _queue_event(sub: Table, queues: Mapping[str, Queue], timeout: int) -> EventSource:
    name = sub.string("queue", "", expected="a queue name")
    queue = queues.get(name)
    if queue is None:
        defined = ", ".join(queues) or "none"
        sub.fail(
            "queue",
            f'queue "{name}" is not defined; add a [queues.{name}] table (defined: {defined})',
        )
    if queue.visibility_timeout < timeout:
        sub.fail(
            "queue",
            f'queue "{name}" has visibility_timeout {queue.visibility_timeout}, less than this '
            f"function's timeout {timeout}; raise queues.{name}.visibility_timeout",
        )
    return QueueEvent(
        queue=name,
        batch=sub.integer("batch", 10, 1, 10 if queue.fifo else 10000),
        window=sub.integer("window", 0, 0, 300),
    )


def _schedule_event(sub: Table, queues: Mapping[str, Queue], timeout: int) -> EventSource:
    text = sub.string("schedule", "", expected=_SCHEDULE)
    problem = schedule_problem(text)
    if problem:
        sub.fail("schedule", f"{problem}, got {describe(text)}")
    zone = sub.string("timezone", None, expected='an IANA time zone like "Europe/Paris"')
    if zone is not None:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            sub.fail(
                "timezone", f'unknown time zone "{zone}"; use an IANA name like "Europe/Paris"'
            )
    return ScheduleEvent(schedule=text, timezone=zone)


def _bucket_event(sub: Table, queues: Mapping[str, Queue], timeout: int) -> EventSource:
    bucket = sub.string(
        "bucket", "", pattern=_BUCKET, expected="an S3 bucket name (3-63 of a-z 0-9 . -)"
    )
    on = sub.string(
        "on", "created", pattern=re.compile("created|removed"), expected='"created" or "removed"'
    )
    return BucketEvent(
        bucket=bucket,
        on="created" if on == "created" else "removed",
        prefix=sub.string("prefix", ""),
        suffix=sub.string("suffix", ""),
    )


def _topic_event(sub: Table, queues: Mapping[str, Queue], timeout: int) -> EventSource:
    topic = sub.string(
        "topic", "", pattern=_TOPIC, expected="a topic name (letters, digits, '-', '_')"
    )
    return TopicEvent(topic=topic, filter=json_table(sub, "filter"))


def json_table(sub: Table, key: str) -> str:
    """A table kept as canonical JSON text ("" when absent); its grammar is checked where it
    is used."""
    table = sub.table(key)
    return "" if table is None else json.dumps(table.data, sort_keys=True, default=str)


def _bus_event(sub: Table, queues: Mapping[str, Queue], timeout: int) -> BusRule:
    bus = sub.string("bus", "default", pattern=_TOPIC, expected="an event bus name")
    pattern = json_table(sub, "pattern")
    if not pattern:
        sub.fail("pattern", 'is required: the event pattern, like { source = ["app.orders"] }')
    return BusRule(bus=bus, pattern=pattern)


#: A Lambda capacity provider's ARN (the pattern CloudFormation checks).
_CAPACITY_PROVIDER = re.compile(
    r"arn:aws[a-zA-Z-]*:lambda:(eusc-)?[a-z]{2}((-gov)|(-iso([a-z]?)))?-[a-z]+-\d:\d{12}:"
    r"capacity-provider:[a-zA-Z0-9-_]+"
)


def _managed_instances(table: Table, snapstart: bool) -> tuple[int, str | None]:
    """``max_concurrency`` (Lambda's PerExecutionEnvironmentMaxConcurrency: 1 to 1600) and
    ``capacity_provider``; SnapStart restores microVM snapshots, which Managed Instances'
    EC2 instances do not take."""
    max_concurrency = table.integer("max_concurrency", 1, 1, 1600)
    capacity_provider = table.string(
        "capacity_provider",
        None,
        pattern=_CAPACITY_PROVIDER,
        expected="a capacity provider ARN (arn:aws:lambda:REGION:ACCOUNT:capacity-provider:NAME)",
    )
    if snapstart and (max_concurrency > 1 or capacity_provider is not None):
        key = "max_concurrency" if max_concurrency > 1 else "capacity_provider"
        table.fail(
            key,
            "Lambda Managed Instances (several invocations per environment) cannot use "
            "SnapStart; set snapstart = false or remove " + key,
        )
    return max_concurrency, capacity_provider


def _stream_event(sub: Table, queues: Mapping[str, Queue], timeout: int) -> StreamEvent:
    dynamodb = sub.has("table")
    if dynamodb:
        stream = sub.string("table", "", pattern=_TABLE, expected="a table name")
    else:
        stream = sub.string("stream", "", pattern=_TOPIC, expected="a stream name")
    start = sub.string(
        "start",
        "LATEST",
        pattern=re.compile("LATEST|TRIM_HORIZON"),
        expected='"LATEST" or "TRIM_HORIZON"',
    )
    on_failure = sub.string("on_failure", None, expected="a queue name")
    if on_failure is not None and on_failure not in queues:
        defined = ", ".join(queues) or "none"
        sub.fail("on_failure", f'queue "{on_failure}" is not defined (defined: {defined})')
    return StreamEvent(
        stream=stream,
        source="dynamodb" if dynamodb else "kinesis",
        batch=sub.integer("batch", 100, 1, 1000 if dynamodb else 10000),
        start="TRIM_HORIZON" if start == "TRIM_HORIZON" else "LATEST",
        bisect=sub.boolean("bisect", False),
        retries=sub.integer("retries", -1, -1, 10000),
        on_failure=on_failure,
    )


_EVENT_PARSERS = {
    "queue": _queue_event,
    "schedule": _schedule_event,
    "bucket": _bucket_event,
    "topic": _topic_event,
    "bus": _bus_event,
    "stream": _stream_event,
    "table": _stream_event,
}


def schedule_problem(text: str) -> str | None:
    """What is wrong with an EventBridge schedule expression, or None."""
    rate = _RATE.fullmatch(text)
    if rate:
        value, unit = int(rate.group(1)), rate.group(2)
        if value < 1:
            return "a rate must be at least 1"
        if (value == 1) != (not unit.endswith("s")):
            return f"rate({value} ...) takes a {'singular' if value == 1 else 'plural'} unit"
        return None
    cron = _CRON.fullmatch(text)
    if cron:
        fields = cron.group(1).split()
        if len(fields) != 6:
            return (
                "cron() takes 6 fields (minutes hours day-of-month month day-of-week year), "
                f"not {len(fields)}"
            )
        if not all(_CRON_FIELD.fullmatch(field) for field in fields):
            return "a cron() field has characters other than 0-9 A-Z * ? , / - # L W"
        if "?" not in (fields[2], fields[4]):
            return "cron() needs '?' in day-of-month or day-of-week"
        return None
    return "must be " + _SCHEDULE


def check_routes(top: Table, functions: Mapping[str, Function]) -> None:
    """Each method + path shape belongs to one function: fail on the first clash."""
    owners: dict[tuple[str, str], tuple[str, Route]] = {}
    for name, function in functions.items():
        for index, route in enumerate(function.routes):
            slot = (route.method, route.shape)
            if slot in owners:
                other, first = owners[slot]
                if other == name:
                    problem = f'route "{route.key}" is listed twice in function "{name}"'
                else:
                    problem = (
                        f'route "{route.key}" of function "{name}" clashes with route '
                        f'"{first.key}" of function "{other}"'
                    )
                key = join(join(join(join(top.path, "functions"), name), "routes"), index)
                top.source.fail(key, f"{problem}: both answer the same requests")
            owners[slot] = (name, route)
