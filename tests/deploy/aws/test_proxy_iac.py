"""``[proxy]`` routes and route ``scopes`` in the generated SAM and Terraform, for an HTTP API
and a REST API: checked by cfn-lint, transformed by aws-sam-translator as ``sam deploy``
does, parsed by python-hcl2, and scanned by checkov."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import boto3
import hcl2
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
from faasport.deploy.aws import plan
from faasport.deploy.options import Options
from faasport.deploy.plan import Plan
from iac import blocks, parse_tf, resources, run_checkov, unquote, write_files
from projects import write_project

USERS = "https://users.internal.example.com/v1/{proxy}"
CONFIGS = {
    "http": f"""
        name = "front"

        [auth.users]
        issuer = "https://issuer.example.com/"
        audience = ["front"]

        [functions.api]
        app = "front.main:app"
        auth = "users"
        routes = ["GET /items", "DELETE /items/{{id}}"]
        scopes = {{ "DELETE /items/{{id}}" = ["items:admin", "admin"] }}

        [proxy]
        "ANY /users/{{proxy+}}" = "{USERS}"
        "GET /status" = {{ url = "https://status.example.com/health", timeout = 5 }}
        """,
    "rest": f"""
        name = "legacy-front"

        [api]
        type = "rest"

        [functions.api]
        app = "front.main:app"
        routes = ["ANY /{{proxy+}}"]

        [proxy]
        "ANY /users/{{proxy+}}" = "{USERS}"
        """,
    # With proxy routes SAM is given the REST API's whole document, where it writes the
    # authorizers' schemes but not the routes' security: the document must carry it.
    "rest-auth": f"""
        name = "partners"

        [api]
        type = "rest"

        [auth.token]
        type = "lambda"
        function = "authz"
        event = "token"

        [functions.authz]
        handler = "partners.auth:handle"

        [functions.api]
        app = "partners.main:app"
        routes = ["GET /items/{{id}}", "ANY /{{proxy+}}"]
        auth = "token"
        api_key_required = true

        [functions.reports]
        app = "partners.reports:app"
        routes = ["GET /reports"]
        auth = "token"

        [functions.open]
        app = "partners.open:app"
        routes = ["GET /open"]

        [api_keys.acme]

        [usage_plans.gold]
        keys = ["acme"]
        rate = 5
        burst = 10

        [proxy]
        "ANY /users/{{proxy+}}" = "{USERS}"
        """,
}


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Mapping[str, Mapping[str, Plan]]:
    tmp = tmp_path_factory.mktemp("proxy-projects")
    plans = {}
    for name, config in CONFIGS.items():
        project = load_project(write_project(tmp / name, config))
        plans[name] = {iac: plan(project, Options(iac=iac)) for iac in ("sam", "terraform")}
    return plans


def sam(generated: Mapping[str, Mapping[str, Plan]], name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(generated[name]["sam"].files["template.yaml"])
    return loaded


def transformed(template: dict[str, Any]) -> dict[str, Any]:
    """The template as CloudFormation gets it after the SAM transform."""
    template = json.loads(json.dumps(template))
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://code/app.zip"
    to_py27_compatible_template(template, {})
    session = boto3.session.Session(region_name="us-east-1")
    translated = Translator(None, Parser(), boto_session=session).translate(
        template, parameter_values={}, get_managed_policy_map=dict
    )
    return undo_mark_unicode_str_in_template(translated)  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", CONFIGS)
def test_sam_template_passes_cfn_lint(
    generated: Mapping[str, Mapping[str, Plan]], name: str
) -> None:
    template = generated[name]["sam"].files["template.yaml"]
    matches = lint(template, config=ManualArgs(regions=["us-east-1"], include_checks=["I"]))
    assert [str(match) for match in matches] == []


def test_http_api_proxy_routes_in_sam(generated: Mapping[str, Mapping[str, Plan]]) -> None:
    stack = transformed(sam(generated, "http"))["Resources"]
    integrations = {
        name: body["Properties"]
        for name, body in stack.items()
        if body["Type"] == "AWS::ApiGatewayV2::Integration"
    }
    routes = {
        body["Properties"]["RouteKey"]: body["Properties"]
        for body in stack.values()
        if body["Type"] == "AWS::ApiGatewayV2::Route"
    }
    assert set(routes) == {"ANY /users/{proxy+}", "GET /status"}
    for key, uri, method, timeout in (
        ("ANY /users/{proxy+}", USERS, "ANY", 30000),
        ("GET /status", "https://status.example.com/health", "GET", 5000),
    ):
        route = routes[key]
        assert route["ApiId"] == {"Ref": "HttpApi"}
        assert route["AuthorizationType"] == "NONE"
        target = route["Target"]["Fn::Sub"]
        integration = integrations[target.removeprefix("integrations/${").removesuffix("}")]
        assert integration["IntegrationType"] == "HTTP_PROXY"
        assert (integration["IntegrationUri"], integration["IntegrationMethod"]) == (uri, method)
        assert integration["TimeoutInMillis"] == timeout
        assert integration["PayloadFormatVersion"] == "1.0"


def test_route_scopes_in_sam(generated: Mapping[str, Mapping[str, Plan]]) -> None:
    stack = transformed(sam(generated, "http"))["Resources"]
    paths = stack["HttpApi"]["Properties"]["Body"]["paths"]
    assert paths["/items/{id}"]["delete"]["security"] == [
        {"UsersAuthorizer": ["items:admin", "admin"]}
    ]
    assert paths["/items"]["get"]["security"] == [{"UsersAuthorizer": []}]


def test_rest_api_proxy_route_in_sam(generated: Mapping[str, Mapping[str, Plan]]) -> None:
    stack = transformed(sam(generated, "rest"))["Resources"]
    paths = stack["RestApi"]["Properties"]["Body"]["paths"]
    proxied = paths["/users/{proxy+}"]["x-amazon-apigateway-any-method"]
    integration = proxied["x-amazon-apigateway-integration"]
    assert (integration["type"], integration["uri"], integration["httpMethod"]) == (
        "http_proxy",
        USERS,
        "ANY",
    )
    assert integration["requestParameters"] == {
        "integration.request.path.proxy": "method.request.path.proxy"
    }
    assert integration["timeoutInMillis"] == 29000
    assert proxied["parameters"][0]["name"] == "proxy"
    # The function's own routes are in the same document, pointing at it as SAM would.
    for path in ("/{proxy+}", "/"):
        function = paths[path]["x-amazon-apigateway-any-method"]["x-amazon-apigateway-integration"]
        assert function["type"] == "aws_proxy"
        assert function["uri"] == {
            "Fn::Sub": "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/"
            "functions/${ApiFunction.Arn}/invocations"
        }
    permissions = [body for body in stack.values() if body["Type"] == "AWS::Lambda::Permission"]
    assert len(permissions) == 2


def test_rest_api_document_keeps_each_routes_authorizer_and_api_key(
    generated: Mapping[str, Mapping[str, Plan]],
) -> None:
    body = transformed(sam(generated, "rest-auth"))["Resources"]["RestApi"]["Properties"]["Body"]
    paths = body["paths"]
    both = [{"TokenAuthorizer": [], "api_key": []}]
    assert paths["/items/{id}"]["get"]["security"] == both
    for path in ("/{proxy+}", "/"):
        assert paths[path]["x-amazon-apigateway-any-method"]["security"] == both
    assert paths["/reports"]["get"]["security"] == [{"TokenAuthorizer": []}]
    assert "security" not in paths["/open"]["get"]
    assert "security" not in paths["/users/{proxy+}"]["x-amazon-apigateway-any-method"]
    schemes = body["components"]["securitySchemes"]
    assert schemes["api_key"] == {"type": "apiKey", "name": "x-api-key", "in": "header"}
    authorizer = schemes["TokenAuthorizer"]["x-amazon-apigateway-authorizer"]
    assert authorizer["type"] == "token"
    assert "securityDefinitions" not in body  # all moved where OpenAPI 3 keeps them


def test_http_api_in_terraform(generated: Mapping[str, Mapping[str, Plan]]) -> None:
    files = generated["http"]["terraform"].files
    http = blocks(parse_tf(files, ""), "module")["http_api"]
    assert http["proxies"] == {
        "ANY /users/{proxy+}": {"method": "ANY", "uri": USERS, "timeout_ms": 30000},
        "GET /status": {
            "method": "GET",
            "uri": "https://status.example.com/health",
            "timeout_ms": 5000,
        },
    }
    assert {key: route["scopes"] for key, route in http["routes"].items()} == {
        "GET /items": [],
        "DELETE /items/{id}": ["items:admin", "admin"],
    }
    module = {name: text for name, text in files.items() if name.startswith("modules/http_api/")}
    found = resources(module)
    integration = found["aws_apigatewayv2_integration"]["proxy"]
    assert integration["integration_type"] == "HTTP_PROXY"
    assert integration["integration_uri"] == "${each.value.uri}"
    assert integration["timeout_milliseconds"] == "${each.value.timeout_ms}"
    route = found["aws_apigatewayv2_route"]["proxy"]
    assert route["target"] == "integrations/${aws_apigatewayv2_integration.proxy[each.key].id}"
    jwt = found["aws_apigatewayv2_route"]["jwt"]
    assert jwt["authorization_scopes"] == (
        "${length(each.value.scopes) > 0 ? each.value.scopes : null}"
    )


def test_rest_api_in_terraform(generated: Mapping[str, Mapping[str, Plan]]) -> None:
    rest = blocks(parse_tf(generated["rest"]["terraform"].files, ""), "module")["rest_api"]
    inner = rest["body"].removeprefix("${jsonencode(").removesuffix(")}")
    document = unquote(hcl2.loads(f"body = {inner}\n"))["body"]
    proxied = document["paths"]["/users/{proxy+}"]["x-amazon-apigateway-any-method"]
    integration = proxied["x-amazon-apigateway-integration"]
    assert (integration["type"], integration["uri"]) == ("http_proxy", USERS)
    function = document["paths"]["/{proxy+}"]["x-amazon-apigateway-any-method"]
    assert function["x-amazon-apigateway-integration"]["type"] == "aws_proxy"


def test_checkov_finds_no_failed_check(
    generated: Mapping[str, Mapping[str, Plan]], tmp_path: Path
) -> None:
    for name, plans in generated.items():
        for iac, plan_ in plans.items():
            write_files(plan_.files, tmp_path / name / iac)
    reports = run_checkov(tmp_path, "--framework", "cloudformation", "terraform")
    failed = [
        (check["check_id"], check["resource"])
        for report in reports
        for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert all(report["summary"]["parsing_errors"] == 0 for report in reports)
    skipped = {
        check["resource"]
        for report in reports
        for check in report["results"]["skipped_checks"]
        if check["check_id"] == "CKV_AWS_309"
    }
    assert 'module.http_api.aws_apigatewayv2_route.proxy["GET /status"]' in skipped
