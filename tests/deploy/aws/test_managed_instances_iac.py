"""Lambda Managed Instances in the AWS infrastructure: ``capacity_provider`` and
``max_concurrency`` become SAM's ``CapacityProviderConfig`` and Terraform's
``capacity_provider_config`` block (both attach published versions, so the function gets its
alias), linted as every generated template is; and the combinations Lambda refuses are
refused before anything is written."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import ManualArgs, lint

from faasport.config import load_project
from faasport.core.errors import ConfigError
from faasport.deploy.aws import plan
from faasport.deploy.options import Options
from iac import blocks, parse_tf, run_checkov, write_files
from projects import write_project

ARN = "arn:aws:lambda:eu-west-1:123456789012:capacity-provider:shared"

CONFIG = f"""
name = "slots"
region = "eu-west-1"

[functions.api]
app = "slots.main:app"
max_concurrency = 16
capacity_provider = "{ARN}"

[functions.plain]
app = "slots.main:app"
routes = ["GET /plain"]
"""


@pytest.fixture
def project(tmp_path: Path) -> Any:
    return load_project(write_project(tmp_path / "slots", CONFIG))


def test_sam_attaches_the_function_to_its_capacity_provider(project: Any) -> None:
    template_text = plan(project, Options(iac="sam")).files["template.yaml"]
    resources = yaml.safe_load(template_text)["Resources"]
    api = resources["ApiFunction"]["Properties"]
    assert api["CapacityProviderConfig"] == {
        "Arn": ARN,
        "PerExecutionEnvironmentMaxConcurrency": 16,
    }
    assert api["AutoPublishAlias"] == "live"
    plain = resources["PlainFunction"]["Properties"]
    assert "CapacityProviderConfig" not in plain and "AutoPublishAlias" not in plain
    matches = lint(template_text, config=ManualArgs(regions=["eu-west-1"], include_checks=["I"]))
    assert [str(match) for match in matches] == []


def test_cfn_lint_knows_the_property(project: Any) -> None:
    """The lint above can fail: a concurrency Lambda refuses is caught."""
    template_text = plan(project, Options(iac="sam")).files["template.yaml"]
    broken = template_text.replace("PerExecutionEnvironmentMaxConcurrency: 16", "X: 16")
    assert broken != template_text
    assert lint(broken, config=ManualArgs(regions=["eu-west-1"]))


def test_terraform_attaches_the_function_to_its_capacity_provider(
    project: Any, tmp_path: Path
) -> None:
    files = plan(project, Options(iac="terraform")).files
    modules = blocks(parse_tf(files, ""), "module")
    api = next(m for m in modules.values() if m.get("name") == "slots-api")
    plain = next(m for m in modules.values() if m.get("name") == "slots-plain")
    assert (api["capacity_provider_arn"], api["max_concurrency"]) == (ARN, 16)
    assert (plain["capacity_provider_arn"], plain["max_concurrency"]) == (None, None)
    function = blocks(parse_tf(files, "modules/function"), "resource")["aws_lambda_function"]
    dynamic = function["this"]["dynamic"]
    managed = next(d["capacity_provider_config"] for d in dynamic if "capacity_provider_" in str(d))
    inner = managed["content"][0]["lambda_managed_instances_capacity_provider_config"][0]
    assert inner == {
        "capacity_provider_arn": "${capacity_provider_config.value}",
        "per_execution_environment_max_concurrency": "${var.max_concurrency}",
    }
    assert "var.capacity_provider_arn != null" in function["this"]["publish"]
    write_files(files, tmp_path / "tf")
    report = run_checkov(tmp_path / "tf", "--framework", "terraform")
    reports = report if isinstance(report, list) else [report]
    failed = [c["check_id"] for r in reports for c in r["results"]["failed_checks"]]
    assert failed == []
    assert all(r["summary"]["parsing_errors"] == 0 for r in reports)


@pytest.mark.parametrize(
    ("keys", "named", "says"),
    [
        ("max_concurrency = 4\n", "max_concurrency", "set capacity_provider"),
        (f'capacity_provider = "{ARN}"\nwarm = 1\n', "warm", "set warm = 0"),
    ],
)
def test_what_lambda_refuses_is_refused_before_writing(
    tmp_path: Path, keys: str, named: str, says: str
) -> None:
    config = 'name = "slots"\n[functions.api]\napp = "slots.main:app"\n' + keys
    project = load_project(write_project(tmp_path / "slots", config))
    with pytest.raises(ConfigError) as info:
        plan(project, Options(iac="sam"))
    message = str(info.value)
    assert f"functions.api.{named}: " in message and says in message
    assert "\n" not in message
