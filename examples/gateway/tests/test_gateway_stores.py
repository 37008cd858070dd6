"""The same app against every store it can run on, chosen by one URL: SQLite, and the real
Redis and PostgreSQL servers the state tests start on loopback. Rate limits, the throttle,
sessions and the readiness check keep their state there."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from api_gateway.main import create_app
from api_gateway.settings import Settings
from gateway_support import Token

from faasport import aws, state
from faasport.testing import LambdaClient

STORES = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("redis", marks=pytest.mark.redis, id="redis"),
    pytest.param("postgres", marks=pytest.mark.postgres, id="postgres"),
]


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/gateway.db"
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url


def test_policies_keep_their_state_in_the_store(
    settings: Settings, store_url: str, token: Token
) -> None:
    # A subject of its own per store: Redis and PostgreSQL outlive one test.
    subject = f"client-{store_url.split(':')[0]}-{id(settings)}"
    configured = replace(settings, state_url=store_url, client_rate=2)
    auth = {"authorization": f"Bearer {token(subject)}"}
    first = LambdaClient(aws.handler(create_app(configured))).get("/users/1", headers=auth)
    assert first.status == 200
    cookie = first.cookies[0].split(";", 1)[0]
    # Another execution environment (a fresh app) sees the same counters and session.
    other = LambdaClient(aws.handler(create_app(configured)))
    second = other.get("/session", headers={**auth, "cookie": cookie})
    assert second.json() == {"requests": 1, "last_service": "users"}
    assert other.get("/users/1", headers=auth).status == 429
    assert other.get("/health/ready").json()["checks"]["store"] == "ok"
    with state.open(store_url) as store:
        assert store.get("api-gateway:ready") is not None
