"""aws/apigw_v2.py against recorded HTTP API (payload 2.0) events."""

from __future__ import annotations

from typing import Any

import pytest

from echo import ASGI, WSGI, call, header_values
from faasport import aws
from faasport.testing import LambdaContext
from recorded import names, recorded

V2_EVENTS = [*names("apiGatewayProxyV2"), "httpApiDocsExample"]


@pytest.mark.parametrize("name", V2_EVENTS)
def test_recorded_events_reach_the_app(name: str) -> None:
    event = recorded(name)
    status, seen = call(ASGI, event)
    assert status == 200, seen
    assert seen["method"] == event["requestContext"]["http"]["method"]
    assert seen["path"] == event["rawPath"]
    assert seen["query_string"] == event["rawQueryString"]
    for key, _ in seen["headers"]:
        assert key == key.lower()
    if event.get("cookies"):
        assert header_values(seen, "cookie") == ["; ".join(event["cookies"])]


def test_capitalised_header_names_are_lower_cased() -> None:
    # AWS's own documentation example (and sam local) send "Header1", "Header2".
    status, seen = call(ASGI, recorded("apiGatewayProxyV2Event"))
    assert status == 200
    assert header_values(seen, "header1") == ["value1"]
    assert header_values(seen, "header2") == ["value1,value2"]


def test_starlette_finds_capitalised_headers() -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def endpoint(request: Request) -> JSONResponse:
        return JSONResponse(
            {"header1": request.headers.getlist("header1"), "type": request.headers["content-type"]}
        )

    handler = aws.handler(Starlette(routes=[Route("/my/path", endpoint, methods=["POST"])]))
    event = recorded("apiGatewayProxyV2Event")
    event["headers"]["Content-Type"] = "application/json"
    result = handler(event, LambdaContext())
    assert result["statusCode"] == 200
    assert result["body"] == '{"header1":["value1"],"type":"application/json"}'


def test_wsgi_environ_from_capitalised_names() -> None:
    event = recorded("apiGatewayProxyV2Event")
    event["headers"].update(
        {"Content-Type": "application/json", "Host": "api.example.com", "X-Forwarded-Port": "8443"}
    )
    status, environ = call(WSGI, event)
    assert status == 200
    assert environ["CONTENT_TYPE"] == "application/json"
    assert "HTTP_CONTENT_TYPE" not in environ
    assert (environ["SERVER_NAME"], environ["SERVER_PORT"]) == ("api.example.com", "8443")
    assert environ["HTTP_HEADER1"] == "value1"
    assert environ["CONTENT_LENGTH"] == str(len(event["body"]))


def test_docs_example_wsgi_environ() -> None:
    status, environ = call(WSGI, recorded("httpApiDocsExample"))
    assert status == 200
    assert environ["SERVER_NAME"] == "r3pmxmplak.execute-api.us-east-2.amazonaws.com"
    assert environ["SERVER_PORT"] == "443"
    assert environ["HTTP_COOKIE"] == "cookie1; cookie2"
    assert environ["REMOTE_ADDR"] == "205.255.255.176"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("requestContext.http.method", None),
        ("requestContext.http.method", ["GET"]),
        ("requestContext.http", "GET"),
        ("headers", ["a"]),
        ("headers", {"a": 1}),
        ("cookies", "a=b"),
        ("cookies", [1]),
        ("rawPath", 5),
        ("rawQueryString", {"a": "b"}),
        ("body", 5),
        ("isBase64Encoded", 1),
        ("requestContext.stage", 5),
        ("requestContext.http.sourceIp", 5),
    ],
)
def test_wrong_typed_field_is_a_400_naming_it(field: str, value: Any) -> None:
    event = recorded("httpApiDocsExample")
    *parents, last = field.split(".")
    target = event
    for part in parents:
        target = target[part]
    target[last] = value
    for handler in (ASGI, WSGI):
        status, body = call(handler, event)
        assert status == 400, body
        assert body["message"].startswith(f"malformed apigw-v2 event: {field} must be ")


def test_built_events_carry_query_string_parameters_as_http_apis_send_them() -> None:
    from faasport.aws.apigw_v2 import ApiGatewayV2
    from faasport.testing import http_request

    query = [("tag", "a"), ("tag", "b c"), ("q", "é&x"), ("empty", "")]
    event = ApiGatewayV2().build_event(http_request("GET", "/items", query=query))
    assert event["queryStringParameters"] == {"tag": "a,b c", "q": "é&x", "empty": ""}
    assert "queryStringParameters" not in ApiGatewayV2().build_event(http_request("GET", "/"))


@pytest.mark.parametrize("warm", [False, True])
def test_asgi_response_headers_of_any_byte_type_are_joined(warm: bool) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [
            (bytearray(b"x-a"), b"1"),
            (b"X-A", bytearray(b"2")),
            (b"set-cookie", b"a=1"),
            (memoryview(b"Set-Cookie"), b"b=2"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    handler = aws.handler(app, lifespan="off")
    if warm:
        handler(recorded("httpApiDocsExample"), LambdaContext())
    result = handler(recorded("httpApiDocsExample"), LambdaContext())
    assert result["headers"] == {"x-a": "1, 2"}
    assert result["cookies"] == ["a=1", "b=2"]
