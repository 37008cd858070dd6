"""Mangum's and apig-wsgi's handler test cases, ported: the same events and apps, the same
expectations, run through ``aws.handler``.

Each row names the peer test it comes from. The events are rebuilt here with the same
fields the peer's helpers set (Mangum ``tests/handlers/test_*.py``, apig-wsgi
``tests/test_apig_wsgi.py``). Where faasport answers differently on purpose, the row
carries faasport's expectation and the anchor of the section of docs/differences.md that
gives the reason; a test checks that every such anchor exists.
"""

from __future__ import annotations

import json
import re
from base64 import b64encode
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from echo import asgi_echo, wsgi_echo
from faasport import aws
from faasport.aws.handler import infer_codec
from faasport.testing import LambdaContext

DIFFERENCES = Path(__file__).parents[2] / "docs" / "differences.md"
GIF = (
    b"GIF87a\x01\x00\x01\x00\x80\x01\x00\xff\x00\x00\x00\x00\x00,"
    b"\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
GIF_B64 = "R0lGODdhAQABAIABAP8AAAAAACwAAAAAAQABAAACAkQBADs="

# -- the peers' events, rebuilt ---------------------------------------------------------------


def mangum_rest(
    method: str, path: str, mvq: dict[str, list[str]] | None, body: Any, b64: bool
) -> dict[str, Any]:
    """Mangum ``get_mock_aws_api_gateway_event``."""
    return {
        "path": path,
        "body": body.decode() if isinstance(body, bytes) else body,
        "isBase64Encoded": b64,
        "headers": {
            "Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,*/*;q=0.8",
            "Accept-Encoding": "gzip, deflate, lzma, sdch, br",
            "Accept-Language": "en-US,en;q=0.8",
            "CloudFront-Forwarded-Proto": "https",
            "CloudFront-Is-Desktop-Viewer": "true",
            "CloudFront-Is-Mobile-Viewer": "false",
            "CloudFront-Is-SmartTV-Viewer": "false",
            "CloudFront-Is-Tablet-Viewer": "false",
            "CloudFront-Viewer-Country": "US",
            "Cookie": "cookie1; cookie2",
            "Host": "test.execute-api.us-west-2.amazonaws.com",
            "Upgrade-Insecure-Requests": "1",
            "X-Forwarded-For": "192.168.100.1, 192.168.1.1",
            "X-Forwarded-Port": "443",
            "X-Forwarded-Proto": "https",
        },
        "pathParameters": {"proxy": "hello"},
        "requestContext": {
            "accountId": "123456789012",
            "resourceId": "us4z18",
            "stage": "Prod",
            "requestId": "41b45ea3-70b5-11e6-b7bd-69b5aaebc7d9",
            "identity": {"sourceIp": "192.168.100.1", "userAgent": "Mozilla/5.0"},
            "resourcePath": "/{proxy+}",
            "httpMethod": method,
            "apiId": "123",
        },
        "resource": "/{proxy+}",
        "httpMethod": method,
        "multiValueQueryStringParameters": dict(mvq) if mvq else None,
        "stageVariables": {"stageVarName": "stageVarValue"},
    }


MANGUM_REST_HEADERS = [
    ["accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/webp,*/*;q=0.8"],
    ["accept-encoding", "gzip, deflate, lzma, sdch, br"],
    ["accept-language", "en-US,en;q=0.8"],
    ["cloudfront-forwarded-proto", "https"],
    ["cloudfront-is-desktop-viewer", "true"],
    ["cloudfront-is-mobile-viewer", "false"],
    ["cloudfront-is-smarttv-viewer", "false"],
    ["cloudfront-is-tablet-viewer", "false"],
    ["cloudfront-viewer-country", "US"],
    ["cookie", "cookie1; cookie2"],
    ["host", "test.execute-api.us-west-2.amazonaws.com"],
    ["upgrade-insecure-requests", "1"],
    ["x-forwarded-for", "192.168.100.1, 192.168.1.1"],
    ["x-forwarded-port", "443"],
    ["x-forwarded-proto", "https"],
]


def mangum_http_v1(
    method: str, path: str, query: dict[str, list[str]] | None, body: Any, b64: bool
) -> dict[str, Any]:
    """Mangum ``get_mock_aws_http_gateway_event_v1``."""
    return {
        "version": "1.0",
        "resource": path,
        "path": path,
        "httpMethod": method,
        "headers": {
            "accept-encoding": "gzip,deflate",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            "host": "test.execute-api.us-west-2.amazonaws.com",
        },
        "multiValueHeaders": {
            "accept-encoding": ["gzip", "deflate"],
            "x-forwarded-port": ["443"],
            "x-forwarded-proto": ["https"],
            "host": ["test.execute-api.us-west-2.amazonaws.com"],
        },
        "queryStringParameters": {k: v[0] for k, v in query.items()} if query else {},
        "multiValueQueryStringParameters": dict(query) if query else {},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "id",
            "domainName": "id.execute-api.us-east-1.amazonaws.com",
            "httpMethod": method,
            "identity": {"sourceIp": "192.168.100.1", "userAgent": "user-agent"},
            "path": path,
            "protocol": "HTTP/1.1",
            "requestId": "id=",
            "resourcePath": path,
            "stage": "$default",
        },
        "pathParameters": None,
        "stageVariables": None,
        "body": body.decode() if isinstance(body, bytes) else body,
        "isBase64Encoded": b64,
    }


def mangum_http_v2(
    method: str, path: str, query: dict[str, str] | None, body: Any, b64: bool
) -> dict[str, Any]:
    """Mangum ``get_mock_aws_http_gateway_event_v2``."""
    return {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": urlencode(query or {}),
        "cookies": ["cookie1", "cookie2"],
        "headers": {
            "accept-encoding": "gzip,deflate",
            "x-forwarded-port": "443",
            "x-forwarded-proto": "https",
            "host": "test.execute-api.us-west-2.amazonaws.com",
        },
        "queryStringParameters": dict(query) if query else {},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api-id",
            "domainName": "id.execute-api.us-east-1.amazonaws.com",
            "domainPrefix": "id",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.168.100.1",
                "userAgent": "agent",
            },
            "requestId": "id",
            "routeKey": "$default",
            "stage": "$default",
        },
        "body": body.decode() if isinstance(body, bytes) else body,
        "pathParameters": {"parameter1": "value1"},
        "isBase64Encoded": b64,
    }


def mangum_alb(
    method: str, path: str, query: dict[str, list[str]] | None, body: Any, b64: bool, multi: bool
) -> dict[str, Any]:
    """Mangum ``get_mock_aws_alb_event`` (default headers)."""
    headers = {
        "accept": ["text/html"],
        "host": ["lambda-alb-123578498.us-east-2.elb.amazonaws.com"],
        "x-forwarded-for": ["72.12.164.125"],
        "x-forwarded-port": ["80"],
        "x-forwarded-proto": ["http"],
    }
    event: dict[str, Any] = {
        "requestContext": {
            "elb": {
                "targetGroupArn": "arn:aws:elasticloadbalancing:us-east-2:123456789012:"
                "targetgroup/lambda/49e9d65c45c6791a"
            }
        },
        "httpMethod": method,
        "path": path,
        "body": body.decode() if isinstance(body, bytes) else body,
        "isBase64Encoded": b64,
    }
    if multi:
        event["multiValueQueryStringParameters"] = query or {}
        event["multiValueHeaders"] = headers
    else:
        event["queryStringParameters"] = {k: v[-1] for k, v in (query or {}).items()}
        event["headers"] = {k: v[-1] for k, v in headers.items()}
    return event


def apig_v1(
    *,
    method: str = "GET",
    path: str = "/",
    qs: dict[str, list[str]] | None = None,
    qs_multi: bool = True,
    headers: dict[str, list[str]] | None = None,
    headers_multi: bool = True,
    body: str = "",
    binary: bool = False,
    alb: bool = False,
) -> dict[str, Any]:
    """apig-wsgi ``make_v1_event`` (and ``make_alb_event`` with ``alb``)."""
    headers = headers if headers is not None else {"Host": ["example.com"]}
    event: dict[str, Any] = {"httpMethod": method, "path": path}
    if not alb:
        event["version"] = "1.0"
    else:
        event["requestContext"] = {
            "elb": {"targetGroupArn": "arn:aws:elasticloadbalancing:::targetgroup/etc"}
        }
    if qs_multi:
        event["multiValueQueryStringParameters"] = qs
    else:
        event["queryStringParameters"] = None if qs is None else {k: v[-1] for k, v in qs.items()}
    if headers_multi:
        event["multiValueHeaders"] = headers
    else:
        event["headers"] = {k: v[-1] for k, v in headers.items()}
    event["body"] = b64encode(body.encode()).decode() if binary else body
    event["isBase64Encoded"] = binary
    return event


def apig_v2(
    *,
    method: str = "GET",
    path: str = "/",
    query_string: str | None = None,
    cookies: list[str] | None = None,
    headers: dict[str, str] | None = None,
    body: str = "",
    binary: bool = False,
) -> dict[str, Any]:
    """apig-wsgi ``make_v2_event``."""
    return {
        "version": "2.0",
        "rawQueryString": query_string,
        "rawPath": path,
        "headers": headers if headers is not None else {"Host": "example.com"},
        "cookies": cookies or [],
        "requestContext": {
            "http": {
                "method": method,
                "path": path.rstrip("/"),
                "sourceIp": "1.2.3.4",
                "protocol": "https",
            }
        },
        "body": b64encode(body.encode()).decode() if binary else body,
        "isBase64Encoded": binary,
    }


# -- request side: what the app sees ----------------------------------------------------------


@dataclass
class Seen:
    """A row: an event, and what an ASGI app (``asgi``: scope fields as ``echo`` reports
    them) or a WSGI app (``wsgi``: environ keys) must see of it."""

    origin: str
    event: dict[str, Any]
    asgi: dict[str, Any] = field(default_factory=dict)
    wsgi: dict[str, Any] = field(default_factory=dict)
    differs: str | None = None

    def __str__(self) -> str:
        return self.origin


REST = "mangum:test_api_gateway.py::test_aws_api_gateway_scope_real"
HTTP1 = "mangum:test_http_gateway.py::test_aws_http_gateway_scope_real_v1"
HTTP2 = "mangum:test_http_gateway.py::test_aws_http_gateway_scope_real_v2"
ALB = "mangum:test_alb.py::test_aws_alb_scope_real"
APIG = "apig-wsgi:test_apig_wsgi.py::"
REST_SERVER = ["test.execute-api.us-west-2.amazonaws.com", 443]

SEEN = [
    Seen(
        f"{REST}[GET-/hello/world]",
        mangum_rest("GET", "/hello/world", None, None, False),
        # Mangum's event says resource /{proxy+} with proxy=hello but path /hello/world: the
        # route does not match the path, so nothing is taken as a stage prefix.
        asgi={
            "method": "GET",
            "path": "/hello/world",
            "root_path": "",
            "query_string": "",
            "headers": MANGUM_REST_HEADERS,
            "client": ["192.168.100.1", 0],
            "server": REST_SERVER,
            "scheme": "https",
            "body": "",
        },
    ),
    Seen(
        f"{REST}[POST-/-name=me]",
        mangum_rest("POST", "/", {"name": ["me"]}, "field1=value1&field2=value2", False),
        asgi={
            "method": "POST",
            "path": "/",
            "query_string": "name=me",
            "body": "field1=value1&field2=value2",
        },
    ),
    Seen(
        f"{REST}[GET-/my/resource-name=me&name=you]",
        mangum_rest("GET", "/my/resource", {"name": ["me", "you"]}, None, False),
        asgi={"path": "/my/resource", "query_string": "name=me&name=you"},
    ),
    Seen(
        f"{REST}[GET-empty path]",
        mangum_rest("GET", "", {"name": ["me", "you"], "pet": ["dog"]}, None, False),
        asgi={"path": "/", "query_string": "name=me&name=you&pet=dog"},
    ),
    Seen(
        f"{REST}[POST-/img-base64 gif]",
        mangum_rest("POST", "/img", None, GIF_B64, True),
        asgi={"path": "/img", "body": GIF.decode("latin-1")},
    ),
    Seen(
        f"{REST}[POST-/form-submit]",
        mangum_rest("POST", "/form-submit", None, b"say=Hi&to=Mom", False),
        asgi={"body": "say=Hi&to=Mom"},
    ),
    Seen(
        f"{HTTP1}[GET-/my/test/path]",
        mangum_http_v1("GET", "/my/test/path", None, None, False),
        asgi={
            "path": "/my/test/path",
            "query_string": "",
            "client": ["192.168.100.1", 0],
            "server": REST_SERVER,
            "scheme": "https",
            "headers": [
                ["accept-encoding", "gzip"],
                ["accept-encoding", "deflate"],
                ["x-forwarded-port", "443"],
                ["x-forwarded-proto", "https"],
                ["host", "test.execute-api.us-west-2.amazonaws.com"],
            ],
        },
        # Mangum keeps multiValueHeaders' values apart as well: same headers.
    ),
    Seen(
        f"{HTTP1}[GET-empty path-name=me]",
        mangum_http_v1("GET", "", {"name": ["me"]}, None, False),
        asgi={"path": "/", "query_string": "name=me"},
    ),
    Seen(
        f"{HTTP1}[POST-/img]",
        mangum_http_v1("POST", "/img", None, GIF_B64, True),
        asgi={"body": GIF.decode("latin-1")},
    ),
    Seen(
        "mangum:test_http_gateway.py::test_aws_http_gateway_scope_v1_only_non_multi_headers",
        {
            **mangum_http_v1("GET", "/test", {"hello": ["world", "life"]}, None, False),
            "multiValueQueryStringParameters": None,
        },
        asgi={"query_string": "hello=world"},
    ),
    Seen(
        "mangum:test_http_gateway.py::test_aws_http_gateway_scope_v1_no_headers",
        {
            **mangum_http_v1("GET", "/test", None, None, False),
            "multiValueQueryStringParameters": None,
            "queryStringParameters": None,
        },
        asgi={"query_string": ""},
    ),
    Seen(
        f"{HTTP2}[GET-/my/test/path]",
        mangum_http_v2("GET", "/my/test/path", None, None, False),
        asgi={
            "path": "/my/test/path",
            "query_string": "",
            "client": ["192.168.100.1", 0],
            "server": REST_SERVER,
            "scheme": "https",
            "headers": [
                ["accept-encoding", "gzip,deflate"],
                ["x-forwarded-port", "443"],
                ["x-forwarded-proto", "https"],
                ["host", "test.execute-api.us-west-2.amazonaws.com"],
                ["cookie", "cookie1; cookie2"],
            ],
        },
    ),
    Seen(
        f"{HTTP2}[GET-empty path-name=me]",
        mangum_http_v2("GET", "", {"name": "me"}, None, False),
        asgi={"path": "/", "query_string": "name=me"},
    ),
    Seen(
        f"{HTTP2}[POST-/img]",
        mangum_http_v2("POST", "/img", None, GIF_B64, True),
        asgi={"body": GIF.decode("latin-1")},
    ),
    Seen(
        f"{ALB}[GET-/hello/world]",
        mangum_alb("GET", "/hello/world", None, None, False, False),
        asgi={
            "path": "/hello/world",
            "query_string": "",
            "client": ["72.12.164.125", 0],
            "server": ["lambda-alb-123578498.us-east-2.elb.amazonaws.com", 80],
            "scheme": "http",
        },
    ),
    Seen(
        f"{ALB}[GET-/lambda-encoded query]",
        mangum_alb(
            "GET",
            "/lambda",
            {
                "q1": ["1234ABCD"],
                "q2": ["b+c"],
                "q3": ["b%20c"],
                "q4": ["/some/path/"],
                "q5": ["%2Fsome%2Fpath%2F"],
            },
            "",
            False,
            False,
        ),
        asgi={"query_string": "q1=1234ABCD&q2=b+c&q3=b%20c&q4=/some/path/&q5=%2Fsome%2Fpath%2F"},
        differs="alb-query-as-sent",
    ),
    Seen(
        f"{ALB}[POST-duplicate keys, single-value]",
        mangum_alb("POST", "/", {"name": ["me", "you"]}, None, False, False),
        asgi={"query_string": "name=you"},
    ),
    Seen(
        f"{ALB}[GET-duplicate keys, multi-value]",
        mangum_alb("GET", "/my/resource", {"name": ["me", "you"]}, None, False, True),
        asgi={"query_string": "name=me&name=you"},
    ),
    Seen(
        f"{ALB}[GET-empty path, multi-value]",
        mangum_alb("GET", "", {"name": ["me", "you"], "pet": ["dog"]}, None, False, True),
        asgi={"path": "/", "query_string": "name=me&name=you&pet=dog"},
    ),
    Seen(
        f"{ALB}[POST-/img]",
        mangum_alb("POST", "/img", None, GIF_B64, True, False),
        asgi={"body": GIF.decode("latin-1")},
    ),
    # apig-wsgi, v1
    Seen(
        f"{APIG}TestV1Events::test_post",
        apig_v1(method="POST", body="The World is Large"),
        wsgi={"body": "The World is Large", "CONTENT_LENGTH": "18"},
    ),
    Seen(
        f"{APIG}TestV1Events::test_post_binary_support",
        apig_v1(method="POST", body="dogfood", binary=True),
        wsgi={"body": "dogfood", "CONTENT_LENGTH": "7"},
    ),
    # apig-wsgi's v1 events say "version": "1.0": an HTTP API's 1.0 payload, whose path
    # HTTP APIs have already decoded. A REST API's (no version) is decoded here.
    Seen(
        f"{APIG}TestV1Events::test_path_unquoting",
        apig_v1(path="/api/path%2Finfo"),
        wsgi={"PATH_INFO": "/api/path%2Finfo"},
        differs="http-api-path-decoded",
    ),
    Seen(
        f"{APIG}TestV1Events::test_path_unquoting[REST API]",
        {k: v for k, v in apig_v1(path="/api/path%2Finfo").items() if k != "version"},
        wsgi={"PATH_INFO": "/api/path/info"},
    ),
    Seen(f"{APIG}TestV1Events::test_querystring_none", apig_v1(), wsgi={"QUERY_STRING": ""}),
    Seen(
        f"{APIG}TestV1Events::test_querystring_none_single",
        apig_v1(qs_multi=False),
        wsgi={"QUERY_STRING": ""},
    ),
    Seen(f"{APIG}TestV1Events::test_querystring_empty", apig_v1(qs={}), wsgi={"QUERY_STRING": ""}),
    Seen(
        f"{APIG}TestV1Events::test_querystring_empty_single",
        apig_v1(qs={}, qs_multi=False),
        wsgi={"QUERY_STRING": ""},
    ),
    Seen(
        f"{APIG}TestV1Events::test_querystring_one",
        apig_v1(qs={"foo": ["bar"]}),
        wsgi={"QUERY_STRING": "foo=bar"},
    ),
    Seen(
        f"{APIG}TestV1Events::test_querystring_one_single",
        apig_v1(qs={"foo": ["bar"]}, qs_multi=False),
        wsgi={"QUERY_STRING": "foo=bar"},
    ),
    Seen(
        f"{APIG}TestV1Events::test_querystring_encoding_plus_value",
        apig_v1(qs={"a": ["b+c"]}, qs_multi=False),
        wsgi={"QUERY_STRING": "a=b%2Bc"},
    ),
    Seen(
        f"{APIG}TestV1Events::test_querystring_encoding_plus_key",
        apig_v1(qs={"a+b": ["c"]}, qs_multi=False),
        wsgi={"QUERY_STRING": "a%2Bb=c"},
    ),
    Seen(
        f"{APIG}TestV1Events::test_querystring_multi",
        apig_v1(qs={"foo": ["bar", "baz"]}),
        wsgi={"QUERY_STRING": "foo=bar&foo=baz"},
    ),
    Seen(
        f"{APIG}TestV1Events::test_querystring_multi_encoding_plus_value",
        apig_v1(qs={"a": ["b+c", "d"]}),
        wsgi={"QUERY_STRING": "a=b%2Bc&a=d"},
    ),
    Seen(
        f"{APIG}TestV1Events::test_querystring_multi_encoding_plus_key",
        apig_v1(qs={"a+b": ["c"]}),
        wsgi={"QUERY_STRING": "a%2Bb=c"},
    ),
    Seen(
        f"{APIG}TestV1Events::test_plain_header",
        apig_v1(headers={"Test-Header": ["foobar"]}),
        wsgi={"HTTP_TEST_HEADER": "foobar"},
    ),
    Seen(
        f"{APIG}TestV1Events::test_plain_header_single",
        apig_v1(headers={"Test-Header": ["foobar"]}, headers_multi=False),
        wsgi={"HTTP_TEST_HEADER": "foobar"},
    ),
    Seen(
        f"{APIG}TestV1Events::test_plain_header_multi",
        apig_v1(headers={"Test-Header": ["foo", "bar"]}),
        wsgi={"HTTP_TEST_HEADER": "foo,bar"},
    ),
    Seen(
        f"{APIG}TestV1Events::test_special_headers",
        apig_v1(
            headers={
                "Content-Type": ["text/plain"],
                "Host": ["example.com"],
                "X-Forwarded-For": ["1.2.3.4, 5.6.7.8"],
                "X-Forwarded-Proto": ["https"],
                "X-Forwarded-Port": ["123"],
            }
        ),
        wsgi={
            "CONTENT_TYPE": "text/plain",
            "HTTP_CONTENT_TYPE": None,
            "SERVER_NAME": "example.com",
            "HTTP_HOST": "example.com",
            "REMOTE_ADDR": None,
            "HTTP_X_FORWARDED_FOR": "1.2.3.4, 5.6.7.8",
            "wsgi.url_scheme": "https",
            "SERVER_PORT": "123",
            "HTTP_X_FORWARDED_PORT": "123",
        },
        differs="wsgi-content-type-once",
    ),
    Seen(
        f"{APIG}TestV1Events::test_special_x_forwarded_for",
        apig_v1(headers={"X-Forwarded-For": ["1.2.3.4, 5.6.7.8"]}),
        wsgi={"REMOTE_ADDR": None, "HTTP_X_FORWARDED_FOR": "1.2.3.4, 5.6.7.8"},
        differs="client-from-source-ip",
    ),
    Seen(
        f"{APIG}TestV1Events::test_x_forwarded_proto",
        apig_v1(headers={"X-Forwarded-Proto": ["https"]}),
        wsgi={"wsgi.url_scheme": "https"},
    ),
    Seen(
        f"{APIG}TestV1Events::test_x_forwarded_port",
        apig_v1(headers={"X-Forwarded-Port": ["123"]}),
        wsgi={"SERVER_PORT": "123"},
    ),
    Seen(
        f"{APIG}TestV1Events::test_no_headers",
        {k: v for k, v in apig_v1().items() if k != "multiValueHeaders"},
        wsgi={"REQUEST_METHOD": "GET"},
    ),
    Seen(
        f"{APIG}TestV1Events::test_headers_None",
        {**apig_v1(), "multiValueHeaders": None},
        wsgi={"REQUEST_METHOD": "GET"},
    ),
    Seen(
        f"{APIG}TestV1Events::test_request_context_none",
        {**apig_v1(), "requestContext": None},
        wsgi={"REQUEST_METHOD": "GET"},
    ),
    Seen(
        f"{APIG}TestV1Events::test_elb_health_check",
        {
            "requestContext": {"elb": {"targetGroupArn": "..."}},
            "httpMethod": "GET",
            "path": "/",
            "queryStringParameters": {},
            "multiValueHeaders": {"user-agent": ["ELB-HealthChecker/2.0"]},
            "body": "",
            "isBase64Encoded": False,
        },
        wsgi={"SERVER_NAME": "localhost", "SERVER_PORT": "443", "wsgi.url_scheme": "https"},
        differs="no-host-header",
    ),
    # apig-wsgi, ALB: the query string is passed on as the client sent it
    Seen(
        f"{APIG}TestAlbEvents::test_querystring_encoding_plus_value",
        apig_v1(qs={"a": ["b+c"]}, qs_multi=False, alb=True),
        wsgi={"QUERY_STRING": "a=b+c"},
    ),
    Seen(
        f"{APIG}TestAlbEvents::test_querystring_encoding_plus_key",
        apig_v1(qs={"a+b": ["c"]}, qs_multi=False, alb=True),
        wsgi={"QUERY_STRING": "a+b=c"},
    ),
    Seen(
        f"{APIG}TestAlbEvents::test_querystring_multi",
        apig_v1(qs={"foo": ["bar", "baz"]}, alb=True),
        wsgi={"QUERY_STRING": "foo=bar&foo=baz"},
    ),
    Seen(
        f"{APIG}TestAlbEvents::test_querystring_multi_encoding_plus_value",
        apig_v1(qs={"a": ["b+c", "d"]}, alb=True),
        wsgi={"QUERY_STRING": "a=b+c&a=d"},
    ),
    Seen(
        f"{APIG}TestAlbEvents::test_querystring_multi_encoding_plus_key",
        apig_v1(qs={"a+b": ["c"]}, alb=True),
        wsgi={"QUERY_STRING": "a+b=c"},
    ),
    Seen(
        f"{APIG}TestAlbEvents::test_querystring_contains_encoded_value",
        apig_v1(qs={"a": ["foo%3Dbar"]}, qs_multi=False, alb=True),
        wsgi={"QUERY_STRING": "a=foo%3Dbar"},
    ),
    Seen(
        f"{APIG}TestAlbEvents::test_querystring_multi_contains_encoded_value",
        apig_v1(qs={"a": ["foo%3Dbar", "%2420", "100%25"]}, alb=True),
        wsgi={"QUERY_STRING": "a=foo%3Dbar&a=%2420&a=100%25"},
    ),
    # apig-wsgi, v2
    Seen(
        f"{APIG}TestV2Events::test_cookie",
        apig_v2(cookies=["testcookie=abc"]),
        wsgi={"HTTP_COOKIE": "testcookie=abc"},
    ),
    Seen(
        f"{APIG}TestV2Events::test_two_cookies",
        apig_v2(cookies=["testcookie=abc", "testcookie2=def"]),
        wsgi={"HTTP_COOKIE": "testcookie=abc; testcookie2=def"},
        differs="cookie-separator",
    ),
    Seen(
        f"{APIG}TestV2Events::test_mixed_cookies",
        apig_v2(
            cookies=["testcookie=abc"],
            headers={"Content-Type": "text/plain", "Cookie": "testcookie2=def"},
        ),
        wsgi={"HTTP_COOKIE": "testcookie2=def; testcookie=abc"},
        differs="cookie-separator",
    ),
    Seen(
        f"{APIG}TestV2Events::test_plain_header",
        apig_v2(headers={"Test-Header": "foo"}),
        wsgi={"HTTP_TEST_HEADER": "foo"},
    ),
    Seen(
        f"{APIG}TestV2Events::test_special_headers",
        apig_v2(
            headers={
                "Content-Type": "text/plain",
                "Host": "example.com",
                "X-Forwarded-Proto": "https",
                "X-Forwarded-Port": "123",
            }
        ),
        wsgi={
            "CONTENT_TYPE": "text/plain",
            "HTTP_CONTENT_TYPE": None,
            "SERVER_NAME": "example.com",
            "HTTP_HOST": "example.com",
            "wsgi.url_scheme": "https",
            "SERVER_PORT": "123",
            "HTTP_X_FORWARDED_PORT": "123",
        },
        differs="wsgi-content-type-once",
    ),
    Seen(
        f"{APIG}TestV2Events::test_post",
        apig_v2(method="POST", body="The World is Large"),
        wsgi={"body": "The World is Large", "CONTENT_LENGTH": "18"},
    ),
    Seen(
        f"{APIG}TestV2Events::test_post_binary_support",
        apig_v2(method="POST", body="dogfood", binary=True),
        wsgi={"body": "dogfood", "CONTENT_LENGTH": "7"},
    ),
    Seen(
        f"{APIG}TestV2Events::test_path_unquoting",
        apig_v2(path="/api/path%2Finfo"),
        wsgi={"PATH_INFO": "/api/path%2Finfo"},
        differs="http-api-path-decoded",
    ),
]


@pytest.mark.parametrize("row", SEEN, ids=str)
def test_what_the_app_sees(row: Seen) -> None:
    assert row.asgi or row.wsgi
    for expected, app in ((row.asgi, asgi_echo), (row.wsgi, wsgi_echo)):
        if not expected:
            continue
        handler = aws.handler(app, lifespan="off")
        codec = infer_codec(row.event)
        assert codec is not None
        result = codec.parse_result(handler(json.loads(json.dumps(row.event)), LambdaContext()))
        assert result.status == 200, result.body
        seen = json.loads(result.body)
        got = {key: seen.get(key) for key in expected}
        assert got == expected


# -- response side: what the client gets --------------------------------------------------------


@dataclass
class Answer:
    """A row: an app answering with ``headers`` and ``body``; the Lambda result must carry
    ``expected`` (the fields named there) for the event."""

    origin: str
    event: dict[str, Any]
    headers: list[tuple[str, str]]
    body: bytes
    expected: dict[str, Any]
    wsgi: bool = False
    differs: str | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.origin


def asgi_answering(headers: list[tuple[str, str]], body: bytes) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(k.encode(), v.encode()) for k, v in headers],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return app


def wsgi_answering(headers: list[tuple[str, str]], body: bytes) -> Any:
    def app(environ: Any, start_response: Any) -> list[bytes]:
        start_response("200 OK", headers)
        return [body[:2], b"", body[2:], b""]

    return app


TEXT = [("content-type", "text/plain; charset=utf-8")]
ANSWERS = [
    Answer(
        "mangum:test_api_gateway.py::test_aws_api_gateway_response[text]",
        mangum_rest("GET", "/test", {}, None, False),
        TEXT,
        b"Hello world",
        {
            "statusCode": 200,
            "isBase64Encoded": False,
            "headers": {"content-type": "text/plain; charset=utf-8"},
            "body": "Hello world",
        },
    ),
    Answer(
        "mangum:test_api_gateway.py::test_aws_api_gateway_response[gif]",
        mangum_rest("POST", "/test", {}, None, False),
        [("content-type", "image/gif")],
        GIF,
        {"isBase64Encoded": True, "body": GIF_B64},
    ),
    Answer(
        "mangum:test_api_gateway.py::test_aws_api_gateway_response_extra_mime_types[default]",
        mangum_rest("POST", "/test", {}, None, False),
        [("content-type", "application/x-yaml")],
        b"name: 'John Doe'",
        {"isBase64Encoded": True, "body": "bmFtZTogJ0pvaG4gRG9lJw=="},
    ),
    Answer(
        "mangum:test_api_gateway.py::test_aws_api_gateway_response_extra_mime_types[added]",
        mangum_rest("POST", "/test", {}, None, False),
        [("content-type", "application/x-yaml")],
        b"name: 'John Doe'",
        {"isBase64Encoded": False, "body": "name: 'John Doe'"},
        options={"text_mime_types": ["application/x-yaml"]},
    ),
    Answer(
        "mangum:test_http_gateway.py::test_aws_http_gateway_response_v1[json]",
        mangum_http_v1("GET", "/test", {}, None, False),
        [("content-type", "application/json")],
        b'{"hello": "world", "foo": true}',
        {"isBase64Encoded": False, "body": '{"hello": "world", "foo": true}'},
    ),
    Answer(
        "mangum:test_http_gateway.py::test_aws_http_gateway_response_v1[no content-type]",
        mangum_http_v1("GET", "/test", {}, None, False),
        [],
        b"Hello world",
        {"isBase64Encoded": True, "body": "SGVsbG8gd29ybGQ="},
    ),
    Answer(
        "mangum:test_http_gateway.py::test_aws_http_gateway_response_v2[json]",
        mangum_http_v2("GET", "/test", {}, None, False),
        [("content-type", "application/json")],
        b'{"hello": "world", "foo": true}',
        {
            "statusCode": 200,
            "isBase64Encoded": False,
            "headers": {"content-type": "application/json"},
            "body": '{"hello": "world", "foo": true}',
        },
    ),
    Answer(
        "mangum:test_http_gateway.py::test_aws_http_gateway_response_v2[no content-type]",
        mangum_http_v2("GET", "/test", {}, None, False),
        [],
        b"Hello world",
        {"isBase64Encoded": True, "body": "SGVsbG8gd29ybGQ=", "headers": {}},
        differs="no-content-type-is-binary",
    ),
    Answer(
        "mangum:test_http_gateway.py::test_aws_http_gateway_response_v2[gif]",
        mangum_http_v2("POST", "/test", {}, None, False),
        [("content-type", "image/gif")],
        GIF,
        {"isBase64Encoded": True, "body": GIF_B64},
    ),
    Answer(
        "mangum:test_alb.py::test_aws_alb_set_cookies[multi]",
        mangum_alb("GET", "/test", {}, None, False, True),
        [
            *TEXT,
            ("set-cookie", "cookie1=cookie1; Secure"),
            ("set-cookie", "cookie2=cookie2; Secure"),
        ],
        b"Hello, world!",
        {
            "statusCode": 200,
            "isBase64Encoded": False,
            "body": "Hello, world!",
            "multiValueHeaders": {
                "content-type": ["text/plain; charset=utf-8"],
                "set-cookie": ["cookie1=cookie1; Secure", "cookie2=cookie2; Secure"],
            },
        },
    ),
    Answer(
        "mangum:test_alb.py::test_aws_alb_set_cookies[single]",
        mangum_alb("GET", "/test", {}, None, False, False),
        [
            *TEXT,
            ("set-cookie", "cookie1=cookie1; Secure"),
            ("set-cookie", "cookie2=cookie2; Secure"),
        ],
        b"Hello, world!",
        {
            "headers": {
                "content-type": "text/plain; charset=utf-8",
                "set-cookie": "cookie1=cookie1; Secure",
                "Set-cookie": "cookie2=cookie2; Secure",
            }
        },
    ),
    Answer(
        "mangum:test_alb.py::test_aws_alb_response[gif]",
        mangum_alb("POST", "/test", {}, None, False, False),
        [("content-type", "image/gif")],
        GIF,
        {"isBase64Encoded": True, "body": GIF_B64},
    ),
    Answer(
        f"{APIG}TestV1Events::test_get",
        apig_v1(),
        [("Content-Type", "text/plain")],
        b"Hello World\n",
        {
            "statusCode": 200,
            "isBase64Encoded": False,
            "body": "Hello World\n",
            "headers": {"content-type": "text/plain"},
        },
        wsgi=True,
        differs="lower-case-response-headers",
    ),
    Answer(
        f"{APIG}TestV1Events::test_get_binary_support_no_content_type",
        apig_v1(),
        [],
        b"\x13\x37",
        {"isBase64Encoded": True, "body": b64encode(b"\x13\x37").decode()},
        wsgi=True,
    ),
    *[
        Answer(
            f"{APIG}TestV1Events::test_get_binary_support_default_text_content_types[{ctype}]",
            apig_v1(),
            [("Content-Type", ctype)],
            b"Hello World\n",
            {"isBase64Encoded": False, "body": "Hello World\n"},
            wsgi=True,
        )
        for ctype in [
            "text/plain",
            "text/html",
            "application/json",
            "application/problem+json",
            "application/vnd.api+json",
        ]
    ],
    *[
        Answer(
            f"{APIG}TestV1Events::test_get_binary_support_custom_text_content_types[{ctype}]",
            apig_v1(),
            [("Content-Type", ctype)],
            b"Hello World\n",
            {"isBase64Encoded": False, "body": "Hello World\n"},
            wsgi=True,
            options={"text_mime_types": ["test/custom", "application/vnd.custom"]},
        )
        for ctype in ["test/custom", "application/vnd.custom"]
    ],
    Answer(
        f"{APIG}TestV1Events::test_get_binary_support_binary_default_text_with_gzip_content_encoding",
        apig_v1(),
        [("Content-Type", "text/plain"), ("Content-Encoding", "gzip")],
        b"\x13\x37",
        {"isBase64Encoded": True, "body": b64encode(b"\x13\x37").decode()},
        wsgi=True,
    ),
    Answer(
        f"{APIG}TestV1Events::test_empty_and_uncloseable_content",
        apig_v1(),
        [("Content-Type", "text/plain")],
        b"Hi there!",
        {"body": "Hi there!"},
        wsgi=True,
    ),
    Answer(
        f"{APIG}TestV2Events::test_get",
        apig_v2(),
        [("Content-Type", "text/plain")],
        b"Hello World\n",
        {
            "statusCode": 200,
            "headers": {"content-type": "text/plain"},
            "isBase64Encoded": False,
            "body": "Hello World\n",
        },
        wsgi=True,
    ),
    Answer(
        f"{APIG}TestV2Events::test_get_missing_content_type",
        apig_v2(),
        [],
        b"Hello World\n",
        {"statusCode": 200, "headers": {}, "isBase64Encoded": True, "body": "SGVsbG8gV29ybGQK"},
        wsgi=True,
    ),
    Answer(
        f"{APIG}TestV2Events::test_set_two_cookies",
        apig_v2(),
        [
            ("Content-Type", "text/plain"),
            ("Set-Cookie", "testcookie=abc; Path=/; SameSite=strict"),
            ("Set-Cookie", "testcookie2=def; Path=/; SameSite=strict"),
        ],
        b"Hello World\n",
        {
            "cookies": [
                "testcookie=abc; Path=/; SameSite=strict",
                "testcookie2=def; Path=/; SameSite=strict",
            ],
            "headers": {"content-type": "text/plain"},
        },
        wsgi=True,
    ),
]


@pytest.mark.parametrize("row", ANSWERS, ids=str)
def test_what_the_client_gets(row: Answer) -> None:
    make = wsgi_answering if row.wsgi else asgi_answering
    handler = aws.handler(make(row.headers, row.body), lifespan="off", **row.options)
    result = handler(json.loads(json.dumps(row.event)), LambdaContext())
    assert {key: result.get(key) for key in row.expected} == row.expected


def test_every_difference_is_documented() -> None:
    text = DIFFERENCES.read_text()
    anchors = set(re.findall(r'<a id="([a-z0-9-]+)"></a>', text))
    used = {row.differs for row in [*SEEN, *ANSWERS] if row.differs}
    assert used <= anchors, used - anchors
