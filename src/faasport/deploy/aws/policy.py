"""Each function's IAM permissions, least privilege: exactly the log group, queues, secrets,
parameters, objects and table it uses. Resources are named abstractly (:class:`Output` of a
generated resource, :class:`Pattern` of an ARN) and spelled by the SAM or Terraform writer."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from faasport.config.model import BucketEvent, Function
from faasport.deploy.aws import model, naming
from faasport.deploy.aws.model import Infrastructure
from faasport.secrets.names import aws_name, is_ssm

STATE_ACTIONS = (
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:UpdateItem",
)
STREAM_ACTIONS = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
    "kinesis:SubscribeToShard",
)
TABLE_STREAM_ACTIONS = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
    "dynamodb:ListStreams",
)
#: What a function may do with the project's [tables.*] (the configuration does not say
#: which function uses which table).
TABLE_ACTIONS = (
    "dynamodb:BatchGetItem",
    "dynamodb:BatchWriteItem",
    "dynamodb:ConditionCheckItem",
    "dynamodb:DeleteItem",
    "dynamodb:DescribeTable",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "dynamodb:UpdateItem",
)
QUEUE_ACTIONS = (
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
)

#: What ``sends`` grants, per kind of target: (statement id, kind, actions).
SENDS: tuple[tuple[str, Literal["topic", "stream", "queue"], tuple[str, ...]], ...] = (
    ("PublishToTopics", "topic", ("sns:Publish",)),
    ("PutToStreams", "stream", ("kinesis:PutRecord", "kinesis:PutRecords")),
    ("SendToQueues", "queue", ("sqs:SendMessage",)),
)


@dataclass(frozen=True)
class Output:
    """The ARN of a resource this deployment creates: a queue, the state table, a Kinesis
    stream, a [tables.*] table (``project_table``) or its stream (``table_stream``), the
    ``@connections`` of a function's WebSocket API (``websocket``, keyed by function), or a
    topic."""

    kind: Literal["queue", "table", "stream", "project_table", "table_stream", "websocket", "topic"]
    key: str


@dataclass(frozen=True)
class Pattern:
    """``arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE``; S3 ARNs have no region or account."""

    service: str
    resource: str

    @property
    def regional(self) -> bool:
        return self.service != "s3"


Resource = Output | Pattern


@dataclass(frozen=True)
class Statement:
    sid: str
    actions: tuple[str, ...]
    resources: tuple[Resource, ...]


def statements(infrastructure: Infrastructure, function: Function) -> tuple[Statement, ...]:
    project = infrastructure.project
    name = naming.function_name(project, function)
    found = [
        Statement(
            "WriteLogs",
            ("logs:CreateLogStream", "logs:PutLogEvents"),
            (Pattern("logs", f"log-group:{naming.log_group(name)}:*"),),
        )
    ]
    queues = _unique(Output("queue", event.queue) for event in model.queue_events(function))
    if queues:
        found.append(Statement("ConsumeQueues", QUEUE_ACTIONS, queues))
    failures = model.failure_queue(function)
    if failures:
        found.append(
            Statement("KeepFailedEvents", ("sqs:SendMessage",), (Output("queue", failures),))
        )
    streams = _unique(
        Output("stream", stream.stream) for stream in function.streams if stream.source == "kinesis"
    )
    if streams:
        found.append(Statement("ReadStreams", STREAM_ACTIONS, streams))
    table_streams = _unique(
        Output("table_stream", s.stream) for s in function.streams if s.source == "dynamodb"
    )
    if table_streams:
        found.append(Statement("ReadTableStreams", TABLE_STREAM_ACTIONS, table_streams))
    if project.tables:
        tables = tuple(Output("project_table", name) for name in sorted(project.tables))
        found.append(Statement("UseTables", TABLE_ACTIONS, tables))
    notes = _unique(
        Output("queue", stream.on_failure) for stream in function.streams if stream.on_failure
    )
    destination = model.invoke_failure(project, function)
    if destination and destination[0] == "queue":
        notes = _unique((*notes, Output("queue", destination[1])))
    if notes:
        found.append(Statement("SendFailureNotes", ("sqs:SendMessage",), notes))
    if destination and destination[0] == "function":
        # By name, not by the function's output: two functions may name each other.
        target = naming.function_name(project, project.functions[destination[1]])
        found.append(
            Statement(
                "InvokeOnFailure",
                ("lambda:InvokeFunction",),
                (Pattern("lambda", f"function:{target}"),),
            )
        )
    for sid, kind, actions in SENDS:
        targets = _unique(Output(kind, send.name) for send in function.sends if send.kind == kind)
        if targets:
            found.append(Statement(sid, actions, targets))
    secrets = _unique(
        Pattern("secretsmanager", f"secret:{secret}-??????")
        for secret in function.secrets
        if not is_ssm(secret)
    )
    if secrets:
        found.append(Statement("ReadSecrets", ("secretsmanager:GetSecretValue",), secrets))
    parameters = _unique(
        Pattern("ssm", f"parameter/{aws_name(secret).lstrip('/')}")
        for secret in function.secrets
        if is_ssm(secret)
    )
    if parameters:
        found.append(Statement("ReadParameters", ("ssm:GetParameter",), parameters))
    objects = _unique(
        Pattern("s3", f"{event.bucket}/{event.prefix}*")
        for event in function.events
        if isinstance(event, BucketEvent) and event.on == "created"
    )
    if objects:
        found.append(Statement("ReadNewObjects", ("s3:GetObject",), objects))
    written = _unique(Pattern("s3", f"{bucket}/*") for bucket in function.writes)
    if written:
        found.append(Statement("WriteObjects", ("s3:PutObject",), written))
    table = infrastructure.state_table
    if table:
        found.append(Statement("UseStateTable", STATE_ACTIONS, (Output("table", table),)))
    if function.websocket is not None:
        # send/close/info on the connections of its own API only.
        found.append(
            Statement(
                "ManageConnections",
                ("execute-api:ManageConnections",),
                (Output("websocket", function.name),),
            )
        )
    return tuple(found)


def _unique(resources: Iterable[Resource]) -> tuple[Resource, ...]:
    """Each resource once, in first-seen order."""
    return tuple(dict.fromkeys(resources))
