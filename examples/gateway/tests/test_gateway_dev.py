"""The example served by a real ``faasport dev`` process over HTTP, in front of real upstream
servers: a copy of the project whose configuration points at them and at a key made here
(only URLs and the key change; the code is the example's own)."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from gateway_support import ISSUER, Token, Upstream

from dev_process import Dev
from servers import free_port

EXAMPLE = Path(__file__).resolve().parents[1]


def configure(project: Path, upstreams: dict[str, str], jwks: Path, state_url: str) -> None:
    config = (project / "faasport.toml").read_text()
    for name, url in upstreams.items():
        config, found = re.subn(
            rf'^UPSTREAM_{name.upper()} = ".*"$',
            f'UPSTREAM_{name.upper()} = "{url}"',
            config,
            flags=re.M,
        )
        assert found == 1, name
    # And a fourth service whose port nothing listens on.
    gone = f'UPSTREAM_GONE = "http://127.0.0.1:{free_port()}"'
    config = config.replace('UPSTREAM_TIMEOUT = "5"', f'UPSTREAM_TIMEOUT = "1"\n{gone}')
    config = config.replace('"https://issuer.gateway.example/"', f'"{ISSUER}"')
    config = config.replace('CLIENT_RATE_PER_MINUTE = "60"', 'CLIENT_RATE_PER_MINUTE = "5"')
    config = config.replace(
        'JWT_AUDIENCE = "gateway"', f'JWT_AUDIENCE = "gateway"\nJWT_JWKS = "{jwks}"'
    )
    config = config.replace('url = "sqlite:///.faasport/state.db"', f'url = "{state_url}"')
    (project / "faasport.toml").write_text(config)


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("gateway") / "gateway"
    shutil.copytree(
        EXAMPLE,
        copy,
        ignore=shutil.ignore_patterns(
            "tests", ".faasport", "__pycache__", "deploy", "dist", "secrets.local.toml"
        ),
    )
    # As the README has it: the local secrets file made from the committed example.
    shutil.copy(copy / "secrets.local.example.toml", copy / "secrets.local.toml")
    return copy


@pytest.fixture(scope="module")
def dev(
    project: Path, upstreams: dict[str, Upstream], jwks_file: Path, redis_url: str
) -> Iterator[Dev]:
    urls = {name: upstream.url for name, upstream in upstreams.items()}
    # Redis by its URL alone: the store is one line of the configuration.
    configure(project, urls, jwks_file, redis_url.replace("/0", "/3"))
    server = Dev(project, "--no-reload")
    try:
        yield server
    finally:
        server.close()


@pytest.mark.redis
def test_routes_policies_and_health_through_faasport_dev(
    dev: Dev, fresh: dict[str, Upstream], token: Token
) -> None:
    with httpx.Client(base_url=dev.url, timeout=30) as client:
        assert client.get("/health/live").json() == {"status": "live"}
        ready = client.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["checks"] == {
            "store": "ok",
            "upstream:gone": "unreachable",
            "upstream:orders": "ok",
            "upstream:products": "ok",
            "upstream:users": "ok",
        }
        assert client.get("/users/1").status_code == 401

        auth = {"authorization": f"Bearer {token('dev-user')}"}
        answer = client.post(
            "/orders/9?x=1",
            content=b"{}",
            headers={**auth, "traceparent": "00-" + "ab" * 16 + "-" + "cd" * 8 + "-01"},
        )
        assert answer.status_code == 201
        got = fresh["orders"].seen[-1]
        assert got["target"] == "/9?x=1"
        assert got["headers"]["x-request-id"] == answer.headers["x-request-id"]
        assert got["headers"]["traceparent"].startswith("00-" + "ab" * 16 + "-")
        assert got["headers"]["x-authenticated-subject"] == "dev-user"
        assert answer.headers["ratelimit-limit"] == "5"

        slow = client.get("/products/slow", headers=auth)
        assert slow.status_code == 504
        assert slow.json()["message"] == "Upstream timed out"
        gone = client.get("/gone/1", headers=auth)
        assert (gone.status_code, gone.json()["upstream"]) == (502, "gone")

        refused = [client.get("/users/1", headers=auth).status_code for _ in range(3)]
        assert refused[-1] == 429


@pytest.mark.redis
def test_ready_is_503_when_an_upstream_is_down(dev: Dev, fresh: dict[str, Upstream]) -> None:
    fresh["users"].healthy[0] = False
    answer = httpx.get(f"{dev.url}/health/ready", timeout=30)
    assert answer.status_code == 503
    assert answer.json()["checks"]["upstream:users"] == "status 503"
