"""``faasport deploy aws|gcp|azure --dry-run`` on the example: the SAM template passes
cfn-lint, and the SAM template and every Terraform configuration pass checkov offline; the
bucket trigger and the reports bucket reach each cloud's infrastructure."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml
from cfnlint.api import ManualArgs, lint
from click.testing import CliRunner

from faasport.cli.main import main
from iac import checkov_passes, resources, write_files

EXAMPLE = Path(__file__).resolve().parents[1]
TARGETS = {
    "aws-sam": ["aws"],
    "aws-terraform": ["aws", "--iac", "terraform"],
    "gcp": ["gcp"],
    "azure": ["azure"],
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, str]]:
    """Per target, the files ``faasport deploy --dry-run`` wrote (relative path -> text)."""
    out: dict[str, dict[str, str]] = {}
    for name, args in TARGETS.items():
        root = tmp_path_factory.mktemp(name) / "contract_analyzer"
        shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns("tests", "__pycache__"))
        result = CliRunner().invoke(main, ["deploy", *args, "--dry-run", str(root)])
        assert result.exit_code == 0, result.output
        folder = root / "deploy" / args[0]
        out[name] = {
            str(path.relative_to(folder)): path.read_text()
            for path in sorted(folder.rglob("*"))
            if path.is_file()
        }
    return out


def test_the_sam_template_passes_cfn_lint(generated: dict[str, dict[str, str]]) -> None:
    template = generated["aws-sam"]["template.yaml"]
    matches = lint(template, config=ManualArgs(regions=["us-east-1"], include_checks=["I"]))
    assert [str(match) for match in matches] == []


def test_checkov_fails_no_check(generated: dict[str, dict[str, str]], tmp_path: Path) -> None:
    for name, files in generated.items():
        write_files(files, tmp_path / name)
    assert checkov_passes(tmp_path) == set(TARGETS)


def test_the_sam_template_holds_the_functions_buckets_and_trigger(
    generated: dict[str, dict[str, str]],
) -> None:
    template = yaml.safe_load(generated["aws-sam"]["template.yaml"])
    kinds: dict[str, list[str]] = {}
    for name, resource in template["Resources"].items():
        kinds.setdefault(resource["Type"], []).append(name)
    assert len(kinds["AWS::Serverless::Function"]) == 3
    buckets = [
        template["Resources"][name]["Properties"].get("BucketName")
        for name in kinds["AWS::S3::Bucket"]
    ]
    assert {"contracts", "reports"} <= set(buckets)
    functions = {
        template["Resources"][name]["Properties"]["FunctionName"]: template["Resources"][name]
        for name in kinds["AWS::Serverless::Function"]
    }
    routes = {
        (event["Properties"]["Method"], event["Properties"]["Path"])
        for event in functions["contract-analyzer-api"]["Properties"]["Events"].values()
    }
    assert routes == {("POST", "/analyze"), ("GET", "/health")}
    [trigger] = functions["contract-analyzer-reports"]["Properties"]["Events"].values()
    assert trigger["Type"] == "S3"
    rules = trigger["Properties"]["Filter"]["S3Key"]["Rules"]
    assert {"Name": "suffix", "Value": ".sol"} in rules
    role = template["Resources"]["ReportsRole"]["Properties"]["Policies"][0]["PolicyDocument"]
    [write] = [s for s in role["Statement"] if s["Sid"] == "WriteObjects"]
    assert write["Action"] == ["s3:PutObject"]
    assert write["Resource"] == [{"Fn::Sub": "arn:${AWS::Partition}:s3:::reports/*"}]


@pytest.mark.parametrize("target", ["gcp", "azure"])
def test_google_cloud_and_azure_get_both_buckets_and_the_trigger(
    generated: dict[str, dict[str, str]], target: str
) -> None:
    found = resources(generated[target])
    if target == "gcp":
        names = {body["name"] for body in found["google_storage_bucket"].values()}
        assert {"contracts", "reports"} <= {n.split("-", 1)[-1] for n in names} | names
        assert "google_eventarc_trigger" in found
    else:
        names = {body["name"] for body in found["azurerm_storage_container"].values()}
        assert {"contracts", "reports"} <= names
        assert "azurerm_eventgrid_event_subscription" in found or any(
            "eventgrid" in kind for kind in found
        )
