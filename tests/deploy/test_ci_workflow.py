"""The GitHub Actions workflow of faasport init --ci github: valid YAML that GitHub reads as
intended (triggers, jobs, permissions), short-lived credentials requested by the deploy job
only, the login action of each cloud with the inputs it takes, the role AWS deploys for
[ci], and checkov's GitHub Actions checks passing; written by the command on a new and on an
existing project."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from cli_output import one_error_line
from faasport.cli.main import main
from faasport.config import load_project
from faasport.deploy.aws import plan
from faasport.deploy.ci_workflow import CLOUDS, PATH, workflow
from iac import run_checkov
from projects import write_project

CONFIG = """
name = "shop"
python = "3.12"
region = "eu-west-1"

[functions.api]
app = "shop.web:app"

[ci]
github_repo = "acme/shop"
branches = ["main", "release"]

[stages.prod]
"""
LOGIN = {
    "aws": (
        "aws-actions/configure-aws-credentials@v4",
        {"role-to-assume", "role-session-name", "aws-region"},
    ),
    "gcp": ("google-github-actions/auth@v2", {"workload_identity_provider", "service_account"}),
    "azure": ("azure/login@v2", {"client-id", "tenant-id", "subscription-id"}),
}


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_project(tmp_path / "shop", CONFIG)


def parsed(text: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load(text)
    # YAML 1.1 reads the key "on" as true; GitHub reads it as "on".
    document["on"] = document.pop(True)
    return document


@pytest.mark.parametrize("cloud", CLOUDS)
def test_tests_on_every_push_and_deploys_from_the_branches_with_oidc(
    root: Path, cloud: str
) -> None:
    document = parsed(workflow(load_project(root), cloud))  # type: ignore[arg-type]
    assert document["on"] == {"push": {"branches": ["main", "release"]}, "pull_request": None}
    assert document["permissions"] == {"contents": "read"}
    test, deploy = document["jobs"]["test"], document["jobs"]["deploy"]
    assert "permissions" not in test  # the read-only default: no token for pull requests
    runs = [step.get("run", "") for step in test["steps"]]
    assert "faasport check" in runs and "python -m pytest -q" in runs
    assert deploy["needs"] == "test"
    assert deploy["permissions"] == {"contents": "read", "id-token": "write"}
    assert deploy["if"] == (
        "github.event_name == 'push' && (github.ref == 'refs/heads/main' || "
        "github.ref == 'refs/heads/release')"
    )
    uses = [step.get("uses") for step in deploy["steps"]]
    action, inputs = LOGIN[cloud]
    login = deploy["steps"][uses.index(action)]
    assert set(login["with"]) == inputs
    assert uses.index(action) < len(uses) - 1
    last = deploy["steps"][-1]
    assert last["run"] == f"faasport deploy {cloud}"
    python = next(s for s in deploy["steps"] if s.get("uses") == "actions/setup-python@v5")
    assert python["with"]["python-version"] == "3.12"
    checkout = next(s for s in deploy["steps"] if s.get("uses") == "actions/checkout@v4")
    assert checkout["with"] == {"persist-credentials": False}
    if cloud == "gcp":
        assert last["env"] == {"TF_VAR_project": "${{ vars.GCP_PROJECT }}"}
    if cloud == "azure":
        assert last["env"]["ARM_USE_OIDC"] == "true"


def test_aws_assumes_the_role_the_deploy_writes_for_the_stage(root: Path) -> None:
    project = load_project(root, stage="prod")
    document = parsed(workflow(project, "aws", stage="prod"))
    steps = document["jobs"]["deploy"]["steps"]
    login = next(s for s in steps if "configure-aws-credentials" in s.get("uses", ""))
    role = plan(project).files["template.yaml"]
    assert "RoleName: shop-prod-github-deploy" in role
    assert login["with"]["role-to-assume"] == (
        "arn:aws:iam::${{ vars.AWS_ACCOUNT_ID }}:role/shop-prod-github-deploy"
    )
    assert login["with"]["aws-region"] == "eu-west-1"
    assert steps[-1]["run"] == "faasport deploy aws --stage prod"


def test_every_workflow_passes_checkovs_github_actions_checks(root: Path, tmp_path: Path) -> None:
    project = load_project(root)
    for cloud in CLOUDS:
        path = tmp_path / cloud / PATH
        path.parent.mkdir(parents=True)
        path.write_text(workflow(project, cloud))
    report = run_checkov(tmp_path, "--framework", "github_actions")  # one framework: one report
    assert [c["check_id"] for c in report["results"]["failed_checks"]] == []
    assert report["summary"]["passed"] > 3 * 10
    assert report["summary"]["parsing_errors"] == 0
    scanned = {check["file_path"] for check in report["results"]["passed_checks"]}
    assert scanned == {f"/{cloud}/{PATH}" for cloud in CLOUDS}


# -- faasport init --ci github -----------------------------------------------------------------


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_init_writes_the_workflow_with_a_new_project(tmp_path: Path) -> None:
    result = run("init", str(tmp_path / "new"), "--ci", "github", "--cloud", "gcp")
    assert result.exit_code == 0, result.output
    document = parsed((tmp_path / "new" / PATH).read_text())
    uses = [step.get("uses") for step in document["jobs"]["deploy"]["steps"]]
    assert "google-github-actions/auth@v2" in uses
    assert "GCP_WORKLOAD_IDENTITY_PROVIDER" in result.stderr
    assert (tmp_path / "new" / "faasport.toml").is_file()


def test_init_adds_only_the_workflow_to_an_existing_project(root: Path) -> None:
    before = sorted(p.name for p in root.iterdir())
    result = run("init", "--ci", "github", "--stage", "prod", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in root.iterdir()) == sorted([*before, ".github"])
    text = (root / PATH).read_text()
    assert "role/shop-prod-github-deploy" in text and "--stage prod" in text
    assert "the role shop-prod-github-deploy is written by faasport deploy aws" in result.stderr
    line = one_error_line(run("init", "--ci", "github", "--project", str(root)))
    assert line.endswith("faasport.yml already exists; not overwriting it")


def test_init_stage_mistakes(root: Path, tmp_path: Path) -> None:
    line = one_error_line(run("init", "--ci", "github", "--stage", "qa", "--project", str(root)))
    assert 'no stage "qa"; the stages are: prod' in line
    result = run("init", str(tmp_path / "other"), "--stage", "prod")
    assert result.exit_code == 2 and "--stage applies to the workflow of --ci" in result.output
