"""``websocket = {...}`` in the AWS infrastructure: the WebSocket API, its routes,
integration, deployment, stage and permission, and ``execute-api:ManageConnections`` on that
API only, in SAM and Terraform; checked by cfn-lint and checkov as the other templates are."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from cfnlint.api import ManualArgs, lint

from faasport.config import load_project
from faasport.deploy.aws import plan
from faasport.deploy.aws.skip_reasons import REASONS
from faasport.deploy.options import Options
from faasport.deploy.plan import Plan
from iac import blocks, parse_tf, run_checkov, unquote, write_files
from projects import write_project

CONFIG = """
name = "talk"
region = "eu-west-1"

[functions.api]
app = "talk.api:app"

[functions.chat]
handler = "talk.chat:ws"
warm = 1

[functions.chat.websocket]
routes = ["$connect", "$disconnect", "$default", "join", "send"]
selection = "$request.body.kind"

[functions.feed]
handler = "talk.feed:ws"
websocket = {}
"""
CHAT_ROUTES = {"$connect", "$disconnect", "$default", "join", "send"}


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> Mapping[str, Plan]:
    project = load_project(write_project(tmp_path_factory.mktemp("talk"), CONFIG))
    return {iac: plan(project, Options(iac=iac)) for iac in ("sam", "terraform")}


@pytest.fixture(scope="module")
def sam(plans: Mapping[str, Plan]) -> dict[str, Any]:
    resources: dict[str, Any] = yaml.safe_load(plans["sam"].files["template.yaml"])
    return resources


def of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def test_sam_describes_each_websocket_api(sam: dict[str, Any]) -> None:
    apis = of(sam, "AWS::ApiGatewayV2::Api")
    assert {k: v["Properties"]["RouteSelectionExpression"] for k, v in apis.items()} == {
        "ChatWebSocketApi": "$request.body.kind",
        "FeedWebSocketApi": "$request.body.action",
    }
    assert all(v["Properties"]["ProtocolType"] == "WEBSOCKET" for v in apis.values())
    routes = of(sam, "AWS::ApiGatewayV2::Route")
    chat = {k: v["Properties"] for k, v in routes.items() if k.startswith("Chat")}
    assert {p["RouteKey"] for p in chat.values()} == CHAT_ROUTES
    for properties in chat.values():
        assert properties["ApiId"] == {"Ref": "ChatWebSocketApi"}
        assert properties["Target"] == {"Fn::Sub": "integrations/${ChatWebSocketIntegration}"}
    integration = sam["Resources"]["ChatWebSocketIntegration"]["Properties"]
    assert integration["IntegrationType"] == "AWS_PROXY"
    assert "${ChatFunctionAliaslive}/invocations" in integration["IntegrationUri"]["Fn::Sub"]
    feed = sam["Resources"]["FeedWebSocketIntegration"]["Properties"]
    assert "${FeedFunction.Arn}/invocations" in feed["IntegrationUri"]["Fn::Sub"]
    two_way = {p["RouteKey"] for p in chat.values() if "RouteResponseSelectionExpression" in p}
    assert two_way == CHAT_ROUTES - {"$connect", "$disconnect"}
    responses = of(sam, "AWS::ApiGatewayV2::RouteResponse")
    chat_responses = {k for k in responses if k.startswith("Chat")}
    assert {responses[k]["Properties"]["RouteId"]["Ref"] for k in chat_responses} == {
        k for k, p in chat.items() if p["RouteKey"] in two_way
    }
    deployment = sam["Resources"]["ChatWebSocketDeployment"]
    assert set(deployment["DependsOn"]) == set(chat) | chat_responses
    stage = sam["Resources"]["ChatWebSocketStage"]["Properties"]
    assert stage["StageName"] == "prod"
    assert stage["DeploymentId"] == {"Ref": "ChatWebSocketDeployment"}
    permission = sam["Resources"]["ChatWebSocketPermission"]["Properties"]
    assert permission["FunctionName"] == {"Ref": "ChatFunctionAliaslive"}
    assert permission["Principal"] == "apigateway.amazonaws.com"
    assert permission["SourceArn"]["Fn::Sub"].endswith(":${ChatWebSocketApi}/*")
    url = sam["Outputs"]["ChatWebSocketUrl"]["Value"]["Fn::Sub"]
    assert url.startswith("wss://${ChatWebSocketApi}.execute-api.") and url.endswith("/prod")


def _sam_statements(sam: dict[str, Any], function: str) -> dict[str, Any]:
    properties = sam["Resources"][f"{function}Function"]["Properties"]
    role = sam["Resources"][properties["Role"]["Fn::GetAtt"][0]]["Properties"]
    (document,) = [p["PolicyDocument"] for p in role["Policies"]]
    return {s["Sid"]: s for s in document["Statement"]}


def test_only_the_function_may_manage_its_own_connections(sam: dict[str, Any]) -> None:
    chat = _sam_statements(sam, "Chat")["ManageConnections"]
    assert chat["Action"] == ["execute-api:ManageConnections"]
    assert chat["Resource"] == [
        {
            "Fn::Sub": "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:"
            "${ChatWebSocketApi}/prod/*/@connections/*"
        }
    ]
    feed = _sam_statements(sam, "Feed")["ManageConnections"]["Resource"]
    assert "${FeedWebSocketApi}/prod/" in feed[0]["Fn::Sub"]
    assert "ManageConnections" not in _sam_statements(sam, "Api")


def test_sam_template_passes_cfn_lint(plans: Mapping[str, Plan]) -> None:
    template = plans["sam"].files["template.yaml"]
    matches = lint(template, config=ManualArgs(regions=["eu-west-1"], include_checks=["I"]))
    assert [str(match) for match in matches] == []


def test_checkov_finds_no_failed_check(plans: Mapping[str, Plan], tmp_path: Path) -> None:
    for iac, generated in plans.items():
        write_files(generated.files, tmp_path / iac)
    reports = run_checkov(tmp_path, "--framework", "cloudformation", "terraform")
    for report in reports:
        failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
        assert failed == [], (report["check_type"], failed)
        assert report["summary"]["parsing_errors"] == 0
        for check in report["results"]["skipped_checks"]:
            assert check["check_result"]["suppress_comment"] == REASONS[check["check_id"]]
    passed = {c["resource"] for r in reports for c in r["results"]["passed_checks"]}
    assert any("ApiGatewayV2::Stage" in r or "aws_apigatewayv2_stage" in r for r in passed)


def test_terraform_describes_the_same_apis(plans: Mapping[str, Plan]) -> None:
    files = plans["terraform"].files
    calls = blocks(parse_tf(files, ""), "module")
    chat, feed = calls["websocket_chat"], calls["websocket_feed"]
    assert chat["source"] == "./modules/websocket"
    assert (set(chat["routes"]), chat["selection"]) == (CHAT_ROUTES, "$request.body.kind")
    assert (feed["routes"], feed["selection"]) == (
        ["$connect", "$disconnect", "$default"],
        "$request.body.action",
    )
    assert chat["invoke_arn"] == "${module.function_chat.invoke_arn}"
    assert chat["qualifier"] == "${module.function_chat.qualifier}"
    module = parse_tf(files, "modules/websocket")
    assert set(chat) - {"source"} == set(blocks(module, "variable"))
    resources = blocks(module, "resource")
    assert resources["aws_apigatewayv2_api"]["this"]["protocol_type"] == "WEBSOCKET"
    route = resources["aws_apigatewayv2_route"]["this"]
    assert route["target"] == "integrations/${aws_apigatewayv2_integration.lambda.id}"
    assert resources["aws_apigatewayv2_integration"]["lambda"]["integration_type"] == "AWS_PROXY"
    assert "aws_apigatewayv2_route_response" in resources
    assert "aws_apigatewayv2_stage" in resources and "aws_lambda_permission" in resources
    outputs = blocks(parse_tf(files, ""), "output")
    assert outputs["websocket_chat_url"]["value"] == "${module.websocket_chat.url}"


def _tf_statements(files: Mapping[str, str], function: str) -> dict[str, Any]:
    call = blocks(parse_tf(files, ""), "module")[f"function_{function}"]
    inner = call["policy"].removeprefix("${jsonencode(").removesuffix(")}")
    document = unquote(hcl2.loads(f"policy = {inner}\n"))["policy"]
    return {s["Sid"]: s for s in document["Statement"]}


def test_terraform_scopes_manage_connections_to_the_api(plans: Mapping[str, Plan]) -> None:
    files = plans["terraform"].files
    chat = _tf_statements(files, "chat")["ManageConnections"]
    assert chat["Action"] == ["execute-api:ManageConnections"]
    assert chat["Resource"] == ["${module.websocket_chat.execution_arn}/prod/*/@connections/*"]
    assert "ManageConnections" not in _tf_statements(files, "api")
    text = "\n".join(files.values())
    assert len(re.findall(r'protocol_type\s*=\s*"WEBSOCKET"', text)) == 1  # one module, twice used
