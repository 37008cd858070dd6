"""[ci] deployed: the IAM role a GitHub Actions workflow assumes, in SAM and Terraform. Its
trust policy accepts only GitHub's OIDC tokens for sts.amazonaws.com from the configured
repository's branches (exact subjects), its permissions stay on the project's resources, it
cannot change itself, and the templates stay cfn-lint and checkov clean."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import ManualArgs, lint

from faasport.config import Project, load_project
from faasport.deploy.aws import ci, plan
from faasport.deploy.options import Options
from iac import resources, run_checkov, write_files
from projects import write_project

CONFIG = """
name = "shop"

[functions.api]
app = "shop.web:app"

[functions.worker]
handler = "shop.jobs:handle"
events = [{ queue = "jobs" }, { bucket = "shop-uploads" }]

[queues.jobs]

[state]
url = "dynamodb://shop-state"

[ci]
github_repo = "acme/shop"

[stages.prod.ci]
branches = ["release", "main"]
"""
EVENT_SOURCE_MAPPINGS = "arn:*:lambda:*:*:event-source-mapping:*"
EXISTING = "arn:aws:iam::123456789012:oidc-provider/token.actions.githubusercontent.com"


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_multi_constructor("!", lambda loader, suffix, node: None)


def sam(project: Project) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.load(plan(project).files["template.yaml"], Loader=_Loader)
    return loaded


@pytest.fixture
def root(tmp_path: Path) -> Path:
    return write_project(tmp_path / "shop", CONFIG)


def test_the_trust_policy_takes_only_the_repositorys_branches(root: Path) -> None:
    template = sam(load_project(root))
    role = template["Resources"]["GitHubDeployRole"]["Properties"]
    assert role["RoleName"] == "shop-github-deploy"
    [statement] = role["AssumeRolePolicyDocument"]["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Principal"] == {"Federated": {"Ref": "GitHubOidcProvider"}}
    # Exact comparisons only: a StringLike with "*" would admit any branch or pull request.
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": ["repo:acme/shop:ref:refs/heads/main"],
        }
    }
    provider = template["Resources"]["GitHubOidcProvider"]["Properties"]
    assert provider["Url"] == "https://token.actions.githubusercontent.com"
    assert provider["ClientIdList"] == ["sts.amazonaws.com"]
    assert "GitHubDeployRoleArn" in template["Outputs"]


def test_a_stage_has_its_own_role_for_its_own_branches(root: Path) -> None:
    role = sam(load_project(root, stage="prod"))["Resources"]["GitHubDeployRole"]["Properties"]
    assert role["RoleName"] == "shop-prod-github-deploy"
    condition = role["AssumeRolePolicyDocument"]["Statement"][0]["Condition"]["StringEquals"]
    assert condition["token.actions.githubusercontent.com:sub"] == [
        "repo:acme/shop:ref:refs/heads/release",
        "repo:acme/shop:ref:refs/heads/main",
    ]
    policy = role["Policies"][0]["PolicyDocument"]["Statement"]
    lambdas = next(s for s in policy if s["Sid"] == "Lambda")["Resource"]
    assert "arn:*:lambda:*:*:function:shop-prod-*" in lambdas


def test_an_existing_provider_is_used_not_created(root: Path) -> None:
    text = (
        (root / "faasport.toml")
        .read_text()
        .replace(
            'github_repo = "acme/shop"\n',
            f'github_repo = "acme/shop"\noidc_provider = "{EXISTING}"\n',
        )
    )
    (root / "faasport.toml").write_text(text)
    template = sam(load_project(root))
    assert "GitHubOidcProvider" not in template["Resources"]
    statement = template["Resources"]["GitHubDeployRole"]["Properties"]["AssumeRolePolicyDocument"][
        "Statement"
    ][0]
    assert statement["Principal"] == {"Federated": EXISTING}
    tf = plan(load_project(root), Options(iac="terraform")).files
    assert "aws_iam_openid_connect_provider" not in resources(tf)
    assert EXISTING in tf["main.tf"]


def test_the_permissions_stay_on_the_projects_resources(root: Path) -> None:
    project = load_project(root)
    document = sam(project)["Resources"]["GitHubDeployRole"]["Properties"]["Policies"][0]
    statements = document["PolicyDocument"]["Statement"]
    allowed = [s for s in statements if s["Effect"] == "Allow"]
    # Only reads take every resource; every write is on named resources.
    for statement in allowed:
        resources_ = statement["Resource"]
        if resources_ == "*":
            assert statement["Sid"] == "Describe"
            continue
        for arn in [resources_] if isinstance(resources_, str) else resources_:
            own = ("shop-", "/aws/apigateway/shop", "stack/shop/", ci.SAM_MANAGED)
            shared = (ci.SAM_TRANSFORM, "arn:*:apigateway:*::/*", EVENT_SOURCE_MAPPINGS)
            assert any(part in arn for part in own) or arn in shared, arn
    actions = [
        a for s in allowed for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
    ]
    assert "iam:*" not in actions and "*" not in actions
    assert "iam:PassRole" in actions
    [deny] = [s for s in statements if s["Effect"] == "Deny"]
    assert deny == {
        "Sid": "NotItself",
        "Effect": "Deny",
        "Action": "iam:*",
        "Resource": "arn:*:iam::*:role/shop-github-deploy",
    }


def test_terraform_writes_the_same_role(root: Path) -> None:
    files = plan(load_project(root, stage="prod"), Options(iac="terraform")).files
    found = resources(files)
    role = found["aws_iam_role"]["github_deploy"]
    assert role["name"] == "shop-prod-github-deploy"
    trust = role["assume_role_policy"]
    assert "aws_iam_openid_connect_provider.github.arn" in trust
    assert '"repo:acme/shop:ref:refs/heads/release"' in trust
    assert "StringEquals" in trust and "StringLike" not in trust
    assert found["aws_iam_openid_connect_provider"]["github"]["client_id_list"] == [
        "sts.amazonaws.com"
    ]
    assert "aws_iam_role.github_deploy.id" in found["aws_iam_role_policy"]["github_deploy"]["role"]
    assert "github_deploy_role_arn" in files["outputs.tf"]


def test_without_ci_there_is_no_role(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path / "plain", CONFIG.split("[ci]")[0]))
    assert "GitHubDeployRole" not in sam(project)["Resources"]
    found = resources(plan(project, Options(iac="terraform")).files)
    assert "github_deploy" not in found.get("aws_iam_role", {})
    assert "aws_iam_openid_connect_provider" not in found


def test_the_role_is_cfn_lint_and_checkov_clean(root: Path, tmp_path: Path) -> None:
    for stage in (None, "prod"):
        project = load_project(root, stage=stage)
        template = plan(project).files["template.yaml"]
        matches = lint(template, config=ManualArgs(regions=["us-east-1"], include_checks=["I"]))
        assert [str(match) for match in matches] == []
        for iac in ("sam", "terraform"):
            write_files(plan(project, Options(iac=iac)).files, tmp_path / f"{stage}-{iac}")
    reports = run_checkov(tmp_path, "--framework", "cloudformation", "terraform")
    failed = [
        (check["check_id"], check["resource"])
        for report in reports
        for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    passed = {
        check["resource"] for report in reports for check in report["results"]["passed_checks"]
    }
    assert "AWS::IAM::Role.GitHubDeployRole" in passed
    assert "aws_iam_role_policy.github_deploy" in passed
