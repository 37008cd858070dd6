"""The root module: the provider, one module call per function, queue, topic and bucket, the
API, the state table and the alarm topic, wired together by their outputs."""

from __future__ import annotations

from faasport.config.model import Function, JwtAuth, LambdaAuth, Project, Throttle, TopicEvent
from faasport.core.errors import FaasportError
from faasport.deploy.aws import image as aws_image
from faasport.deploy.aws import model, naming, policy
from faasport.deploy.aws.model import Infrastructure
from faasport.deploy.aws.proxy import integration_method, rest_paths, timeout_ms
from faasport.deploy.aws.terraform import (
    access,
    api_modules,
    ci,
    function_module,
    image,
    storage_modules,
    websocket_module,
)
from faasport.deploy.aws.terraform.tf import Module, jsonencode, output, resource
from faasport.deploy.hcl import Block, Ref, Value, template
from faasport.deploy.terraform import terraform_settings

ALARM_TOPIC = "aws_sns_topic.alarms"


def terraform_block(project: Project) -> tuple[Block, ...]:
    return (
        terraform_settings("aws", ">= 5.40, < 7.0"),
        Block(
            "provider",
            ("aws",),
            {
                "region": project.region,
                "default_tags": Block(
                    "default_tags", (), {"tags": {"faasport-project": project.name}}
                ),
            },
        ),
    )


class Root:
    """Collects the module calls; every module identifier is checked to be unique."""

    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self.used: dict[str, Module] = {}

    def module(self, name: str, module: Module, inputs: dict[str, Value]) -> None:
        if any(block.labels == (name,) for block in self.blocks if block.type == "module"):
            raise FaasportError(
                f"two resources would both be named module.{name} in the Terraform "
                "configuration; rename one of the functions, queues, topics or buckets"
            )
        self.used[module.name] = module
        self.blocks.append(Block("module", (name,), {"source": module.source, **inputs}))


def function_ref(function: Function) -> str:
    return f"module.{naming.tf_id('function', function.name)}"


def queue_ref(key: str) -> str:
    return f"module.{naming.tf_id('queue', key)}"


def main(infrastructure: Infrastructure) -> tuple[list[Block], list[Module]]:
    project = infrastructure.project
    root = Root()
    root.blocks.extend(_locals(project, infrastructure.container))
    if infrastructure.container:
        root.blocks.extend(image.blocks(aws_image.repository_name(project)))
    for queue in infrastructure.queues:
        root.module(naming.tf_id("queue", queue.key), storage_modules.QUEUE, _queue(queue))
    for topic in infrastructure.topics:
        root.module(
            naming.tf_id("topic", topic),
            storage_modules.TOPIC,
            {"name": naming.topic_name(project, topic)},
        )
    table = infrastructure.state_table
    if table:
        root.module(
            "state_table",
            storage_modules.TABLE,
            {"name": table, "hash_key": model.STATE_KEY, "ttl_attribute": model.STATE_TTL},
        )
    root.blocks.append(
        resource(
            "aws_sns_topic", "alarms", {"name": naming.alarm_topic(project)}, skip=("CKV_AWS_26",)
        )
    )
    root.blocks.extend(_event_sources(infrastructure))
    for function in project.functions.values():
        root.module(
            naming.tf_id("function", function.name),
            function_module.MODULE,
            _function(infrastructure, function),
        )
    for bucket, notifications in infrastructure.notifications.items():
        root.module(
            naming.tf_id("bucket", bucket), storage_modules.BUCKET, _bucket(bucket, notifications)
        )
    _api(infrastructure, root)
    for function in project.functions.values():
        if function.websocket is not None:
            root.module(
                websocket_ref(function.name).removeprefix("module."),
                websocket_module.MODULE,
                _websocket(infrastructure, function),
            )
    root.blocks.extend(ci.blocks(infrastructure))
    return root.blocks, list(root.used.values())


def websocket_ref(function: str) -> str:
    return f"module.{naming.tf_id('websocket', function)}"


def _websocket(infrastructure: Infrastructure, function: Function) -> dict[str, Value]:
    project = infrastructure.project
    websocket = function.websocket
    assert websocket is not None
    target = function_ref(function)
    return {
        "name": naming.websocket_api_name(project, function),
        "selection": websocket.selection,
        "routes": list(websocket.routes),
        "stage": model.WEBSOCKET_STAGE,
        "function_name": Ref(f"{target}.function_name"),
        "qualifier": Ref(f"{target}.qualifier"),
        "invoke_arn": Ref(f"{target}.invoke_arn"),
        "log_retention_days": model.LOG_RETENTION_DAYS,
        "log_format": model.WEBSOCKET_LOG_FORMAT,
        "throttle": _throttle(project.api.throttle),
    }


def outputs(infrastructure: Infrastructure) -> list[Block]:
    found = [
        output(
            "alarm_topic_arn",
            Ref(f"{ALARM_TOPIC}.arn"),
            "Subscribe to this topic to receive the functions' alarms",
        )
    ]
    if infrastructure.routes:
        api_url = Ref(f"module.{_api_id(infrastructure.project)}.url")
        found.insert(0, output("api_url", api_url, "The API's URL"))
    for function in infrastructure.project.functions.values():
        if function.websocket is not None:
            url = Ref(f"{websocket_ref(function.name)}.url")
            name = naming.tf_id("websocket", function.name) + "_url"
            found.append(output(name, url, f"The WebSocket API of function {function.name}"))
    return found + ci.outputs(infrastructure)


def _locals(project: Project, container: bool) -> list[Block]:
    values: dict[str, Value] = {}
    if not container:  # an image deployment has no zip to hash
        values["package"] = template(Ref("path.root"), "/", naming.package_path(project))
        values["package_hash"] = Ref("filebase64sha256(local.package)")
    values["partition"] = Ref("data.aws_partition.current.partition")
    values["account_id"] = Ref("data.aws_caller_identity.current.account_id")
    return [
        Block("data", ("aws_partition", "current")),
        Block("data", ("aws_caller_identity", "current")),
        Block("locals", (), values),
    ]


def _queue(queue: model.QueueSpec) -> dict[str, Value]:
    return {
        # A flag, not a null topic: count must be known before the topic exists.
        "depth_alarm": queue.keeps_failures,
        "alarm_topic_arn": Ref(f"{ALARM_TOPIC}.arn"),
        "name": queue.name,
        "visibility_timeout": queue.visibility_timeout,
        "retention_seconds": queue.retention,
        "dead_letter_arn": Ref(f"{queue_ref(queue.dead_letter)}.arn")
        if queue.dead_letter
        else None,
        "max_receive_count": queue.max_receive,
        "fifo": queue.fifo,
        "content_dedup": queue.content_dedup,
        "delay": queue.delay,
    }


def _function(infrastructure: Infrastructure, function: Function) -> dict[str, Value]:
    project = infrastructure.project
    failures = model.failure_queue(function)
    return {
        "name": naming.function_name(project, function),
        "handler": f"faasport_handler.{function.name}",
        "runtime": infrastructure.runtime,
        "memory_size": function.memory,
        "timeout": function.timeout,
        "architecture": function.architecture,
        "reserved_concurrency": function.reserved_concurrency,
        "provisioned_concurrency": function.warm,
        "snap_start": function.snapstart,
        "capacity_provider_arn": function.capacity_provider,
        "max_concurrency": function.max_concurrency if function.max_concurrency > 1 else None,
        "environment": {
            **model.environment(function, infrastructure.state_url),
            **_addresses(project, function),
        },
        "response_stream": function.stream,
        "filename": Ref("local.package"),
        "source_code_hash": Ref("local.package_hash"),
        "policy": jsonencode(
            {"Version": "2012-10-17", "Statement": _statements(infrastructure, function)}
        ),
        "log_retention_days": model.LOG_RETENTION_DAYS,
        "dead_letter_arn": Ref(f"{queue_ref(failures)}.arn") if failures else None,
        "alarm_topic_arn": Ref(f"{ALARM_TOPIC}.arn"),
        "alarms": {
            alarm.suffix: {
                "metric": alarm.metric,
                "statistic": alarm.statistic,
                "threshold": alarm.threshold,
            }
            for alarm in model.alarms(function)
        },
        "queue_sources": {
            event.queue: {
                "arn": Ref(f"{queue_ref(event.queue)}.arn"),
                "batch_size": event.batch,
                "batching_window": model.batching_window(event),
            }
            for event in model.queue_events(function)
        },
        "schedules": dict(infrastructure.schedules[function.name]),
        "topic_sources": {
            naming.statement_id("topic", topic): Ref(f"module.{naming.tf_id('topic', topic)}.arn")
            for topic in model.function_topics(function)
        },
        "topic_filters": {
            naming.statement_id("topic", event.topic): event.filter
            for event in function.events
            if isinstance(event, TopicEvent) and event.filter
        },
        "stream_sources": {
            str(index): {
                "arn": Ref(f"{table_ref(stream.stream)}.stream_arn")
                if stream.source == "dynamodb"
                else Ref(f"{stream_ref(stream.stream)}.arn"),
                "batch_size": stream.batch,
                "starting_position": stream.start,
                "bisect": stream.bisect,
                "retries": stream.retries,
                "on_failure_arn": Ref(f"{queue_ref(stream.on_failure)}.arn")
                if stream.on_failure
                else None,
            }
            for index, stream in enumerate(function.streams)
        },
        "bus_rules": {
            model.rule_name(project, function, index): {
                "bus": "default" if rule.bus == "default" else Ref(f"{bus_ref(rule.bus)}.name"),
                "pattern": rule.pattern,
            }
            for index, rule in enumerate(function.rules)
        },
        "on_failure_arn": _on_failure(infrastructure, function),
        "image_uri": None,
        **(image.function_inputs(function) if infrastructure.container else {}),
    }


def topic_ref(topic: str) -> str:
    return f"module.{naming.tf_id('topic', topic)}"


def _addresses(project: Project, function: Function) -> dict[str, Value]:
    """The environment variable of each target of ``sends``: a topic's ARN, a stream's name,
    a queue's URL."""
    found: dict[str, Value] = {}
    for send in function.sends:
        if send.kind == "topic":
            found[send.variable] = Ref(f"{topic_ref(send.name)}.arn")
        elif send.kind == "queue":
            found[send.variable] = Ref(f"{queue_ref(send.name)}.url")
        else:
            found[send.variable] = naming.stream_name(project, send.name)
    return found


def stream_ref(stream: str) -> str:
    return f"aws_kinesis_stream.{naming.tf_id('stream', stream)}"


def table_ref(table: str) -> str:
    return f"aws_dynamodb_table.{naming.tf_id('table', table)}"


def bus_ref(bus: str) -> str:
    return f"aws_cloudwatch_event_bus.{naming.tf_id('bus', bus)}"


def _on_failure(infrastructure: Infrastructure, function: Function) -> Value:
    destination = model.invoke_failure(infrastructure.project, function)
    if destination is None:
        return None
    kind, target = destination
    if kind == "queue":
        return Ref(f"{queue_ref(target)}.arn")
    # By name, not by the module's output: two functions may name each other.
    name = naming.function_name(infrastructure.project, infrastructure.project.functions[target])
    region = infrastructure.project.region
    return template(
        "arn:",
        Ref("local.partition"),
        f":lambda:{region}:",
        Ref("local.account_id"),
        f":function:{name}",
    )


def _event_sources(infrastructure: Infrastructure) -> list[Block]:
    """The streams, tables and buses the functions read, and the queues' topic subscriptions."""
    project = infrastructure.project
    blocks: list[Block] = []
    for stream in infrastructure.streams:
        blocks.append(
            resource(
                "aws_kinesis_stream",
                naming.tf_id("stream", stream),
                {
                    "name": naming.stream_name(project, stream),
                    "retention_period": model.STREAM_RETENTION_HOURS,
                    "encryption_type": "KMS",
                    "kms_key_id": "alias/aws/kinesis",
                    "stream_mode_details": Block(
                        "stream_mode_details", (), {"stream_mode": "ON_DEMAND"}
                    ),
                },
            )
        )
    for table in project.tables.values():
        keys = [(table.key, table.key_type)]
        if table.sort_key is not None:
            keys.append((table.sort_key, table.sort_type))
        table_body: dict[str, Value | Block | list[Block]] = {
            "name": naming.table_name(project, table.name),
            "billing_mode": "PAY_PER_REQUEST",
            "hash_key": table.key,
        }
        if table.sort_key is not None:
            table_body["range_key"] = table.sort_key
        table_body |= {
            "attribute": [
                Block("attribute", (), {"name": name, "type": kind}) for name, kind in keys
            ],
            "stream_enabled": True,
            "stream_view_type": table.stream,
            "point_in_time_recovery": Block("point_in_time_recovery", (), {"enabled": True}),
            "server_side_encryption": Block("server_side_encryption", (), {"enabled": True}),
        }
        blocks.append(
            resource(
                "aws_dynamodb_table",
                naming.tf_id("table", table.name),
                table_body,
                skip=("CKV_AWS_119",),
            )
        )
    for bus in infrastructure.buses:
        blocks.append(
            resource(
                "aws_cloudwatch_event_bus",
                naming.tf_id("bus", bus),
                {"name": naming.bus_name(project, bus)},
            )
        )
    for index, (topic, subscription) in enumerate(model.subscriptions(project)):
        body: dict[str, Value] = {
            "topic_arn": Ref(f"module.{naming.tf_id('topic', topic)}.arn"),
            "protocol": "sqs",
            "endpoint": Ref(f"{queue_ref(subscription.queue)}.arn"),
            "raw_message_delivery": subscription.raw,
        }
        if subscription.filter:
            body["filter_policy"] = subscription.filter
        blocks.append(
            resource(
                "aws_sns_topic_subscription", naming.tf_id("subscription", f"{topic}-{index}"), body
            )
        )
    for queue, topics in model.subscribed_queues(project).items():
        statement: dict[str, Value] = {
            "Sid": "TopicsSend",
            "Effect": "Allow",
            "Principal": {"Service": "sns.amazonaws.com"},
            "Action": "sqs:SendMessage",
            "Resource": Ref(f"{queue_ref(queue)}.arn"),
            "Condition": {
                "ArnEquals": {
                    "aws:SourceArn": [Ref(f"module.{naming.tf_id('topic', t)}.arn") for t in topics]
                }
            },
        }
        blocks.append(
            resource(
                "aws_sqs_queue_policy",
                naming.tf_id("queue", queue),
                {
                    "queue_url": Ref(f"{queue_ref(queue)}.url"),
                    "policy": jsonencode({"Version": "2012-10-17", "Statement": [statement]}),
                },
            )
        )
    return blocks


def _statements(infrastructure: Infrastructure, function: Function) -> list[Value]:
    region = infrastructure.project.region
    return [
        {
            "Sid": statement.sid,
            "Effect": "Allow",
            "Action": list(statement.actions),
            "Resource": [_resource(region, resource) for resource in statement.resources],
        }
        for statement in policy.statements(infrastructure, function)
    ]


def _resource(region: str, resource: policy.Resource) -> Value:
    if isinstance(resource, policy.Output):
        if resource.kind == "queue":
            return Ref(f"{queue_ref(resource.key)}.arn")
        if resource.kind == "stream":
            return Ref(f"{stream_ref(resource.key)}.arn")
        if resource.kind == "topic":
            return Ref(f"{topic_ref(resource.key)}.arn")
        if resource.kind == "project_table":
            return Ref(f"{table_ref(resource.key)}.arn")
        if resource.kind == "table_stream":
            return Ref(f"{table_ref(resource.key)}.stream_arn")
        if resource.kind == "websocket":
            api = websocket_ref(resource.key)
            return template(
                Ref(f"{api}.execution_arn"), f"/{model.WEBSOCKET_STAGE}/*/@connections/*"
            )
        return Ref("module.state_table.arn")
    if resource.regional:
        where: tuple[str | Ref, ...] = (f":{region}:", Ref("local.account_id"), ":")
    else:
        where = (":::",)
    return template(
        "arn:", Ref("local.partition"), f":{resource.service}", *where, resource.resource
    )


def _bucket(bucket: str, notifications: tuple[model.Notification, ...]) -> dict[str, Value]:
    items: list[Value] = []
    for notification in notifications:
        target = function_ref(notification.function)
        items.append(
            {
                "id": naming.statement_id(
                    "s3", notification.function.name, str(notification.index)
                ),
                "function_name": Ref(f"{target}.function_name"),
                "qualifier": Ref(f"{target}.qualifier"),
                "target_arn": Ref(f"{target}.target_arn"),
                "events": [model.S3_EVENTS[notification.event.on]],
                "prefix": notification.event.prefix,
                "suffix": notification.event.suffix,
            }
        )
    return {"name": bucket, "notifications": items}


def _api_id(project: Project) -> str:
    return "rest_api" if project.api.type == "rest" else "http_api"


def _api(infrastructure: Infrastructure, root: Root) -> None:
    project = infrastructure.project
    routes = infrastructure.routes
    if not routes and not project.proxies:
        return
    functions: dict[str, Value] = {}
    for route in routes:
        target = function_ref(route.function)
        functions[route.function.name] = {
            "function_name": Ref(f"{target}.function_name"),
            "qualifier": Ref(f"{target}.qualifier"),
            "invoke_arn": Ref(f"{target}.invoke_arn"),
        }
    if project.api.type == "rest":
        root.module(
            "rest_api",
            api_modules.REST_API,
            {
                "name": project.name,
                "stage": model.REST_STAGE,
                "binary_media_types": list(model.BINARY_MEDIA_TYPES),
                "body": jsonencode(_openapi(infrastructure, routes)),
                "functions": functions,
                "throttles": {
                    "*/*": _throttle(project.api.throttle),
                    **{
                        model.rest_method_path(r.path, r.method): _throttle(r.throttle)
                        for r in routes
                        if r.throttle
                    },
                },
            },
        )
        root.blocks.extend(access.rest_resources(infrastructure))
        return
    cors = project.api.cors
    root.module(
        "http_api",
        api_modules.HTTP_API,
        {
            "name": project.name,
            "log_retention_days": model.LOG_RETENTION_DAYS,
            "throttle": _throttle(project.api.throttle),
            "cors": None
            if cors is None
            else {
                "origins": list(cors.origins),
                "methods": list(cors.methods),
                "headers": list(cors.headers),
                "max_age": cors.max_age,
            },
            "authorizers": {
                auth.name: {
                    "issuer": auth.issuer,
                    "audience": list(auth.audience),
                    "identity": auth.identity,
                }
                for auth in infrastructure.authorizers
                if isinstance(auth, JwtAuth)
            },
            "lambda_authorizers": access.http_authorizers(infrastructure),
            "functions": functions,
            "routes": {
                route.key: {
                    "function": route.function.name,
                    "authorizer": route.auth.name if isinstance(route.auth, JwtAuth) else None,
                    "lambda_authorizer": route.auth.name
                    if isinstance(route.auth, LambdaAuth)
                    else None,
                    "throttle_rate": route.throttle.rate if route.throttle else None,
                    "throttle_burst": route.throttle.burst if route.throttle else None,
                    "scopes": list(route.scopes),
                }
                for route in routes
            },
            "proxies": {
                proxy.route.key: {
                    "method": integration_method(proxy),
                    "uri": proxy.url,
                    "timeout_ms": timeout_ms(proxy),
                }
                for proxy in project.proxies
            },
        },
    )


def _throttle(throttle: Throttle) -> Value:
    return {"rate": throttle.rate, "burst": throttle.burst}


def _integration(function: Function) -> Value:
    invoke_arn = f"{function_ref(function)}.invoke_arn"
    if not function.stream:
        return {"type": "aws_proxy", "httpMethod": "POST", "uri": Ref(invoke_arn)}
    # A streamed integration calls InvokeWithResponseStream instead of Invoke.
    uri = (
        f'replace(replace({invoke_arn}, "/2015-03-31/", "/2021-11-15/"), '
        '"/invocations", "/response-streaming-invocations")'
    )
    return {
        "type": "aws_proxy",
        "httpMethod": "POST",
        "uri": Ref(uri),
        "responseTransferMode": "STREAM",
    }


def _openapi(infrastructure: Infrastructure, routes: tuple[model.HttpRoute, ...]) -> Value:
    project = infrastructure.project
    paths: dict[str, dict[str, Value]] = {}
    for route in routes:
        method = "x-amazon-apigateway-any-method" if route.method == "ANY" else route.method.lower()
        operation: dict[str, Value] = {
            "x-amazon-apigateway-integration": _integration(route.function)
        }
        parameters = model.path_parameters(route.path)
        if parameters:
            operation["parameters"] = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in parameters
            ]
        required = access.security(route)
        if required is not None:
            operation["security"] = required
        paths.setdefault(route.path, {})[method] = operation
    for path, operations in rest_paths(project.proxies).items():
        paths.setdefault(path, {}).update(operations)
    document: dict[str, Value] = {
        "openapi": "3.0.1",
        "info": {"title": project.name, "version": "1"},
        "paths": paths,
    }
    schemes = access.security_schemes(infrastructure)
    if schemes:
        document["components"] = {"securitySchemes": schemes}
    return document
