"""aws/alb.py against recorded ALB events."""

from __future__ import annotations

from typing import Any

import pytest

from echo import ASGI, WSGI, call, header_values
from recorded import names, recorded


@pytest.mark.parametrize("name", names("alb"))
def test_recorded_events_reach_the_app(name: str) -> None:
    event = recorded(name)
    status, seen = call(ASGI, event)
    assert status == 200, seen
    assert seen["method"] == event["httpMethod"]
    assert seen["raw_path"] == event["path"]
    given = event.get("headers") or {}
    forwarded = given.get("x-forwarded-for") or event["multiValueHeaders"]["x-forwarded-for"][0]
    assert seen["client"] == [forwarded, 0]


def test_multi_value_query() -> None:
    status, seen = call(ASGI, recorded("albMultiValueQueryStringEvent"))
    assert status == 200
    assert seen["query_string"] == "parameter1=value1&parameter1=value2&parameter2=value"
    assert header_values(seen, "header2") == ["value1", "value2"]


def test_multi_value_headers_with_a_single_value_query_keep_the_query() -> None:
    event = recorded("albMultiValueHeadersEvent")
    del event["multiValueQueryStringParameters"]
    event["queryStringParameters"] = {"a": "1", "b": "x%20y"}
    for handler, key in ((ASGI, "query_string"), (WSGI, "QUERY_STRING")):
        status, seen = call(handler, event)
        assert status == 200
        assert seen[key] == "a=1&b=x%20y"


def test_multi_value_headers_event_wsgi_environ() -> None:
    status, environ = call(WSGI, recorded("albMultiValueHeadersEvent"))
    assert status == 200
    assert environ["SERVER_PORT"] == "80"
    assert environ["wsgi.url_scheme"] == "http"
    assert environ["SERVER_NAME"].endswith(".elb.amazonaws.com")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("httpMethod", None),
        ("httpMethod", ["GET"]),
        ("path", 5),
        ("multiValueHeaders", {"a": "b"}),
        ("multiValueQueryStringParameters", {"b": None}),
        ("multiValueQueryStringParameters", {"b": [{"a": 1}]}),
        ("body", 5),
    ],
)
def test_wrong_typed_field_is_a_400_naming_it(field: str, value: Any) -> None:
    event = recorded("albMultiValueQueryStringEvent")
    event[field] = value
    for handler in (ASGI, WSGI):
        status, body = call(handler, event)
        assert status == 400, body
        assert body["message"].startswith(f"malformed alb event: {field} must be ")
