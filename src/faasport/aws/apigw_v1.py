"""API Gateway REST API events (payload format 1.0), also sent by HTTP APIs set to 1.0.

REST APIs deliver ``path`` still percent-encoded; HTTP APIs deliver it decoded (their 1.0
events carry ``"version": "1.0"``). Query values arrive decoded and are re-encoded here.
"""

from __future__ import annotations

from faasport.aws.apigw_build import extended_request_id, request_id, request_time, text_pairs
from faasport.aws.codec import (
    body_from_result,
    decode_body,
    decoded,
    encode_body,
    encode_query,
    event_body,
    first_value,
    header_pairs,
    malformed,
    optional_object,
    request_raw_path,
    route_path,
    server_and_scheme,
    split_headers,
    split_root,
)
from faasport.aws.direct import DirectApp
from faasport.core.http import HttpRequest, HttpResponse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from faasport.aws.codec import Event
    from faasport.aws.direct import Parts
    from faasport.core.options import AppOptions


_IDENTITY_KEYS = (
    "cognitoIdentityPoolId",
    "accountId",
    "cognitoIdentityId",
    "caller",
    "accessKey",
    "cognitoAuthenticationType",
    "cognitoAuthenticationProvider",
    "userArn",
    "user",
)


class ApiGatewayV1(DirectApp):
    name = "apigw-v1"

    def infer(self, event: Event) -> bool:
        # Hand-written events (API Gateway's test console, invocations) may lack
        # requestContext; httpMethod alone says "an HTTP request" unless ALB sent it.
        if "httpMethod" not in event:
            return False
        ctx = event.get("requestContext")
        return not (type(ctx) is dict and "elb" in ctx)

    def decode(self, event: Event, context: Any, options: AppOptions) -> HttpRequest:
        method, path, root, raw, query, body, scheme, server, source_ip, headers, _ = self._parts(
            event, options
        )
        return HttpRequest(
            method,
            path,
            query.encode("ascii"),
            None,
            body,
            scheme,
            server,
            (source_ip, 0) if source_ip else None,
            root,
            request_raw_path(root, path, raw),
            "1.1",
            {"aws.event": event, "aws.context": context},
            headers,
        )

    def _parts(self, event: Event, options: AppOptions) -> Parts:
        """Every field of the request, checked (see :data:`faasport.aws.direct.Parts`): REST
        APIs keep the raw path encoded; cookies come with the other headers."""
        name = self.name
        # The hot path of every REST API request: type checks inline, no helper per field.
        ctx = event.get("requestContext")
        if type(ctx) is not dict:
            if ctx is not None:
                raise malformed(name, "requestContext", "an object or null")
            ctx = {}
        method = event["httpMethod"]
        if type(method) is not str:
            raise malformed(name, "httpMethod", "a string")
        single, multi = event.get("headers"), event.get("multiValueHeaders")
        headers = header_pairs(single, multi, name)
        server, scheme = server_and_scheme(headers, multi)
        event_path = event.get("path")
        if type(event_path) is not str:
            if event_path is not None:
                raise malformed(name, "path", "a string or null")
            event_path = "/"
        event_path = event_path or "/"
        rest = event.get("version") != "1.0"
        if rest:
            full = decoded(event_path) if "%" in event_path else event_path
            raw: str | None = event_path
        else:
            full, raw = event_path, None
        resource = event.get("resource")
        if resource is not None and type(resource) is not str:
            raise malformed(name, "resource", "a string or null")
        route = None
        if resource and resource != "/":
            params = optional_object(event.get("pathParameters"), name, "pathParameters")
            if params:
                try:
                    values = "".join(params.values())  # TypeError unless all strings
                    "".join(params)
                except TypeError:
                    raise malformed(
                        name, "pathParameters", "an object of strings or null"
                    ) from None
                if rest and "%" in values:
                    params = {k: decoded(v) for k, v in params.items()}
            route = route_path(resource, params)
        root, path = split_root(full, route, options)
        if not root and not options.base_path:
            # On the execute-api domain ``path`` lacks the stage; requestContext.path has it.
            ctx_path = ctx.get("path")
            if ctx_path is not None and type(ctx_path) is not str:
                raise malformed(name, "requestContext.path", "a string or null")
            if ctx_path and len(ctx_path) > len(event_path):
                ctx_full = decoded(ctx_path)
                if ctx_full.endswith(full):
                    prefix = ctx_full[: -len(full)]
                    if prefix[:1] == "/" and prefix[-1:] != "/":
                        root = prefix
                        raw = ctx_path if rest else None
        query = event.get("multiValueQueryStringParameters")
        if query:
            query_string = encode_query(query, True, name, "multiValueQueryStringParameters")
        else:
            if query is not None and query != {}:
                raise malformed(
                    name, "multiValueQueryStringParameters", "an object of lists of strings or null"
                )
            query = event.get("queryStringParameters")
            if query:
                query_string = encode_query(query, False, name, "queryStringParameters")
            elif query is None or query == {}:
                query_string = b""
            else:
                raise malformed(name, "queryStringParameters", "an object of strings or null")
        identity = ctx.get("identity")
        source_ip = None
        if type(identity) is dict:
            source_ip = identity.get("sourceIp")
            if source_ip is not None and type(source_ip) is not str:
                raise malformed(name, "requestContext.identity.sourceIp", "a string or null")
        elif identity is not None:
            raise malformed(name, "requestContext.identity", "an object or null")
        return (
            method,
            path,
            root,
            raw,
            query_string.decode("ascii"),
            decode_body(event, name),
            scheme,
            server,
            source_ip or None,
            headers,
            None,
        )

    def encode(self, response: HttpResponse, event: Event, options: AppOptions) -> dict[str, Any]:
        single, multi = split_headers(response)
        body, is_base64 = encode_body(
            response.body,
            first_value(single, multi, "content-type"),
            first_value(single, multi, "content-encoding"),
            options,
        )
        result: dict[str, Any] = {
            "statusCode": response.status,
            "headers": single,
            "body": body,
            "isBase64Encoded": is_base64,
        }
        if multi:
            result["multiValueHeaders"] = multi
        return result

    def build_event(self, request: HttpRequest, stage: str = "prod") -> dict[str, Any]:
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        for key, text in text_pairs(request):
            headers[key] = text
            if key in multi_headers:
                multi_headers[key].append(text)
            else:
                multi_headers[key] = [text]
        query: dict[str, str] = {}
        multi_query: dict[str, list[str]] = {}
        if request.query_string:
            from urllib.parse import parse_qsl

            qs = request.query_string.decode("latin-1")
            for qkey, qvalue in parse_qsl(qs, keep_blank_values=True):
                query[qkey] = qvalue
                multi_query.setdefault(qkey, []).append(qvalue)
        raw = request.raw_path
        if raw:
            path = raw.decode("utf-8")
        else:
            from urllib.parse import quote

            path = quote(request.path)
        # The REST API faasport deploys has binary media types */*: API Gateway passes every
        # request body base64-encoded, so events built here (faasport dev, testing) do too.
        body, is_base64 = event_body(request.body, base64_always=True)
        time_text, epoch_ms = request_time()
        proxy = path.lstrip("/")
        return {
            "resource": "/{proxy+}",
            "path": path,
            "httpMethod": request.method,
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": {"proxy": decoded(proxy)} if proxy else None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": "abc123",
                "resourcePath": "/{proxy+}",
                "httpMethod": request.method,
                "extendedRequestId": extended_request_id(),
                "requestTime": time_text,
                "path": f"/{stage}{path}",
                "accountId": "123456789012",
                "protocol": "HTTP/" + request.http_version,
                "stage": stage,
                "domainPrefix": "local",
                "requestTimeEpoch": epoch_ms,
                "requestId": request_id(),
                # Every key a REST API sends, null when no IAM or Cognito caller is known.
                "identity": {
                    **dict.fromkeys(_IDENTITY_KEYS),
                    "sourceIp": request.client[0] if request.client else "127.0.0.1",
                    "userAgent": headers.get("user-agent"),
                },
                "domainName": headers.get("host", "localhost"),
                "apiId": "local",
            },
            "body": body,
            "isBase64Encoded": is_base64,
        }

    def parse_result(self, result: Any) -> HttpResponse:
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
            raise ValueError("a REST API proxy result must be an object with an integer statusCode")
        headers: list[tuple[bytes, bytes]] = []
        multi = result.get("multiValueHeaders") or {}
        for name, value in (result.get("headers") or {}).items():
            if name not in multi:
                headers.append((name.lower().encode("latin-1"), str(value).encode("latin-1")))
        for name, values in multi.items():
            for value in values:
                headers.append((name.lower().encode("latin-1"), str(value).encode("latin-1")))
        return HttpResponse(result["statusCode"], headers, body_from_result(result))
