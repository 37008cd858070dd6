"""aws/apigw_v1.py against recorded REST API (payload 1.0) events."""

from __future__ import annotations

from typing import Any

import pytest

from echo import ASGI, WSGI, call, header_values
from recorded import names, recorded

#: Powertools fixtures that say isBase64Encoded with a body that is not base64
#: ("Hello from Lambda!"); API Gateway never sends that (docs/differences.md).
NOT_BASE64 = {
    "apiGatewayProxyEventAnotherPath",
    "apiGatewayProxyEventPathTrailingSlash",
    "apiGatewayProxyEvent_noVersionAuth",
}
REST_EVENTS = [*names("apiGatewayProxyEvent"), "apiGatewayProxyOtherEvent", "restApiDocsExample"]


@pytest.mark.parametrize("name", sorted(NOT_BASE64))
def test_recorded_events_with_a_body_that_is_not_base64_are_a_400(name: str) -> None:
    status, body = call(ASGI, recorded(name))
    assert (status, body["message"]) == (
        400,
        "malformed apigw-v1 event: body must be valid base64, as isBase64Encoded says",
    )


@pytest.mark.parametrize("name", [n for n in REST_EVENTS if n not in NOT_BASE64])
def test_recorded_events_reach_the_app(name: str) -> None:
    event = recorded(name)
    status, seen = call(ASGI, event)
    assert status == 200, seen
    assert seen["method"] == event["httpMethod"]
    assert seen["path"].endswith(event["path"])
    for key, _ in seen["headers"]:
        assert key == key.lower()
    expected = sorted(
        {k.lower() for k in event.get("multiValueHeaders") or {}}
        | {k.lower() for k in event.get("headers") or {}}
    )
    assert sorted({k for k, _ in seen["headers"]}) == expected


def test_docs_example_wsgi_environ() -> None:
    status, environ = call(WSGI, recorded("restApiDocsExample"))
    assert status == 200
    assert environ["CONTENT_TYPE"] == "application/json"
    assert "HTTP_CONTENT_TYPE" not in environ
    assert environ["SERVER_NAME"] == "1234567890.execute-api.us-east-1.amazonaws.com"
    assert environ["SERVER_PORT"] == "443"
    assert environ["SCRIPT_NAME"] == "/prod"
    assert environ["PATH_INFO"] == "/path/to/resource"
    assert environ["QUERY_STRING"] == "foo=bar"
    assert environ["HTTP_COOKIE"] == "session=abc123; theme=dark"
    assert environ["REMOTE_ADDR"] == "127.0.0.1"
    assert environ["body"] == '{"test":"body"}'


def test_header_only_in_headers_is_kept_and_multi_value_wins() -> None:
    event = recorded("apiGatewayProxyEvent")
    event["headers"]["X-Only-Single"] = "kept"
    event["headers"]["Header2"] = "single value"
    status, seen = call(ASGI, event)
    assert status == 200
    assert header_values(seen, "x-only-single") == ["kept"]
    assert header_values(seen, "header2") == ["value1", "value2"]
    assert header_values(seen, "origin") == ["https://aws.amazon.com"]


def test_header_in_both_maps_with_different_case_is_not_doubled() -> None:
    event = recorded("apiGatewayProxyEvent")
    event["headers"] = {"header1": "value1", "ORIGIN": "https://aws.amazon.com"}
    status, seen = call(ASGI, event)
    assert status == 200
    assert header_values(seen, "header1") == ["value1"]
    assert header_values(seen, "origin") == ["https://aws.amazon.com"]


def test_multi_value_query_wins() -> None:
    status, seen = call(ASGI, recorded("apiGatewayProxyEvent"))
    assert status == 200
    assert seen["query_string"] == "parameter1=value1&parameter1=value2&parameter2=value"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("httpMethod", None),
        ("httpMethod", ["GET"]),
        ("httpMethod", 5),
        ("path", {"a": 1}),
        ("headers", ["a"]),
        ("headers", {"a": 1}),
        ("headers", {"a": None}),
        ("multiValueHeaders", {"a": "b"}),
        ("multiValueHeaders", {"a": [1]}),
        ("multiValueHeaders", "text"),
        ("multiValueQueryStringParameters", {"b": None}),
        ("multiValueQueryStringParameters", {"b": [None]}),
        ("multiValueQueryStringParameters", {"a": {"x": 1}}),
        ("multiValueQueryStringParameters", []),
        ("queryStringParameters", {"a": 1}),
        ("pathParameters", ["proxy"]),
        ("requestContext", 5),
        ("requestContext", []),
        ("body", 5),
        ("body", {"a": 1}),
        ("isBase64Encoded", "yes"),
    ],
)
def test_wrong_typed_field_is_a_400_naming_it(field: str, value: Any) -> None:
    event = recorded("restApiDocsExample")
    if field == "queryStringParameters":
        event["multiValueQueryStringParameters"] = None
    event[field] = value
    for handler in (ASGI, WSGI):
        status, body = call(handler, event)
        assert status == 400, body
        assert body["message"].startswith(f"malformed apigw-v1 event: {field} must be ")
        assert "Error" not in body["message"]
        assert body["requestId"] == "req-1"


def test_missing_method_is_a_400() -> None:
    event = recorded("restApiDocsExample")
    event["httpMethod"] = None
    status, body = call(ASGI, event)
    assert (status, body["message"]) == (
        400,
        "malformed apigw-v1 event: httpMethod must be a string",
    )


def test_request_context_of_wrong_type_is_a_400_not_a_type_error() -> None:
    status, body = call(ASGI, {"httpMethod": "GET", "path": "/", "requestContext": 5})
    assert status == 400
    assert "requestContext" in body["message"]


def test_a_header_with_no_values_is_no_header() -> None:
    # Found by tests/aws/test_fuzz.py: an empty value list for Host crashed server lookup.
    event = recorded("restApiDocsExample")
    event["multiValueHeaders"]["Host"] = []
    del event["headers"]["Host"]
    status, seen = call(ASGI, event)
    assert status == 200
    assert seen["server"] == ["localhost", 443]
    assert header_values(seen, "host") == []


def test_one_value_per_name_multi_value_still_wins_over_headers() -> None:
    # AWS's usual shape (every list one value) takes the fast path: multiValueHeaders
    # still decides, even when a hand-written event's headers object disagrees.
    event = recorded("restApiDocsExample")
    event["headers"]["Host"] = "edited.example.com"
    for app in (ASGI, WSGI):
        status, seen = call(app, event)
        assert status == 200
        if app is WSGI:
            assert seen["HTTP_HOST"] == "1234567890.execute-api.us-east-1.amazonaws.com"
            assert seen["SERVER_NAME"] == "1234567890.execute-api.us-east-1.amazonaws.com"
        else:
            assert header_values(seen, "host") == ["1234567890.execute-api.us-east-1.amazonaws.com"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"a": ["1"], "b": ["x", "y"]}, "a=1&b=x&b=y"),
        ({"a=b": ["c&d"]}, "a%3Db=c%26d"),
        ({"q": ["a b", "é"]}, "q=a+b&q=%C3%A9"),
        ({"empty": [""]}, "empty="),
    ],
)
def test_query_is_re_encoded_only_where_needed(query: dict[str, Any], expected: str) -> None:
    event = recorded("restApiDocsExample")
    event["multiValueQueryStringParameters"] = query
    event["queryStringParameters"] = {k: v[-1] for k, v in query.items()}
    status, environ = call(WSGI, event)
    assert (status, environ["QUERY_STRING"]) == (200, expected)


def test_a_built_event_has_every_key_of_a_recorded_one() -> None:
    """What the local REST API sends: a function reading any key AWS sends (even a null
    one, like ``requestContext.identity.caller``) finds it locally too."""
    from faasport.aws.apigw_v1 import ApiGatewayV1
    from faasport.core.http import HttpRequest

    request = HttpRequest(
        method="GET",
        path="/items/7",
        query_string=b"a=1",
        headers=[(b"host", b"localhost"), (b"user-agent", b"curl/8")],
        body=b"",
        scheme="http",
        server=("127.0.0.1", 3000),
        client=("127.0.0.1", 50000),
        raw_path=b"/items/7",
    )
    built = ApiGatewayV1().build_event(request, "prod")
    real = recorded("restApiDocsExample")
    assert set(real) <= set(built)
    assert set(real["requestContext"]) <= set(built["requestContext"])
    assert set(real["requestContext"]["identity"]) <= set(built["requestContext"]["identity"])
    identity = built["requestContext"]["identity"]
    assert (identity["caller"], identity["userAgent"]) == (None, "curl/8")
