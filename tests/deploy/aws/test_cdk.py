"""faasport.cdk: a user's CDK app with the project's construct, synthesized as ``cdk synth``
runs an app (``python app.py`` with ``CDK_OUTDIR``): the same resources as the SAM template
of ``faasport deploy aws``, the functions' code from the packaged zip as a CDK asset, and the
synthesized template passing cfn-lint. Importing faasport never imports aws_cdk."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import ManualArgs, lint

from faasport.config import load_project
from faasport.deploy.aws import plan
from projects import write_project

CONFIG = """
name = "shop"

[functions.api]
app = "shop.web:app"
routes = ["GET /items/{id}"]

[functions.worker]
handler = "shop.jobs:handle"
events = [{ queue = "jobs" }]

[queues.jobs]

[stages.prod.functions.api]
memory = 1024
"""
APP = """
import aws_cdk as cdk
from faasport.cdk import Faasport

app = cdk.App()
stack = cdk.Stack(app, "shop-prod", env=cdk.Environment(region="eu-west-1"))
shop = Faasport(stack, "Shop", project={root!r}, stage="prod")
cdk.CfnOutput(stack, "ApiFunctionName", value=shop.function("api").ref)
app.synth()
"""


class _Loader(yaml.SafeLoader):
    pass


_Loader.add_multi_constructor("!", lambda loader, suffix, node: {suffix: node.value})


@pytest.fixture(scope="module")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Mapping[str, Any]]:
    tmp = tmp_path_factory.mktemp("cdk")
    root = write_project(tmp / "shop", CONFIG)
    (root / "shop").mkdir()
    (root / "shop" / "__init__.py").write_text("")
    (root / "shop" / "web.py").write_text("def app(environ, start_response):\n    return []\n")
    (root / "shop" / "jobs.py").write_text("def handle(event, context):\n    return None\n")
    (tmp / "app.py").write_text(APP.format(root=str(root)))
    out = tmp / "cdk.out"
    env = {
        **os.environ,
        "CDK_OUTDIR": str(out),
        "JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION": "1",
    }
    done = subprocess.run(
        [sys.executable, "app.py"], cwd=tmp, env=env, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    template = json.loads((out / "shop-prod.template.json").read_text())
    return root, template


def test_the_same_resources_as_faasport_deploy_aws(
    synthesized: tuple[Path, Mapping[str, Any]],
) -> None:
    root, template = synthesized
    sam = yaml.load(plan(load_project(root, stage="prod")).files["template.yaml"], _Loader)
    assert template["Transform"] == "AWS::Serverless-2016-10-31"
    ours = {k: v for k, v in template["Resources"].items() if not k.startswith("CDK")}
    assert set(ours) == set(sam["Resources"])
    for name, body in sam["Resources"].items():
        assert ours[name]["Type"] == body["Type"], name
    api = ours["ApiFunction"]["Properties"]
    assert api["FunctionName"] == "shop-prod-api"
    assert api["MemorySize"] == 1024
    assert "ApiFunctionName" in template["Outputs"]


def test_the_code_is_the_packaged_zip_as_an_asset(
    synthesized: tuple[Path, Mapping[str, Any]],
) -> None:
    root, template = synthesized
    assert (root / "dist" / "aws" / "shop-prod.zip").is_file()
    for name in ("ApiFunction", "WorkerFunction"):
        code = template["Resources"][name]["Properties"]["CodeUri"]
        assert set(code) == {"Bucket", "Key"}
        assert "cdk-" in json.dumps(code["Bucket"])  # the bootstrap bucket of CDK's assets
        assert code["Key"].endswith(".zip")
    manifest = json.loads(next((root.parent / "cdk.out").glob("*.assets.json")).read_text())
    [asset_hash] = [h for h, a in manifest["files"].items() if a["source"]["path"].endswith(".zip")]
    assert template["Resources"]["ApiFunction"]["Properties"]["CodeUri"]["Key"].startswith(
        asset_hash
    )


def test_the_synthesized_template_passes_cfn_lint(
    synthesized: tuple[Path, Mapping[str, Any]],
) -> None:
    _, template = synthesized
    matches = lint(json.dumps(template), config=ManualArgs(regions=["eu-west-1"]))
    assert [str(match) for match in matches] == []


def test_importing_faasport_never_imports_aws_cdk() -> None:
    code = (
        "import sys, faasport, faasport.config, faasport.deploy.aws, faasport.cli.main; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('aws_cdk', 'jsii', "
        "'constructs')))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"
