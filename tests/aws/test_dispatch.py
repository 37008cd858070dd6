"""``aws.handler(app, events=...)``: one function answering HTTP and consuming events."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from faasport import aws, events
from faasport.aws.dispatch import KINDS, event_kind
from faasport.core.errors import ConfigError, UnsupportedEventError
from faasport.testing import LambdaClient, s3_event, schedule_event, sns_event, sqs_event
from faasport.testing.events import dynamodb_event, eventbridge_event, kinesis_event
from recorded import recorded

SEEN: list[str] = []


async def orders(request: Request) -> JSONResponse:
    return JSONResponse(SEEN)


APP = Starlette(routes=[Route("/orders", orders)])


def take(record: events.Record) -> None:
    text = record.text  # type: ignore[attr-defined]
    if text.startswith("bad"):
        raise ValueError(f"cannot take {text}")
    SEEN.append(text)


def on_orders(event: Any, context: Any) -> events.BatchResponse:
    return events.process(event, take)


def nightly(event: Any, context: Any) -> dict[str, str]:
    return {"ran": events.records(event)[0].name}  # type: ignore[attr-defined]


@pytest.fixture
def client() -> LambdaClient:
    SEEN.clear()
    return LambdaClient(aws.handler(APP, events={"sqs": on_orders, "schedule": nightly}))


def test_http_and_events_reach_their_own_handlers(client: LambdaClient) -> None:
    assert client.invoke(sqs_event("o-1", "o-2", queue="orders")) == {"batchItemFailures": []}
    assert client.get("/orders").json() == ["o-1", "o-2"]
    assert client.invoke(schedule_event("compact")) == {"ran": "compact"}


def test_partial_failures_pass_through_unchanged(client: LambdaClient) -> None:
    event = sqs_event("o-1", "bad-2", "o-3", queue="orders")
    failed = event["Records"][1]["messageId"]
    assert client.invoke(event) == {"batchItemFailures": [{"itemIdentifier": failed}]}
    assert client.get("/orders").json() == ["o-1", "o-3"]


def test_an_unregistered_kind_is_refused_naming_it(client: LambdaClient) -> None:
    with pytest.raises(UnsupportedEventError, match=r"a sns event.*only for sqs, schedule"):
        client.invoke(sns_event("hi"))
    assert SEEN == []


def test_without_events_an_app_still_refuses_non_http_events() -> None:
    with pytest.raises(UnsupportedEventError, match=r"events=\{'sqs': handle"):
        LambdaClient(aws.handler(APP)).invoke(sqs_event("x"))


def test_one_handler_receives_every_non_http_event() -> None:
    got: list[Any] = []
    client = LambdaClient(aws.handler(APP, events=lambda event, context: got.append(event)))
    custom = {"action": "reindex"}
    client.invoke(custom)
    client.invoke(s3_event("in/a.csv"))
    assert got[0] == custom and got[1]["Records"][0]["eventSource"] == "aws:s3"


def test_handlers_named_by_import_string_load_on_first_event(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "late_events.py").write_text(
        "def handle(event, context):\n    return {'records': len(event['Records'])}\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        client = LambdaClient(aws.handler(APP, events={"kinesis": "late_events:handle"}))
        assert client.get("/orders").status == 200
        assert "late_events" not in sys.modules
        assert client.invoke(kinesis_event("a", "b")) == {"records": 2}
    finally:
        sys.modules.pop("late_events", None)


@pytest.mark.parametrize(
    ("events_arg", "message"),
    [
        ({"queue": on_orders}, "unknown event kind 'queue'; kinds are sqs, sns"),
        ({}, "empty mapping"),
        ({"sqs": 3}, r"events\['sqs'\] must be a handler"),
        (42, "not int"),
    ],
)
def test_bad_registrations_fail_when_the_handler_is_built(events_arg: Any, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        aws.handler(APP, events=events_arg)


def test_every_kind_is_recognised() -> None:
    samples = {
        "sqs": sqs_event("a"),
        "sns": sns_event("a"),
        "s3": s3_event("k"),
        "kinesis": kinesis_event("a"),
        "dynamodb": dynamodb_event({"id": "1"}),
        "schedule": schedule_event(),
        "eventbridge": eventbridge_event({"id": 1}),
        "websocket": recorded("apiGatewayWebSocketApiMessage"),
    }
    assert tuple(samples) == KINDS
    assert {kind: event_kind(event) for kind, event in samples.items()} == {k: k for k in KINDS}
    assert event_kind({"Records": []}) is None and event_kind([1]) is None
