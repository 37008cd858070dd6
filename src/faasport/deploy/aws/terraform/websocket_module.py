"""``modules/websocket``: a function's API Gateway WebSocket API (route selection expression,
one route per key, Lambda proxy integration, deployment and stage with access logs) and API
Gateway's permission to invoke the function. The function's right to call ``@connections``
on it is in the function's policy (:mod:`faasport.deploy.aws.policy`)."""

from __future__ import annotations

from faasport.deploy.aws.terraform.api_modules import LOG_SKIPS
from faasport.deploy.aws.terraform.tf import Module, output, resource, variable
from faasport.deploy.hcl import Block, Ref, template

_API = "aws_apigatewayv2_api.this"


def _main() -> tuple[Block, ...]:
    api_id = Ref(f"{_API}.id")
    return (
        resource(
            "aws_apigatewayv2_api",
            "this",
            {
                "name": Ref("var.name"),
                "protocol_type": "WEBSOCKET",
                "route_selection_expression": Ref("var.selection"),
            },
        ),
        resource(
            "aws_apigatewayv2_integration",
            "lambda",
            {
                "api_id": api_id,
                "integration_type": "AWS_PROXY",
                "integration_uri": Ref("var.invoke_arn"),
            },
        ),
        resource(
            "aws_apigatewayv2_route",
            "this",
            {
                "for_each": Ref("toset(var.routes)"),
                "api_id": api_id,
                "route_key": Ref("each.value"),
                "authorization_type": "NONE",
                "target": template("integrations/", Ref("aws_apigatewayv2_integration.lambda.id")),
                # Two-way routes send the function's body back to the client.
                "route_response_selection_expression": Ref(
                    'contains(["$connect", "$disconnect"], each.value) ? null : "$default"'
                ),
            },
            skip=("CKV_AWS_309",),
        ),
        resource(
            "aws_apigatewayv2_route_response",
            "this",
            {
                "for_each": Ref(
                    "{ for key, route in aws_apigatewayv2_route.this : key => route.id if "
                    '!contains(["$connect", "$disconnect"], key) }'
                ),
                "api_id": api_id,
                "route_id": Ref("each.value"),
                "route_response_key": "$default",
            },
        ),
        resource(
            "aws_apigatewayv2_deployment",
            "this",
            {
                "api_id": api_id,
                # A new deployment whenever the routes change, made after all of them.
                "triggers": {"routes": Ref('join(",", sort(var.routes))')},
                "depends_on": [
                    Ref("aws_apigatewayv2_route.this"),
                    Ref("aws_apigatewayv2_route_response.this"),
                ],
                "lifecycle": Block("lifecycle", (), {"create_before_destroy": True}),
            },
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
        resource(
            "aws_apigatewayv2_stage",
            "this",
            {
                "api_id": api_id,
                "name": Ref("var.stage"),
                "deployment_id": Ref("aws_apigatewayv2_deployment.this.id"),
                "access_log_settings": Block(
                    "access_log_settings",
                    (),
                    {
                        "destination_arn": Ref("aws_cloudwatch_log_group.access.arn"),
                        "format": Ref("var.log_format"),
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
            },
            skip=("CKV2_AWS_51",),
        ),
        resource(
            "aws_lambda_permission",
            "api",
            {
                "statement_id": "websocket-api",
                "action": "lambda:InvokeFunction",
                "function_name": Ref("var.function_name"),
                "qualifier": Ref("var.qualifier"),
                "principal": "apigateway.amazonaws.com",
                "source_arn": template(Ref(f"{_API}.execution_arn"), "/*"),
            },
        ),
    )


MODULE = Module(
    name="websocket",
    variables=(
        variable("name", "string", "The API name"),
        variable("selection", "string", "The route selection expression"),
        variable("routes", "list(string)", "Route keys ($connect, $default, join...)"),
        variable("stage", "string", "The stage name"),
        variable("function_name", "string", "The function every route invokes"),
        variable("qualifier", "string", "The function's alias, or null"),
        variable("invoke_arn", "string", "API Gateway integration URI of the function"),
        variable("log_retention_days", "number", "Days the access logs are kept"),
        variable("log_format", "string", "The access log line"),
        variable("throttle", "object({ rate = number, burst = number })", "Stage throttling"),
    ),
    main=_main(),
    outputs=(
        output("execution_arn", Ref(f"{_API}.execution_arn"), "ARN prefix of the API's calls"),
        output("url", Ref("aws_apigatewayv2_stage.this.invoke_url"), "The wss:// URL"),
    ),
)
