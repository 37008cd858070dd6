"""aws/function_url.py against recorded Function URL events."""

from __future__ import annotations

import pytest

from echo import ASGI, WSGI, call, header_values
from faasport.aws.function_url import FunctionUrl
from faasport.aws.handler import infer_codec
from recorded import names, recorded


@pytest.mark.parametrize("name", names("lambdaFunctionUrl"))
def test_recorded_events_reach_the_app(name: str) -> None:
    event = recorded(name)
    assert isinstance(infer_codec(event), FunctionUrl)
    status, seen = call(ASGI, event)
    assert status == 200, seen
    assert seen["method"] == event["requestContext"]["http"]["method"]
    assert seen["raw_path"] == event["rawPath"]
    assert seen["body"] == (event.get("body") or "")


def test_browser_request_reaches_wsgi() -> None:
    status, environ = call(WSGI, recorded("lambdaFunctionUrlEvent"))
    assert status == 200
    assert environ["SERVER_NAME"] == "<url-id>.lambda-url.us-east-1.on.aws"
    assert environ["SERVER_PORT"] == "443"
    assert environ["wsgi.url_scheme"] == "https"
    assert environ["REMOTE_ADDR"] == "123.123.123.123"
    assert environ["HTTP_SEC_CH_UA_MOBILE"] == "?0"


def test_capitalised_header_names_are_lower_cased() -> None:
    event = recorded("lambdaFunctionUrlEventPathTrailingSlash")
    event["headers"] = {"Header1": "value1", "Content-Type": "text/plain"}
    status, seen = call(ASGI, event)
    assert status == 200
    assert header_values(seen, "header1") == ["value1"]
    assert header_values(seen, "content-type") == ["text/plain"]
    _, environ = call(WSGI, event)
    assert environ["CONTENT_TYPE"] == "text/plain"


def test_missing_method_is_a_400() -> None:
    event = recorded("lambdaFunctionUrlEvent")
    del event["requestContext"]["http"]["method"]
    status, body = call(ASGI, event)
    assert (status, body["message"]) == (
        400,
        "malformed function-url event: requestContext.http.method must be a string",
    )
