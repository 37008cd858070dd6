"""Idempotent requests through the middleware: a repeat is answered from the store, a
concurrent repeat gets 409, failures release the key."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from faasport import aws, gateway, state
from faasport.core.errors import ConfigError
from faasport.gateway.idempotency import DEADLINE_MARGIN
from faasport.gateway.request import Policy, StreamedBody
from faasport.testing import HttpClient, LambdaClient, LambdaContext, event


class Orders:
    """An ASGI app that creates an order per call (so a second run shows) and fails on
    ``/fail``."""

    def __init__(self) -> None:
        self.created = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = (await receive()).get("body", b"")
        if scope["path"].endswith("/fail"):
            await send({"type": "http.response.start", "status": 503, "headers": []})
            await send({"type": "http.response.body", "body": b"down"})
            return
        self.created += 1
        answer = json.dumps({"order": self.created, "body": body.decode()}).encode()
        headers = [(b"content-type", b"application/json"), (b"x-order", b"%d" % self.created)]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


@pytest.fixture
def store(tmp_path: Path) -> state.Store:
    return state.open(f"sqlite:///{tmp_path}/state.db")


@pytest.mark.parametrize("entry", ["function-url", "gcp", "azure"])
def test_a_repeat_gets_the_stored_response(
    entry: str, store: state.Store, make_client: Callable[..., HttpClient]
) -> None:
    orders = Orders()
    client = make_client(entry, [gateway.Idempotency(store)], asgi_app=orders)
    key = {"idempotency-key": "order-7"}
    first = client.post("/orders", headers=key, body="two apples")
    repeat = client.post("/orders", headers=key, body="two apples")
    assert first.status == repeat.status == 201
    assert first.json() == repeat.json() == {"order": 1, "body": "two apples"}
    assert repeat.header("x-order") == "1"
    assert repeat.header("idempotency-replayed") == "true"
    assert first.header("idempotency-replayed") is None
    assert orders.created == 1
    # Another key, another path or no key at all: the app runs.
    assert client.post("/orders", headers={"idempotency-key": "order-8"}).json()["order"] == 2
    assert client.post("/other", headers=key).json()["order"] == 3
    assert client.post("/orders").json()["order"] == 4
    # Reads are not idempotency-tracked.
    assert client.get("/orders", headers=key).json()["order"] == 5


def test_payload_hash_identifies_requests_without_a_key(
    store: state.Store, make_client: Callable[..., HttpClient]
) -> None:
    orders = Orders()
    policy = gateway.Idempotency(store, payload_hash=True)
    client = make_client("function-url", [policy], asgi_app=orders)
    assert client.post("/orders", body="a").json()["order"] == 1
    assert client.post("/orders", body="a").json()["order"] == 1
    assert client.post("/orders", body="b").json()["order"] == 2
    assert client.post("/orders", body="a", query={"x": "1"}).json()["order"] == 3


def test_a_key_is_the_callers_own_and_holds_one_request(
    store: state.Store, issuer: Any, make_client: Callable[..., HttpClient]
) -> None:
    """Two callers choosing the same key each get their own order, never the other's; one
    caller reusing a key for another body gets 422 (the IETF Idempotency-Key draft)."""
    orders = Orders()
    authorizer = gateway.JwtAuthorizer(
        issuer=issuer.name, audience=issuer.audience, jwks=str(issuer.jwks)
    )
    client = make_client("function-url", [authorizer, gateway.Idempotency(store)], orders)

    def post(sub: str, body: str) -> Any:
        headers = {"idempotency-key": "k", "authorization": f"Bearer {issuer.token(sub=sub)}"}
        return client.post("/orders", headers=headers, body=body)

    assert post("ada", "apples").json() == {"order": 1, "body": "apples"}
    assert post("bob", "apples").json() == {"order": 2, "body": "apples"}
    again = post("ada", "apples")
    assert (again.json()["order"], again.header("idempotency-replayed")) == (1, "true")
    other = post("ada", "pears")
    assert (other.status, other.json()) == (
        422,
        {"message": "Unprocessable: this idempotency key was used with another request"},
    )
    # Without an authorizer, the credential the caller sent tells them apart.
    plain = make_client("function-url", [gateway.Idempotency(store)], orders)
    first = plain.post("/x", headers={"idempotency-key": "k", "x-api-key": "one"}).json()
    second = plain.post("/x", headers={"idempotency-key": "k", "x-api-key": "two"}).json()
    assert first["order"] != second["order"]
    assert orders.created == 4


def test_failures_release_the_key(
    store: state.Store, make_client: Callable[..., HttpClient]
) -> None:
    orders = Orders()
    client = make_client("function-url", [gateway.Idempotency(store)], asgi_app=orders)
    key = {"idempotency-key": "k"}
    assert client.post("/fail", headers=key).status == 503
    assert client.post("/fail", headers=key).status == 503
    assert (
        store.begin(
            gateway.Idempotency(store).key(gateway.Request("POST", "/fail", key)) or "", ttl=1
        ).status
        == state.STARTED
    )


def test_a_concurrent_repeat_gets_409(store: state.Store) -> None:
    """Two clients at once against a threaded WSGI server: the repeat that arrives while the
    first request is inside the app gets 409 without reaching it."""
    import httpx
    from werkzeug.serving import make_server

    entered, release = threading.Event(), threading.Event()
    created: list[int] = []

    def slow(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        entered.set()
        release.wait(10)
        created.append(1)
        start_response("201 Created", [("content-type", "application/json")])
        return [json.dumps({"order": len(created)}).encode()]

    app = gateway.wsgi(slow, gateway.Idempotency(store, in_flight=30))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/orders"
    key = {"idempotency-key": "slow"}
    results: list[httpx.Response] = []
    try:
        first = threading.Thread(target=lambda: results.append(httpx.post(url, headers=key)))
        first.start()
        assert entered.wait(10)
        try:
            conflict = httpx.post(url, headers=key)
        finally:
            release.set()
        first.join(10)
        assert conflict.status_code == 409
        assert conflict.json() == {"message": "Conflict: a request with this key is in progress"}
        assert results[0].status_code == 201
        repeat = httpx.post(url, headers=key)
        assert (repeat.status_code, repeat.json()) == (201, {"order": 1})
        assert repeat.headers["idempotency-replayed"] == "true"
        assert len(created) == 1
    finally:
        server.shutdown()
        server.server_close()


def test_a_streamed_response_is_stored_once_its_stream_ended_whole(store: state.Store) -> None:
    """A server that streams the body after the policies finish (``faasport dev``) hands the
    body over later: until then a repeat gets 409; a whole body is stored and replayed; a
    stream that ended otherwise releases the key."""
    policy = gateway.Idempotency(store)

    def first(key: str) -> tuple[gateway.Request, gateway.Response]:
        request = gateway.Request("POST", "/feed", {"idempotency-key": key})
        assert policy.check(request) is None
        later = StreamedBody(limit=1024)
        response = gateway.Response(200, [("content-type", "text/plain")], b"", later)
        policy.finish(request, response)
        assert later.wanted
        return request, response

    _, response = first("whole")
    repeat = gateway.Request("POST", "/feed", {"idempotency-key": "whole"})
    assert getattr(policy.check(repeat), "status", None) == 409
    assert response.streamed is not None
    response.streamed.end(b"every chunk")
    replay = policy.check(repeat)
    assert replay is not None
    assert (replay.status, replay.body) == (200, b"every chunk")
    assert replay.header("content-type") == "text/plain"

    _, response = first("cut")
    assert response.streamed is not None
    response.streamed.end(None)
    assert policy.check(gateway.Request("POST", "/feed", {"idempotency-key": "cut"})) is None


@pytest.mark.parametrize("setting", ["ttl", "in_flight"])
@pytest.mark.parametrize("seconds", [0, -1, float("nan"), float("inf")])
def test_times_must_be_positive_seconds(setting: str, seconds: float) -> None:
    with pytest.raises(ConfigError, match=f"idempotency.{setting} must be a positive number"):
        gateway.Idempotency("memory://", **{setting: seconds})


def test_a_first_request_holds_its_key_until_its_invocations_deadline() -> None:
    """Without ``in_flight`` a first request's claim lasts as long as its invocation may
    run (Lambda tells the deadline), not a fixed minute: a repeat after that runs again,
    one before it is a 409. Where no deadline is known, 60 s."""
    with state.open("memory://") as store:
        policy = gateway.Idempotency(store)

        def request(key: str, deadline: float | None) -> gateway.Request:
            made = gateway.Request("POST", "/pay", {"idempotency-key": key})
            if deadline is not None:
                made.context["deadline"] = deadline
            return made

        soon = time.time() + 0.2
        assert policy.check(request("a", soon)) is None
        assert policy.check(request("b", None)) is None
        assert getattr(policy.check(request("a", soon)), "status", None) == 409
        time.sleep(0.2 + DEADLINE_MARGIN + 0.3)
        assert policy.check(request("a", time.time() + 30)) is None  # the claim lapsed
        assert getattr(policy.check(request("b", None)), "status", None) == 409


class Deadline(Policy):
    """Records the deadline the policies were told."""

    def __init__(self) -> None:
        self.seen: list[object] = []

    def check(self, request: gateway.Request) -> gateway.Response | None:
        self.seen.append(request.context.get("deadline"))
        return None


def test_the_lambda_deadline_reaches_the_policies_on_every_entry() -> None:
    async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        return [b"ok"]

    recorder = Deadline()
    handlers = [
        aws.handler(asgi_app, policies=gateway.policies(recorder), lifespan="off"),
        aws.handler(gateway.asgi(asgi_app, recorder), lifespan="off"),
        aws.handler(gateway.wsgi(wsgi_app, recorder)),
    ]
    for handler in handlers:
        before = time.time()
        handler(event("apigw-v2", "POST", "/pay"), LambdaContext(timeout_seconds=120))
        deadline = recorder.seen.pop()
        assert isinstance(deadline, float) and 119 < deadline - before <= 120.5


def test_a_response_stored_in_parts_is_replayed_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A store whose records hold less than the response: it is stored in parts; a replay
    that finds one gone (evicted) runs the request again, as if the record were lost."""
    with state.open(f"sqlite:///{tmp_path}/state.db") as store:
        store.max_value = 64
        orders = Orders()
        policies = gateway.policies(gateway.Idempotency(store))
        client = LambdaClient(aws.handler(orders, policies=policies))
        key = {"idempotency-key": "order-9"}
        first = client.post("/orders", headers=key, body="apples " * 20)
        repeat = client.post("/orders", headers=key, body="apples " * 20)
        assert first.status == repeat.status == 201
        assert first.json() == repeat.json() == {"order": 1, "body": "apples " * 20}
        assert repeat.header("idempotency-replayed") == "true"
        assert orders.created == 1
        with sqlite3.connect(tmp_path / "state.db") as db:
            parts = [k for (k,) in db.execute("SELECT key FROM faasport_state") if ":part:" in k]
            assert len(parts) > 3
            db.execute("DELETE FROM faasport_state WHERE key = ?", (sorted(parts)[1],))
        again = client.post("/orders", headers=key, body="apples " * 20)
        assert again.json() == {"order": 2, "body": "apples " * 20}
        assert again.header("idempotency-replayed") is None
        assert "lost a part" in capsys.readouterr().out
        replayed = client.post("/orders", headers=key, body="apples " * 20)
        assert replayed.json()["order"] == 2 and orders.created == 2
