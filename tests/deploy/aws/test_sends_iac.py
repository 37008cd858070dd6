"""``sends`` in the AWS infrastructure: each target's address in the function's environment
and exactly the permission to send there, the same in SAM and Terraform; cfn-lint finds
nothing in the template."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from cfnlint.api import ManualArgs, lint

from faasport.config import load_project
from faasport.deploy.aws import plan
from faasport.deploy.options import Options
from iac import blocks, parse_tf
from projects import write_project

CONFIG = """
name = "shop"

[queues.jobs]

[topics.order-paid]

[functions.reader]
handler = "shop:read"
events = [{ stream = "clicks" }]

[functions.api]
handler = "shop:api"
sends = ["topic:order-paid", "stream:clicks", "queue:jobs"]
"""


class Loader(yaml.SafeLoader):
    """CloudFormation's short forms as ``{"Ref": x}`` / ``{"Fn::GetAtt": [...]}``."""


Loader.add_constructor("!Ref", lambda loader, node: {"Ref": loader.construct_scalar(node)})
Loader.add_constructor(
    "!GetAtt", lambda loader, node: {"Fn::GetAtt": loader.construct_scalar(node).split(".")}
)
Loader.add_constructor("!Sub", lambda loader, node: {"Fn::Sub": loader.construct_scalar(node)})


def _sam(tmp_path: Path) -> tuple[str, dict[str, Any]]:
    project = load_project(write_project(tmp_path, CONFIG))
    text = plan(project, Options(iac="sam")).files["template.yaml"]
    return text, yaml.load(text, Loader)


def _statements(role: dict[str, Any]) -> dict[str, Any]:
    [document] = role["Properties"]["Policies"]
    return {s["Sid"]: s for s in document["PolicyDocument"]["Statement"]}


def test_sam_gives_the_addresses_and_only_the_permission_to_send(tmp_path: Path) -> None:
    text, template = _sam(tmp_path)
    resources = template["Resources"]
    variables = resources["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert variables == {
        "FAASPORT_TOPIC_ORDER_PAID": {"Ref": "OrderPaidTopic"},  # Ref of a topic: its ARN
        "FAASPORT_STREAM_CLICKS": "shop-clicks",
        "FAASPORT_QUEUE_JOBS": {"Ref": "JobsQueue"},  # Ref of a queue: its URL
    }
    statements = _statements(resources["ApiRole"])
    assert statements["PublishToTopics"]["Action"] == ["sns:Publish"]
    assert statements["PublishToTopics"]["Resource"] == [{"Ref": "OrderPaidTopic"}]
    assert statements["PutToStreams"]["Action"] == ["kinesis:PutRecord", "kinesis:PutRecords"]
    assert statements["PutToStreams"]["Resource"] == [{"Fn::GetAtt": ["ClicksStream", "Arn"]}]
    assert statements["SendToQueues"]["Resource"] == [{"Fn::GetAtt": ["JobsQueue", "Arn"]}]
    # The reader reads the stream; it was given nothing to send to.
    reader = _statements(resources["ReaderRole"])
    assert not {"PublishToTopics", "PutToStreams", "SendToQueues"} & set(reader)
    assert "Environment" not in resources["ReaderFunction"]["Properties"]
    matches = lint(text, config=ManualArgs(regions=["us-east-1"], include_checks=["I"]))
    assert [str(match) for match in matches] == []


def test_terraform_gives_the_same(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path, CONFIG))
    files = plan(project, Options(iac="terraform")).files
    modules = blocks(parse_tf(files, ""), "module")
    api = next(m for m in modules.values() if m.get("name") == "shop-api")
    assert api["environment"] == {
        "FAASPORT_TOPIC_ORDER_PAID": "${module.topic_order_paid.arn}",
        "FAASPORT_STREAM_CLICKS": "shop-clicks",
        "FAASPORT_QUEUE_JOBS": "${module.queue_jobs.url}",
    }
    policy = api["policy"]
    text = json.dumps(policy)
    for expected in (
        "sns:Publish",
        "module.topic_order_paid.arn",
        "kinesis:PutRecords",
        "aws_kinesis_stream.stream_clicks.arn",
        "SendToQueues",
        "module.queue_jobs.arn",
    ):
        assert expected in text, expected
    assert {"topic_order_paid", "queue_jobs"} <= set(modules)
