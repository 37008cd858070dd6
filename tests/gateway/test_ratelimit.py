"""Throttling and per-client rate limits through the middleware."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from faasport import gateway, state
from faasport.core.errors import ConfigError
from faasport.gateway.request import Policy
from faasport.testing import HttpClient


@pytest.fixture
def store(tmp_path: Path) -> state.Store:
    return state.open(f"sqlite:///{tmp_path}/state.db")


def test_throttle_admits_the_burst_then_429(
    entry: str, store: state.Store, make_client: Callable[..., HttpClient]
) -> None:
    client = make_client(entry, [gateway.Throttle(store, rate=0.5, burst=3, name=entry)])
    assert [client.get("/items").status for _ in range(3)] == [200, 200, 200]
    throttled = client.get("/items")
    assert throttled.status == 429
    assert throttled.json() == {"message": "Too Many Requests"}
    assert throttled.header("retry-after") == "2"


def test_rate_limit_per_client_ip_with_headers(
    entry: str, store: state.Store, make_client: Callable[..., HttpClient]
) -> None:
    client = make_client(entry, [gateway.RateLimit(store, rate=2, per="hour", name=entry)])
    first = client.get("/items", source_ip="198.51.100.1")
    assert first.status == 200
    assert (first.header("ratelimit-limit"), first.header("ratelimit-remaining")) == ("2", "1")
    assert 0 < int(first.header("ratelimit-reset") or 0) <= 7200
    assert client.get("/items", source_ip="198.51.100.1").status == 200
    limited = client.get("/items", source_ip="198.51.100.1")
    assert limited.status == 429
    assert limited.header("ratelimit-remaining") == "0"
    assert int(limited.header("retry-after") or 0) >= 1
    # Another client has its own quota.
    other = client.get("/items", source_ip="198.51.100.2")
    assert (other.status, other.header("ratelimit-remaining")) == (200, "1")


def test_rate_limit_by_api_key_and_by_subject(
    issuer: Any, store: state.Store, make_client: Callable[..., HttpClient]
) -> None:
    class Verified(Policy):
        """What ApiKeys (or a REST API's usage plan) leaves for the keys it knows."""

        def check(self, request: gateway.Request) -> gateway.Response | None:
            key = request.headers.get("x-api-key")
            if key in ("k1", "k2"):
                request.context["api_key"] = {"apiKey": key, "apiKeyId": key}
            return None

    limit = gateway.RateLimit(store, rate=1, by="api_key")
    by_key = make_client("function-url", [Verified(), limit])
    assert by_key.get("/", headers={"x-api-key": "k1"}).status == 200
    assert by_key.get("/", headers={"x-api-key": "k1"}).status == 429
    assert by_key.get("/", headers={"x-api-key": "k2"}).status == 200
    # Keys nobody verified are whatever the client made up: they count by its address,
    # so a new key per request escapes nothing.
    assert by_key.get("/", headers={"x-api-key": "made-up-1"}).status == 200
    assert by_key.get("/", headers={"x-api-key": "made-up-2"}).status == 429
    # The store never sees the key itself.
    assert store.get("k1") is None

    authorizer = gateway.JwtAuthorizer(
        issuer=issuer.name, audience=issuer.audience, jwks=str(issuer.jwks)
    )
    limit = gateway.RateLimit(store, rate=1, by="sub", name="sub")
    by_sub = make_client("gcp", [authorizer, limit])
    alice = {"authorization": f"Bearer {issuer.token(sub='alice')}"}
    bob = {"authorization": f"Bearer {issuer.token(sub='bob')}"}
    # The same address, two subjects: counted apart.
    assert by_sub.get("/", headers=alice).status == 200
    assert by_sub.get("/", headers=bob).status == 200
    assert by_sub.get("/", headers=alice).status == 429
    # A subject longer than a store key holds is counted by its hash, not refused.
    long = {"authorization": f"Bearer {issuer.token(sub='é' * 2000)}"}
    assert by_sub.get("/", headers=long).status == 200
    assert by_sub.get("/", headers=long).status == 429


def test_a_url_opens_the_store_on_first_use(
    tmp_path: Path, make_client: Callable[..., HttpClient]
) -> None:
    url = f"sqlite:///{tmp_path}/lazy/state.db"
    policy = gateway.Throttle(url, rate=1, burst=1, name=uuid.uuid4().hex)
    assert not (tmp_path / "lazy").exists()
    client = make_client("function-url", [policy])
    assert [client.get("/").status for _ in range(2)] == [200, 429]
    assert (tmp_path / "lazy" / "state.db").exists()


def test_bad_settings_are_config_errors(store: state.Store) -> None:
    with pytest.raises(ConfigError, match=r"rate_limit\.by must be one of ip, sub, api_key"):
        gateway.RateLimit(store, rate=1, by="cookie")
    with pytest.raises(ConfigError, match=r"rate_limit\.per"):
        gateway.RateLimit(store, rate=1, per="fortnight")
    with pytest.raises(ConfigError, match="throttle: need rate > 0"):
        gateway.Throttle(store, rate=0, burst=1)
