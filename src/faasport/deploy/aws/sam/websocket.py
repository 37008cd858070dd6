"""WebSocket APIs in SAM: for each function with ``websocket = {...}``, an API Gateway
WebSocket API (its route selection expression), a Lambda proxy integration, one route per
configured key, a deployment and stage with access logs, and the permission for API Gateway
to invoke the function. The function's own right to call ``@connections`` on this API is in
its role (:mod:`faasport.deploy.aws.policy`)."""

from __future__ import annotations

from faasport.config.model import Function
from faasport.deploy.aws import model, naming
from faasport.deploy.aws.model import Infrastructure
from faasport.deploy.aws.naming import logical_id
from faasport.deploy.aws.sam import cfn
from faasport.deploy.aws.yaml_text import Data

LOG_SKIPS = ("CKV_AWS_158", "CKV_AWS_338")
#: Routes whose answer never reaches the client as a message.
ONE_WAY = ("$connect", "$disconnect")


def api_id(function: Function) -> str:
    return logical_id(function.name, "WebSocketApi")


def websocket_functions(infrastructure: Infrastructure) -> list[Function]:
    return [f for f in infrastructure.project.functions.values() if f.websocket is not None]


def resources(infrastructure: Infrastructure) -> cfn.Resources:
    found: cfn.Resources = {}
    for function in websocket_functions(infrastructure):
        found.update(_api(infrastructure, function))
    return found


def outputs(infrastructure: Infrastructure) -> dict[str, Data]:
    return {
        logical_id(function.name, "WebSocketUrl"): {
            "Description": f"The WebSocket API of function {function.name}",
            "Value": cfn.sub(
                f"wss://${{{api_id(function)}}}.execute-api.${{AWS::Region}}."
                f"${{AWS::URLSuffix}}/{model.WEBSOCKET_STAGE}"
            ),
        }
        for function in websocket_functions(infrastructure)
    }


def _api(infrastructure: Infrastructure, function: Function) -> cfn.Resources:
    project = infrastructure.project
    websocket = function.websocket
    assert websocket is not None
    api = api_id(function)
    integration = logical_id(function.name, "WebSocketIntegration")
    deployment = logical_id(function.name, "WebSocketDeployment")
    logs = logical_id(function.name, "WebSocketLogs")
    # A published alias is what API Gateway must invoke: SAM names it FUNCTIONAlias<name>,
    # and its Ref is its ARN.
    alias = function.alias
    function_id = cfn.function_id(function.name)
    target = f"{function_id}Alias{alias}" if alias else f"{function_id}.Arn"
    uri = (
        "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
        f"${{{target}}}/invocations"
    )
    found: cfn.Resources = {
        api: cfn.resource(
            "AWS::ApiGatewayV2::Api",
            {
                "Name": naming.websocket_api_name(project, function),
                "ProtocolType": "WEBSOCKET",
                "RouteSelectionExpression": websocket.selection,
            },
        ),
        integration: cfn.resource(
            "AWS::ApiGatewayV2::Integration",
            {
                "ApiId": cfn.ref(api),
                "IntegrationType": "AWS_PROXY",
                "IntegrationUri": cfn.sub(uri),
            },
        ),
    }
    routes: list[Data] = []
    for index, key in enumerate(websocket.routes):
        route = logical_id(function.name, f"WebSocketRoute{index}")
        routes.append(route)
        properties: dict[str, Data] = {
            "ApiId": cfn.ref(api),
            "RouteKey": key,
            "AuthorizationType": "NONE",
            "Target": cfn.sub(f"integrations/${{{integration}}}"),
        }
        if key not in ONE_WAY:
            # Two-way: what the function returns as body is sent back to the client, as
            # `faasport dev` does.
            properties["RouteResponseSelectionExpression"] = "$default"
            response = logical_id(function.name, f"WebSocketRouteResponse{index}")
            routes.append(response)
            found[response] = cfn.resource(
                "AWS::ApiGatewayV2::RouteResponse",
                {"ApiId": cfn.ref(api), "RouteId": cfn.ref(route), "RouteResponseKey": "$default"},
            )
        found[route] = cfn.resource("AWS::ApiGatewayV2::Route", properties, skip=("CKV_AWS_309",))
    found[deployment] = {
        **cfn.resource("AWS::ApiGatewayV2::Deployment", {"ApiId": cfn.ref(api)}),
        # A deployment snapshots the routes: it must come after all of them.
        "DependsOn": routes,
    }
    found[logs] = cfn.resource(
        "AWS::Logs::LogGroup",
        {
            "LogGroupName": naming.websocket_log_group(project, function),
            "RetentionInDays": model.LOG_RETENTION_DAYS,
        },
        skip=LOG_SKIPS,
        on_delete="Delete",
    )
    found[logical_id(function.name, "WebSocketStage")] = cfn.resource(
        "AWS::ApiGatewayV2::Stage",
        {
            "ApiId": cfn.ref(api),
            "StageName": model.WEBSOCKET_STAGE,
            "DeploymentId": cfn.ref(deployment),
            "AccessLogSettings": {
                "DestinationArn": cfn.arn(logs),
                "Format": model.WEBSOCKET_LOG_FORMAT,
            },
            "DefaultRouteSettings": {
                "ThrottlingRateLimit": project.api.throttle.rate,
                "ThrottlingBurstLimit": project.api.throttle.burst,
            },
        },
    )
    found[logical_id(function.name, "WebSocketPermission")] = cfn.resource(
        "AWS::Lambda::Permission",
        {
            "Action": "lambda:InvokeFunction",
            "FunctionName": cfn.ref(f"{function_id}Alias{alias}" if alias else function_id),
            "Principal": "apigateway.amazonaws.com",
            "SourceArn": cfn.sub(
                f"arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:"
                f"${{{api}}}/*"
            ),
        },
    )
    return found
