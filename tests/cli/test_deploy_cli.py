"""``faasport deploy``: writes the infrastructure as code, prints or runs the commands, and
fails with one line when the cloud's CLI is missing or the configuration is wrong."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli_output import one_error_line
from faasport.cli.main import main

PHONEY = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "phoney"

# A stand-in for the cloud CLI: records where and how it ran, and whether the artifact of
# `faasport package` was where the template points.
FAKE_TOOL = """#!/bin/sh
echo "$(basename "$0") $* | $(pwd) | zip:$(test -f ../../dist/aws/phoney.zip && echo yes)" \
  >> "$FAKE_LOG"
exit "${FAKE_EXIT:-0}"
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["deploy", *args])


@pytest.fixture
def phoney(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return Path(shutil.copytree(PHONEY, tmp_path / "my phoney"))


@pytest.fixture
def tools(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding only a fake ``sam`` and ``terraform`` and the shell they need."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name in ("sam", "terraform"):
        tool = bin_dir / name
        tool.write_text(FAKE_TOOL)
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}/usr/bin{os.pathsep}/bin")
    monkeypatch.setenv("FAKE_LOG", str(tmp_path / "tools.log"))
    return tmp_path / "tools.log"


def test_dry_run_writes_the_template_and_prints_each_command(phoney: Path) -> None:
    result = run("aws", str(phoney), "--dry-run")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "(cd 'my phoney/deploy/aws' && faasport package --target aws --project ../..)",
        "(cd 'my phoney/deploy/aws' && sam deploy --template-file template.yaml --stack-name "
        "phoney --region us-east-1 --resolve-s3 --capabilities CAPABILITY_IAM "
        "--no-fail-on-empty-changeset)",
    ]
    assert (
        (phoney / "deploy" / "aws" / "template.yaml")
        .read_text()
        .startswith('AWSTemplateFormatVersion: "2010-09-09"\n')
    )
    assert not (phoney / "dist").exists()  # nothing ran


def test_dry_run_with_terraform(phoney: Path) -> None:
    result = run("aws", str(phoney), "--dry-run", "--iac", "terraform")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines()[1:] == [
        "(cd 'my phoney/deploy/aws' && terraform init -input=false)",
        "(cd 'my phoney/deploy/aws' && terraform apply -input=false)",
    ]
    written = {p.relative_to(phoney / "deploy" / "aws").as_posix() for p in phoney.rglob("*.tf")}
    assert {"main.tf", "versions.tf", "outputs.tf", "modules/function/main.tf"} <= written


def test_switching_iac_refuses_while_the_other_one_is_there(phoney: Path) -> None:
    assert run("aws", str(phoney), "--dry-run").exit_code == 0
    written = (phoney / "deploy" / "aws" / "template.yaml").read_text()
    line = one_error_line(run("aws", str(phoney), "--dry-run", "--iac", "terraform"))
    assert line == (
        "error: my phoney/deploy/aws/template.yaml is there: deploy/aws holds the SAM "
        "deployment; run `sam delete --stack-name phoney` if it was deployed and delete "
        "deploy/aws/template.yaml to switch to Terraform, or deploy with --iac sam"
    )
    assert not (phoney / "deploy" / "aws" / "main.tf").exists()
    assert (phoney / "deploy" / "aws" / "template.yaml").read_text() == written

    (phoney / "deploy" / "aws" / "template.yaml").unlink()
    assert run("aws", str(phoney), "--dry-run", "--iac", "terraform").exit_code == 0
    line = one_error_line(run("aws", str(phoney), "--dry-run"))
    assert line == (
        "error: my phoney/deploy/aws/main.tf is there: deploy/aws holds the Terraform "
        "deployment; run `terraform destroy` there if it was applied and delete its files "
        "to switch to SAM, or deploy with --iac terraform"
    )
    assert not (phoney / "deploy" / "aws" / "template.yaml").exists()


def test_a_missing_cloud_cli_is_one_line_saying_what_to_install(
    phoney: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    line = one_error_line(run("aws", str(phoney)))
    assert line == (
        "error: deploy aws needs sam, which is not on PATH; install the AWS SAM CLI: "
        "pip install aws-sam-cli (or use --dry-run to only write the files)"
    )
    line = one_error_line(run("aws", str(phoney), "--iac", "terraform"))
    assert "needs terraform" in line


def test_deploy_packages_then_runs_the_cloud_cli_in_the_deploy_folder(
    phoney: Path, tools: Path
) -> None:
    result = run("aws", str(phoney))
    assert result.exit_code == 0, result.output
    assert tools.read_text().splitlines() == [
        "sam deploy --template-file template.yaml --stack-name phoney --region us-east-1 "
        "--resolve-s3 --capabilities CAPABILITY_IAM --no-fail-on-empty-changeset "
        f"| {phoney.resolve() / 'deploy' / 'aws'} | zip:yes"
    ]
    assert "$ (cd 'my phoney/deploy/aws' && sam deploy" in result.stderr


def test_a_failing_cloud_cli_stops_with_its_exit_code(
    phoney: Path, tools: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_EXIT", "3")
    result = run("aws", str(phoney), "--iac", "terraform")
    assert result.exit_code == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "error: terraform init -input=false failed with exit code 3"
    )
    assert len(tools.read_text().splitlines()) == 1  # apply never ran


def test_bad_configuration_is_one_line_naming_file_and_key(phoney: Path) -> None:
    (phoney / "faasport.toml").write_text('[functions.api]\napp = "a:b"\nmemory = 1\n')
    line = one_error_line(run("aws", str(phoney), "--dry-run"))
    assert line.startswith("error: my phoney/faasport.toml: functions.api.memory: ")


def test_unknown_provider_and_misplaced_options_are_usage_errors(phoney: Path) -> None:
    assert run("openstack", str(phoney)).exit_code == 2
    result = run("gcp", str(phoney), "--iac", "sam")
    assert result.exit_code == 2
    assert "--iac applies to aws only" in result.stderr


def test_a_deploy_refuses_what_packaging_would_and_a_dry_run_says_so(
    phoney: Path, tools: Path
) -> None:
    """Google Cloud checks tokens in the function: its key set file must exist. A deploy
    stops before writing anything; a dry run writes and warns."""
    config = phoney / "faasport.toml"
    text = config.read_text().replace(
        'routes = ["ANY /{proxy+}"]', 'routes = ["ANY /{proxy+}"]\nauth = "users"'
    )
    config.write_text(
        text + '\n[auth.users]\nissuer = "https://issuer.example.com/"\njwks = "keys/jwks.json"\n'
    )
    missing = "auth.users.jwks: keys/jwks.json is not a file in the project"
    result = run("gcp", str(phoney))
    assert result.exit_code == 1 and result.stderr.strip().endswith(missing)
    assert not (phoney / "deploy").exists() and not tools.exists()
    dry = run("gcp", str(phoney), "--dry-run")
    assert dry.exit_code == 0
    assert f"{missing}; the deploy would stop there" in dry.stderr
    assert (phoney / "deploy" / "gcp").is_dir()
