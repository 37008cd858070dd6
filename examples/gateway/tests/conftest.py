"""The gateway example's fixtures: a signing key and its JWKS made here, tokens, real
upstream HTTP servers that record what reached them, and the app built for given settings.
Redis and PostgreSQL come from the state tests' fixtures (servers started on loopback)."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

EXAMPLE = Path(__file__).resolve().parents[1]
for folder in (EXAMPLE, EXAMPLE / "tests"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from api_gateway.settings import Settings  # noqa: E402
from gateway_support import AUDIENCE, ISSUER, SERVICES, Token, Upstream  # noqa: E402

from servers import free_port  # noqa: E402
from state.conftest import postgres_server, postgres_url, redis_url  # noqa: E402


@pytest.fixture(scope="session")
def upstreams() -> Iterator[dict[str, Upstream]]:
    started = {service: Upstream(service) for service in SERVICES}
    yield started
    for upstream in started.values():
        upstream.close()


@pytest.fixture
def fresh(upstreams: dict[str, Upstream]) -> dict[str, Upstream]:
    """The upstreams with nothing recorded yet and healthy."""
    for upstream in upstreams.values():
        upstream.seen.clear()
        upstream.healthy[0] = True
    return upstreams


@pytest.fixture(scope="session")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def jwks_file(tmp_path_factory: pytest.TempPathFactory, signing_key: rsa.RSAPrivateKey) -> Path:
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    path = tmp_path_factory.mktemp("jwks") / "jwks.json"
    path.write_text(json.dumps({"keys": [{**public, "kid": "test-key"}]}))
    return path


@pytest.fixture(scope="session")
def token(signing_key: rsa.RSAPrivateKey) -> Token:
    def make(subject: str = "alice", *, key: Any = None, lifetime: int = 300, **claims: Any) -> str:
        now = int(time.time())
        body = {"iss": ISSUER, "aud": AUDIENCE, "sub": subject, "iat": now, "exp": now + lifetime}
        return jwt.encode(
            {**body, **claims},
            key or signing_key,
            algorithm="RS256",
            headers={"kid": "test-key"},
        )

    return make


@pytest.fixture
def dead_url() -> str:
    """A loopback port nothing listens on."""
    return f"http://127.0.0.1:{free_port()}"


@pytest.fixture
def settings(tmp_path: Path, fresh: dict[str, Upstream], jwks_file: Path) -> Settings:
    return Settings(
        upstreams={name: upstream.url for name, upstream in fresh.items()},
        state_url=f"sqlite:///{tmp_path}/state.db",
        session_secret="s" * 40,
        jwt_issuer=ISSUER,
        jwt_audience=(AUDIENCE,),
        jwks=str(jwks_file),
        timeout=1.0,
        ready_timeout=1.0,
        cors_origins=("https://app.example.com",),
        secure_cookies=False,
    )


__all__ = ["SERVICES", "postgres_server", "postgres_url", "redis_url"]
