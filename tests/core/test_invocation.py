"""core/invocation.py: the start of every invocation, and which decoder errors are a 400."""

from __future__ import annotations

import json
from typing import Any

import pytest

from faasport import aws
from faasport.core import coldstart, invocation, logs
from faasport.core.errors import MalformedEventError
from faasport.core.http import HttpRequest, HttpResponse
from faasport.testing import LambdaContext


def test_begin_sets_the_log_context_and_counts_the_cold_start_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(coldstart, "record", coldstart.ColdStart())
    assert invocation.begin("req-1") is True
    assert logs.current == {"request_id": "req-1", "cold_start": True}
    assert invocation.begin("req-2") is False
    assert logs.current == {"request_id": "req-2", "cold_start": False}


def test_a_malformed_event_is_a_400_with_faasports_message() -> None:
    def decode(event: Any) -> HttpRequest:
        raise MalformedEventError("apigw-v2", "headers", "an object of strings or null")

    answer = invocation.http_request("req-3", decode, {})
    assert isinstance(answer, HttpResponse)
    assert answer.status == 400
    assert json.loads(answer.body) == {
        "message": "malformed apigw-v2 event: headers must be an object of strings or null",
        "requestId": "req-3",
    }


@pytest.mark.parametrize("error", [KeyError("x"), AttributeError("x"), TypeError("x")])
def test_a_decoder_bug_is_not_turned_into_a_400(error: Exception) -> None:
    def decode(event: Any) -> HttpRequest:
        raise error

    with pytest.raises(type(error)):
        invocation.http_request("req-4", decode, {})


def test_a_lone_surrogate_is_a_400_naming_the_top_level_field() -> None:
    def decode(event: Any) -> HttpRequest:
        event["rawQueryString"].encode("utf-8")
        raise AssertionError("unreachable")

    answer = invocation.http_request("req-5", decode, {"rawQueryString": "a=\ud800"})
    assert isinstance(answer, HttpResponse)
    assert json.loads(answer.body)["message"] == (
        "malformed event: rawQueryString must be valid Unicode text"
    )


def test_every_aws_codec_goes_through_it() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("never called: the event is bad")

    handler = aws.handler(app)
    event = {"version": "2.0", "requestContext": {"http": {"method": 5}}}
    result = handler(event, LambdaContext(aws_request_id="req-6"))
    assert result["statusCode"] == 400
    assert logs.current["request_id"] == "req-6"
