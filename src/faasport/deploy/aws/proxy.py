"""``[proxy]`` routes as API Gateway spells them: an HTTP API ``HTTP_PROXY`` integration, or a
REST API ``http_proxy`` integration on the route's resource (``{proxy+}`` and friends), the
route's path parameters mapped into the upstream URL. SAM and Terraform both take their
values from here."""

from __future__ import annotations

from faasport.config.model import ProxyRoute
from faasport.deploy.aws.model import path_parameters
from faasport.deploy.aws.yaml_text import Data


def timeout_ms(proxy: ProxyRoute) -> int:
    return round(proxy.timeout * 1000)


def integration_method(proxy: ProxyRoute) -> str:
    """The method the upstream is called with: the request's own for ``ANY``."""
    return "ANY" if proxy.route.method == "ANY" else proxy.route.method


def rest_operation(proxy: ProxyRoute) -> dict[str, Data]:
    """The OpenAPI operation of a REST API proxy route."""
    parameters = path_parameters(proxy.route.path)
    integration: dict[str, Data] = {
        "type": "http_proxy",
        "httpMethod": integration_method(proxy),
        "uri": proxy.url,
        "passthroughBehavior": "when_no_match",
        "timeoutInMillis": timeout_ms(proxy),
    }
    if parameters:
        integration["requestParameters"] = {
            f"integration.request.path.{name}": f"method.request.path.{name}" for name in parameters
        }
    operation: dict[str, Data] = {"x-amazon-apigateway-integration": integration}
    if parameters:
        operation["parameters"] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in parameters
        ]
    return operation


def rest_paths(proxies: tuple[ProxyRoute, ...]) -> dict[str, dict[str, Data]]:
    """OpenAPI ``paths`` for the proxy routes of a REST API."""
    paths: dict[str, dict[str, Data]] = {}
    for proxy in proxies:
        method = proxy.route.method
        name = "x-amazon-apigateway-any-method" if method == "ANY" else method.lower()
        paths.setdefault(proxy.route.path, {})[name] = rest_operation(proxy)
    return paths
