"""Application Load Balancer events, in single-value and multi-value header mode.

ALB passes the path and query string as the client sent them (percent-encoded). In
multi-value mode the response must use ``multiValueHeaders``; in single-value mode repeated
``Set-Cookie`` headers are sent under differently-cased names (``Set-Cookie``,
``set-Cookie``...), which ALB forwards as separate headers, so no cookie is lost.
"""

from __future__ import annotations

from faasport.aws.codec import (
    body_from_result,
    decode_body,
    decoded,
    encode_body,
    event_body,
    find_header,
    first_values,
    grouped_headers,
    header_pairs,
    is_list_map,
    is_text_map,
    malformed,
    optional_string,
    request_raw_path,
    server_and_scheme,
    split_root,
    string,
)
from faasport.core.forwarded import client_from
from faasport.core.http import HttpRequest, HttpResponse, status_line

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from faasport.aws.codec import Event
    from faasport.core.options import AppOptions


_SET_COOKIE = "set-cookie"
_LETTERS = [i for i, ch in enumerate(_SET_COOKIE) if ch.isalpha()]


def _set_cookie_spelling(n: int) -> str:
    """The n-th distinct upper/lower-case spelling of ``set-cookie`` (0 is ``set-cookie``)."""
    if n >= 2 ** len(_LETTERS):
        raise ValueError("too many Set-Cookie headers for ALB single-value mode")
    chars = list(_SET_COOKIE)
    for bit, index in enumerate(_LETTERS):
        if n >> bit & 1:
            chars[index] = chars[index].upper()
    return "".join(chars)


class Alb:
    name = "alb"

    def infer(self, event: Event) -> bool:
        ctx = event.get("requestContext")
        return type(ctx) is dict and "elb" in ctx

    def decode(self, event: Event, context: Any, options: AppOptions) -> HttpRequest:
        name = self.name
        method = string(event.get("httpMethod"), name, "httpMethod")
        single, multi = event.get("headers"), event.get("multiValueHeaders")
        headers = header_pairs(single, multi, name)
        server, scheme = server_and_scheme(headers, multi)
        raw_path = optional_string(event.get("path"), name, "path") or "/"
        root, path = split_root(decoded(raw_path), None, options)
        # Keys and values are still percent-encoded as sent: join them, do not re-encode.
        # The target group's multi-value setting decides which field is sent; read either.
        params = event.get("multiValueQueryStringParameters")
        if not is_list_map(params):
            raise malformed(
                name, "multiValueQueryStringParameters", "an object of lists of strings or null"
            )
        if params:
            query = "&".join(f"{k}={v}" for k, values in params.items() for v in values)
        else:
            single = event.get("queryStringParameters")
            if not is_text_map(single):
                raise malformed(name, "queryStringParameters", "an object of strings or null")
            query = "&".join(f"{k}={v}" for k, v in single.items()) if single else ""
        forwarded_for = find_header(headers, "x-forwarded-for")
        return HttpRequest(
            method=method,
            path=path,
            query_string=query.encode("utf-8"),
            text_headers=headers,
            body=decode_body(event, name),
            scheme=scheme,
            server=server,
            client=client_from(forwarded_for, None),
            root_path=root,
            raw_path=request_raw_path(root, path, raw_path),
            extras={"aws.event": event, "aws.context": context},
        )

    def encode(self, response: HttpResponse, event: Event, options: AppOptions) -> dict[str, Any]:
        grouped = grouped_headers(response)
        body, is_base64 = encode_body(response.body, *first_values(grouped), options)
        result: dict[str, Any] = {
            "statusCode": response.status,
            "statusDescription": status_line(response.status),
            "isBase64Encoded": is_base64,
            "body": body,
        }
        if "multiValueHeaders" in event:
            result["multiValueHeaders"] = grouped
            return result
        headers: dict[str, str] = {}
        for name, values in grouped.items():
            if name == "set-cookie":
                for n, value in enumerate(values):
                    headers[_set_cookie_spelling(n)] = value
            else:
                headers[name] = ", ".join(values)
        result["headers"] = headers
        return result

    def build_event(self, request: HttpRequest, stage: str = "multi") -> dict[str, Any]:
        """An ALB event; ``stage="multi"`` turns on multi-value headers (the target group
        attribute ``lambda.multi_value_headers.enabled``), anything else leaves it off."""
        from urllib.parse import quote

        path = (request.raw_path or quote(request.path).encode()).decode("utf-8")
        query: list[tuple[str, str]] = []
        for part in request.query_string.decode("latin-1").split("&"):
            if part:
                qkey, _, qvalue = part.partition("=")
                query.append((qkey, qvalue))
        body, is_base64 = event_body(request.body, base64_always=False)
        event: dict[str, Any] = {
            "requestContext": {
                "elb": {
                    "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-1:123456789012:"
                    "targetgroup/local/0123456789abcdef"
                }
            },
            "httpMethod": request.method,
            "path": path,
            "body": body or "",
            "isBase64Encoded": is_base64,
        }
        if stage == "multi":
            headers: dict[str, list[str]] = {}
            for name, value in request.headers:
                headers.setdefault(name.decode("latin-1"), []).append(value.decode("utf-8"))
            params: dict[str, list[str]] = {}
            for qkey, qvalue in query:
                params.setdefault(qkey, []).append(qvalue)
            event["multiValueHeaders"] = headers
            event["multiValueQueryStringParameters"] = params
        else:
            event["headers"] = {n.decode("latin-1"): v.decode("utf-8") for n, v in request.headers}
            event["queryStringParameters"] = dict(query)
        return event

    def parse_result(self, result: Any) -> HttpResponse:
        if not isinstance(result, dict) or not isinstance(result.get("statusCode"), int):
            raise ValueError("an ALB result must be an object with an integer statusCode")
        headers: list[tuple[bytes, bytes]] = []
        for name, values in (result.get("multiValueHeaders") or {}).items():
            for value in values:
                headers.append((name.lower().encode("latin-1"), str(value).encode("latin-1")))
        if "multiValueHeaders" not in result:
            for name, value in (result.get("headers") or {}).items():
                headers.append((name.lower().encode("latin-1"), str(value).encode("latin-1")))
        return HttpResponse(result["statusCode"], headers, body_from_result(result))
