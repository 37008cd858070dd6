"""``policies=`` on the provider entry points: the gateway's policies around the canonical
request, for ASGI and WSGI apps alike, on AWS, Google Cloud and Azure."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from faasport import aws, azure, gateway, gcp
from faasport.gateway.request import Policy
from faasport.testing import AzureClient, GcpClient, HttpClient, LambdaClient


def client_for(entry: str, app: Any, policies: list[Policy], **options: Any) -> HttpClient:
    chosen = gateway.policies(*policies)
    if entry == "gcp":
        return GcpClient(gcp.handler(app, policies=chosen, **options))
    if entry == "azure":
        return AzureClient(azure.function_app(app, policies=chosen, **options))
    return LambdaClient(aws.handler(app, policies=chosen, **options), source=entry)


ENTRIES = ["apigw-v2", "apigw-v1", "gcp", "azure"]
APPS = ["asgi", "wsgi"]


def authorizer(issuer: Any) -> gateway.JwtAuthorizer:
    return gateway.JwtAuthorizer(
        issuer=issuer.name,
        audience=issuer.audience,
        jwks=str(issuer.jwks),
        scopes={"DELETE /items/{id}": ["items:admin"]},
    )


@pytest.mark.parametrize("kind", APPS)
@pytest.mark.parametrize("entry", ENTRIES)
def test_tokens_are_checked_and_claims_reach_the_app(
    issuer: Any, echo_apps: dict[str, Any], entry: str, kind: str
) -> None:
    client = client_for(entry, echo_apps[kind], [authorizer(issuer)], lifespan="off")
    missing = client.get("/items/1")
    assert (missing.status, missing.json()) == (401, {"message": "Unauthorized"})
    bearer = {"authorization": f"Bearer {issuer.token()}"}
    passed = client.get("/items/1", headers=bearer)
    assert passed.status == 200, passed.text
    assert passed.json()["authorizer"]["jwt"]["claims"]["sub"] == "user-1"
    assert passed.json()["path"].endswith("/items/1")  # ASGI paths keep the stage
    denied = client.request("DELETE", "/items/1", headers=bearer)
    assert (denied.status, denied.json()) == (403, {"message": "Forbidden"})


@pytest.mark.parametrize("kind", APPS)
@pytest.mark.parametrize("entry", ENTRIES)
def test_rate_limit_and_idempotency(echo_apps: dict[str, Any], entry: str, kind: str) -> None:
    store = "memory://"
    client = client_for(
        entry,
        echo_apps[kind],
        [gateway.RateLimit(store, rate=3, per="minute"), gateway.Idempotency(store)],
        lifespan="off",
    )
    key = {"idempotency-key": "k-1"}
    first = client.post("/orders", headers=key, body="one")
    again = client.post("/orders", headers=key, body="one")
    assert first.status == again.status == 200
    assert again.json() == first.json()
    assert again.header("idempotency-replayed") == "true"
    assert first.header("ratelimit-remaining") == "2"
    assert client.get("/orders").status == 200
    refused = client.get("/orders")
    assert refused.status == 429
    assert refused.json() == {"message": "Too Many Requests"}
    assert int(refused.header("retry-after") or 0) >= 1


@pytest.mark.parametrize("entry", ["gcp", "azure"])
def test_a_refused_request_does_not_import_the_app(issuer: Any, entry: str) -> None:
    client = client_for(entry, "no_such_module:app", [authorizer(issuer)])
    assert client.get("/items").status == 401
    # The first request that passes imports it (and fails to, here).
    assert client.get("/items", headers={"authorization": f"Bearer {issuer.token()}"}).status == 500


def test_health_checks_pass_without_a_token(issuer: Any, echo_apps: dict[str, Any]) -> None:
    client = client_for("gcp", echo_apps["asgi"], [authorizer(issuer)], health_path="/health")
    assert client.get("/health").status == 200
    assert client.get("/other").status == 401


def test_behind_api_gateway_a_rate_limit_by_subject_counts_its_verdict(
    echo_apps: dict[str, Any],
) -> None:
    """An HTTP API verified the token: the event's authorizer context is what counts."""
    from faasport.testing import event

    handler = aws.handler(
        echo_apps["asgi"],
        lifespan="off",
        policies=gateway.policies(gateway.RateLimit("memory://", rate=1, by="sub")),
    )
    client = LambdaClient(handler)

    def call(sub: str) -> int:
        request = event("apigw-v2", "GET", "/items")
        claims = {"claims": {"sub": sub}, "scopes": None}
        request["requestContext"]["authorizer"] = {"jwt": claims}
        status: int = client.invoke(request)["statusCode"]
        return status

    assert [call("ada"), call("ada"), call("bob")] == [200, 429, 200]


def test_an_app_failure_releases_the_idempotency_key(echo_apps: dict[str, Any]) -> None:
    failures = [True]
    echo_asgi = echo_apps["asgi"]

    async def flaky(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if failures.pop() if failures else False:
            raise RuntimeError("boom")
        await echo_asgi(scope, receive, send)

    client = client_for("apigw-v2", flaky, [gateway.Idempotency("memory://")], lifespan="off")
    key = {"idempotency-key": "k-2"}
    failed = client.post("/orders", headers=key, body="x")
    assert failed.status == 500
    assert "boom" not in failed.text
    retried = client.post("/orders", headers=key, body="x")
    assert retried.status == 200
    assert retried.header("idempotency-replayed") is None


class Sink:
    def __init__(self) -> None:
        self.parts: list[Any] = []
        self.headers: list[tuple[bytes, bytes]] = []

    @property
    def started(self) -> bool:
        return bool(self.parts)

    def start(self, status: int, headers: list[tuple[bytes, bytes]]) -> None:
        self.parts.append(status)
        self.headers = headers

    def write(self, chunk: bytes) -> None:
        self.parts.append(chunk)

    def end(self) -> None:
        self.parts.append(None)


def test_policies_answer_or_finish_a_streamed_response(
    issuer: Any, echo_apps: dict[str, Any]
) -> None:
    from faasport.core.options import AppOptions
    from faasport.core.runner import AppRunner
    from faasport.testing import http_request

    options = AppOptions(lifespan="off", policies=gateway.policies(authorizer(issuer)))
    runner = AppRunner(echo_apps["asgi"], options)
    refused, passed = Sink(), Sink()
    runner.stream(http_request("GET", "/items"), refused)
    headers = {"authorization": f"Bearer {issuer.token()}"}
    runner.stream(http_request("GET", "/items", headers=headers), passed)
    assert refused.parts[0] == 401 and refused.parts[-1] is None
    assert passed.parts[0] == 200 and len(passed.parts) == 3  # start, one body, end
    assert json.loads(passed.parts[1])["authorizer"]["jwt"]["claims"]["sub"] == "user-1"


def feed(sinks: list[Sink], seen: list[int], fail: bool = False) -> Any:
    """Streams two events; notes how much the client had got when the first was sent."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"data: 1\n\n", "more_body": True})
        seen.append(len(sinks[-1].parts))
        if fail:
            raise RuntimeError("the feed broke")
        await send({"type": "http.response.body", "body": b"data: 2\n\n", "more_body": True})
        await send({"type": "http.response.body", "body": b""})

    return app


class Stamp(Policy):
    def finish(self, request: Any, response: Any) -> None:
        response.headers.append(("x-stamp", "yes"))


@pytest.mark.parametrize("fail", [False, True], ids=["whole", "broken"])
def test_a_streamed_response_goes_on_behind_the_policies(fail: bool) -> None:
    """The policies finish the head (a header of theirs), the chunks go on as the app sends
    them, and idempotency stores the stream once it ended whole (a broken one not)."""
    from faasport.core.options import AppOptions
    from faasport.core.runner import AppRunner
    from faasport.testing import http_request

    sinks: list[Sink] = []
    seen: list[int] = []
    policies = gateway.policies(Stamp(), gateway.Idempotency("memory://"))
    runner = AppRunner(feed(sinks, seen, fail), AppOptions(lifespan="off", policies=policies))

    def post() -> Sink:
        sinks.append(Sink())
        request = http_request("POST", "/events", headers={"idempotency-key": "k"})
        if fail:
            with pytest.raises(RuntimeError, match="the feed broke"):
                runner.stream(request, sinks[-1])
        else:
            runner.stream(request, sinks[-1])
        return sinks[-1]

    first, repeat = post(), post()
    assert seen[0] == 2  # the head and the first event were out
    assert first.parts[0] == 200
    assert (b"x-stamp", b"yes") in first.headers
    if fail:
        assert first.parts[1:] == [b"data: 1\n\n"]
        assert len(seen) == 2  # the key was released: the repeat ran again
        return
    assert first.parts[1:] == [b"data: 1\n\n", b"data: 2\n\n", None]
    assert len(seen) == 1  # replayed
    assert repeat.parts[0] == 200
    assert (b"idempotency-replayed", b"true") in repeat.headers
    assert b"".join(p for p in repeat.parts[1:] if p) == b"data: 1\n\ndata: 2\n\n"


@pytest.mark.parametrize(
    ("configured", "variable", "expected"),
    [
        ("redis://cache:6379/0", None, "redis://cache:6379/0"),
        ("redis://cache:6379/0", "postgresql://db/app", "postgresql://db/app"),
        ("sqlite:////var/state.db", None, "sqlite:////var/state.db"),
        ("sqlite:///:memory:", None, "sqlite:///:memory:"),
    ],
)
def test_store_url(
    monkeypatch: pytest.MonkeyPatch, configured: str, variable: str | None, expected: str
) -> None:
    if variable is None:
        monkeypatch.delenv("FAASPORT_STATE_URL", raising=False)
    else:
        monkeypatch.setenv("FAASPORT_STATE_URL", variable)
    assert gateway.store_url(configured) == expected


def test_a_relative_sqlite_store_goes_under_the_temporary_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("FAASPORT_STATE_URL", raising=False)
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    url = gateway.store_url("sqlite:///.faasport/state.db")
    assert url == f"sqlite:///{tmp_path}/faasport/.faasport/state.db"
    throttle = gateway.Throttle(url, rate=1, burst=1)
    assert throttle.check(gateway.Request("GET", "/", {})) is None
    assert os.path.isfile(tmp_path / "faasport" / ".faasport" / "state.db")
