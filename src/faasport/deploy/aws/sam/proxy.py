"""``[proxy]`` routes in SAM. On an HTTP API each is an ``HTTP_PROXY`` integration and a route
of the ``HttpApi`` (SAM's events only reach functions); on a REST API they are paths of the
API's OpenAPI document, with the functions' routes."""

from __future__ import annotations

from faasport.config.model import Project
from faasport.deploy.aws import model
from faasport.deploy.aws.model import Infrastructure
from faasport.deploy.aws.proxy import integration_method, rest_paths, timeout_ms
from faasport.deploy.aws.sam import access, cfn
from faasport.deploy.aws.yaml_text import Data


def proxy_routes(project: Project) -> cfn.Resources:
    found: cfn.Resources = {}
    for index, proxy in enumerate(project.proxies):
        integration = f"ProxyIntegration{index}"
        found[integration] = cfn.resource(
            "AWS::ApiGatewayV2::Integration",
            {
                "ApiId": cfn.ref(cfn.HTTP_API),
                "IntegrationType": "HTTP_PROXY",
                "IntegrationMethod": integration_method(proxy),
                "IntegrationUri": proxy.url,
                "PayloadFormatVersion": "1.0",
                "TimeoutInMillis": timeout_ms(proxy),
            },
        )
        found[f"ProxyRoute{index}"] = cfn.resource(
            "AWS::ApiGatewayV2::Route",
            {
                "ApiId": cfn.ref(cfn.HTTP_API),
                "RouteKey": proxy.route.key,
                "Target": cfn.sub(f"integrations/${{{integration}}}"),
                "AuthorizationType": "NONE",
            },
            skip=("CKV_AWS_309",),
        )
    return found


def rest_definition(infrastructure: Infrastructure) -> dict[str, Data]:
    """The REST API's OpenAPI document: SAM writes the functions' routes into a document only
    when it writes the whole document, so with proxy routes each function route is spelled
    here as SAM would (its events still grant API Gateway the right to invoke)."""
    project = infrastructure.project
    paths: dict[str, dict[str, Data]] = {}
    for route in infrastructure.routes:
        function = cfn.function_id(route.function.name)
        # ``.Alias`` is SAM's: the function's published alias when it has one.
        target = "Alias" if route.function.warm or route.function.snapstart else "Arn"
        uri = (
            "arn:${AWS::Partition}:apigateway:${AWS::Region}:lambda:path/2015-03-31/functions/"
            f"${{{function}.{target}}}/invocations"
        )
        operation: dict[str, Data] = {
            "x-amazon-apigateway-integration": {
                "type": "aws_proxy",
                "httpMethod": "POST",
                "uri": cfn.sub(uri),
            }
        }
        security = access.operation_security(route)
        if security:
            operation["security"] = security
        parameters = model.path_parameters(route.path)
        if parameters:
            operation["parameters"] = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in parameters
            ]
        method = "x-amazon-apigateway-any-method" if route.method == "ANY" else route.method.lower()
        paths.setdefault(route.path, {})[method] = operation
    for path, operations in rest_paths(project.proxies).items():
        paths.setdefault(path, {}).update(operations)
    document: dict[str, Data] = {
        "openapi": model.OPENAPI_VERSION,
        "info": {"title": project.name, "version": "1"},
        "paths": dict(paths),
    }
    schemes = access.api_key_scheme(infrastructure)
    if schemes:
        # Where SAM keeps the schemes it adds (the authorizers') before it moves them all to
        # components.securitySchemes, replacing what was there.
        document["securityDefinitions"] = schemes
    return document
