"""The API in SAM: an HTTP API (JWT authorizers, CORS, access logs) or a REST API with a stage.
The routes themselves are events of the functions (:mod:`.functions`)."""

from __future__ import annotations

from faasport.config.model import Cors, JwtAuth
from faasport.deploy.aws import model, naming
from faasport.deploy.aws.model import Infrastructure
from faasport.deploy.aws.sam import access, cfn
from faasport.deploy.aws.sam.proxy import proxy_routes, rest_definition
from faasport.deploy.aws.yaml_text import Data

REST_SKIPS = ("CKV_AWS_120", "CKV_AWS_76")


def resources(infrastructure: Infrastructure) -> cfn.Resources:
    if not infrastructure.routes and not infrastructure.project.proxies:
        return {}
    if infrastructure.project.api.type == "rest":
        return {cfn.REST_API: _rest_api(infrastructure)}
    return {
        cfn.HTTP_API: _http_api(infrastructure),
        cfn.API_LOGS: _access_logs(infrastructure),
        **proxy_routes(infrastructure.project),
    }


def outputs(infrastructure: Infrastructure) -> dict[str, Data]:
    if not infrastructure.routes and not infrastructure.project.proxies:
        return {}
    if infrastructure.project.api.type == "rest":
        url = f"https://${{{cfn.REST_API}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/{model.REST_STAGE}/"
    else:
        url = f"https://${{{cfn.HTTP_API}}}.execute-api.${{AWS::Region}}.${{AWS::URLSuffix}}/"
    return {"ApiUrl": {"Description": "The API's base URL", "Value": cfn.sub(url)}}


def _http_api(infrastructure: Infrastructure) -> dict[str, Data]:
    project = infrastructure.project
    properties: dict[str, Data] = {
        "Name": project.name,
        "AccessLogSettings": {
            "DestinationArn": cfn.arn(cfn.API_LOGS),
            "Format": model.ACCESS_LOG_FORMAT,
        },
    }
    authorizers: dict[str, Data] = {
        cfn.authorizer_id(auth.name): {
            "IdentitySource": auth.identity,
            "JwtConfiguration": {"issuer": auth.issuer, "audience": list(auth.audience)},
        }
        for auth in infrastructure.authorizers
        if isinstance(auth, JwtAuth)
    }
    authorizers.update(access.authorizer_entries(infrastructure))
    if authorizers:
        properties["Auth"] = {"Authorizers": authorizers}
    if project.api.cors:
        properties["CorsConfiguration"] = _cors(project.api.cors)
    properties["DefaultRouteSettings"] = {
        "ThrottlingRateLimit": project.api.throttle.rate,
        "ThrottlingBurstLimit": project.api.throttle.burst,
    }
    return cfn.resource("AWS::Serverless::HttpApi", properties)


def _cors(cors: Cors) -> Data:
    config: dict[str, Data] = {
        "AllowOrigins": list(cors.origins),
        "AllowMethods": list(cors.methods),
        "AllowHeaders": list(cors.headers),
    }
    if cors.max_age:
        config["MaxAge"] = cors.max_age
    return config


def _access_logs(infrastructure: Infrastructure) -> dict[str, Data]:
    return cfn.resource(
        "AWS::Logs::LogGroup",
        {
            "LogGroupName": naming.api_log_group(infrastructure.project),
            "RetentionInDays": model.LOG_RETENTION_DAYS,
        },
        skip=("CKV_AWS_158", "CKV_AWS_338"),
        on_delete="Delete",
    )


def _rest_api(infrastructure: Infrastructure) -> dict[str, Data]:
    project = infrastructure.project
    properties: dict[str, Data] = {
        "Name": project.name,
        "StageName": model.REST_STAGE,
        "OpenApiVersion": model.OPENAPI_VERSION,
        # SAM spells a media type's '/' as '~1' (a JSON pointer escape).
        "BinaryMediaTypes": [media.replace("/", "~1") for media in model.BINARY_MEDIA_TYPES],
        "EndpointConfiguration": {"Type": "REGIONAL"},
        "TracingEnabled": True,
    }
    settings: list[Data] = [
        {
            "ResourcePath": "/*",
            "HttpMethod": "*",
            "ThrottlingRateLimit": project.api.throttle.rate,
            "ThrottlingBurstLimit": project.api.throttle.burst,
        }
    ]
    settings += [
        {
            "ResourcePath": model.rest_resource_path(route.path),
            "HttpMethod": model.rest_method(route.method),
            "ThrottlingRateLimit": route.throttle.rate,
            "ThrottlingBurstLimit": route.throttle.burst,
        }
        for route in infrastructure.routes
        if route.throttle
    ]
    properties["MethodSettings"] = settings
    authorizers = access.authorizer_entries(infrastructure)
    if authorizers:
        properties["Auth"] = {"Authorizers": authorizers}
    if project.proxies:
        properties["DefinitionBody"] = rest_definition(infrastructure)
    return cfn.resource("AWS::Serverless::Api", properties, skip=REST_SKIPS)
