"""The event sources beyond the basics in the Terraform configuration, read back with
python-hcl2: FIFO and delayed queues, stream mappings, bus rules, topic filters and queue
subscriptions, on-failure destinations, and the module inputs that carry them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from faasport.config import load_project
from faasport.deploy.aws import plan
from faasport.deploy.options import Options
from iac import blocks, parse_tf, resources, unquote
from projects import AWS_EVENTS, project_dir


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("events")
    project = load_project(project_dir("events", {"events": AWS_EVENTS}, tmp))
    return dict(plan(project, Options(iac="terraform")).files)


def calls(files: dict[str, str]) -> dict[str, Any]:
    return {name: unquote(body) for name, body in blocks(parse_tf(files, ""), "module").items()}


def test_fifo_and_delayed_queues(files: dict[str, str]) -> None:
    found = calls(files)
    tasks, dead = found["queue_tasks_fifo"], found["queue_tasks_dlq_fifo"]
    assert (tasks["name"], tasks["fifo"], tasks["content_dedup"]) == ("flow-tasks.fifo", True, True)
    assert (dead["name"], dead["fifo"]) == ("flow-tasks-dlq.fifo", True)
    assert (found["queue_later"]["delay"], found["queue_later"]["fifo"]) == (30, False)
    queue = unquote(resources({"m.tf": files["modules/queue/main.tf"]})["aws_sqs_queue"]["this"])
    assert queue["fifo_queue"] == "${var.fifo}"
    assert queue["delay_seconds"] == "${var.delay}"


def test_streams_are_encrypted_and_mapped_with_their_settings(files: dict[str, str]) -> None:
    root = {k: unquote(v) for k, v in resources({"main.tf": files["main.tf"]}).items()}
    stream = root["aws_kinesis_stream"]["stream_clicks"]
    assert (stream["name"], stream["encryption_type"], stream["kms_key_id"]) == (
        "flow-clicks",
        "KMS",
        "alias/aws/kinesis",
    )
    orders = calls(files)["function_orders"]
    assert orders["stream_sources"] == {
        "0": {
            "arn": "${aws_kinesis_stream.stream_clicks.arn}",
            "batch_size": 100,
            "starting_position": "TRIM_HORIZON",
            "bisect": True,
            "retries": 3,
            "on_failure_arn": "${module.queue_notes.arn}",
        }
    }
    module = parse_tf(files, "modules/function")
    mapping = unquote(
        next(
            block["aws_lambda_event_source_mapping"]["stream"]
            for block in module["resource"]
            if "stream" in block.get("aws_lambda_event_source_mapping", {})
        )
    )
    assert mapping["bisect_batch_on_function_error"] == "${each.value.bisect}"
    assert mapping["maximum_retry_attempts"] == "${each.value.retries}"
    assert mapping["function_response_types"] == ["ReportBatchItemFailures"]
    assert "destination_config" in mapping["dynamic"][0]


def test_bus_rules_topic_filters_and_on_failure(files: dict[str, str]) -> None:
    found = calls(files)
    orders, audit = found["function_orders"], found["function_audit"]
    rules = {name: (r["bus"], json.loads(r["pattern"])) for name, r in orders["bus_rules"].items()}
    assert rules == {
        "flow-orders-rule0": (
            "default",
            {"detail": {"status": ["paid"]}, "source": ["app.orders"]},
        ),
        "flow-orders-rule1": (
            "${aws_cloudwatch_event_bus.bus_shop.name}",
            {"source": ["app.shop"]},
        ),
    }
    assert json.loads(orders["topic_filters"]["topic-orders"]) == {
        "kind": ["refund"],
        "total": [{"numeric": [">=", 100]}],
    }
    assert orders["on_failure_arn"] == "${module.queue_notes.arn}"
    assert audit["on_failure_arn"] == (
        "arn:${local.partition}:lambda:us-east-1:${local.account_id}:function:flow-orders"
    )
    root = {k: unquote(v) for k, v in resources({"main.tf": files["main.tf"]}).items()}
    [subscription] = root["aws_sns_topic_subscription"].values()
    assert subscription["endpoint"] == "${module.queue_refunds.arn}"
    assert subscription["raw_message_delivery"] is True
    assert json.loads(subscription["filter_policy"]) == {"kind": ["refund"]}
    assert "queue_refunds" in root["aws_sqs_queue_policy"]
    assert root["aws_cloudwatch_event_bus"]["bus_shop"]["name"] == "flow-shop"
