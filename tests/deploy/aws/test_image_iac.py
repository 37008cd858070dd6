"""``faasport deploy aws --package container``: the functions as one container image from ECR,
pinned by digest, in SAM (checked by cfn-lint, transformed by aws-sam-translator as ``sam
deploy`` does) and Terraform (python-hcl2), both scanned by checkov; the deploy steps in
order; and push-image.sh run with stand-ins for docker and the AWS CLI, since no Docker
engine runs here."""

from __future__ import annotations

import json
import os
import re
import stat
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from cfnlint.api import ManualArgs, lint
from samtranslator.parser.parser import Parser
from samtranslator.translator.translator import Translator
from samtranslator.utils.py27hash_fix import (
    to_py27_compatible_template,
    undo_mark_unicode_str_in_template,
)

from faasport.config import load_project
from faasport.core.errors import FaasportError
from faasport.deploy.aws import image, plan
from faasport.deploy.options import Options
from faasport.deploy.plan import Plan
from iac import blocks, parse_tf, run_checkov, write_files
from projects import write_project

CONFIG = """
name = "shop"
region = "eu-west-1"

[functions.api]
app = "shop.main:app"
routes = ["ANY /{proxy+}"]
environment = { LOG_LEVEL = "INFO" }

[functions.worker]
handler = "shop.jobs:handle"
events = [{ queue = "jobs" }]

[queues.jobs]

[state]
url = "dynamodb://shop-state"
"""
PINNED = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop@sha256:" + "ab" * 32


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> Mapping[str, Plan]:
    project = load_project(write_project(tmp_path_factory.mktemp("shop"), CONFIG))
    return {
        iac: plan(project, Options(iac=iac, package="container")) for iac in ("sam", "terraform")
    }


def sam(plans: Mapping[str, Plan], name: str = "template.yaml") -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(plans["sam"].files[name])
    return loaded


@pytest.mark.parametrize("name", ["template.yaml", "image.yaml"])
def test_sam_templates_pass_cfn_lint(plans: Mapping[str, Plan], name: str) -> None:
    matches = lint(
        plans["sam"].files[name], config=ManualArgs(regions=["eu-west-1"], include_checks=["I"])
    )
    assert [str(match) for match in matches] == []


def test_sam_functions_run_the_pinned_image(plans: Mapping[str, Plan]) -> None:
    template = sam(plans)
    parameter = template["Parameters"]["ImageUri"]
    assert re.fullmatch(parameter["AllowedPattern"], PINNED)
    assert not re.fullmatch(parameter["AllowedPattern"], PINNED.replace("@sha256:", ":"))
    for name, logical in (("api", "ApiFunction"), ("worker", "WorkerFunction")):
        properties = template["Resources"][logical]["Properties"]
        assert properties["PackageType"] == "Image"
        assert properties["ImageUri"] == {"Ref": "ImageUri"}
        assert properties["ImageConfig"] == {"Command": [f"faasport_handler.{name}"]}
        assert not {"CodeUri", "Handler", "Runtime"} & set(properties)
    variables = template["Resources"]["ApiFunction"]["Properties"]["Environment"]["Variables"]
    assert variables["FAASPORT_STATE_URL"] == "dynamodb://shop-state?region=eu-west-1"


def test_sam_transform_gives_image_functions(plans: Mapping[str, Plan]) -> None:
    template = json.loads(json.dumps(sam(plans)))
    to_py27_compatible_template(template, {})
    session = boto3.session.Session(region_name="eu-west-1")
    translated = Translator(None, Parser(), boto_session=session).translate(
        template, parameter_values={"ImageUri": PINNED}, get_managed_policy_map=dict
    )
    stack = undo_mark_unicode_str_in_template(translated)["Resources"]
    function = stack["ApiFunction"]["Properties"]
    assert function["PackageType"] == "Image"
    assert function["Code"] == {"ImageUri": {"Ref": "ImageUri"}}
    assert function["ImageConfig"] == {"Command": ["faasport_handler.api"]}


def test_the_repository_stack(plans: Mapping[str, Plan]) -> None:
    repository = sam(plans, "image.yaml")["Resources"]["ImageRepository"]
    properties = repository["Properties"]
    assert repository["Type"] == "AWS::ECR::Repository"
    assert properties["RepositoryName"] == "shop"
    assert properties["ImageTagMutability"] == "IMMUTABLE"
    assert repository["DeletionPolicy"] == "Retain"
    rules = json.loads(properties["LifecyclePolicy"]["LifecyclePolicyText"])["rules"]
    assert rules[0]["selection"]["countNumber"] == image.KEEP_IMAGES


def test_sam_deploys_in_three_steps(plans: Mapping[str, Plan]) -> None:
    deploy = ("aws", "cloudformation", "deploy", "--region", "eu-west-1")
    assert plans["sam"].commands == (
        ("faasport", "package", "--target", "container", "--project", "../.."),
        (
            *deploy,
            *("--template-file", "image.yaml", "--stack-name", "shop-image"),
            "--no-fail-on-empty-changeset",
        ),
        ("sh", "push-image.sh"),
        (
            *deploy,
            *("--template-file", "template.yaml", "--stack-name", "shop"),
            *("--capabilities", "CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"),
            "--no-fail-on-empty-changeset",
            *("--parameter-overrides", "file://image-parameters.json"),
        ),
    )


def test_terraform_functions_run_the_pinned_image(plans: Mapping[str, Plan]) -> None:
    files = {k: v for k, v in plans["terraform"].files.items() if k.endswith(".tf")}
    parsed = parse_tf(files, "")
    modules = blocks(parsed, "module")
    api = modules["function_api"]
    assert api["image_uri"] == "${var.image_uri}"
    assert api["handler"] == "faasport_handler.api"
    assert api["filename"] is None and api["runtime"] is None
    assert "package" not in parsed["locals"][0]
    variable = blocks(parsed, "variable")["image_uri"]
    assert variable["default"] is None
    kinds = {kind for block in parsed["resource"] for kind in block}
    assert {"aws_ecr_repository", "aws_ecr_lifecycle_policy"} <= kinds
    module = parse_tf(files, "modules/function")
    function = blocks(module, "resource")["aws_lambda_function"]["this"]
    assert function["package_type"] == '${var.image_uri == null ? "Zip" : "Image"}'
    assert function["image_uri"] == "${var.image_uri}"
    outputs = blocks(parse_tf(files, ""), "output")
    assert outputs["image_repository_url"]["value"] == "${aws_ecr_repository.image.repository_url}"


def test_terraform_applies_the_repository_first(plans: Mapping[str, Plan]) -> None:
    assert plans["terraform"].commands[1:] == (
        ("terraform", "init", "-input=false"),
        ("terraform", "apply", "-input=false", "-target=aws_ecr_repository.image"),
        ("sh", "push-image.sh"),
        ("terraform", "apply", "-input=false"),
    )


def test_zip_deployments_are_unchanged_by_the_option(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path, CONFIG))
    zipped = plan(project, Options(iac="sam"))
    assert "image.yaml" not in zipped.files
    properties = yaml.safe_load(zipped.files["template.yaml"])["Resources"]["ApiFunction"]
    assert properties["Properties"]["CodeUri"] == "../../dist/aws/shop.zip"
    assert "Parameters" not in yaml.safe_load(zipped.files["template.yaml"])


def test_checkov_finds_no_failed_check(plans: Mapping[str, Plan], tmp_path: Path) -> None:
    for iac, plan_ in plans.items():
        write_files(plan_.files, tmp_path / iac)
    reports = run_checkov(tmp_path, "--framework", "cloudformation", "terraform")
    failed = [
        (check["check_id"], check["resource"])
        for report in reports
        for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    passed = {check["check_id"] for r in reports for check in r["results"]["passed_checks"]}
    assert {"CKV_AWS_51", "CKV_AWS_136", "CKV_AWS_163"} <= passed  # the repository's checks


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            '[functions.feed]\napp = "shop.feed:app"\nroutes = ["GET /feed"]\nstream = true\n',
            "faasport.toml: functions.feed.stream: response streaming is deployed from the zip "
            "package only; deploy with --package zip",
        ),
        (
            '[functions.arm]\nhandler = "shop.arm:handle"\narchitecture = "arm64"\n',
            "faasport.toml: functions: all functions run the same container image, so they "
            "need the same architecture, got arm64, x86_64",
        ),
    ],
    ids=["stream", "architectures"],
)
def test_what_an_image_cannot_do_is_refused(tmp_path: Path, extra: str, message: str) -> None:
    project = load_project(
        write_project(tmp_path, CONFIG.replace("[queues.jobs]", extra + "[queues.jobs]"))
    )
    with pytest.raises(FaasportError) as refused:
        plan(project, Options(package="container"))
    assert str(refused.value).endswith(message)


STAND_IN = """#!/bin/sh
echo "$(basename "$0") $*" >> "$CALLS"
case "$(basename "$0") $1" in
  "aws cloudformation") echo 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop ;;
  "aws ecr") echo password ;;
  "docker inspect") echo "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop@sha256:%s" ;;
  "docker login") cat > /dev/null ;;
esac
"""


def _stand_ins(directory: Path) -> dict[str, str]:
    directory.mkdir()
    for tool in ("aws", "docker", "terraform"):
        path = directory / tool
        path.write_text(STAND_IN.replace("%s", "ab" * 32))
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    calls = directory / "calls"
    return {"PATH": f"{directory}:/usr/bin:/bin", "CALLS": str(calls)}


@pytest.mark.parametrize("iac", ["sam", "terraform"])
def test_push_script_builds_pushes_and_pins_the_digest(
    plans: Mapping[str, Plan], tmp_path: Path, iac: str
) -> None:
    deploy = tmp_path / "deploy" / "aws"
    write_files(plans[iac].files, deploy)
    env = _stand_ins(tmp_path / "bin")
    if iac == "terraform":  # terraform output names the repository
        (tmp_path / "bin" / "terraform").write_text(
            "#!/bin/sh\necho 123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop\n"
        )
    done = subprocess.run(
        ["/bin/sh", image.SCRIPT], cwd=deploy, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    calls = Path(env["CALLS"]).read_text().splitlines()
    build = next(call for call in calls if call.startswith("docker build"))
    assert build.endswith(" ../../dist/container")
    assert "--platform linux/amd64" in build
    tag = build.split("--tag ")[1].split()[0]
    assert f"docker push {tag}" in calls
    if iac == "sam":
        parameters = json.loads((deploy / "image-parameters.json").read_text())
        assert parameters == [f"ImageUri={PINNED}"]
    else:
        assert json.loads((deploy / "image.auto.tfvars.json").read_text()) == {"image_uri": PINNED}


def test_push_script_without_docker_says_what_to_do(
    plans: Mapping[str, Plan], tmp_path: Path
) -> None:
    write_files(plans["sam"].files, tmp_path)
    done = subprocess.run(
        ["/bin/sh", image.SCRIPT],
        cwd=tmp_path,
        env={"PATH": "/nonexistent", **{k: v for k, v in os.environ.items() if k == "HOME"}},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1
    assert "docker is needed to build the image" in done.stderr
