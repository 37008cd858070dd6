"""Amazon VPC Lattice events (Lambda target groups), in both payload versions.

Version 1 (``raw_path``, ``query_string_parameters``, ``is_base64_encoded``) carries one
value per header and per query key; version 2 (``version: "2.0"``, ``path``,
``queryStringParameters``, ``requestContext`` with the caller's identity) carries a list of
values for each. Both take the same result as an ALB without multi-value headers
(``statusCode``, ``statusDescription``, one value per header), so repeated ``Set-Cookie``
headers go out under differently-cased names, as there. Paths arrive percent-encoded as the
client sent them; query values arrive decoded.
"""

from __future__ import annotations

from faasport.aws.alb import Alb
from faasport.aws.codec import (
    decode_body,
    decoded,
    encode_query,
    event_body,
    request_raw_path,
    split_root,
)
from faasport.core.errors import UnsupportedEventError
from faasport.core.forwarded import client_from, server_and_scheme
from faasport.core.http import HttpRequest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from faasport.aws.codec import Event
    from faasport.core.http import Headers, HttpResponse
    from faasport.core.options import AppOptions

_ALB = Alb()
_SINGLE_VALUE: dict[str, Any] = {}  # an ALB event without multiValueHeaders


def _field(event: Event, key: str, kind: type, default: Any) -> Any:
    value = event.get(key)
    if value is None:
        return default
    if not isinstance(value, kind):
        expected = "an object" if kind is dict else "a string"
        raise UnsupportedEventError(
            f"VPC Lattice event field {key!r} must be {expected}, not {type(value).__name__}"
        )
    return value


def _method(event: Event) -> str:
    method = event.get("method")
    if not isinstance(method, str) or not method.isalpha():
        raise UnsupportedEventError("VPC Lattice event field 'method' must be an HTTP method")
    return method.upper()


def _values(key: str, value: Any) -> list[str]:
    """Version 2 gives lists of strings; its own examples also show plain strings."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return value
    raise UnsupportedEventError(f"VPC Lattice event field {key!r} must hold strings or lists")


def _request(
    event: Event,
    context: Any,
    options: AppOptions,
    raw_path: str,
    query: bytes,
    headers: Headers,
    body: bytes,
) -> HttpRequest:
    server, scheme = server_and_scheme(headers)
    root, path = split_root(decoded(raw_path), None, options)
    forwarded_for = None
    for name, value in headers:
        if name == b"x-forwarded-for":
            forwarded_for = value.decode("latin-1")
    return HttpRequest(
        method=_method(event),
        path=path,
        query_string=query,
        headers=headers,
        body=body,
        scheme=scheme,
        server=server,
        client=client_from(forwarded_for, None),
        root_path=root,
        raw_path=request_raw_path(root, path, raw_path),
        extras={"aws.event": event, "aws.context": context},
    )


def _encoded_path(request: HttpRequest) -> str:
    from urllib.parse import quote

    return (request.raw_path or quote(request.path).encode()).decode("utf-8")


def _query_pairs(request: HttpRequest) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(request.query_string.decode("utf-8"), keep_blank_values=True)


class _LatticeResult:
    """What both versions answer with: an ALB single-value result."""

    def encode(self, response: HttpResponse, event: Event, options: AppOptions) -> dict[str, Any]:
        return _ALB.encode(response, _SINGLE_VALUE, options)

    def parse_result(self, result: Any) -> HttpResponse:
        return _ALB.parse_result(result)


class Lattice(_LatticeResult):
    """VPC Lattice payload version 1."""

    name = "lattice"

    def infer(self, event: Event) -> bool:
        return "raw_path" in event and "method" in event and "requestContext" not in event

    def decode(self, event: Event, context: Any, options: AppOptions) -> HttpRequest:
        raw_path = _field(event, "raw_path", str, "/") or "/"
        given: dict[str, Any] = _field(event, "headers", dict, {})
        params: dict[str, Any] = _field(event, "query_string_parameters", dict, {})
        raw_path, _, raw_query = raw_path.partition("?")
        for key, value in params.items():
            if not isinstance(value, str):
                raise UnsupportedEventError(
                    f"VPC Lattice event field 'query_string_parameters.{key}' must be a string"
                )
        query = (
            encode_query(params, False, self.name, "query_string_parameters")
            if params
            else raw_query.encode("utf-8")
        )
        headers: Headers = []
        for name, value in given.items():
            if not isinstance(value, str):
                raise UnsupportedEventError(
                    f"VPC Lattice event field 'headers.{name}' must be a string"
                )
            headers.append((name.lower().encode("latin-1"), value.encode("utf-8")))
        body = decode_body(
            {"body": event.get("body"), "isBase64Encoded": event.get("is_base64_encoded")},
            self.name,
        )
        return _request(event, context, options, raw_path or "/", query, headers, body)

    def build_event(self, request: HttpRequest, stage: str = "") -> dict[str, Any]:
        headers: dict[str, str] = {}
        for name, value in request.headers:
            key, text = name.decode("latin-1"), value.decode("utf-8")
            headers[key] = headers[key] + "," + text if key in headers else text
        body, is_base64 = event_body(request.body, base64_always=False)
        return {
            "raw_path": _encoded_path(request),
            "method": request.method,
            "headers": headers,
            "query_string_parameters": dict(_query_pairs(request)),
            "body": body or "",
            "is_base64_encoded": is_base64,
        }


class LatticeV2(_LatticeResult):
    """VPC Lattice payload version 2.0."""

    name = "lattice-v2"

    def infer(self, event: Event) -> bool:
        ctx = event.get("requestContext")
        return (
            event.get("version") == "2.0"
            and isinstance(ctx, dict)
            and ("serviceArn" in ctx or "serviceNetworkArn" in ctx)
        )

    def decode(self, event: Event, context: Any, options: AppOptions) -> HttpRequest:
        raw_path = _field(event, "path", str, "/") or "/"
        given: dict[str, Any] = _field(event, "headers", dict, {})
        params: dict[str, Any] = _field(event, "queryStringParameters", dict, {})
        headers: Headers = [
            (name.lower().encode("latin-1"), value.encode("utf-8"))
            for name, values in given.items()
            for value in _values(f"headers.{name}", values)
        ]
        values = {key: _values(f"queryStringParameters.{key}", v) for key, v in params.items()}
        query = encode_query(values, True, self.name, "queryStringParameters") if values else b""
        body = decode_body(event, self.name)
        return _request(event, context, options, raw_path, query, headers, body)

    def build_event(self, request: HttpRequest, stage: str = "") -> dict[str, Any]:
        import time

        headers: dict[str, list[str]] = {}
        for name, value in request.headers:
            headers.setdefault(name.decode("latin-1"), []).append(value.decode("utf-8"))
        params: dict[str, list[str]] = {}
        for key, text in _query_pairs(request):
            params.setdefault(key, []).append(text)
        body, is_base64 = event_body(request.body, base64_always=False)
        arn = "arn:aws:vpc-lattice:us-east-1:123456789012"
        event: dict[str, Any] = {
            "version": "2.0",
            "path": _encoded_path(request),
            "method": request.method,
            "headers": headers,
            "queryStringParameters": params,
            "isBase64Encoded": is_base64,
            "requestContext": {
                "serviceNetworkArn": f"{arn}:servicenetwork/sn-0123456789abcdef0",
                "serviceArn": f"{arn}:service/svc-0123456789abcdef0",
                "targetGroupArn": f"{arn}:targetgroup/tg-0123456789abcdef0",
                "identity": {
                    "sourceVpcArn": "arn:aws:ec2:us-east-1:123456789012:vpc/vpc-0123456789abcdef0",
                    "type": "AWS_IAM",
                    "principal": "arn:aws:iam::123456789012:role/local",
                },
                "region": "us-east-1",
                "timeEpoch": str(time.time_ns() // 1000),
            },
        }
        if body is not None:
            event["body"] = body
        return event


if TYPE_CHECKING:
    from faasport.aws.codec import Codec

    _conforms: tuple[Codec, ...] = (Lattice(), LatticeV2())
