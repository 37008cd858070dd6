"""The parsed configuration: frozen, typed objects that ``dev``, ``package`` and ``deploy``
all read. :mod:`faasport.config.load` builds them from ``faasport.toml``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from faasport.config.routes import Route

_NOT_ALNUM = re.compile(r"[^A-Za-z0-9]+")

DEFAULT_STATE_URL = "sqlite:///.faasport/state.db"


def _empty() -> Mapping[str, str]:
    return MappingProxyType({})


@dataclass(frozen=True)
class Throttle:
    """Steady requests per second and bucket size (API Gateway route throttling)."""

    rate: float = 10000.0
    burst: int = 5000


@dataclass(frozen=True)
class QueueEvent:
    queue: str
    batch: int = 10
    #: Seconds to gather a fuller batch (MaximumBatchingWindowInSeconds); 0: deliver at once.
    window: int = 0


@dataclass(frozen=True)
class ScheduleEvent:
    schedule: str  # "rate(5 minutes)" or "cron(0 12 * * ? *)"
    #: The IANA time zone cron() times are in ("Europe/Paris"); None: UTC.
    timezone: str | None = None


@dataclass(frozen=True)
class BucketEvent:
    bucket: str
    on: Literal["created", "removed"] = "created"
    prefix: str = ""
    suffix: str = ""


@dataclass(frozen=True)
class TopicEvent:
    topic: str
    #: The SNS filter policy on message attributes, as canonical JSON text ("" for none).
    filter: str = ""


@dataclass(frozen=True)
class BusRule:
    """An EventBridge rule: events on ``bus`` matching ``pattern`` invoke the function."""

    bus: str
    #: The event pattern, as canonical JSON text.
    pattern: str


@dataclass(frozen=True)
class StreamEvent:
    """A Kinesis stream mapping (``{ stream = ... }``) or a DynamoDB table's stream mapping
    (``{ table = ... }``): ordered batches, retried from the first failed record."""

    #: The Kinesis stream's name, or the table's whose stream it is.
    stream: str
    source: Literal["kinesis", "dynamodb"] = "kinesis"
    batch: int = 100
    #: Where a new mapping starts: "LATEST" (new records) or "TRIM_HORIZON" (all).
    start: Literal["LATEST", "TRIM_HORIZON"] = "LATEST"
    #: Split a failing batch in two to find the bad record (BisectBatchOnFunctionError).
    bisect: bool = False
    #: Retries of a failing batch before it is skipped (-1: until the records expire).
    retries: int = -1
    #: A queue that gets a note of each batch given up on (the on-failure destination).
    on_failure: str | None = None


EventSource = QueueEvent | ScheduleEvent | BucketEvent | TopicEvent


@dataclass(frozen=True)
class Send:
    """A topic, stream or queue of the project the function sends to (``sends``): it gets
    permission to, and the resource's address in the environment variable :attr:`variable`."""

    kind: Literal["topic", "stream", "queue"]
    name: str

    @property
    def variable(self) -> str:
        """``FAASPORT_TOPIC_ITEM_CREATED`` for ``topic:item-created``: the topic's ARN, the
        stream's name, the queue's URL, as deployed (or served by ``faasport dev``)."""
        return f"FAASPORT_{self.kind.upper()}_{_NOT_ALNUM.sub('_', self.name).upper()}"


@dataclass(frozen=True)
class DynamoTable:
    """A DynamoDB table (``[tables.NAME]``): served by ``faasport dev``'s DynamoDB endpoint,
    created by the IaC, its stream feeding the functions whose events name it."""

    name: str
    #: The partition key's attribute name and type ("S", "N" or "B").
    key: str
    key_type: Literal["S", "N", "B"] = "S"
    sort_key: str | None = None
    sort_type: Literal["S", "N", "B"] = "S"
    #: What each stream record holds (StreamViewType).
    stream: Literal["KEYS_ONLY", "NEW_IMAGE", "OLD_IMAGE", "NEW_AND_OLD_IMAGES"] = (
        "NEW_AND_OLD_IMAGES"
    )


@dataclass(frozen=True)
class TopicQueue:
    """A queue subscribed to a topic."""

    queue: str
    #: Raw message delivery: the queue gets the message itself, not SNS's JSON envelope.
    raw: bool = False
    filter: str = ""


@dataclass(frozen=True)
class Topic:
    name: str
    queues: tuple[TopicQueue, ...] = ()


@dataclass(frozen=True)
class RateLimit:
    """A per-client limit (``rate_limit``): ``rate`` requests per ``per`` seconds for each
    client, counted by source address, JWT subject or API key."""

    rate: int
    per: float = 60.0
    by: Literal["ip", "sub", "api_key"] = "ip"


@dataclass(frozen=True)
class Idempotency:
    """Replay of repeated requests (``idempotency``): the first response to an
    ``Idempotency-Key`` (or, with ``payload_hash``, to the same body) is kept ``ttl`` seconds."""

    ttl: int = 3600
    payload_hash: bool = False
    methods: tuple[str, ...] = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class ProxyRoute:
    """A route answered by an upstream HTTP server (``[proxy]``), with no function: API
    Gateway's HTTP proxy integration. ``url`` may use the route's path parameters
    (``{proxy}``)."""

    route: Route
    url: str
    #: Seconds API Gateway waits for the upstream before answering 504.
    timeout: float = 30.0


@dataclass(frozen=True)
class WebSocketApi:
    """An API Gateway WebSocket API served by one function (``websocket = {...}``)."""

    #: Route keys: ``$connect``, ``$disconnect``, ``$default`` and custom ones (``join``).
    routes: tuple[str, ...] = ("$connect", "$disconnect", "$default")
    #: The route selection expression: which JSON field of a message names its route.
    selection: str = "$request.body.action"


#: The alias a function's deployment publishes when it runs published versions.
ALIAS = "live"


@dataclass(frozen=True)
class Function:
    """One deployable function: an HTTP app (``app``), a plain handler (``handler``), or
    both: the app answers HTTP and the handler the function's other events."""

    name: str
    app: str | None = None
    handler: str | None = None
    memory: int = 512
    timeout: int = 30
    architecture: Literal["x86_64", "arm64"] = "x86_64"
    #: Environments at most at once: the local cap (``faasport dev``), and the instance cap on
    #: Google Cloud and Azure. AWS reserves nothing from it (see ``reserved_concurrency``).
    concurrency: int = 10
    #: Lambda reserved concurrency (``reserved_concurrency``); None: none reserved.
    reserved_concurrency: int | None = None
    warm: int = 0
    #: Lambda SnapStart on published versions (``snapstart``; Python 3.12+).
    snapstart: bool = False
    #: Response streaming (``stream``): chunks reach the client while the function runs.
    stream: bool = False
    #: Invocations one environment takes at once (``max_concurrency``; Lambda Managed
    #: Instances' ``PerExecutionEnvironmentMaxConcurrency``, ``faasport dev`` alike).
    max_concurrency: int = 1
    #: The Lambda capacity provider (ARN) the function runs on (``capacity_provider``).
    capacity_provider: str | None = None
    health: str | None = None
    routes: tuple[Route, ...] = ()
    auth: str = "none"
    throttle: Throttle | None = None
    environment: Mapping[str, str] = field(default_factory=_empty)
    secrets: tuple[str, ...] = ()
    #: Buckets (of the project's bucket events) the function's own code puts objects into.
    writes: tuple[str, ...] = ()
    events: tuple[EventSource, ...] = ()
    #: ``{ bus = ..., pattern = ... }`` entries of ``events``: EventBridge rules.
    rules: tuple[BusRule, ...] = ()
    #: ``{ stream = ... }`` entries of ``events``: Kinesis stream mappings.
    streams: tuple[StreamEvent, ...] = ()
    #: Where an asynchronous invocation goes once its retries failed: a function or a queue.
    on_failure: str | None = None
    #: The topics, streams and queues it sends to (``sends``).
    sends: tuple[Send, ...] = ()
    #: Route key -> the JWT scopes, any one of which the route needs (``scopes``).
    scopes: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    rate_limit: RateLimit | None = None
    idempotency: Idempotency | None = None
    #: REST APIs: requests need an ``x-api-key`` of a usage plan (``api_key_required``).
    api_key_required: bool = False
    #: The WebSocket API this function serves (``websocket``), if any.
    websocket: WebSocketApi | None = None

    @property
    def target(self) -> str:
        """The ``"module:attr"`` string that ``aws.handler`` loads."""
        target = self.app or self.handler
        assert target is not None
        return target

    @property
    def alias(self) -> str | None:
        """The alias its deployment publishes (provisioned concurrency, SnapStart and
        managed instances run published versions): what its triggers invoke."""
        published = self.warm or self.snapstart or self.capacity_provider is not None
        return ALIAS if published else None


@dataclass(frozen=True)
class Queue:
    name: str
    visibility_timeout: int = 30
    max_receive: int = 3
    #: The dead-letter queue: ``NAME-dlq`` unless configured; None with ``dlq = false`` and
    #: for a queue that is itself another queue's dead-letter queue.
    dlq: str | None = None
    #: Seconds every message waits before its first delivery (DelaySeconds).
    delay: int = 0
    #: FIFO queues: a message without a deduplication id is deduplicated by its body.
    content_dedup: bool = False

    @property
    def fifo(self) -> bool:
        """A FIFO queue, as SQS names them: ``jobs.fifo``."""
        return self.name.endswith(".fifo")


@dataclass(frozen=True)
class JwtAuth:
    name: str
    issuer: str
    audience: tuple[str, ...] = ()
    #: A path relative to the project root or an https URL; None: discovered from issuer.
    jwks: str | None = None
    #: Where the token is: ``$request.header.NAME`` or ``$request.querystring.NAME``.
    identity: str = "$request.header.Authorization"
    type: Literal["jwt"] = "jwt"


@dataclass(frozen=True)
class LambdaAuth:
    """A Lambda authorizer: ``function`` (one of the project's) decides on each request."""

    name: str
    function: str
    #: The event the authorizer gets: "request" (the request's parts) or "token" (REST only).
    event: Literal["request", "token"] = "request"
    #: Identity sources as HTTP APIs write them (``$request.header.Authorization``); a
    #: request missing any of them is answered 401 without invoking the authorizer.
    identity: tuple[str, ...] = ("$request.header.Authorization",)
    #: Seconds a result is cached by identity source values; 0: no cache.
    ttl: int = 0
    #: HTTP APIs: simple responses (``isAuthorized``) instead of IAM policies.
    simple: bool = True
    #: REST TOKEN authorizers: a regular expression the token must match (else 401).
    validation: str | None = None
    type: Literal["lambda"] = "lambda"


Auth = JwtAuth | LambdaAuth


@dataclass(frozen=True)
class Quota:
    """Requests a key may make per calendar period (UTC; weeks start on Monday)."""

    limit: int
    period: Literal["DAY", "WEEK", "MONTH"] = "DAY"


@dataclass(frozen=True)
class ApiKey:
    """An API key (REST APIs): its value from the secret ``secret``, or generated."""

    name: str
    secret: str | None = None
    enabled: bool = True


@dataclass(frozen=True)
class UsagePlan:
    """What the keys of a plan may do: a token bucket per key, and a quota per period."""

    name: str
    keys: tuple[str, ...]
    throttle: Throttle | None = None
    quota: Quota | None = None


@dataclass(frozen=True)
class Cors:
    """Cross-origin requests the deployed API answers (preflight and response headers)."""

    origins: tuple[str, ...]
    methods: tuple[str, ...] = ("*",)
    headers: tuple[str, ...] = ("*",)
    #: Seconds a browser may cache a preflight answer.
    max_age: int = 0


@dataclass(frozen=True)
class Api:
    """The deployed HTTP front door: an API Gateway HTTP API (default) or REST API."""

    type: Literal["http", "rest"] = "http"
    cors: Cors | None = None
    #: The stage-wide throttling of the deployed API (routes may set their own, lower).
    throttle: Throttle = field(default_factory=Throttle)


@dataclass(frozen=True)
class State:
    url: str = DEFAULT_STATE_URL


@dataclass(frozen=True)
class Traffic:
    """A function's expected monthly traffic, for ``faasport cost`` (``[traffic]``)."""

    #: HTTP requests, or events (queue messages, topic messages) a month.
    requests: int
    #: Milliseconds per invocation; None: measured by ``faasport dev``, or given to the command.
    duration_ms: float | None = None


@dataclass(frozen=True)
class Ci:
    """``[ci]``: the GitHub repository (and branches) whose Actions workflows may deploy."""

    github_repo: str
    branches: tuple[str, ...] = ("main",)
    #: The account's GitHub OIDC provider when it exists already (one per account); None:
    #: the deployment creates it.
    oidc_provider: str | None = None


@dataclass(frozen=True)
class Project:
    root: Path
    #: The file the configuration came from (faasport.toml or pyproject.toml).
    source: Path
    name: str
    python: str = "3.12"
    #: ``python`` was written in the configuration (else it is the default).
    python_given: bool = False
    region: str = "us-east-1"
    functions: Mapping[str, Function] = field(default_factory=lambda: MappingProxyType({}))
    queues: Mapping[str, Queue] = field(default_factory=lambda: MappingProxyType({}))
    #: ``[topics.NAME]`` tables: the queues subscribed to each topic.
    topics: Mapping[str, Topic] = field(default_factory=lambda: MappingProxyType({}))
    #: ``[tables.NAME]``: DynamoDB tables.
    tables: Mapping[str, DynamoTable] = field(default_factory=lambda: MappingProxyType({}))
    auth: Mapping[str, Auth] = field(default_factory=lambda: MappingProxyType({}))
    #: ``[api_keys.NAME]`` and ``[usage_plans.NAME]`` (REST APIs).
    api_keys: Mapping[str, ApiKey] = field(default_factory=lambda: MappingProxyType({}))
    usage_plans: Mapping[str, UsagePlan] = field(default_factory=lambda: MappingProxyType({}))
    state: State = field(default_factory=State)
    api: Api = field(default_factory=Api)
    #: Glob patterns of project files left out of deployment artifacts (``exclude``).
    exclude: tuple[str, ...] = ()
    #: Leave the tests, docs and examples of dependencies out of the artifact (``strip``).
    strip: bool = False
    #: Expected monthly traffic per function (``[traffic]``).
    traffic: Mapping[str, Traffic] = field(default_factory=lambda: MappingProxyType({}))
    #: Routes answered by upstream HTTP servers (``[proxy]``).
    proxies: tuple[ProxyRoute, ...] = ()
    #: The stage loaded (``--stage``), whose name ends ``name``; None: the file as written.
    stage: str | None = None
    #: The stages the file defines (``[stages.NAME]``).
    stages: tuple[str, ...] = ()
    #: Who deploys from CI (``[ci]``); None: no deploy role is written.
    ci: Ci | None = None

    @property
    def python_origin(self) -> str:
        """Where :attr:`python` comes from, for a message."""
        if self.python_given:
            return f"python in {self.source.name}"
        return f"the default: {self.source.name} sets no python"
