"""``faasport deploy aws --dry-run`` on the example: the SAM template passes cfn-lint with no
finding and, with the Terraform, checkov with no failed check; Google Cloud and Azure refuse
what has no counterpart there with one line, and the source bundles still build."""

from __future__ import annotations

import shutil
import zipfile
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from cfnlint.api import ManualArgs, lint
from click.testing import CliRunner

from cli_output import one_error_line
from faasport.cli.main import main
from iac import run_checkov, unquote

EXAMPLE = Path(__file__).resolve().parents[1]


def copy(tmp: Path) -> Path:
    return Path(
        shutil.copytree(
            EXAMPLE, tmp / "items", ignore=shutil.ignore_patterns(".faasport", "tests", "deploy")
        )
    )


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """The SAM and the Terraform deployment, each written by the CLI into its own copy."""
    found = {}
    for iac in ("sam", "terraform"):
        project = copy(tmp_path_factory.mktemp(iac))
        result = CliRunner().invoke(
            main, ["deploy", "aws", str(project), "--dry-run", "--iac", iac]
        )
        assert result.exit_code == 0, result.output
        found[iac] = project / "deploy" / "aws"
    return found


def test_the_sam_template_passes_cfn_lint(written: dict[str, Path]) -> None:
    template = (written["sam"] / "template.yaml").read_text()
    matches = lint(template, config=ManualArgs(regions=["us-east-1"], include_checks=["I"]))
    assert [str(match) for match in matches] == []


def test_the_template_holds_every_piece(written: dict[str, Path]) -> None:
    class Loader(yaml.SafeLoader):
        pass

    # CloudFormation's short forms (!Ref, !GetAtt, !Sub) read as plain values.
    Loader.add_multi_constructor("!", lambda loader, suffix, node: None)
    template: dict[str, Any] = yaml.load((written["sam"] / "template.yaml").read_text(), Loader)
    resources = template["Resources"]
    kinds = {r["Type"] for r in resources.values()}
    assert {
        "AWS::Serverless::Function",
        "AWS::Serverless::HttpApi",
        "AWS::SNS::Topic",
        "AWS::SNS::Subscription",
        "AWS::SQS::Queue",
        "AWS::Kinesis::Stream",
    } <= kinds
    functions = {
        r["Properties"]["Handler"]: r["Properties"]
        for r in resources.values()
        if r["Type"] == "AWS::Serverless::Function"
    }
    assert set(functions) == {
        f"faasport_handler.{n}" for n in ("api", "audit", "analytics", "compact")
    }
    api = functions["faasport_handler.api"]
    assert api["ProvisionedConcurrencyConfig"] == {"ProvisionedConcurrentExecutions": 1}
    # sends: the API finds the topic and the stream, and may publish and put records.
    variables = api["Environment"]["Variables"]
    assert set(variables) == {"FAASPORT_TOPIC_ITEM_CREATED", "FAASPORT_STREAM_ITEM_CHANGES"}
    assert variables["FAASPORT_STREAM_ITEM_CHANGES"] == "items-item-changes"
    role = next(r for k, r in resources.items() if k == "ApiRole")
    [document] = role["Properties"]["Policies"]
    sids = {s["Sid"] for s in document["PolicyDocument"]["Statement"]}
    assert {"PublishToTopics", "PutToStreams"} <= sids
    [schedule] = functions["faasport_handler.compact"]["Events"].values()
    assert schedule["Properties"]["Schedule"] == "cron(0 3 * * ? *)"
    [stream] = functions["faasport_handler.analytics"]["Events"].values()
    assert (stream["Type"], stream["Properties"]["StartingPosition"]) == ("Kinesis", "TRIM_HORIZON")
    [queue] = functions["faasport_handler.audit"]["Events"].values()
    assert queue["Type"] == "SQS"


def test_the_terraform_parses_and_checkov_fails_nothing(
    written: dict[str, Path], tmp_path: Path
) -> None:
    tf_files = sorted(written["terraform"].rglob("*.tf"))
    assert tf_files
    resources: set[str] = set()
    for path in tf_files:
        for block in unquote(hcl2.loads(path.read_text())).get("resource", []):
            resources.update(block)
    assert {"aws_kinesis_stream", "aws_sns_topic", "aws_sns_topic_subscription"} <= resources
    for iac, folder in written.items():
        shutil.copytree(folder, tmp_path / iac)
    reports = run_checkov(tmp_path, "--framework", "cloudformation", "terraform")
    for report in reports:
        failed = [
            (check["check_id"], check["resource"]) for check in report["results"]["failed_checks"]
        ]
        assert failed == [], report["check_type"]
        assert report["summary"]["parsing_errors"] == 0
        assert report["summary"]["passed"] > 20


@pytest.mark.parametrize(("cloud", "name"), [("gcp", "Google Cloud"), ("azure", "Azure")])
def test_gcp_and_azure_refuse_the_topic_subscription_in_one_line(
    tmp_path: Path, cloud: str, name: str
) -> None:
    project = copy(tmp_path)
    result = CliRunner().invoke(main, ["deploy", cloud, str(project), "--dry-run"])
    assert one_error_line(result) == (
        f"error: {project / 'faasport.toml'}: topics.item-created.queues: "
        f"queues subscribed to a topic cannot be deployed to {name}"
    )
    assert not (project / "deploy" / cloud).exists()


@pytest.mark.parametrize(("target", "entry"), [("gcp", "main.py"), ("azure", "function_app.py")])
def test_the_gcp_and_azure_bundles_build(tmp_path: Path, target: str, entry: str) -> None:
    project = copy(tmp_path)
    result = CliRunner().invoke(main, ["package", "--target", target, "--project", str(project)])
    assert result.exit_code == 0, result.output
    with zipfile.ZipFile(project / "dist" / target / "items.zip") as bundle:
        names = set(bundle.namelist())
        assert {entry, "requirements.txt", "items/api.py", "items/workers.py"} <= names
        assert "strawberry-graphql" in bundle.read("requirements.txt").decode()
