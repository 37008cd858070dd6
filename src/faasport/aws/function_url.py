"""Lambda Function URL events: the HTTP API 2.0 format, without stages or routes, and with
the path left percent-encoded as the client sent it."""

from __future__ import annotations

from faasport.aws.apigw_v2 import ApiGatewayV2

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from faasport.core.http import HttpRequest


class FunctionUrl(ApiGatewayV2):
    name = "function-url"
    function_url = True

    def build_event(self, request: HttpRequest, stage: str = "$default") -> dict[str, Any]:
        event = super().build_event(request, "$default")
        ctx = event["requestContext"]
        if ".lambda-url." not in ctx["domainName"]:
            ctx["domainName"] = "local.lambda-url.us-east-1.on.aws"
        return event
