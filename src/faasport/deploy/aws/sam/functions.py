"""Each function in SAM: the function with its event sources, its role, log group and alarms."""

from __future__ import annotations

import json
from typing import cast

from faasport.config.model import (
    BucketEvent,
    BusRule,
    Function,
    Project,
    QueueEvent,
    ScheduleEvent,
    StreamEvent,
)
from faasport.deploy.aws import image, model, naming, policy
from faasport.deploy.aws.model import Infrastructure
from faasport.deploy.aws.sam import access, cfn
from faasport.deploy.aws.yaml_text import Data

FUNCTION_SKIPS = ("CKV_AWS_117", "CKV_AWS_173", "CKV_AWS_272")
LOG_SKIPS = ("CKV_AWS_158", "CKV_AWS_338")


def resources(infrastructure: Infrastructure) -> cfn.Resources:
    out: cfn.Resources = {}
    for function in infrastructure.project.functions.values():
        cfn.add(out, _function(infrastructure, function))
    return out


def _function(infrastructure: Infrastructure, function: Function) -> cfn.Resources:
    project = infrastructure.project
    name = naming.function_name(project, function)
    function_id = cfn.function_id(function.name)
    role_id = naming.logical_id(function.name, "Role")
    properties: dict[str, Data] = {"FunctionName": name}
    if infrastructure.container:
        properties["PackageType"] = "Image"
        properties["ImageUri"] = cfn.ref(image.PARAMETER)
        properties["ImageConfig"] = {"Command": [image.command(function)]}
    else:
        properties["CodeUri"] = naming.package_path(project)
        properties["Handler"] = f"faasport_handler.{function.name}"
        properties["Runtime"] = infrastructure.runtime
    properties.update(
        {
            "Architectures": [function.architecture],
            "MemorySize": function.memory,
            "Timeout": function.timeout,
            "Role": cfn.arn(role_id),
            "Tracing": "Active",
        }
    )
    if function.reserved_concurrency is not None:
        properties["ReservedConcurrentExecutions"] = function.reserved_concurrency
    variables: dict[str, Data] = {
        **model.environment(function, infrastructure.state_url),
        **_addresses(project, function),
    }
    if variables:
        properties["Environment"] = {"Variables": variables}
    if function.stream:
        # Signed requests only: front it with CloudFront (origin access control) to serve
        # the public, or call it with SigV4.
        properties["FunctionUrlConfig"] = {"AuthType": "AWS_IAM", "InvokeMode": "RESPONSE_STREAM"}
    if function.capacity_provider is not None:
        # Lambda Managed Instances: the published versions run on the capacity provider.
        managed: dict[str, Data] = {"Arn": function.capacity_provider}
        if function.max_concurrency > 1:
            managed["PerExecutionEnvironmentMaxConcurrency"] = function.max_concurrency
        properties["CapacityProviderConfig"] = managed
    if function.alias:
        properties["AutoPublishAlias"] = function.alias
    if function.warm:
        properties["ProvisionedConcurrencyConfig"] = {
            "ProvisionedConcurrentExecutions": function.warm
        }
    if function.snapstart:
        properties["SnapStart"] = {"ApplyOn": "PublishedVersions"}
    failures = model.failure_queue(function)
    skips: tuple[str, ...] = FUNCTION_SKIPS
    if function.reserved_concurrency is None:
        skips = (*skips, "CKV_AWS_115")
    if failures:
        properties["DeadLetterQueue"] = {
            "Type": "SQS",
            "TargetArn": cfn.arn(cfn.queue_id(failures)),
        }
    else:
        skips = (*skips, "CKV_AWS_116")
    destination = model.invoke_failure(project, function)
    if destination:
        properties["EventInvokeConfig"] = {
            "DestinationConfig": {"OnFailure": _destination(infrastructure, destination)}
        }
    events = _events(infrastructure, function)
    if events:
        properties["Events"] = events
    out: cfn.Resources = {
        function_id: cfn.resource("AWS::Serverless::Function", properties, skip=skips),
        role_id: _role(infrastructure, function),
        naming.logical_id(function.name, "LogGroup"): cfn.resource(
            "AWS::Logs::LogGroup",
            {"LogGroupName": naming.log_group(name), "RetentionInDays": model.LOG_RETENTION_DAYS},
            skip=LOG_SKIPS,
            on_delete="Delete",
        ),
    }
    for alarm in model.alarms(function):
        out[naming.logical_id(f"{function.name}-{alarm.suffix}", "Alarm")] = _alarm(name, alarm)
    return out


def _addresses(project: Project, function: Function) -> dict[str, Data]:
    """The environment variable of each target of ``sends``: a topic's ARN, a stream's name,
    a queue's URL (``Ref`` of a topic is its ARN, of a queue its URL)."""
    found: dict[str, Data] = {}
    for send in function.sends:
        if send.kind == "topic":
            found[send.variable] = cfn.ref(cfn.topic_id(send.name))
        elif send.kind == "queue":
            found[send.variable] = cfn.ref(cfn.queue_id(send.name))
        else:
            found[send.variable] = naming.stream_name(project, send.name)
    return found


def _role(infrastructure: Infrastructure, function: Function) -> dict[str, Data]:
    statements: list[Data] = [
        {
            "Sid": statement.sid,
            "Effect": "Allow",
            "Action": list(statement.actions),
            "Resource": [_resource(resource) for resource in statement.resources],
        }
        for statement in policy.statements(infrastructure, function)
    ]
    return cfn.resource(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            },
            "ManagedPolicyArns": [
                cfn.sub("arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess")
            ],
            "Policies": [
                {
                    "PolicyName": "function",
                    "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                }
            ],
        },
    )


def _resource(resource: policy.Resource) -> Data:
    if isinstance(resource, policy.Output):
        if resource.kind == "queue":
            return cfn.arn(cfn.queue_id(resource.key))
        if resource.kind == "stream":
            return cfn.arn(cfn.stream_id(resource.key))
        if resource.kind == "topic":
            return cfn.ref(cfn.topic_id(resource.key))
        if resource.kind == "project_table":
            return cfn.arn(cfn.table_id(resource.key))
        if resource.kind == "table_stream":
            return {"Fn::GetAtt": [cfn.table_id(resource.key), "StreamArn"]}
        if resource.kind == "websocket":
            api = naming.logical_id(resource.key, "WebSocketApi")
            return cfn.sub(
                "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
                f"${{{api}}}/{model.WEBSOCKET_STAGE}/*/@connections/*"
            )
        return cfn.arn(cfn.STATE_TABLE)
    where = ":${AWS::Region}:${AWS::AccountId}:" if resource.regional else ":::"
    return cfn.sub(
        f"arn:${{AWS::Partition}}:{resource.service}{where}{cfn.literal(resource.resource)}"
    )


def _alarm(function_name: str, alarm: model.Alarm) -> dict[str, Data]:
    return cfn.alarm(
        f"{function_name}-{alarm.suffix}", "AWS/Lambda", ("FunctionName", function_name), alarm
    )


# -- event sources ---------------------------------------------------------------------------


def _events(infrastructure: Infrastructure, function: Function) -> dict[str, Data]:
    events: dict[str, Data] = {}
    for index, route in enumerate(infrastructure.function_routes(function)):
        events[f"Route{index}"] = _route(infrastructure.project, route)
    schedules = iter(infrastructure.schedules[function.name])
    for index, event in enumerate(function.events):
        key = f"{type(event).__name__.removesuffix('Event')}{index}"
        if isinstance(event, QueueEvent):
            events[key] = _queue(event)
        elif isinstance(event, ScheduleEvent):
            rule, expression = next(schedules)
            events[key] = {"Type": "Schedule", "Properties": {"Name": rule, "Schedule": expression}}
        elif isinstance(event, BucketEvent):
            events[key] = _bucket(event)
        else:
            topic: dict[str, Data] = {"Topic": cfn.ref(cfn.topic_id(event.topic))}
            policy_data = model.filter_policy(event.filter)
            if policy_data is not None:
                topic["FilterPolicy"] = policy_data
            events[key] = {"Type": "SNS", "Properties": topic}
    for index, stream in enumerate(function.streams):
        events[f"Stream{index}"] = _stream(stream)
    for index, bus_rule in enumerate(function.rules):
        events[f"Rule{index}"] = _rule(infrastructure, function, index, bus_rule)
    return events


def _destination(infrastructure: Infrastructure, destination: tuple[str, str]) -> Data:
    kind, target = destination
    if kind == "queue":
        return {"Type": "SQS", "Destination": cfn.arn(cfn.queue_id(target))}
    name = naming.function_name(infrastructure.project, infrastructure.project.functions[target])
    arn = f"arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{name}"
    return {"Type": "Lambda", "Destination": cfn.sub(arn)}


def _stream(stream: StreamEvent) -> Data:
    dynamodb = stream.source == "dynamodb"
    properties: dict[str, Data] = {
        "Stream": {"Fn::GetAtt": [cfn.table_id(stream.stream), "StreamArn"]}
        if dynamodb
        else cfn.arn(cfn.stream_id(stream.stream)),
        "StartingPosition": stream.start,
        "BatchSize": stream.batch,
        "BisectBatchOnFunctionError": stream.bisect,
        "MaximumRetryAttempts": stream.retries,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }
    if stream.on_failure:
        properties["DestinationConfig"] = {
            "OnFailure": {"Type": "SQS", "Destination": cfn.arn(cfn.queue_id(stream.on_failure))}
        }
    return {"Type": "DynamoDB" if dynamodb else "Kinesis", "Properties": properties}


def _rule(infrastructure: Infrastructure, function: Function, index: int, rule: BusRule) -> Data:
    properties: dict[str, Data] = {
        "RuleName": model.rule_name(infrastructure.project, function, index),
        "Pattern": cast(Data, json.loads(rule.pattern)),
    }
    if rule.bus != "default":
        properties["EventBusName"] = {"Fn::GetAtt": [cfn.bus_id(rule.bus), "Name"]}
    return {"Type": "EventBridgeRule", "Properties": properties}


def _route(project: Project, route: model.HttpRoute) -> Data:
    if project.api.type == "rest":
        rest: dict[str, Data] = {
            "RestApiId": cfn.ref(cfn.REST_API),
            "Path": route.path,
            "Method": route.method.lower(),
        }
        auth = access.route_auth(project, route)
        if auth:
            rest["Auth"] = auth
        if route.function.stream:
            # SAM spells it RESPONSE_STREAM and writes STREAM into the integration.
            rest["ResponseTransferMode"] = "RESPONSE_STREAM"
        return {"Type": "Api", "Properties": rest}
    properties: dict[str, Data] = {
        "ApiId": cfn.ref(cfn.HTTP_API),
        "Method": route.method,
        "Path": route.path,
        "PayloadFormatVersion": "2.0",
    }
    if route.auth:
        jwt: dict[str, Data] = {"Authorizer": cfn.authorizer_id(route.auth.name)}
        if route.scopes:
            jwt["AuthorizationScopes"] = list(route.scopes)
        properties["Auth"] = jwt
    if route.throttle:
        properties["RouteSettings"] = {
            "ThrottlingRateLimit": route.throttle.rate,
            "ThrottlingBurstLimit": route.throttle.burst,
        }
    return {"Type": "HttpApi", "Properties": properties}


def _queue(event: QueueEvent) -> Data:
    properties: dict[str, Data] = {
        "Queue": cfn.arn(cfn.queue_id(event.queue)),
        "BatchSize": event.batch,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }
    window = model.batching_window(event)
    if window:
        properties["MaximumBatchingWindowInSeconds"] = window
    return {"Type": "SQS", "Properties": properties}


def _bucket(event: BucketEvent) -> Data:
    properties: dict[str, Data] = {
        "Bucket": cfn.ref(cfn.bucket_id(event.bucket)),
        "Events": model.S3_EVENTS[event.on],
    }
    rules: list[Data] = [
        {"Name": name, "Value": value}
        for name, value in (("prefix", event.prefix), ("suffix", event.suffix))
        if value
    ]
    if rules:
        properties["Filter"] = {"S3Key": {"Rules": rules}}
    return {"Type": "S3", "Properties": properties}
