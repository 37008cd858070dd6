"""CloudFormation building blocks: intrinsic functions, the resource table, scanner skips."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from faasport.core.errors import FaasportError
from faasport.deploy.aws.model import ALARM_PERIOD, Alarm
from faasport.deploy.aws.naming import logical_id
from faasport.deploy.aws.skip_reasons import REASONS
from faasport.deploy.aws.yaml_text import Data

Resources = dict[str, dict[str, Data]]


def ref(logical_id: str) -> Data:
    return {"Ref": logical_id}


def arn(logical_id: str) -> Data:
    return {"Fn::GetAtt": [logical_id, "Arn"]}


def sub(text: str) -> Data:
    return {"Fn::Sub": text}


def literal(text: str) -> str:
    """``text`` inside an ``Fn::Sub`` string, where ``${`` would start a variable."""
    return text.replace("${", "${!")


def resource(
    kind: str,
    properties: Mapping[str, Data],
    *,
    skip: tuple[str, ...] = (),
    on_delete: Literal["Delete", "Retain"] | None = None,
) -> dict[str, Data]:
    """A resource of type ``kind``; ``skip`` names the checkov checks that do not apply to
    it, each with its reason from :data:`faasport.deploy.aws.skip_reasons.REASONS`. Resources
    that hold data say what happens to it on deletion or replacement (``on_delete``)."""
    body: dict[str, Data] = {"Type": kind}
    if on_delete:
        body["DeletionPolicy"] = on_delete
        body["UpdateReplacePolicy"] = on_delete
    if skip:
        checks = [{"id": check, "comment": REASONS[check]} for check in skip]
        body["Metadata"] = {"checkov": {"skip": checks}}
    body["Properties"] = dict(properties)
    return body


def alarm(name: str, namespace: str, dimension: tuple[str, Data], alarm: Alarm) -> dict[str, Data]:
    """An alarm on one metric of one resource (``dimension``), notifying the alarm topic."""
    return resource(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": name,
            "Namespace": namespace,
            "MetricName": alarm.metric,
            "Dimensions": [{"Name": dimension[0], "Value": dimension[1]}],
            "Statistic": alarm.statistic,
            "Period": ALARM_PERIOD,
            "EvaluationPeriods": 1,
            "Threshold": alarm.threshold,
            "ComparisonOperator": "GreaterThanOrEqualToThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": [ref(ALARM_TOPIC)],
        },
    )


def add(resources: Resources, more: Resources) -> None:
    """Add ``more`` to ``resources``; two names that make one logical id are an error."""
    for name, body in more.items():
        if name in resources:
            raise FaasportError(
                f"two resources would both be named {name} in the CloudFormation "
                "template; rename one of the functions, queues, topics or buckets"
            )
        resources[name] = body


# -- logical ids -------------------------------------------------------------------------------

STATE_TABLE = "StateTable"
ALARM_TOPIC = "AlarmTopic"
HTTP_API = "HttpApi"
REST_API = "RestApi"
API_LOGS = "ApiAccessLogs"


def function_id(name: str) -> str:
    return logical_id(name, "Function")


def queue_id(key: str) -> str:
    return logical_id(key, "Queue")


def topic_id(name: str) -> str:
    return logical_id(name, "Topic")


def bucket_id(name: str) -> str:
    return logical_id(name, "Bucket")


def authorizer_id(name: str) -> str:
    return logical_id(name, "Authorizer")


def stream_id(name: str) -> str:
    return logical_id(name, "Stream")


def table_id(name: str) -> str:
    return logical_id(name, "Table")


def bus_id(name: str) -> str:
    return logical_id(name, "Bus")
