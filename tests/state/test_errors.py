"""The gateway's policies on a state store that fails: unreachable from the start, or
refusing writes once the app has answered. They fail closed with a 503 in API Gateway's
shape; the log names the policy and the store, never its password."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import redis

from faasport import aws, gateway, state
from faasport.gateway.pipeline import Pipeline
from faasport.gateway.request import Policy, StreamedBody
from faasport.testing import LambdaClient
from servers import free_port

SECRET = "s" * 32
ORIGIN = "https://app.example"


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Puts the caller in the session and answers 200."""
    session = gateway.session(scope)
    if session is not None:
        session["user"] = "ada"
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"paid"})


def client(*policies: Policy) -> LambdaClient:
    cors = gateway.Cors(origins=[ORIGIN])
    chosen = gateway.policies(cors, *policies)
    return LambdaClient(aws.handler(app, policies=chosen, lifespan="off"))


def post(policies: list[Policy]) -> Any:
    headers = {"idempotency-key": "k-1", "origin": ORIGIN}
    return client(*policies).post("/pay", body=b"{}", headers=headers)


def policies_on(url: str) -> list[list[Policy]]:
    return [
        [gateway.RateLimit(url, rate=5, per="second")],
        [gateway.Sessions(url, secret=SECRET, secure=False)],
        [gateway.Idempotency(url)],
    ]


def test_an_unreachable_store_is_a_503_and_a_log_line_without_the_password(
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"redis://:hunter2@127.0.0.1:{free_port()}/0"
    for chosen in policies_on(url):
        answer = post(chosen)
        assert (answer.status, answer.json()) == (503, {"message": "Service Unavailable"})
        assert answer.header("access-control-allow-origin") == ORIGIN  # Cors still finished
        logged = capsys.readouterr().out
        name = type(chosen[0]).__name__
        assert f"{name} for POST /pay: state store redis://:***@127.0.0.1" in logged
        assert "ConnectionError" in logged and "(answered 503)" in logged
        assert "hunter2" not in logged


@pytest.fixture
def read_only(redis_url: str) -> Iterator[str]:
    """The test Redis through a user that may read but not write."""
    admin = redis.Redis.from_url(redis_url)
    admin.acl_setuser(
        "reader", enabled=True, passwords=["+pw"], keys=["*"], commands=["+@read", "+@connection"]
    )
    try:
        yield redis_url.replace("redis://", "redis://reader:pw@")
    finally:
        admin.acl_deluser("reader")
        admin.close()


def test_a_session_that_cannot_be_saved_is_a_503_not_a_silent_200(
    read_only: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with state.open(read_only) as store:
        answer = post([gateway.Sessions(store, secret=SECRET, secure=False)])
    assert (answer.status, answer.json()) == (503, {"message": "Service Unavailable"})
    assert answer.cookies == []
    logged = capsys.readouterr().out
    assert "Sessions for POST /pay: state store redis://reader:***@127.0.0.1" in logged
    assert "NoPermissionError" in logged and "(answered 503)" in logged


def test_a_streamed_response_whose_head_is_out_goes_on(
    read_only: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Past the head nothing can change the status: the stream goes on, the log says what
    was not saved, and every other policy waiting for the end still hears of it."""
    with state.open(read_only) as store:
        pipeline = Pipeline([gateway.Sessions(store, secret=SECRET, secure=False)])
        request = gateway.Request("GET", "/feed", {})
        entered, answer = pipeline.enter(request)
        assert answer is None
        request.context["session"]["user"] = "ada"
        streamed = StreamedBody(limit=1024)
        response = pipeline.leave(entered, request, gateway.Response(200, [], b"", streamed))
        assert response.status == 200
        ended: list[bytes | None] = []
        streamed.on_end(ended.append)
        streamed.end(b"feed")
    assert ended == [b"feed"]
    logged = capsys.readouterr().out
    assert "NoPermissionError" in logged and "the streamed response goes on" in logged
    assert "a policy failed once a streamed response had ended" in logged


async def big(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers 500 KB: more than one DynamoDB item holds (400 KB)."""
    big.calls += 1  # type: ignore[attr-defined]
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"x" * 500_000})


def test_a_response_larger_than_an_item_is_replayed_from_parts(dynamodb_url: str) -> None:
    big.calls = 0  # type: ignore[attr-defined]
    with state.open(dynamodb_url) as store:
        chosen = gateway.policies(gateway.Idempotency(store))
        client = LambdaClient(aws.handler(big, policies=chosen, lifespan="off"))
        answers = [
            client.post("/pay", body=b"{}", headers={"idempotency-key": "k-parts"})
            for _ in range(2)
        ]
    assert [(a.status, a.body) for a in answers] == [(200, b"x" * 500_000)] * 2
    assert answers[1].header("idempotency-replayed") == "true"
    assert big.calls == 1  # type: ignore[attr-defined]


def test_a_response_the_store_refuses_still_reaches_the_client(
    dynamodb_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The work is done: a 503 would send the client to do it again. The response goes out,
    the key is released (a repeat runs again rather than waiting as "in progress"), and the
    log says so. (DynamoDB refuses the record here: the store is told it holds more than an
    item does.)"""
    big.calls = 0  # type: ignore[attr-defined]
    with state.open(dynamodb_url) as store:
        store.max_value = 1024 * 1024
        chosen = gateway.policies(gateway.Idempotency(store))
        client = LambdaClient(aws.handler(big, policies=chosen, lifespan="off"))
        for attempt in (1, 2):
            answer = client.post("/pay", body=b"{}", headers={"idempotency-key": "k-big"})
            assert (answer.status, len(answer.body)) == (200, 500_000)
            assert big.calls == attempt  # type: ignore[attr-defined]
    logged = capsys.readouterr().out
    assert "idempotency record not stored, a repeat will run again" in logged
