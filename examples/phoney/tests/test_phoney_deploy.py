"""``faasport deploy --dry-run`` on the example: SAM and Terraform for AWS that cfn-lint and
checkov pass, with the HTTP API's JWT authorizer on every route and the export function
streaming through its Function URL; Terraform for Google Cloud and Azure that checkov passes."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from cfnlint.api import ManualArgs, lint

from iac import checkov_passes

EXAMPLE = Path(__file__).resolve().parents[1]
TARGETS = {
    "sam": ("aws",),
    "terraform": ("aws", "--iac", "terraform"),
    "gcp": ("gcp",),
    "azure": ("azure",),
}


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One copy of the example per target, each with its deploy/ folder written."""
    root = tmp_path_factory.mktemp("deploy")
    for name, arguments in TARGETS.items():
        project = root / name
        ignored = shutil.ignore_patterns("tests", "__pycache__", ".faasport", "keys", "secrets.*")
        shutil.copytree(EXAMPLE, project, ignore=ignored)
        provider, *options = arguments
        command = ["deploy", provider, str(project), *options, "--dry-run"]
        result = subprocess.run(
            [sys.executable, "-m", "faasport.cli.main", *command],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
    return root


def sam(deployed: Path) -> dict[str, Any]:
    text = (deployed / "sam" / "deploy" / "aws" / "template.yaml").read_text()
    loaded: dict[str, Any] = yaml.load(text, Loader=yaml.BaseLoader)
    return loaded


def test_the_sam_template_passes_cfn_lint(deployed: Path) -> None:
    template = (deployed / "sam" / "deploy" / "aws" / "template.yaml").read_text()
    matches = lint(template, config=ManualArgs(regions=["us-east-1"], include_checks=["I"]))
    assert [str(match) for match in matches] == []


def test_every_route_needs_a_jwt_and_the_export_streams(deployed: Path) -> None:
    resources = sam(deployed)["Resources"]
    api = next(r for r in resources.values() if r["Type"] == "AWS::Serverless::HttpApi")
    jwt = api["Properties"]["Auth"]["Authorizers"]["JwtAuthorizer"]["JwtConfiguration"]
    assert jwt == {"issuer": "https://auth.phoney.example.com/", "audience": ["phoney"]}
    functions = {
        r["Properties"]["FunctionName"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Serverless::Function"
    }
    routes = {
        (event["Properties"]["Method"].upper(), event["Properties"]["Path"]): name
        for name, function in functions.items()
        for event in function["Events"].values()
        if event["Type"] == "HttpApi"
    }
    assert routes == {
        ("GET", "/generators"): "phoney-api",
        ("POST", "/template"): "phoney-api",
        ("POST", "/stream/template"): "phoney-export",
    }
    for function in functions.values():
        for event in function["Events"].values():
            assert event["Properties"]["Auth"]["Authorizer"] == "JwtAuthorizer"
    export = functions["phoney-export"]
    assert export["FunctionUrlConfig"] == {"AuthType": "AWS_IAM", "InvokeMode": "RESPONSE_STREAM"}
    assert export["Environment"]["Variables"]["PHONEY_STREAMING"] == "1"
    assert "PHONEY_STREAMING" not in functions["phoney-api"]["Environment"]["Variables"]


def test_terraform_parses_and_has_the_jwt_authorizer(deployed: Path) -> None:
    folder = deployed / "terraform" / "deploy" / "aws"
    texts = {path: path.read_text() for path in folder.rglob("*.tf")}
    for path, text in texts.items():
        assert hcl2.loads(text), path
    main = texts[folder / "main.tf"]
    assert 'issuer   = "https://auth.phoney.example.com/"' in main
    assert main.count('authorizer        = "jwt"') == 3


def test_checkov_fails_nothing_on_any_target(deployed: Path) -> None:
    assert checkov_passes(deployed) == set(TARGETS)


def faasport(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faasport.cli.main", *args],
        cwd=project,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize(("target", "entry"), [("gcp", "main.py"), ("azure", "function_app.py")])
def test_google_cloud_and_azure_packages_carry_the_key_set_for_the_jwt_check(
    tmp_path: Path, target: str, entry: str
) -> None:
    project = tmp_path / "phoney"
    ignored = shutil.ignore_patterns("tests", "__pycache__", ".faasport", "keys", "secrets.*")
    shutil.copytree(EXAMPLE, project, ignore=ignored)
    # The JWT is checked in these functions: without the key set there is nothing to check.
    missing = faasport(project, "package", "--target", target)
    assert missing.returncode == 1
    assert missing.stderr.strip().splitlines()[-1] == (
        "error: faasport.toml: auth.jwt.jwks: keys/jwks.json is not a file in the project"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAASPORT_SECRET")}
    made = subprocess.run(
        [sys.executable, "-m", "phoney.devtoken", "--init"], cwd=project, env=env, timeout=60
    )
    assert made.returncode == 0
    built = faasport(project, "package", "--target", target)
    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(project / "dist" / target / "phoney.zip") as archive:
        names = set(archive.namelist())
    assert {entry, "phoney/main.py", "phoney/generators.py"} <= names
    assert not any("secrets.local" in name for name in names)
