"""The gateway through faasport.testing's LambdaClient (API Gateway HTTP API events through
faasport's AWS entry point), in front of real upstream HTTP servers."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest
from api_gateway.main import create_app
from api_gateway.settings import Settings, SettingsError
from cryptography.hazmat.primitives.asymmetric import rsa
from gateway_support import SERVICES, Token, Upstream

from faasport import aws
from faasport.testing import LambdaClient

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def client(settings: Settings) -> LambdaClient:
    return LambdaClient(aws.handler(create_app(settings)))


def bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


@pytest.mark.parametrize("service", SERVICES)
def test_each_prefix_reaches_its_upstream(
    settings: Settings, fresh: dict[str, Upstream], token: Token, service: str
) -> None:
    answer = client(settings).post(
        f"/{service}/42/items",
        query={"page": "2"},
        body=b'{"qty": 1}',
        headers={**bearer(token()), "content-type": "application/json"},
    )
    assert answer.status == 201
    seen = answer.json()
    assert seen["service"] == service
    assert (seen["method"], seen["target"], seen["body"]) == (
        "POST",
        "/42/items?page=2",
        '{"qty": 1}',
    )
    assert answer.header("x-upstream") == service
    assert [len(u.seen) for u in fresh.values()].count(1) == 1


def test_bare_prefix_and_unknown_service(settings: Settings, token: Token) -> None:
    gateway = client(settings)
    assert gateway.get("/orders", headers=bearer(token())).json()["target"] == "/"
    unknown = gateway.get("/payments/1", headers=bearer(token()))
    assert unknown.status == 404
    assert unknown.json()["message"] == "Not Found"


def test_credentials_stay_at_the_gateway(
    settings: Settings, fresh: dict[str, Upstream], token: Token
) -> None:
    headers = {**bearer(token("ada")), "cookie": "theme=dark", "x-custom": "kept"}
    headers.update(connection="keep-alive, x-private", **{"x-private": "hop"})
    client(settings).get("/users/me", headers=headers)
    got = fresh["users"].seen[0]["headers"]
    assert "authorization" not in got and "cookie" not in got and "x-private" not in got
    assert got["x-custom"] == "kept"
    assert got["x-authenticated-subject"] == "ada"
    assert got["host"] == fresh["users"].url.removeprefix("http://")


def test_hop_by_hop_headers_of_the_upstream_stay_there(settings: Settings, token: Token) -> None:
    answer = client(settings).get("/users/1", headers=bearer(token()))
    assert answer.header("x-hop") is None
    assert answer.header("connection") is None


def test_request_id_and_trace_go_upstream(
    settings: Settings, fresh: dict[str, Upstream], token: Token
) -> None:
    answer = client(settings).get(
        "/products/7",
        headers={**bearer(token()), "x-request-id": "req-abc.1", "traceparent": TRACEPARENT},
    )
    got = fresh["products"].seen[0]["headers"]
    assert got["x-request-id"] == "req-abc.1" == answer.header("x-request-id")
    version, trace_id, span, flags = got["traceparent"].split("-")
    assert (version, trace_id, flags) == ("00", "4bf92f3577b34da6a3ce929d0e0e4736", "01")
    assert span != "00f067aa0ba902b7" and re.fullmatch("[0-9a-f]{16}", span)
    assert got["x-amzn-trace-id"] == (
        f"Root=1-4bf92f35-77b34da6a3ce929d0e0e4736;Parent={span};Sampled=1"
    )


def test_without_ids_the_gateway_makes_them(
    settings: Settings, fresh: dict[str, Upstream], token: Token
) -> None:
    gateway = client(settings)
    first = gateway.get("/orders/1", headers={**bearer(token()), "x-request-id": "bad id!"})
    gateway.get("/orders/2", headers=bearer(token()))
    one, two = (record["headers"] for record in fresh["orders"].seen)
    # Not the caller's malformed id: the invocation's own (a UUID, Lambda's request id).
    assert one["x-request-id"] == first.header("x-request-id")
    assert re.fullmatch(r"[0-9a-f-]{36}", one["x-request-id"])
    assert one["x-request-id"] != two["x-request-id"]
    for got in (one, two):
        assert re.fullmatch(r"00-[0-9a-f]{32}-[0-9a-f]{16}-01", got["traceparent"])
    assert one["traceparent"].split("-")[1] != two["traceparent"].split("-")[1]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": "Bearer not-a-token"},
        {"authorization": "Basic YWxpY2U6c2VjcmV0"},
    ],
    ids=["none", "garbage", "basic"],
)
def test_no_valid_token_is_401_before_any_upstream(
    settings: Settings, fresh: dict[str, Upstream], headers: dict[str, str]
) -> None:
    answer = client(settings).get("/users/1", headers=headers)
    assert (answer.status, answer.json()) == (401, {"message": "Unauthorized"})
    assert all(not upstream.seen for upstream in fresh.values())


def test_expired_wrong_audience_and_foreign_key_are_401(
    settings: Settings, fresh: dict[str, Upstream], token: Token
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    for bad in (token(lifetime=-60), token(aud="someone-else"), token(key=other)):
        assert client(settings).get("/users/1", headers=bearer(bad)).status == 401
    assert not fresh["users"].seen


def test_rate_limit_is_per_client(
    settings: Settings, fresh: dict[str, Upstream], token: Token
) -> None:
    gateway = client(replace(settings, client_rate=3))
    alice, bob = bearer(token("alice")), bearer(token("bob"))
    answers = [gateway.get("/users/1", headers=alice) for _ in range(4)]
    assert [a.status for a in answers] == [200, 200, 200, 429]
    assert [a.header("ratelimit-remaining") for a in answers[:3]] == ["2", "1", "0"]
    assert answers[3].json() == {"message": "Too Many Requests"}
    assert int(answers[3].header("retry-after") or 0) >= 1
    assert gateway.get("/users/1", headers=bob).status == 200
    assert len(fresh["users"].seen) == 4


def test_throttle_is_shared_by_every_client(settings: Settings, token: Token) -> None:
    gateway = client(replace(settings, throttle_rate=0.01, throttle_burst=2))
    statuses = [gateway.get("/users/1", headers=bearer(token(f"u{i}"))).status for i in range(3)]
    assert statuses == [200, 200, 429]


def test_cors_preflight_needs_no_token(settings: Settings, fresh: dict[str, Upstream]) -> None:
    gateway = client(settings)
    preflight = {"access-control-request-method": "POST"}
    allowed = gateway.request(
        "OPTIONS", "/orders/1", headers={"origin": "https://app.example.com", **preflight}
    )
    assert allowed.status == 204
    assert allowed.header("access-control-allow-origin") == "https://app.example.com"
    assert allowed.header("access-control-allow-credentials") == "true"
    other = gateway.request(
        "OPTIONS", "/orders/1", headers={"origin": "https://evil.test", **preflight}
    )
    assert other.header("access-control-allow-origin") is None
    assert not fresh["orders"].seen


def test_cors_headers_on_a_401(settings: Settings) -> None:
    answer = client(settings).get("/orders/1", headers={"origin": "https://app.example.com"})
    assert answer.status == 401
    assert answer.header("access-control-allow-origin") == "https://app.example.com"


def _cookie(answer: Any) -> str:
    (cookie,) = answer.cookies
    return str(cookie).split(";", 1)[0]


def test_session_follows_the_client(settings: Settings, token: Token) -> None:
    gateway = client(settings)
    auth = bearer(token())
    first = gateway.get("/users/1", headers=auth)
    cookie = _cookie(first)
    assert "HttpOnly" in first.cookies[0]
    gateway.get("/orders/1", headers={**auth, "cookie": cookie})
    session = gateway.get("/session", headers={**auth, "cookie": cookie})
    assert session.json() == {"requests": 2, "last_service": "orders"}
    name, _, value = cookie.partition("=")
    forged = f"{name}={value[:-2]}{'AA' if not value.endswith('AA') else 'BB'}"
    assert gateway.get("/session", headers={**auth, "cookie": forged}).json() == {}
    assert gateway.request("DELETE", "/session", headers={**auth, "cookie": cookie}).status == 204
    assert gateway.get("/session", headers={**auth, "cookie": cookie}).json() == {}


def test_upstream_timeout_is_504(settings: Settings, token: Token) -> None:
    answer = client(settings).get("/products/slow", headers=bearer(token()))
    assert answer.status == 504
    body = answer.json()
    assert (body["message"], body["upstream"]) == ("Upstream timed out", "products")
    assert body["requestId"] == answer.header("x-request-id")


def test_unreachable_upstream_is_502(settings: Settings, token: Token, dead_url: str) -> None:
    broken = replace(settings, upstreams={**settings.upstreams, "orders": dead_url})
    answer = client(broken).get("/orders/1", headers=bearer(token()))
    assert answer.status == 502
    assert answer.header("content-type") == "application/json"
    assert answer.json()["message"] == "Upstream unreachable"
    assert answer.json()["upstream"] == "orders"


def test_live_needs_nothing(settings: Settings, dead_url: str) -> None:
    broken = replace(settings, state_url="redis://127.0.0.1:1/0", upstreams={"users": dead_url})
    answer = client(broken).get("/health/live")
    assert (answer.status, answer.json()) == (200, {"status": "live"})


def test_ready_checks_store_and_upstreams(settings: Settings, fresh: dict[str, Upstream]) -> None:
    gateway = client(settings)
    ready = gateway.get("/health/ready")
    assert ready.status == 200
    assert ready.json() == {
        "status": "ready",
        "checks": {"store": "ok", **{f"upstream:{s}": "ok" for s in sorted(SERVICES)}},
    }
    fresh["products"].healthy[0] = False
    answer = gateway.get("/health/ready")
    assert answer.status == 503
    assert answer.json()["checks"]["upstream:products"] == "status 503"
    assert answer.json()["checks"]["upstream:users"] == "ok"


def test_ready_names_a_dead_upstream_and_store(settings: Settings, dead_url: str) -> None:
    broken = replace(
        settings,
        state_url="redis://127.0.0.1:1/0",
        upstreams={**settings.upstreams, "orders": dead_url},
    )
    answer = client(broken).get("/health/ready")
    assert answer.status == 503
    checks = answer.json()["checks"]
    assert (checks["store"], checks["upstream:orders"]) == ("failed", "unreachable")
    assert "127.0.0.1:1" not in answer.text


def test_settings_from_the_environment() -> None:
    env = {
        "UPSTREAM_USERS": "http://127.0.0.1:9001/",
        "UPSTREAM_ORDER_HISTORY": "https://orders.internal/v2",
        "UPSTREAM_TIMEOUT": "2.5",
        "FAASPORT_STATE_URL": "redis://127.0.0.1:6379/0",
        "FAASPORT_SECRET_GATEWAY_SESSION": "x" * 32,
        "JWT_ISSUER": ISSUER_ENV,
        "JWT_AUDIENCE": "a,b",
    }
    settings = Settings.from_env(env)
    assert settings.upstreams == {
        "order-history": "https://orders.internal/v2",
        "users": "http://127.0.0.1:9001",
    }
    assert (settings.timeout, settings.jwt_audience) == (2.5, ("a", "b"))
    assert settings.session_secret == "x" * 32


ISSUER_ENV = "https://issuer.test/"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("UPSTREAM_USERS", "ftp://x", "UPSTREAM_USERS must be an http(s) URL, got 'ftp://x'"),
        ("UPSTREAM_TIMEOUT", "soon", "UPSTREAM_TIMEOUT must be a number, got 'soon'"),
        ("UPSTREAM_TIMEOUT", "0", "UPSTREAM_TIMEOUT must be positive, got '0'"),
        ("FAASPORT_STATE_URL", "", "FAASPORT_STATE_URL is not set"),
    ],
)
def test_bad_settings_name_the_variable(key: str, value: str, message: str) -> None:
    env = {
        "FAASPORT_STATE_URL": "memory://",
        "FAASPORT_SECRET_GATEWAY_SESSION": "x" * 32,
        "JWT_ISSUER": ISSUER_ENV,
        "JWT_AUDIENCE": "gateway",
        key: value,
    }
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    assert str(raised.value) == message


def test_same_app_on_cloud_run(
    settings: Settings, fresh: dict[str, Upstream], token: Token
) -> None:
    from faasport import gcp
    from faasport.testing import GcpClient

    cloud_run = GcpClient(gcp.handler(create_app(settings)))
    assert cloud_run.get("/health/ready").status == 200
    answer = cloud_run.get("/users/5", headers=bearer(token("gcp-user")))
    assert answer.status == 200
    got = fresh["users"].seen[0]["headers"]
    assert got["x-authenticated-subject"] == "gcp-user"
    assert got["x-request-id"] == answer.header("x-request-id")
    assert cloud_run.get("/users/5").status == 401
