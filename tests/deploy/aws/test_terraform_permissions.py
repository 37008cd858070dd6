"""The Lambda permissions the Terraform creates, expanded as Terraform expands their
``for_each``: every statement id is valid and unique among one function's permissions (a
repeated id fails ``terraform apply`` with a 409 conflict)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from faasport.config import load_project
from faasport.deploy.aws import plan
from faasport.deploy.options import Options
from iac import blocks, parse_tf
from projects import AWS_EVENTS, AWS_EVERY_KEY, project_dir

STATEMENT_ID = re.compile(r"[A-Za-z0-9_-]{1,100}")

LONG_TOPIC = "RESIZE-urgent-" + "x" * 120

TWO_BUCKETS = f"""
name = "media"

[functions.thumbs]
handler = "media.thumbs:handle"
events = [
  {{ bucket = "media-uploads", on = "created" }},
  {{ bucket = "media.archive", on = "created" }},
  {{ topic = "resize" }},
  {{ topic = "{LONG_TOPIC}" }},
  {{ schedule = "rate(1 hour)" }},
]

[functions.audit]
handler = "media.audit:handle"
events = [{{ bucket = "media-uploads", on = "removed" }}]
"""


def _instances(for_each: str, inputs: Mapping[str, Any]) -> dict[str, Any]:
    """The instances of a module resource's ``for_each``, from the module call's inputs."""
    if match := re.fullmatch(r"\$\{var\.(\w+)\}", for_each):
        return dict(inputs[match[1]])
    if match := re.fullmatch(r"\$\{\{ ?for (\w+) in var\.(\w+) ?: \1\.(\w+) => \1 ?\}\}", for_each):
        return {item[match[3]]: item for item in inputs[match[2]]}
    raise AssertionError(f"a for_each this test cannot expand: {for_each}")


def permissions(files: Mapping[str, str]) -> dict[str, list[str]]:
    """Every permission's statement id, by the function it is attached to."""
    found: dict[str, list[str]] = {}
    for call, inputs in blocks(parse_tf(files, ""), "module").items():
        module = parse_tf(files, inputs["source"].removeprefix("./"))
        declared = [
            body
            for block in module.get("resource", [])
            for body in block.get("aws_lambda_permission", {}).values()
        ]
        for body in declared:
            for key, value in _instances(body["for_each"], inputs).items():
                statement_id = body["statement_id"].replace("${each.key}", key)
                function = body["function_name"]
                if function == "${each.value.function_name}":
                    function = value["function_name"]
                else:
                    assert function == "${aws_lambda_function.this.function_name}"
                    function = f"${{module.{call}.function_name}}"
                found.setdefault(function, []).append(statement_id)
    return found


def _terraform(config: str, name: str, tmp_path: Path) -> dict[str, list[str]]:
    project = load_project(project_dir(name, {name: config}, tmp_path))
    return permissions(plan(project, Options(iac="terraform")).files)


def test_a_function_triggered_by_two_buckets_gets_distinct_statement_ids(tmp_path: Path) -> None:
    found = _terraform(TWO_BUCKETS, "media", tmp_path)
    thumbs = found["${module.function_thumbs.function_name}"]
    assert sorted(i for i in thumbs if i.startswith("s3-")) == ["s3-thumbs-0", "s3-thumbs-1"]
    assert len(thumbs) == 5
    assert found["${module.function_audit.function_name}"] == ["s3-audit-0"]
    for ids in found.values():
        assert len(set(ids)) == len(ids), ids
        for statement_id in ids:
            assert STATEMENT_ID.fullmatch(statement_id), statement_id


def test_every_key_project_statement_ids_are_unique(tmp_path: Path) -> None:
    found = _terraform(AWS_EVERY_KEY, "every-key", tmp_path)
    worker = found["${module.function_worker.function_name}"]
    assert sorted(worker) == [
        "s3-worker-3",
        "s3-worker-4",
        "s3-worker-6",
        "schedule-shop-worker-schedule0",
        "schedule-shop-worker-schedule1",
        "topic-alerts",
    ]
    assert found["${module.function_api.function_name}"] == ["api-gateway"]
    for ids in found.values():
        assert len(set(ids)) == len(ids), ids


def test_bus_rules_and_schedules_get_distinct_statement_ids(tmp_path: Path) -> None:
    config = AWS_EVENTS.replace(
        'events = [\n  { queue = "tasks.fifo"',
        'events = [\n  { schedule = "rate(1 hour)" },\n  { queue = "tasks.fifo"',
    )
    found = _terraform(config, "events", tmp_path)
    assert sorted(found["${module.function_orders.function_name}"]) == [
        "rule-flow-orders-rule0",
        "rule-flow-orders-rule1",
        "schedule-flow-orders-schedule0",
        "topic-orders",
    ]
    assert found["${module.function_audit.function_name}"] == ["rule-flow-audit-rule0"]
    for ids in found.values():
        assert len(set(ids)) == len(ids), ids
        for statement_id in ids:
            assert STATEMENT_ID.fullmatch(statement_id), statement_id
