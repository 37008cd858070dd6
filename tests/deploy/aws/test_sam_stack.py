"""The SAM templates as ``sam deploy`` turns them into a stack: transformed by
aws-sam-translator (the transform CloudFormation runs), then created on moto's standalone
CloudFormation. Properties are read back through the services' APIs where moto models the
resource, and from the transformed template where it does not (HTTP APIs, aliases)."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
import yaml
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.utils.py27hash_fix import (
    to_py27_compatible_template,
    undo_mark_unicode_str_in_template,
)

from faasport.config import load_project
from faasport.config.model import Project
from faasport.deploy.aws import plan
from projects import AWS_EVENTS, AWS_EVERY_KEY, AWS_REST, project_dir
from servers import moto_server

CONFIGS = {"every-key": AWS_EVERY_KEY, "rest": AWS_REST, "events": AWS_EVENTS}
PROJECTS = ("phoney", "every-key", "rest", "events")


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


class Stack:
    """One project's template, transformed, and the stack created from it."""

    def __init__(self, project: Project, moto_url: str) -> None:
        self.project = project
        self.moto_url = moto_url
        self.code_bucket = f"code-{project.name}"
        self.sam = yaml.safe_load(plan(project).files["template.yaml"])
        self.transformed = self._transform()
        self.resources: dict[str, dict[str, Any]] = self.transformed["Resources"]
        self.status, self.reason = self._create()

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            region_name=self.project.region,
            endpoint_url=self.moto_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    def of_type(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v.get("Properties", {}) for k, v in self.resources.items() if v["Type"] == kind}

    def _transform(self) -> dict[str, Any]:
        # What `sam deploy` does first: upload the artifact, point CodeUri at it.
        template = json.loads(json.dumps(self.sam))
        for resource in template["Resources"].values():
            if resource["Type"] == "AWS::Serverless::Function":
                uri = resource["Properties"]["CodeUri"]
                assert uri == f"../../dist/aws/{self.project.name}.zip"
                resource["Properties"]["CodeUri"] = f"s3://{self.code_bucket}/app.zip"
        to_py27_compatible_template(template, {})
        session = boto3.session.Session(region_name=self.project.region)
        translated = Translator(None, Parser(), boto_session=session).translate(
            template, parameter_values={}, get_managed_policy_map=dict
        )
        return undo_mark_unicode_str_in_template(translated)  # type: ignore[no-any-return]

    def _create(self) -> tuple[str, str]:
        s3 = self.client("s3")
        where = {}
        if self.project.region != "us-east-1":
            where = {"CreateBucketConfiguration": {"LocationConstraint": self.project.region}}
        s3.create_bucket(Bucket=self.code_bucket, **where)
        archive = io.BytesIO()
        with zipfile.ZipFile(archive, "w") as zipped:
            zipped.writestr("faasport_handler.py", "")
        s3.put_object(Bucket=self.code_bucket, Key="app.zip", Body=archive.getvalue())
        cloudformation = self.client("cloudformation")
        cloudformation.create_stack(
            StackName=self.project.name,
            TemplateBody=json.dumps(_for_moto(self.transformed)),
            Capabilities=["CAPABILITY_IAM"],
        )
        stack = cloudformation.describe_stacks(StackName=self.project.name)["Stacks"][0]
        return stack["StackStatus"], stack.get("StackStatusReason", "")


#: What moto's CloudFormation cannot create: aliases and versions (it has no such resource
#: types), and a REST API's deployment and stage (it does not import the API's OpenAPI body,
#: so the API has no methods to deploy). The test reads these in the transformed template.
NOT_IN_MOTO = (
    "AWS::Lambda::Alias",
    "AWS::Lambda::Version",
    "AWS::ApiGateway::Deployment",
    "AWS::ApiGateway::Stage",
)


def _for_moto(template: dict[str, Any]) -> dict[str, Any]:
    """The transformed template without :data:`NOT_IN_MOTO`; what refers to an alias refers
    to its function instead."""
    resources = template["Resources"]
    stand_in = {
        name: body["Properties"]["FunctionName"]
        for name, body in resources.items()
        if body["Type"] == "AWS::Lambda::Alias"
    }

    def swap(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Ref"} and value["Ref"] in stand_in:
                return stand_in[value["Ref"]]
            if "Fn::Sub" in value and isinstance(value["Fn::Sub"], str):
                text = value["Fn::Sub"]
                for alias, function in stand_in.items():
                    text = text.replace(f"${{{alias}}}", f"${{{function['Ref']}.Arn}}")
                return {"Fn::Sub": text}
            return {key: swap(item) for key, item in value.items()}
        if isinstance(value, list):
            return [swap(item) for item in value]
        return value

    kept = {name: swap(body) for name, body in resources.items() if body["Type"] not in NOT_IN_MOTO}
    for body in kept.values():
        depends = body.get("DependsOn")
        if isinstance(depends, list):
            body["DependsOn"] = [d for d in depends if d in kept]
    return {**template, "Resources": kept}


@pytest.fixture(scope="module")
def stacks(moto_url: str, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Stack]:
    tmp = tmp_path_factory.mktemp("projects")
    return {
        name: Stack(load_project(project_dir(name, CONFIGS, tmp)), moto_url) for name in PROJECTS
    }


@pytest.mark.parametrize("name", PROJECTS)
def test_the_stack_is_created(stacks: dict[str, Stack], name: str) -> None:
    stack = stacks[name]
    assert (stack.status, stack.reason) == ("CREATE_COMPLETE", "")
    cloudformation = stack.client("cloudformation")
    summaries = cloudformation.list_stack_resources(StackName=stack.project.name)
    statuses = {s["ResourceStatus"] for s in summaries["StackResourceSummaries"]}
    assert statuses == {"CREATE_COMPLETE"}


def test_functions_are_created_as_configured(stacks: dict[str, Stack]) -> None:
    lambda_ = stacks["every-key"].client("lambda")
    api = lambda_.get_function(FunctionName="shop-api")
    config = api["Configuration"]
    assert (config["MemorySize"], config["Timeout"], config["Runtime"]) == (1024, 20, "python3.12")
    assert config["Handler"] == "faasport_handler.api"
    # moto keeps x86_64 and PassThrough whatever the template says: read these there.
    functions = stacks["every-key"].of_type("AWS::Lambda::Function")
    assert functions["ApiFunction"]["Architectures"] == ["arm64"]
    assert functions["ApiFunction"]["TracingConfig"] == {"Mode": "Active"}
    assert config["Environment"]["Variables"] == {
        "LOG_LEVEL": "INFO",
        "STAGE": "prod",
        "FAASPORT_STATE_URL": "dynamodb://shop-state?region=eu-west-1",
    }
    # Reserved only where reserved_concurrency asks; concurrency alone reserves nothing.
    assert api["Concurrency"] == {"ReservedConcurrentExecutions": 5}
    for name in ("shop-public", "shop-worker"):
        assert "Concurrency" not in lambda_.get_function(FunctionName=name)
    for name in ("legacy-api", "phoney-api", "phoney-worker"):
        stack = stacks["rest" if name.startswith("legacy") else "phoney"]
        assert "Concurrency" not in stack.client("lambda").get_function(FunctionName=name)


def test_provisioned_environments_sit_behind_an_alias(stacks: dict[str, Stack]) -> None:
    aliases = stacks["every-key"].of_type("AWS::Lambda::Alias")
    assert [alias.get("ProvisionedConcurrencyConfig") for alias in aliases.values()] == [
        {"ProvisionedConcurrentExecutions": 2},
        None,  # shop-public's, for SnapStart
    ]


def test_snapstart_applies_to_the_published_versions_behind_an_alias(
    stacks: dict[str, Stack],
) -> None:
    stack = stacks["every-key"]
    functions = stack.of_type("AWS::Lambda::Function")
    snapstart = {k: f["SnapStart"] for k, f in functions.items() if "SnapStart" in f}
    assert snapstart == {"PublicFunction": {"ApplyOn": "PublishedVersions"}}
    aliases = stack.of_type("AWS::Lambda::Alias")
    assert {alias["FunctionName"]["Ref"] for alias in aliases.values()} == {
        "ApiFunction",
        "PublicFunction",
    }
    assert [v for v in stack.of_type("AWS::Lambda::Version").values() if v]


def _queue(stack: Stack, name: str) -> dict[str, Any]:
    sqs = stack.client("sqs")
    url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    attributes: dict[str, Any] = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])[
        "Attributes"
    ]
    return attributes


def test_every_queue_has_a_dead_letter_queue_unless_it_opts_out(stacks: dict[str, Stack]) -> None:
    stack = stacks["every-key"]
    arn = "arn:aws:sqs:eu-west-1:123456789012:"
    redrive = {
        name: json.loads(_queue(stack, name).get("RedrivePolicy", "null"))
        for name in ("shop-jobs", "shop-mail", "shop-audit", "shop-jobs-dlq", "shop-mail-dlq")
    }
    assert redrive == {
        "shop-jobs": {"deadLetterTargetArn": f"{arn}shop-jobs-dlq", "maxReceiveCount": 5},
        "shop-mail": {"deadLetterTargetArn": f"{arn}shop-mail-dlq", "maxReceiveCount": 3},
        "shop-audit": None,  # dlq = false
        "shop-jobs-dlq": None,
        "shop-mail-dlq": None,
    }
    assert _queue(stack, "shop-mail")["VisibilityTimeout"] == "60"
    assert _queue(stack, "shop-mail-dlq")["MessageRetentionPeriod"] == str(14 * 24 * 3600)
    phoney = json.loads(_queue(stacks["phoney"], "phoney-jobs")["RedrivePolicy"])
    assert phoney["deadLetterTargetArn"].endswith(":phoney-jobs-dlq")


def test_dead_letter_queues_raise_an_alarm_when_a_message_waits(stacks: dict[str, Stack]) -> None:
    # moto's CloudFormation does not create alarms: read them in the transformed template.
    alarms = stacks["every-key"].of_type("AWS::CloudWatch::Alarm").values()
    depth = {
        alarm["AlarmName"]: (
            alarm["Namespace"],
            alarm["MetricName"],
            alarm["Dimensions"],
            alarm["Threshold"],
            alarm["AlarmActions"],
        )
        for alarm in alarms
        if alarm["Namespace"] == "AWS/SQS"
    }
    assert depth == {
        f"{queue}-depth": (
            "AWS/SQS",
            "ApproximateNumberOfMessagesVisible",
            [{"Name": "QueueName", "Value": queue}],
            1,
            [{"Ref": "AlarmTopic"}],
        )
        for queue in ("shop-jobs-dlq", "shop-mail-dlq", "shop-worker-failures")
    }


def test_triggers_and_their_permissions(stacks: dict[str, Stack]) -> None:
    stack = stacks["every-key"]
    lambda_ = stack.client("lambda")
    mappings = lambda_.list_event_source_mappings(FunctionName="shop-worker")
    assert [
        (m["EventSourceArn"].rpartition(":")[2], m["BatchSize"])
        for m in mappings["EventSourceMappings"]
    ] == [("shop-jobs", 50)]
    rules = stack.client("events").list_rules()["Rules"]
    assert sorted((rule["Name"], rule["ScheduleExpression"]) for rule in rules) == [
        ("shop-worker-schedule0", "rate(5 minutes)"),
        ("shop-worker-schedule1", "cron(0 12 * * ? *)"),
    ]
    statements = json.loads(lambda_.get_policy(FunctionName="shop-worker")["Policy"])["Statement"]
    principals = sorted(statement["Principal"]["Service"] for statement in statements)
    assert principals == ["events.amazonaws.com"] * 2 + ["s3.amazonaws.com"] * 3 + [
        "sns.amazonaws.com"
    ]
    assert len({statement["Sid"] for statement in statements}) == len(statements)


def test_the_state_table(stacks: dict[str, Stack]) -> None:
    table = stacks["every-key"].client("dynamodb").describe_table(TableName="shop-state")["Table"]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]


@pytest.mark.parametrize("name", ["phoney", "every-key"])
def test_http_apis_have_only_the_default_stage_throttled(
    stacks: dict[str, Stack], name: str
) -> None:
    # moto's CloudFormation does not create HTTP APIs: read the transformed template.
    stages = stacks[name].of_type("AWS::ApiGatewayV2::Stage").values()
    throttle = (
        {"rate": 500.0, "burst": 1000}
        if name == "every-key"
        else {
            "rate": 10000.0,
            "burst": 5000,
        }
    )
    assert [
        (
            stage["StageName"],
            stage["DefaultRouteSettings"]["ThrottlingRateLimit"],
            stage["DefaultRouteSettings"]["ThrottlingBurstLimit"],
        )
        for stage in stages
    ] == [("$default", throttle["rate"], throttle["burst"])]


def test_rest_apis_have_only_the_configured_stage(stacks: dict[str, Stack]) -> None:
    stack = stacks["rest"]
    stages = stack.of_type("AWS::ApiGateway::Stage")
    assert [stage["StageName"] for stage in stages.values()] == ["prod"]
    # A deployment with a StageName makes a stage of its own (SAM's unthrottled "Stage").
    deployments = stack.of_type("AWS::ApiGateway::Deployment").values()
    assert [deployment.get("StageName") for deployment in deployments] == [None]
    (prod,) = stages.values()
    assert prod["MethodSettings"][0] == {
        "ResourcePath": "/*",
        "HttpMethod": "*",
        "ThrottlingRateLimit": 10000.0,
        "ThrottlingBurstLimit": 5000,
    }


def test_rest_apis_pass_binary_bodies(stacks: dict[str, Stack]) -> None:
    stack = stacks["rest"]
    (api,) = stack.of_type("AWS::ApiGateway::RestApi").values()
    assert api["BinaryMediaTypes"] == ["*~1*"]  # CloudFormation's spelling of */*
    assert api["Body"]["x-amazon-apigateway-binary-media-types"] == ["*/*"]
    created = stack.client("apigateway").get_rest_apis()["items"]
    assert [item["name"] for item in created] == ["legacy"]


# -- the event sources of the "events" project -------------------------------------------------


def test_fifo_and_delayed_queues(stacks: dict[str, Stack]) -> None:
    stack = stacks["events"]
    fifo = _queue(stack, "flow-tasks.fifo")
    assert (fifo["FifoQueue"], fifo["ContentBasedDeduplication"]) == ("true", "true")
    redrive = json.loads(fifo["RedrivePolicy"])
    assert redrive["deadLetterTargetArn"].endswith(":flow-tasks-dlq.fifo")
    assert _queue(stack, "flow-tasks-dlq.fifo")["FifoQueue"] == "true"
    assert _queue(stack, "flow-later")["DelaySeconds"] == "30"
    assert _queue(stack, "flow-refunds").get("FifoQueue", "false") == "false"


def test_queue_and_stream_mappings_carry_their_settings(stacks: dict[str, Stack]) -> None:
    stack = stacks["events"]
    lambda_ = stack.client("lambda")
    mappings = {
        m["EventSourceArn"].rpartition(":")[2]: m
        for m in lambda_.list_event_source_mappings(FunctionName="flow-orders")[
            "EventSourceMappings"
        ]
    }
    assert set(mappings) == {"flow-tasks.fifo", "flow-later", "stream/flow-clicks"}
    assert mappings["flow-tasks.fifo"]["BatchSize"] == 5
    later = mappings["flow-later"]
    assert (later["BatchSize"], later["MaximumBatchingWindowInSeconds"]) == (20, 5)
    # moto keeps only some of a stream mapping's settings: read the rest in the template.
    assert mappings["stream/flow-clicks"]["BatchSize"] == 100
    audit = lambda_.list_event_source_mappings(FunctionName="flow-audit")["EventSourceMappings"]
    assert sorted(m["BatchSize"] for m in audit) == [10, 50]
    table = stack.client("dynamodb").describe_table(TableName="flow-ledger")["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "account", "KeyType": "HASH"},
        {"AttributeName": "at", "KeyType": "RANGE"},
    ]
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    [ledger] = [m for m in audit if m["BatchSize"] == 50]
    assert ledger["EventSourceArn"] == table["LatestStreamArn"]
    settings = {
        props["EventSourceArn"]["Fn::GetAtt"][0]: props
        for props in stack.of_type("AWS::Lambda::EventSourceMapping").values()
        if props["FunctionName"] == {"Ref": "OrdersFunction"}
    }
    clicks = settings["ClicksStream"]
    assert clicks["StartingPosition"] == "TRIM_HORIZON"
    assert clicks["BisectBatchOnFunctionError"] is True
    assert clicks["MaximumRetryAttempts"] == 3
    assert clicks["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert clicks["DestinationConfig"] == {
        "OnFailure": {"Destination": {"Fn::GetAtt": ["NotesQueue", "Arn"]}}
    }
    stream = stack.client("kinesis").describe_stream(StreamName="flow-clicks")
    assert stream["StreamDescription"]["StreamStatus"] == "ACTIVE"
    # moto's CloudFormation leaves the stream unencrypted whatever the template says.
    [template] = stack.of_type("AWS::Kinesis::Stream").values()
    assert template["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}


def test_bus_rules_invoke_their_function(stacks: dict[str, Stack]) -> None:
    stack = stacks["events"]
    events = stack.client("events")
    assert [bus["Name"] for bus in events.list_event_buses()["EventBuses"]] == [
        "default",
        "flow-shop",
    ]
    patterns = {
        rule["Name"]: json.loads(rule["EventPattern"])
        for bus in ("default", "flow-shop")
        for rule in events.list_rules(EventBusName=bus)["Rules"]
    }
    assert patterns == {
        "flow-orders-rule0": {"detail": {"status": ["paid"]}, "source": ["app.orders"]},
        "flow-orders-rule1": {"source": ["app.shop"]},
        "flow-audit-rule0": {"detail-type": ["audit"]},
    }
    targets = events.list_targets_by_rule(Rule="flow-orders-rule1", EventBusName="flow-shop")
    assert [t["Arn"].rpartition(":")[2] for t in targets["Targets"]] == ["flow-orders"]
    statements = json.loads(
        stack.client("lambda").get_policy(FunctionName="flow-orders")["Policy"]
    )["Statement"]
    principals = sorted(statement["Principal"]["Service"] for statement in statements)
    assert principals == ["events.amazonaws.com"] * 2 + ["sns.amazonaws.com"]
    assert len({statement["Sid"] for statement in statements}) == len(statements)


def test_topic_filters_and_queue_subscriptions(stacks: dict[str, Stack]) -> None:
    # moto's CloudFormation creates no subscriptions nor queue policies: read the template.
    stack = stacks["events"]
    subscriptions = {
        props["Protocol"]: props for props in stack.of_type("AWS::SNS::Subscription").values()
    }
    assert set(subscriptions) == {"lambda", "sqs"}
    function = subscriptions["lambda"]
    assert function["TopicArn"] == {"Ref": "OrdersTopic"}
    assert function["FilterPolicy"] == {"kind": ["refund"], "total": [{"numeric": [">=", 100]}]}
    queue = subscriptions["sqs"]
    assert queue["Endpoint"] == {"Fn::GetAtt": ["RefundsQueue", "Arn"]}
    assert (queue["RawMessageDelivery"], queue["FilterPolicy"]) == (True, {"kind": ["refund"]})
    [policy] = stack.of_type("AWS::SQS::QueuePolicy").values()
    assert policy["Queues"] == [{"Ref": "RefundsQueue"}]
    [statement] = policy["PolicyDocument"]["Statement"]
    assert (statement["Principal"], statement["Action"]) == (
        {"Service": "sns.amazonaws.com"},
        "sqs:SendMessage",
    )
    assert statement["Condition"] == {"ArnEquals": {"aws:SourceArn": [{"Ref": "OrdersTopic"}]}}
    topics = [t["TopicArn"].rpartition(":")[2] for t in stack.client("sns").list_topics()["Topics"]]
    assert "flow-orders" in topics


def test_on_failure_destinations_and_their_permissions(stacks: dict[str, Stack]) -> None:
    stack = stacks["events"]
    # moto's CloudFormation creates no EventInvokeConfig: read the transformed template.
    configs = {
        props["FunctionName"]["Ref"]: props["DestinationConfig"]["OnFailure"]["Destination"]
        for props in stack.of_type("AWS::Lambda::EventInvokeConfig").values()
    }
    assert configs["OrdersFunction"] == {"Fn::GetAtt": ["NotesQueue", "Arn"]}
    # The translator resolves the partition and region it knows.
    assert configs["AuditFunction"] == {
        "Fn::Sub": "arn:aws:lambda:us-east-1:${AWS::AccountId}:function:flow-orders"
    }
    roles = stack.of_type("AWS::IAM::Role")
    grants = {
        function: {
            statement["Sid"]: statement["Resource"]
            for statement in roles[f"{function}Role"]["Policies"][0]["PolicyDocument"]["Statement"]
        }
        for function in ("Orders", "Audit")
    }
    assert grants["Orders"]["SendFailureNotes"] == [{"Fn::GetAtt": ["NotesQueue", "Arn"]}]
    function_arn = "arn:${AWS::Partition}:lambda:${AWS::Region}:${AWS::AccountId}:function:"
    assert grants["Audit"]["InvokeOnFailure"] == [{"Fn::Sub": f"{function_arn}flow-orders"}]
    assert "SendFailureNotes" not in grants["Audit"]


def test_streaming_functions_as_sam_transforms_them(stacks: dict[str, Stack]) -> None:
    (api,) = stacks["rest"].of_type("AWS::ApiGateway::RestApi").values()
    integrations = [
        operation["x-amazon-apigateway-integration"]
        for operations in api["Body"]["paths"].values()
        for operation in operations.values()
    ]
    assert integrations
    for integration in integrations:
        assert integration["responseTransferMode"] == "STREAM"
        assert "/response-streaming-invocations" in json.dumps(integration["uri"])
    (url,) = stacks["every-key"].of_type("AWS::Lambda::Url").values()
    assert (url["InvokeMode"], url["AuthType"]) == ("RESPONSE_STREAM", "AWS_IAM")
