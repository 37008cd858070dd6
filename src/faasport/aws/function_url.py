"""Lambda Function URL events: the HTTP API 2.0 format, without stages or routes, and with
the path left percent-encoded as the client sent it."""

from __future__ import annotations

from faasport.aws.apigw_v2 import ApiGatewayV2
from faasport.aws.codec import decoded

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from faasport.aws.codec import Event
    from faasport.core.http import HttpRequest


class FunctionUrl(ApiGatewayV2):
    name = "function-url"
    path_is_encoded = True

    def infer(self, event: Event) -> bool:
        ctx = event.get("requestContext")
        return (
            event.get("version") == "2.0"
            and isinstance(ctx, dict)
            and "http" in ctx
            and ".lambda-url." in str(ctx.get("domainName", ""))
        )

    def _decode_path(self, raw_path: str) -> str:
        return decoded(raw_path)

    def build_event(self, request: HttpRequest, stage: str = "$default") -> dict[str, Any]:
        event = super().build_event(request, "$default")
        ctx = event["requestContext"]
        if ".lambda-url." not in ctx["domainName"]:
            ctx["domainName"] = "local.lambda-url.us-east-1.on.aws"
        return event
