"""Stages deployed: each stage's resources have names of their own on every cloud, its IaC
lives in its own folder (its own Terraform state, its own SAM stack), its overrides reach the
IaC, and each stage's IaC passes cfn-lint and checkov."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import ManualArgs, lint
from click.testing import CliRunner, Result

from cli_output import one_error_line
from faasport.cli.main import main
from faasport.config import Project, load_project
from faasport.deploy import aws, azure, gcp
from faasport.deploy.options import Options
from faasport.deploy.plan import Plan
from iac import checkov_passes, resources, write_files
from projects import write_project

CONFIG = """
name = "shop"

[functions.api]
app = "shop.web:app"
memory = 512
routes = ["ANY /{proxy+}"]
environment = { LOG_LEVEL = "DEBUG" }

[functions.worker]
handler = "shop.jobs:handle"
events = [{ queue = "jobs" }, { schedule = "rate(5 minutes)" }]

[queues.jobs]

[stages.dev]

[stages.prod]
region = "eu-west-1"

[stages.prod.functions.api]
memory = 2048
warm = 2
environment = { LOG_LEVEL = "INFO" }
"""
STAGES = ("dev", "prod")
IACS = ("sam", "terraform")


class _Loader(yaml.SafeLoader):
    """Reads CloudFormation's short tags (!Ref, !GetAtt, !Sub) as plain values."""


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def sam(plan: Plan) -> dict[str, Any]:
    template: dict[str, Any] = yaml.load(plan.files["template.yaml"], Loader=_Loader)
    return template


@pytest.fixture(scope="module")
def projects(tmp_path_factory: pytest.TempPathFactory) -> Mapping[str, Project]:
    root = write_project(tmp_path_factory.mktemp("stages") / "shop", CONFIG)
    return {stage: load_project(root, stage=stage) for stage in STAGES}


@pytest.fixture(scope="module")
def aws_plans(projects: Mapping[str, Project]) -> Mapping[tuple[str, str], Plan]:
    return {
        (stage, iac): aws.plan(project, Options(iac=iac))
        for stage, project in projects.items()
        for iac in IACS
    }


def function_names(template: dict[str, Any]) -> set[str]:
    return {
        body["Properties"]["FunctionName"]
        for body in template["Resources"].values()
        if body["Type"] == "AWS::Serverless::Function"
    }


def test_every_physical_name_carries_the_stage(aws_plans: Mapping[tuple[str, str], Plan]) -> None:
    dev, prod = (sam(aws_plans[stage, "sam"]) for stage in STAGES)
    assert function_names(dev) == {"shop-dev-api", "shop-dev-worker"}
    assert function_names(prod) == {"shop-prod-api", "shop-prod-worker"}
    queues = {
        stage: {
            body["Properties"]["QueueName"]
            for body in sam(aws_plans[stage, "sam"])["Resources"].values()
            if body["Type"] == "AWS::SQS::Queue"
        }
        for stage in STAGES
    }
    for stage in STAGES:
        assert {f"shop-{stage}-jobs", f"shop-{stage}-jobs-dlq"} <= queues[stage]
        assert all(name.startswith(f"shop-{stage}-") for name in queues[stage])


def test_the_stack_and_the_package_are_the_stages(
    aws_plans: Mapping[tuple[str, str], Plan],
) -> None:
    package, deploy = aws_plans["prod", "sam"].commands
    assert package == (
        "faasport", "package", "--target", "aws", "--project", "../..", "--stage", "prod"
    )  # fmt: skip
    assert deploy[deploy.index("--stack-name") + 1] == "shop-prod"
    assert deploy[deploy.index("--region") + 1] == "eu-west-1"
    assert "dist/aws/shop-prod.zip" in aws_plans["prod", "sam"].files["template.yaml"]
    assert aws_plans["prod", "terraform"].commands[0][-2:] == ("--stage", "prod")


def test_the_stages_overrides_reach_the_iac(aws_plans: Mapping[tuple[str, str], Plan]) -> None:
    def api(stage: str) -> dict[str, Any]:
        resources_ = sam(aws_plans[stage, "sam"])["Resources"]
        properties: dict[str, Any] = resources_["ApiFunction"]["Properties"]
        return properties

    assert api("dev")["MemorySize"] == 512 and api("prod")["MemorySize"] == 2048
    assert "ProvisionedConcurrencyConfig" not in api("dev")
    assert api("prod")["ProvisionedConcurrencyConfig"] == {"ProvisionedConcurrentExecutions": 2}
    assert api("prod")["Environment"]["Variables"]["LOG_LEVEL"] == "INFO"
    tf = resources(aws_plans["prod", "terraform"].files, "module")
    assert tf, "the Terraform root declares modules"
    text = "\n".join(aws_plans["prod", "terraform"].files.values())
    assert '"shop-prod-api"' in text and "shop-dev" not in text
    assert 'region = "eu-west-1"' in text.replace("  ", " ")


@pytest.mark.parametrize("stage", STAGES)
def test_each_stages_sam_template_passes_cfn_lint(
    aws_plans: Mapping[tuple[str, str], Plan], stage: str
) -> None:
    template = aws_plans[stage, "sam"].files["template.yaml"]
    matches = lint(template, config=ManualArgs(regions=["eu-west-1"], include_checks=["I"]))
    assert [str(match) for match in matches] == []


def test_each_stages_iac_passes_checkov(
    aws_plans: Mapping[tuple[str, str], Plan],
    projects: Mapping[str, Project],
    tmp_path: Path,
) -> None:
    for (stage, iac), plan in aws_plans.items():
        write_files(plan.files, tmp_path / f"aws-{stage}-{iac}")
    for stage, project in projects.items():
        write_files(gcp.plan(project).files, tmp_path / f"gcp-{stage}")
    scanned = checkov_passes(tmp_path)
    assert scanned == {f"aws-{s}-{i}" for s in STAGES for i in IACS} | {"gcp-dev", "gcp-prod"}


def names(files: Mapping[str, str]) -> dict[str, set[str]]:
    """The literal names of the resources, by resource type."""
    return {
        kind: {
            body["name"]
            for body in found.values()
            if isinstance(body.get("name"), str) and "${" not in body["name"]
        }
        for kind, found in resources(files).items()
    }


@pytest.mark.parametrize("stage", STAGES)
def test_gcp_names_carry_the_stage_but_queues_keep_their_configured_names(
    projects: Mapping[str, Project], stage: str
) -> None:
    found = names(gcp.plan(projects[stage]).files)
    assert found["google_cloudfunctions2_function"] == {f"shop-{stage}-api", f"shop-{stage}-worker"}
    # The app publishes to its queues by name, on GCP as under faasport dev: a stage per
    # Google Cloud project keeps them apart (docs/stages.md).
    assert found["google_pubsub_topic"] == {"jobs", "jobs-dlq", f"shop-{stage}-worker-schedule1"}
    named = {name for kind, each in found.items() if "pubsub" not in kind for name in each}
    assert {name for name in named if "shop" in name and stage not in name} == set()


def test_azure_stages_live_in_their_own_resource_groups(projects: Mapping[str, Project]) -> None:
    groups = {
        stage: names(azure.plan(p).files)["azurerm_resource_group"] for stage, p in projects.items()
    }
    assert groups == {"dev": {"rg-shop-dev"}, "prod": {"rg-shop-prod"}}


# -- on the command line ---------------------------------------------------------------------


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_project(tmp_path / "shop", CONFIG)


def test_deploy_writes_each_stage_into_its_own_folder(root: Path) -> None:
    result = run("deploy", "aws", "--stage", "dev", "--dry-run", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert "--stack-name shop-dev" in result.stdout
    assert f"(cd {root / 'deploy' / 'aws-dev'} && faasport package" in result.stdout
    result = run("deploy", "aws", "--iac", "terraform", "--stage", "prod", "--dry-run",
                 "--project", str(root))  # fmt: skip
    assert result.exit_code == 0, result.output
    # Each stage's own folder: prod's Terraform does not meet dev's SAM stack.
    assert (root / "deploy/aws-dev/template.yaml").is_file()
    assert (root / "deploy/aws-prod/main.tf").is_file()
    assert not (root / "deploy/aws").exists()


def test_deploy_without_a_stage_keeps_deploy_aws(root: Path) -> None:
    result = run("deploy", "gcp", "--dry-run", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert (root / "deploy/gcp/main.tf").is_file()
    assert "--stage" not in result.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("deploy", "aws", "--dry-run"),
        ("package", "--target", "aws"),
        ("invoke", "api"),
        ("dev",),
    ],
)
def test_an_unknown_stage_is_one_line_naming_the_known_ones(
    root: Path, args: tuple[str, ...]
) -> None:
    line = one_error_line(run(*args, "--stage", "qa", "--project", str(root)))
    assert line.endswith('stages: no stage "qa"; the stages are: dev, prod')
    assert not (root / "deploy").exists() and not (root / "dist").exists()


def test_package_names_the_artifact_for_the_stage(root: Path) -> None:
    (root / "shop").mkdir()
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "web.py").write_text("def app(environ, start_response):\n    return []\n")
    (root / "shop" / "jobs.py").write_text("def handle(event, context):\n    return None\n")
    result = run("package", "--target", "aws", "--stage", "prod", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert (root / "dist/aws/shop-prod.zip").is_file()
    shutil.rmtree(root / "dist")


def test_dev_serves_the_stage_under_its_deployed_names(tmp_path: Path) -> None:
    from dev_process import Dev

    root = write_project(tmp_path / "shop", CONFIG)
    (root / "shop").mkdir()
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "web.py").write_text("def app(environ, start_response):\n    return []\n")
    handler = "import os\ndef handle(event, context):\n    return [os.environ['LOG_LEVEL'], 0]\n"
    (root / "shop" / "jobs.py").write_text(handler)
    (root / "faasport.toml").write_text(
        CONFIG + '\n[stages.prod.functions.worker]\nenvironment = { LOG_LEVEL = "WARNING" }\n'
    )
    dev = Dev(root, "--stage", "prod", "--no-reload")
    try:
        assert any('project "shop-prod"' in line for line in dev.lines), dev.lines
        result = dev.client("lambda").invoke(FunctionName="shop-prod-worker", Payload=b"{}")
        assert json.loads(result["Payload"].read()) == ["WARNING", 0]
    finally:
        dev.close()
