"""``modules/function``: one Lambda function with its role, log group, alarms, alias for
provisioned concurrency, and its queue, schedule and topic triggers."""

from __future__ import annotations

from faasport.config.model import ALIAS
from faasport.deploy.aws import model
from faasport.deploy.aws.terraform.tf import Module, jsonencode, output, resource, variable
from faasport.deploy.hcl import Block, Ref, Value, template

FUNCTION_SKIPS = ("CKV_AWS_117", "CKV_AWS_173", "CKV_AWS_272", "CKV_AWS_116")
LOG_SKIPS = ("CKV_AWS_158", "CKV_AWS_338")

# The alias when the function publishes versions (provisioned environments or SnapStart),
# else the function itself.
_TARGET_ARN = Ref("try(aws_lambda_alias.live[0].arn, aws_lambda_function.this.arn)")
_INVOKE_ARN = Ref("try(aws_lambda_alias.live[0].invoke_arn, aws_lambda_function.this.invoke_arn)")
_QUALIFIER = Ref("one(aws_lambda_alias.live[*].name)")
_FUNCTION_NAME = Ref("aws_lambda_function.this.function_name")
_PROVISIONED = "var.provisioned_concurrency > 0"
_PUBLISHED = f"{_PROVISIONED} || var.snap_start || var.capacity_provider_arn != null"
_ZIP = "var.image_uri == null"

VARIABLES = (
    variable("name", "string", "The function name"),
    variable("handler", "string", "faasport_handler.FUNCTION"),
    variable("runtime", "string", "python3.X"),
    variable("memory_size", "number", "MB"),
    variable("timeout", "number", "Seconds"),
    variable("architecture", "string", "x86_64 or arm64"),
    variable("reserved_concurrency", "number", "Executions reserved (and at most), or null"),
    variable("provisioned_concurrency", "number", "Environments kept initialized (0: none)"),
    variable("snap_start", "bool", "SnapStart on published versions, served by the alias"),
    variable("capacity_provider_arn", "string", "A Managed Instances capacity provider, or null"),
    variable("max_concurrency", "number", "Invocations per execution environment, or null"),
    variable("environment", "map(string)", "Environment variables"),
    variable("response_stream", "bool", "A Function URL that streams responses (RESPONSE_STREAM)"),
    variable("filename", "string", "The zip built by faasport package --target aws"),
    variable("source_code_hash", "string", "filebase64sha256 of the zip"),
    variable(
        "image_uri",
        "string",
        "A container image (REPOSITORY@sha256:DIGEST) run with "
        "handler as its command instead of the zip, or null",
    ),
    variable("policy", "string", "The role's permissions, a JSON policy document"),
    variable("log_retention_days", "number", "Days the function's logs are kept"),
    variable("dead_letter_arn", "string", "Queue for failed asynchronous invocations, or null"),
    variable("alarm_topic_arn", "string", "Topic the alarms notify"),
    variable(
        "alarms",
        "map(object({ metric = string, statistic = string, threshold = number }))",
        "Alarms on AWS/Lambda metrics, by name suffix",
    ),
    variable(
        "queue_sources",
        "map(object({ arn = string, batch_size = number, batching_window = number }))",
        "SQS queues that trigger the function",
    ),
    variable("schedules", "map(string)", "EventBridge rule name -> schedule expression"),
    variable(
        "topic_sources", "map(string)", "Permission statement id -> ARN of a topic it subscribes"
    ),
    variable("topic_filters", "map(string)", "Permission statement id -> SNS filter policy"),
    variable(
        "stream_sources",
        "map(object({ arn = string, batch_size = number, starting_position = string, "
        "bisect = bool, retries = number, on_failure_arn = string }))",
        "Kinesis streams and DynamoDB table streams that trigger the function",
    ),
    variable(
        "bus_rules",
        "map(object({ bus = string, pattern = string }))",
        "EventBridge rule name -> the bus it watches and its event pattern",
    ),
    variable("on_failure_arn", "string", "Where failed asynchronous invocations are sent, or null"),
)


def _role() -> tuple[Block, ...]:
    assume = jsonencode(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
    )
    return (
        Block("data", ("aws_partition", "current")),
        resource("aws_iam_role", "this", {"name": Ref("var.name"), "assume_role_policy": assume}),
        resource(
            "aws_iam_role_policy",
            "this",
            {"name": "function", "role": Ref("aws_iam_role.this.id"), "policy": Ref("var.policy")},
        ),
        resource(
            "aws_iam_role_policy_attachment",
            "xray",
            {
                "role": Ref("aws_iam_role.this.name"),
                "policy_arn": template(
                    "arn:",
                    Ref("data.aws_partition.current.partition"),
                    ":iam::aws:policy/AWSXRayDaemonWriteAccess",
                ),
            },
        ),
    )


def _function() -> tuple[Block, ...]:
    environment = Block(
        "dynamic",
        ("environment",),
        {
            "for_each": Ref("length(var.environment) > 0 ? [var.environment] : []"),
            "content": Block("content", (), {"variables": Ref("environment.value")}),
        },
    )
    dead_letter = Block(
        "dynamic",
        ("dead_letter_config",),
        {
            "for_each": Ref("var.dead_letter_arn == null ? [] : [var.dead_letter_arn]"),
            "content": Block("content", (), {"target_arn": Ref("dead_letter_config.value")}),
        },
    )
    snap_start = Block(
        "dynamic",
        ("snap_start",),
        {
            "for_each": Ref('var.snap_start ? ["PublishedVersions"] : []'),
            "content": Block("content", (), {"apply_on": Ref("snap_start.value")}),
        },
    )
    managed = Block(
        "dynamic",
        ("capacity_provider_config",),
        {
            "for_each": Ref("var.capacity_provider_arn == null ? [] : [var.capacity_provider_arn]"),
            "content": Block(
                "content",
                (),
                {
                    "lambda_managed_instances_capacity_provider_config": Block(
                        "lambda_managed_instances_capacity_provider_config",
                        (),
                        {
                            "capacity_provider_arn": Ref("capacity_provider_config.value"),
                            "per_execution_environment_max_concurrency": Ref("var.max_concurrency"),
                        },
                    )
                },
            ),
        },
    )
    image_config = Block(
        "dynamic",
        ("image_config",),
        {
            "for_each": Ref(f"{_ZIP} ? [] : [var.handler]"),
            "content": Block("content", (), {"command": [Ref("image_config.value")]}),
        },
    )
    function = resource(
        "aws_lambda_function",
        "this",
        {
            "function_name": Ref("var.name"),
            "role": Ref("aws_iam_role.this.arn"),
            "package_type": Ref(f'{_ZIP} ? "Zip" : "Image"'),
            "image_uri": Ref("var.image_uri"),
            "handler": Ref(f"{_ZIP} ? var.handler : null"),
            "runtime": Ref("var.runtime"),
            "architectures": [Ref("var.architecture")],
            "memory_size": Ref("var.memory_size"),
            "timeout": Ref("var.timeout"),
            "reserved_concurrent_executions": Ref("var.reserved_concurrency"),
            "filename": Ref("var.filename"),
            "source_code_hash": Ref("var.source_code_hash"),
            "publish": Ref(_PUBLISHED),
            "depends_on": [
                Ref("aws_cloudwatch_log_group.this"),
                Ref("aws_iam_role_policy.this"),
            ],
            "tracing_config": Block("tracing_config", (), {"mode": "Active"}),
            "environment": environment,
            "dead_letter_config": dead_letter,
            "snap_start": snap_start,
            "image_config": image_config,
            "capacity_provider_config": managed,
        },
        skip=FUNCTION_SKIPS,
    )
    logs = resource(
        "aws_cloudwatch_log_group",
        "this",
        {
            "name": template("/aws/lambda/", Ref("var.name")),
            "retention_in_days": Ref("var.log_retention_days"),
        },
        skip=LOG_SKIPS,
    )
    alias = resource(
        "aws_lambda_alias",
        ALIAS,
        {
            "count": Ref(f"{_PUBLISHED} ? 1 : 0"),
            "name": ALIAS,
            "function_name": _FUNCTION_NAME,
            "function_version": Ref("aws_lambda_function.this.version"),
        },
    )
    provisioned = resource(
        "aws_lambda_provisioned_concurrency_config",
        ALIAS,
        {
            "count": Ref(f"{_PROVISIONED} ? 1 : 0"),
            "function_name": _FUNCTION_NAME,
            "qualifier": Ref("aws_lambda_alias.live[0].name"),
            "provisioned_concurrent_executions": Ref("var.provisioned_concurrency"),
        },
    )
    url = resource(
        "aws_lambda_function_url",
        "stream",
        {
            "count": Ref("var.response_stream ? 1 : 0"),
            "function_name": _FUNCTION_NAME,
            "qualifier": _QUALIFIER,
            # Signed requests only: CloudFront (origin access control) serves the public.
            "authorization_type": "AWS_IAM",
            "invoke_mode": "RESPONSE_STREAM",
        },
    )
    return (logs, function, alias, provisioned, url)


def _alarms() -> Block:
    return resource(
        "aws_cloudwatch_metric_alarm",
        "this",
        {
            "for_each": Ref("var.alarms"),
            "alarm_name": template(Ref("var.name"), "-", Ref("each.key")),
            "namespace": "AWS/Lambda",
            "metric_name": Ref("each.value.metric"),
            "dimensions": {"FunctionName": _FUNCTION_NAME},
            "statistic": Ref("each.value.statistic"),
            "period": model.ALARM_PERIOD,
            "evaluation_periods": 1,
            "threshold": Ref("each.value.threshold"),
            "comparison_operator": "GreaterThanOrEqualToThreshold",
            "treat_missing_data": "notBreaching",
            "alarm_actions": [Ref("var.alarm_topic_arn")],
        },
    )


def _permission(
    name: str, principal: str, source_arn: Ref, for_each: str, statement_id: Value
) -> Block:
    return resource(
        "aws_lambda_permission",
        name,
        {
            "for_each": Ref(for_each),
            "statement_id": statement_id,
            "action": "lambda:InvokeFunction",
            "function_name": _FUNCTION_NAME,
            "qualifier": _QUALIFIER,
            "principal": principal,
            "source_arn": source_arn,
        },
    )


def _triggers() -> tuple[Block, ...]:
    queues = resource(
        "aws_lambda_event_source_mapping",
        "queue",
        {
            "for_each": Ref("var.queue_sources"),
            "event_source_arn": Ref("each.value.arn"),
            "function_name": _TARGET_ARN,
            "batch_size": Ref("each.value.batch_size"),
            "maximum_batching_window_in_seconds": Ref("each.value.batching_window"),
            "function_response_types": ["ReportBatchItemFailures"],
        },
    )
    rules = resource(
        "aws_cloudwatch_event_rule",
        "schedule",
        {
            "for_each": Ref("var.schedules"),
            "name": Ref("each.key"),
            "schedule_expression": Ref("each.value"),
        },
    )
    targets = resource(
        "aws_cloudwatch_event_target",
        "schedule",
        {
            "for_each": Ref("var.schedules"),
            "rule": Ref("aws_cloudwatch_event_rule.schedule[each.key].name"),
            "arn": _TARGET_ARN,
        },
    )
    subscriptions = resource(
        "aws_sns_topic_subscription",
        "topic",
        {
            "for_each": Ref("var.topic_sources"),
            "topic_arn": Ref("each.value"),
            "protocol": "lambda",
            "endpoint": _TARGET_ARN,
            "filter_policy": Ref("lookup(var.topic_filters, each.key, null)"),
        },
    )
    return (
        queues,
        rules,
        targets,
        _permission(
            "schedule",
            "events.amazonaws.com",
            Ref("aws_cloudwatch_event_rule.schedule[each.key].arn"),
            "var.schedules",
            template("schedule-", Ref("each.key")),
        ),
        subscriptions,
        _permission(
            "topic", "sns.amazonaws.com", Ref("each.value"), "var.topic_sources", Ref("each.key")
        ),
    )


def _more_triggers() -> tuple[Block, ...]:
    on_failure = Block(
        "dynamic",
        ("destination_config",),
        {
            "for_each": Ref("each.value.on_failure_arn == null ? [] : [each.value.on_failure_arn]"),
            "content": Block(
                "content",
                (),
                {
                    "on_failure": Block(
                        "on_failure", (), {"destination_arn": Ref("destination_config.value")}
                    )
                },
            ),
        },
    )
    streams = resource(
        "aws_lambda_event_source_mapping",
        "stream",
        {
            "for_each": Ref("var.stream_sources"),
            "event_source_arn": Ref("each.value.arn"),
            "function_name": _TARGET_ARN,
            "batch_size": Ref("each.value.batch_size"),
            "starting_position": Ref("each.value.starting_position"),
            "bisect_batch_on_function_error": Ref("each.value.bisect"),
            "maximum_retry_attempts": Ref("each.value.retries"),
            "function_response_types": ["ReportBatchItemFailures"],
            "destination_config": on_failure,
        },
    )
    rules = resource(
        "aws_cloudwatch_event_rule",
        "bus",
        {
            "for_each": Ref("var.bus_rules"),
            "name": Ref("each.key"),
            "event_bus_name": Ref("each.value.bus"),
            "event_pattern": Ref("each.value.pattern"),
        },
    )
    targets = resource(
        "aws_cloudwatch_event_target",
        "bus",
        {
            "for_each": Ref("var.bus_rules"),
            "rule": Ref("aws_cloudwatch_event_rule.bus[each.key].name"),
            "event_bus_name": Ref("each.value.bus"),
            "arn": _TARGET_ARN,
        },
    )
    invoke_config = resource(
        "aws_lambda_function_event_invoke_config",
        "this",
        {
            "count": Ref("var.on_failure_arn == null ? 0 : 1"),
            "function_name": _FUNCTION_NAME,
            "qualifier": _QUALIFIER,
            "destination_config": Block(
                "destination_config",
                (),
                {"on_failure": Block("on_failure", (), {"destination": Ref("var.on_failure_arn")})},
            ),
        },
    )
    return (
        streams,
        rules,
        targets,
        _permission(
            "bus",
            "events.amazonaws.com",
            Ref("aws_cloudwatch_event_rule.bus[each.key].arn"),
            "var.bus_rules",
            template("rule-", Ref("each.key")),
        ),
        invoke_config,
    )


MODULE = Module(
    name="function",
    variables=VARIABLES,
    main=(*_role(), *_function(), _alarms(), *_triggers(), *_more_triggers()),
    outputs=(
        output("function_name", _FUNCTION_NAME, "The function's name"),
        output("qualifier", _QUALIFIER, "The alias event sources invoke, or null"),
        output("target_arn", _TARGET_ARN, "What event sources invoke: the alias or function"),
        output("invoke_arn", _INVOKE_ARN, "API Gateway integration URI of the target"),
        output(
            "stream_url",
            Ref("one(aws_lambda_function_url.stream[*].function_url)"),
            "The streaming Function URL, or null",
        ),
    ),
)
