"""``modules/http_api`` (API Gateway HTTP API: JWT authorizers, CORS, route throttling, access
logs) and ``modules/rest_api`` (REST API from an OpenAPI body, stage throttling)."""

from __future__ import annotations

from faasport.deploy.aws import model
from faasport.deploy.aws.terraform.tf import Module, output, resource, variable
from faasport.deploy.hcl import Block, Ref, template

_FUNCTIONS = "map(object({ function_name = string, qualifier = string, invoke_arn = string }))"
_ROUTES = (
    "map(object({ function = string, authorizer = string, lambda_authorizer = string, "
    "throttle_rate = number, throttle_burst = number, scopes = list(string) }))"
)
_LAMBDA_AUTHORIZERS = (
    "map(object({ function_name = string, qualifier = string, invoke_arn = string, "
    "identity_sources = list(string), ttl = number, simple = bool }))"
)
_PROXIES = "map(object({ method = string, uri = string, timeout_ms = number }))"
_CORS = (
    "object({ origins = list(string), methods = list(string), headers = list(string), "
    "max_age = number })"
)
LOG_SKIPS = ("CKV_AWS_158", "CKV_AWS_338")


def _permission(execution_arn: str) -> Block:
    return resource(
        "aws_lambda_permission",
        "api",
        {
            "for_each": Ref("var.functions"),
            "statement_id": "api-gateway",
            "action": "lambda:InvokeFunction",
            "function_name": Ref("each.value.function_name"),
            "qualifier": Ref("each.value.qualifier"),
            "principal": "apigateway.amazonaws.com",
            "source_arn": template(Ref(execution_arn), "/*/*"),
        },
    )


def _http_api() -> tuple[Block, ...]:
    api_id = Ref("aws_apigatewayv2_api.this.id")
    cors = Block(
        "dynamic",
        ("cors_configuration",),
        {
            "for_each": Ref("var.cors == null ? [] : [var.cors]"),
            "content": Block(
                "content",
                (),
                {
                    "allow_origins": Ref("cors_configuration.value.origins"),
                    "allow_methods": Ref("cors_configuration.value.methods"),
                    "allow_headers": Ref("cors_configuration.value.headers"),
                    "max_age": Ref("cors_configuration.value.max_age"),
                },
            ),
        },
    )
    authorizer = resource(
        "aws_apigatewayv2_authorizer",
        "jwt",
        {
            "for_each": Ref("var.authorizers"),
            "api_id": api_id,
            "name": Ref("each.key"),
            "authorizer_type": "JWT",
            "identity_sources": [Ref("each.value.identity")],
            "jwt_configuration": Block(
                "jwt_configuration",
                (),
                {"issuer": Ref("each.value.issuer"), "audience": Ref("each.value.audience")},
            ),
        },
    )
    lambda_authorizer = resource(
        "aws_apigatewayv2_authorizer",
        "lambda",
        {
            "for_each": Ref("var.lambda_authorizers"),
            "api_id": api_id,
            "name": Ref("each.key"),
            "authorizer_type": "REQUEST",
            "authorizer_uri": Ref("each.value.invoke_arn"),
            "authorizer_payload_format_version": "2.0",
            "enable_simple_responses": Ref("each.value.simple"),
            "identity_sources": Ref("each.value.identity_sources"),
            "authorizer_result_ttl_in_seconds": Ref("each.value.ttl"),
        },
    )
    authorizer_permission = resource(
        "aws_lambda_permission",
        "authorizer",
        {
            "for_each": Ref("var.lambda_authorizers"),
            "statement_id": template("api-gateway-authorizer-", Ref("each.key")),
            "action": "lambda:InvokeFunction",
            "function_name": Ref("each.value.function_name"),
            "qualifier": Ref("each.value.qualifier"),
            "principal": "apigateway.amazonaws.com",
            "source_arn": template(
                Ref("aws_apigatewayv2_api.this.execution_arn"),
                "/authorizers/",
                Ref("aws_apigatewayv2_authorizer.lambda[each.key].id"),
            ),
        },
    )
    integration = resource(
        "aws_apigatewayv2_integration",
        "function",
        {
            "for_each": Ref("var.functions"),
            "api_id": api_id,
            "integration_type": "AWS_PROXY",
            "integration_uri": Ref("each.value.invoke_arn"),
            "payload_format_version": "2.0",
        },
    )
    target = template(
        "integrations/", Ref("aws_apigatewayv2_integration.function[each.value.function].id")
    )
    public_route = resource(
        "aws_apigatewayv2_route",
        "public",
        {
            "for_each": Ref(
                "{ for key, r in var.routes : key => r "
                "if r.authorizer == null && r.lambda_authorizer == null }"
            ),
            "api_id": api_id,
            "route_key": Ref("each.key"),
            "target": target,
            "authorization_type": "NONE",
        },
        skip=("CKV_AWS_309",),
    )
    jwt_route = resource(
        "aws_apigatewayv2_route",
        "jwt",
        {
            "for_each": Ref("{ for key, r in var.routes : key => r if r.authorizer != null }"),
            "api_id": api_id,
            "route_key": Ref("each.key"),
            "target": target,
            "authorization_type": "JWT",
            "authorizer_id": Ref("aws_apigatewayv2_authorizer.jwt[each.value.authorizer].id"),
            "authorization_scopes": Ref("length(each.value.scopes) > 0 ? each.value.scopes : null"),
        },
    )
    proxy_integration = resource(
        "aws_apigatewayv2_integration",
        "proxy",
        {
            "for_each": Ref("var.proxies"),
            "api_id": api_id,
            "integration_type": "HTTP_PROXY",
            "integration_method": Ref("each.value.method"),
            "integration_uri": Ref("each.value.uri"),
            "payload_format_version": "1.0",
            "timeout_milliseconds": Ref("each.value.timeout_ms"),
        },
    )
    proxy_route = resource(
        "aws_apigatewayv2_route",
        "proxy",
        {
            "for_each": Ref("var.proxies"),
            "api_id": api_id,
            "route_key": Ref("each.key"),
            "target": template(
                "integrations/", Ref("aws_apigatewayv2_integration.proxy[each.key].id")
            ),
            "authorization_type": "NONE",
        },
        skip=("CKV_AWS_309",),
    )
    custom_route = resource(
        "aws_apigatewayv2_route",
        "lambda",
        {
            "for_each": Ref(
                "{ for key, r in var.routes : key => r if r.lambda_authorizer != null }"
            ),
            "api_id": api_id,
            "route_key": Ref("each.key"),
            "target": target,
            "authorization_type": "CUSTOM",
            "authorizer_id": Ref(
                "aws_apigatewayv2_authorizer.lambda[each.value.lambda_authorizer].id"
            ),
        },
    )
    route_settings = Block(
        "dynamic",
        ("route_settings",),
        {
            "for_each": Ref("{ for key, r in var.routes : key => r if r.throttle_rate != null }"),
            "content": Block(
                "content",
                (),
                {
                    "route_key": Ref("route_settings.key"),
                    "throttling_rate_limit": Ref("route_settings.value.throttle_rate"),
                    "throttling_burst_limit": Ref("route_settings.value.throttle_burst"),
                },
            ),
        },
    )
    stage = resource(
        "aws_apigatewayv2_stage",
        "default",
        {
            "api_id": api_id,
            "name": "$default",
            "auto_deploy": True,
            "depends_on": [
                Ref("aws_apigatewayv2_route.public"),
                Ref("aws_apigatewayv2_route.jwt"),
                Ref("aws_apigatewayv2_route.proxy"),
                Ref("aws_apigatewayv2_route.lambda"),
            ],
            "access_log_settings": Block(
                "access_log_settings",
                (),
                {
                    "destination_arn": Ref("aws_cloudwatch_log_group.access.arn"),
                    "format": model.ACCESS_LOG_FORMAT,
                },
            ),
            "default_route_settings": Block(
                "default_route_settings",
                (),
                {
                    "throttling_rate_limit": Ref("var.throttle.rate"),
                    "throttling_burst_limit": Ref("var.throttle.burst"),
                },
            ),
            "route_settings": route_settings,
        },
    )
    return (
        resource(
            "aws_apigatewayv2_api",
            "this",
            {"name": Ref("var.name"), "protocol_type": "HTTP", "cors_configuration": cors},
        ),
        resource(
            "aws_cloudwatch_log_group",
            "access",
            {
                "name": template("/aws/apigateway/", Ref("var.name")),
                "retention_in_days": Ref("var.log_retention_days"),
            },
            skip=LOG_SKIPS,
        ),
        authorizer,
        lambda_authorizer,
        authorizer_permission,
        integration,
        public_route,
        jwt_route,
        proxy_integration,
        proxy_route,
        custom_route,
        stage,
        _permission("aws_apigatewayv2_api.this.execution_arn"),
    )


HTTP_API = Module(
    name="http_api",
    variables=(
        variable("name", "string", "The API name"),
        variable("log_retention_days", "number", "Days the access logs are kept"),
        variable(
            "throttle",
            "object({ rate = number, burst = number })",
            "The stage's throttling of every route without its own",
        ),
        variable("cors", _CORS, "Cross-origin settings, or null for none"),
        variable(
            "authorizers",
            "map(object({ issuer = string, audience = list(string), identity = string }))",
            "JWT authorizers by name",
        ),
        variable("lambda_authorizers", _LAMBDA_AUTHORIZERS, "Lambda authorizers by name"),
        variable("functions", _FUNCTIONS, "The functions the routes invoke, by name"),
        variable("routes", _ROUTES, 'Routes by key ("GET /items/{id}")'),
        variable("proxies", _PROXIES, "Routes answered by an upstream HTTP server, by key"),
    ),
    main=_http_api(),
    outputs=(output("url", Ref("aws_apigatewayv2_stage.default.invoke_url"), "The API's URL"),),
)


def _rest_api() -> tuple[Block, ...]:
    api_id = Ref("aws_api_gateway_rest_api.this.id")
    return (
        resource(
            "aws_api_gateway_rest_api",
            "this",
            {
                "name": Ref("var.name"),
                "body": Ref("var.body"),
                "binary_media_types": Ref("var.binary_media_types"),
                "endpoint_configuration": Block(
                    "endpoint_configuration", (), {"types": ["REGIONAL"]}
                ),
                "lifecycle": Block("lifecycle", (), {"create_before_destroy": True}),
            },
        ),
        resource(
            "aws_api_gateway_deployment",
            "this",
            {
                "rest_api_id": api_id,
                "triggers": {"body": Ref("sha1(var.body)")},
                "lifecycle": Block("lifecycle", (), {"create_before_destroy": True}),
            },
        ),
        resource(
            "aws_api_gateway_stage",
            "this",
            {
                "rest_api_id": api_id,
                "deployment_id": Ref("aws_api_gateway_deployment.this.id"),
                "stage_name": Ref("var.stage"),
                "xray_tracing_enabled": True,
            },
            skip=("CKV_AWS_120", "CKV_AWS_76", "CKV2_AWS_4", "CKV2_AWS_29", "CKV2_AWS_51"),
        ),
        resource(
            "aws_api_gateway_method_settings",
            "throttle",
            {
                "for_each": Ref("var.throttles"),
                "rest_api_id": api_id,
                "stage_name": Ref("aws_api_gateway_stage.this.stage_name"),
                "method_path": Ref("each.key"),
                "settings": Block(
                    "settings",
                    (),
                    {
                        "metrics_enabled": True,
                        "throttling_rate_limit": Ref("each.value.rate"),
                        "throttling_burst_limit": Ref("each.value.burst"),
                    },
                ),
            },
            skip=("CKV_AWS_225",),
        ),
        _permission("aws_api_gateway_rest_api.this.execution_arn"),
    )


REST_API = Module(
    name="rest_api",
    variables=(
        variable("name", "string", "The API name"),
        variable("stage", "string", "The stage name, the first segment of every URL path"),
        variable("body", "string", "The OpenAPI document with the Lambda integrations"),
        variable(
            "binary_media_types",
            "list(string)",
            "Media types sent base64 to the function and decoded from its base64 answers",
        ),
        variable("functions", _FUNCTIONS, "The functions the routes invoke, by name"),
        variable(
            "throttles",
            "map(object({ rate = number, burst = number }))",
            'Throttling by method path ("~1items~1{id}/GET", "*/*" for the whole stage)',
        ),
    ),
    main=_rest_api(),
    outputs=(
        output("url", Ref("aws_api_gateway_stage.this.invoke_url"), "The API's URL"),
        output("id", Ref("aws_api_gateway_rest_api.this.id"), "The REST API's id"),
        output(
            "execution_arn",
            Ref("aws_api_gateway_rest_api.this.execution_arn"),
            "The REST API's execution ARN, for invoke permissions",
        ),
        output(
            "stage_name",
            Ref("aws_api_gateway_stage.this.stage_name"),
            "The stage, for usage plans",
        ),
    ),
)
