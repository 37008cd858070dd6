"""``stream = true`` in the AWS infrastructure: a RESPONSE_STREAM Function URL, streamed REST
integrations, and the exec wrapper that makes Lambda run faasport's runtime client."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from faasport.config import load_project
from faasport.deploy.aws import plan
from faasport.deploy.options import Options
from iac import blocks, parse_tf
from projects import AWS_EVERY_KEY, AWS_REST, write_project

WRAPPER = "/var/task/faasport_bootstrap"


def test_sam_gives_a_streaming_function_its_url_and_wrapper(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path, AWS_EVERY_KEY))
    template = yaml.safe_load(plan(project, Options(iac="sam")).files["template.yaml"])
    public = template["Resources"]["PublicFunction"]["Properties"]
    assert public["FunctionUrlConfig"] == {"AuthType": "AWS_IAM", "InvokeMode": "RESPONSE_STREAM"}
    assert public["Environment"]["Variables"]["AWS_LAMBDA_EXEC_WRAPPER"] == WRAPPER
    api = template["Resources"]["ApiFunction"]["Properties"]
    assert "FunctionUrlConfig" not in api
    assert "AWS_LAMBDA_EXEC_WRAPPER" not in api["Environment"]["Variables"]


def test_terraform_gives_a_streaming_function_its_url_and_wrapper(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path, AWS_EVERY_KEY))
    files = plan(project, Options(iac="terraform")).files
    modules = blocks(parse_tf(files, ""), "module")
    public = next(m for m in modules.values() if m.get("name") == "shop-public")
    api = next(m for m in modules.values() if m.get("name") == "shop-api")
    assert (public["response_stream"], api["response_stream"]) == (True, False)
    assert public["environment"]["AWS_LAMBDA_EXEC_WRAPPER"] == WRAPPER
    url = blocks(parse_tf(files, "modules/function"), "resource")["aws_lambda_function_url"]
    assert url["stream"]["invoke_mode"] == "RESPONSE_STREAM"
    assert url["stream"]["authorization_type"] == "AWS_IAM"


def test_terraform_streams_rest_integrations(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path, AWS_REST))
    text = "\n".join(plan(project, Options(iac="terraform")).files.values())
    assert re.search(r'responseTransferMode\s*=\s*"STREAM"', text)
    assert '"/invocations", "/response-streaming-invocations")' in text
