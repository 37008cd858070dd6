"""Lambda authorizers, API keys and usage plans in the generated SAM template and Terraform:
checked by cfn-lint and checkov, and read back to see that each setting got where API
Gateway reads it."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import ManualArgs, lint

from faasport.config import load_project
from faasport.deploy.aws import plan
from faasport.deploy.options import Options
from faasport.deploy.plan import Plan
from iac import blocks, parse_tf, run_checkov, write_files
from projects import write_project

HTTP_LAMBDA = """
name = "gate"

[auth.custom]
type = "lambda"
function = "authz"
identity = ["$request.header.Authorization", "$request.querystring.tenant"]
ttl = 300

[functions.authz]
handler = "gate.auth:handle"

[functions.api]
app = "gate.main:app"
routes = ["GET /items", "POST /items"]
auth = "custom"
"""

REST_KEYS = """
name = "partners"

[api]
type = "rest"

[auth.token]
type = "lambda"
function = "authz"
event = "token"
validation = "^Bearer .+$"
ttl = 60

[auth.request]
type = "lambda"
function = "authz"
identity = ["method.request.header.X-User"]

[functions.authz]
handler = "partners.auth:handle"

[functions.api]
app = "partners.main:app"
routes = ["GET /items/{id}"]
auth = "token"
api_key_required = true

[functions.reports]
app = "partners.reports:app"
routes = ["GET /reports"]
auth = "request"

[api_keys.acme]
secret = "partners/prod/acme-key"

[api_keys.beta]

[usage_plans.gold]
keys = ["acme"]
rate = 50
burst = 100
quota = { limit = 100000, period = "MONTH" }

[usage_plans.trial]
keys = ["beta"]
quota = { limit = 1000, period = "DAY" }
"""

PROJECTS = {"http-lambda": HTTP_LAMBDA, "rest-keys": REST_KEYS}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Mapping[str, Mapping[str, Plan]]:
    tmp = tmp_path_factory.mktemp("access")
    plans = {}
    for name, config in PROJECTS.items():
        project = load_project(write_project(tmp / name, config))
        plans[name] = {iac: plan(project, Options(iac=iac)) for iac in ("sam", "terraform")}
    return plans


def sam(generated: Mapping[str, Mapping[str, Plan]], name: str) -> dict[str, Any]:
    template: dict[str, Any] = yaml.safe_load(generated[name]["sam"].files["template.yaml"])
    return template["Resources"]


@pytest.mark.parametrize("name", PROJECTS)
def test_sam_passes_cfn_lint(generated: Mapping[str, Mapping[str, Plan]], name: str) -> None:
    template = generated[name]["sam"].files["template.yaml"]
    matches = lint(template, config=ManualArgs(regions=["us-east-1"], include_checks=["I"]))
    assert [str(match) for match in matches] == []


def test_checkov_finds_no_failed_check(
    generated: Mapping[str, Mapping[str, Plan]], tmp_path: Path
) -> None:
    for name, plans in generated.items():
        for iac, plan_ in plans.items():
            write_files(plan_.files, tmp_path / name / iac)
    reports = run_checkov(tmp_path, "--framework", "cloudformation", "terraform")
    for report in reports:
        failed = [
            (check["check_id"], check["resource"]) for check in report["results"]["failed_checks"]
        ]
        assert failed == [], report["check_type"]
        assert report["summary"]["parsing_errors"] == 0


def test_sam_http_lambda_authorizer(generated: Mapping[str, Mapping[str, Plan]]) -> None:
    resources = sam(generated, "http-lambda")
    (entry,) = resources["HttpApi"]["Properties"]["Auth"]["Authorizers"].values()
    assert entry == {
        "FunctionArn": {"Fn::GetAtt": ["AuthzFunction", "Arn"]},
        "AuthorizerPayloadFormatVersion": "2.0",
        "EnableSimpleResponses": True,
        "Identity": {
            "Headers": ["Authorization"],
            "QueryStrings": ["tenant"],
            "ReauthorizeEvery": 300,
        },
    }
    permissions = [
        r["Properties"] for r in resources.values() if r["Type"] == "AWS::Lambda::Permission"
    ]
    assert any(
        p["FunctionName"] == {"Fn::GetAtt": ["AuthzFunction", "Arn"]}
        and p["Principal"] == "apigateway.amazonaws.com"
        and p["SourceArn"]["Fn::Sub"].endswith("${HttpApi}/authorizers/*")
        for p in permissions
    )
    events = resources["ApiFunction"]["Properties"]["Events"].values()
    assert {e["Properties"]["Auth"]["Authorizer"] for e in events} == {"CustomAuthorizer"}


def test_sam_rest_authorizers_keys_and_plans(generated: Mapping[str, Mapping[str, Plan]]) -> None:
    resources = sam(generated, "rest-keys")
    authorizers = resources["RestApi"]["Properties"]["Auth"]["Authorizers"]
    assert authorizers["TokenAuthorizer"] == {
        "FunctionArn": {"Fn::GetAtt": ["AuthzFunction", "Arn"]},
        "FunctionPayloadType": "TOKEN",
        "Identity": {
            "Header": "Authorization",
            "ReauthorizeEvery": 60,
            "ValidationExpression": "^Bearer .+$",
        },
    }
    assert authorizers["RequestAuthorizer"]["FunctionPayloadType"] == "REQUEST"
    assert authorizers["RequestAuthorizer"]["Identity"] == {
        "Headers": ["X-User"],
        "ReauthorizeEvery": 0,
    }
    (api_event,) = resources["ApiFunction"]["Properties"]["Events"].values()
    assert api_event["Properties"]["Auth"] == {
        "Authorizer": "TokenAuthorizer",
        "ApiKeyRequired": True,
    }
    (report_event,) = resources["ReportsFunction"]["Properties"]["Events"].values()
    assert report_event["Properties"]["Auth"] == {"Authorizer": "RequestAuthorizer"}
    of = lambda kind: {k: v["Properties"] for k, v in resources.items() if v["Type"] == kind}  # noqa: E731
    keys = of("AWS::ApiGateway::ApiKey")
    assert keys["AcmeApiKey"]["Value"] == "{{resolve:secretsmanager:partners/prod/acme-key}}"
    assert "Value" not in keys["BetaApiKey"]  # generated by API Gateway
    plans = of("AWS::ApiGateway::UsagePlan")
    assert plans["GoldUsagePlan"]["Throttle"] == {"RateLimit": 50.0, "BurstLimit": 100}
    assert plans["GoldUsagePlan"]["Quota"] == {"Limit": 100000, "Period": "MONTH"}
    assert "Throttle" not in plans["TrialUsagePlan"]
    members = of("AWS::ApiGateway::UsagePlanKey")
    assert sorted((m["UsagePlanId"]["Ref"], m["KeyId"]["Ref"]) for m in members.values()) == [
        ("GoldUsagePlan", "AcmeApiKey"),
        ("TrialUsagePlan", "BetaApiKey"),
    ]


def test_terraform_http_lambda_authorizer(generated: Mapping[str, Mapping[str, Plan]]) -> None:
    files = generated["http-lambda"]["terraform"].files
    api = blocks(parse_tf(files, ""), "module")["http_api"]
    (authorizer,) = api["lambda_authorizers"].values()
    assert authorizer["identity_sources"] == [
        "$request.header.Authorization",
        "$request.querystring.tenant",
    ]
    assert authorizer["ttl"] == 300 and authorizer["simple"] is True
    assert authorizer["invoke_arn"] == "${module.function_authz.invoke_arn}"
    assert {r["lambda_authorizer"] for r in api["routes"].values()} == {"custom"}
    module = parse_tf(files, "modules/http_api")
    resources = {
        (kind, name): body
        for block in module["resource"]
        for kind, named in block.items()
        for name, body in named.items()
    }
    lambda_authorizer = resources[("aws_apigatewayv2_authorizer", "lambda")]
    assert lambda_authorizer["authorizer_type"] == "REQUEST"
    assert lambda_authorizer["authorizer_payload_format_version"] == "2.0"
    permission = resources[("aws_lambda_permission", "authorizer")]
    assert permission["principal"] == "apigateway.amazonaws.com"
    assert "/authorizers/" in permission["source_arn"]
    assert resources[("aws_apigatewayv2_route", "lambda")]["authorization_type"] == "CUSTOM"
    declared = set(blocks(module, "variable"))
    assert set(api) - {"source"} == declared


def test_terraform_rest_authorizers_keys_and_plans(
    generated: Mapping[str, Mapping[str, Plan]],
) -> None:
    files = generated["rest-keys"]["terraform"].files
    root = parse_tf(files, "")
    api = blocks(root, "module")["rest_api"]
    body = api["body"]
    assert body.startswith("${jsonencode(")
    resources = {
        (kind, name): value
        for block in root["resource"]
        for kind, named in block.items()
        for name, value in named.items()
    }
    plans = {
        name: v for (kind, name), v in resources.items() if kind == "aws_api_gateway_usage_plan"
    }
    assert plans["plan_gold"]["throttle_settings"][0] == {"rate_limit": 50.0, "burst_limit": 100}
    assert plans["plan_gold"]["quota_settings"][0] == {"limit": 100000, "period": "MONTH"}
    assert plans["plan_gold"]["api_stages"][0]["stage"] == "${module.rest_api.stage_name}"
    keys = {name: v for (kind, name), v in resources.items() if kind == "aws_api_gateway_api_key"}
    assert keys["key_acme"]["value"] == (
        "${data.aws_secretsmanager_secret_version.key_acme.secret_string}"
    )
    assert "value" not in keys["key_beta"]
    members = [v for (kind, _), v in resources.items() if kind == "aws_api_gateway_usage_plan_key"]
    assert len(members) == 2
    permissions = [v for (kind, name), v in resources.items() if kind == "aws_lambda_permission"]
    assert {p["source_arn"] for p in permissions} == {
        "${module.rest_api.execution_arn}/authorizers/*"
    }
    assert len(permissions) == 2
    text = files["main.tf"]
    for name, value in (
        ("x-amazon-apigateway-authtype", '"custom"'),
        ("identityValidationExpression", '"\\^Bearer \\.\\+\\$"'),
        ("identitySource", '"method.request.header.X-User"'),
        ("authorizerResultTtlInSeconds", "60"),
        ("name", '"x-api-key"'),
    ):
        assert re.search(rf"{name}\s*=\s*{value}", text), name
    security = re.findall(r"security\s*=\s*\[\s*\{([^}]*)\}", text)
    assert sorted(" ".join(entry.split()) for entry in security) == [
        "request = []",
        "token = [] api_key = []",
    ]
