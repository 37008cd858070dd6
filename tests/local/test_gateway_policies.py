"""The local gateway enforces the configured policies as API Gateway does: a real ``faasport
dev`` process with a JWT authorizer (keys made here, a JWKS file in the project), a
throttled function and CORS."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from dev_process import Dev
from jwks_project import write_jwks_project

ISSUER = "https://issuer.example.com/"
ORIGIN = "https://app.example.com"

HANDLERS = textwrap.dedent(
    """
    import json

    def show(event, context):
        body = {"authorizer": event["requestContext"].get("authorizer")}
        return {"statusCode": 200, "body": json.dumps(body)}
    """
)

CONFIG = textwrap.dedent(
    f"""
    name = "policies"

    [auth.users]
    issuer = "{ISSUER}"
    audience = ["phoney"]
    jwks = "keys/jwks.json"

    [auth.links]
    issuer = "{ISSUER}"
    audience = ["phoney"]
    jwks = "keys/jwks.json"
    identity = "$request.querystring.token"

    [functions.secure]
    handler = "fns:show"
    auth = "users"
    routes = ["GET /secure"]

    [functions.linked]
    handler = "fns:show"
    auth = "links"
    routes = ["GET /linked"]

    [functions.limited]
    handler = "fns:show"
    throttle = {{ rate = 1, burst = 2 }}
    routes = ["GET /limited"]

    [functions.open]
    handler = "fns:show"
    routes = ["GET /open"]

    [api]
    cors = {{ origins = ["{ORIGIN}"], methods = ["GET"] }}
    """
)


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory, key: rsa.RSAPrivateKey) -> Iterator[Dev]:
    server = Dev(write_jwks_project(tmp_path_factory.mktemp("policies"), CONFIG, HANDLERS, key))
    try:
        yield server
    finally:
        server.close()


def token(key: rsa.RSAPrivateKey, **changes: Any) -> str:
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": "phoney",
        "sub": "ada",
        "scope": "items:read items:write",
        "exp": int(time.time()) + 60,
    }
    claims.update(changes)
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def test_a_valid_token_passes_and_the_function_sees_the_claims(
    dev: Dev, key: rsa.RSAPrivateKey
) -> None:
    answer = httpx.get(f"{dev.url}/secure", headers={"authorization": f"Bearer {token(key)}"})
    assert answer.status_code == 200
    seen = answer.json()["authorizer"]["jwt"]
    assert seen["claims"]["sub"] == "ada"
    assert seen["claims"]["aud"] == "phoney"
    assert seen["scopes"] == ["items:read", "items:write"]


def test_a_token_is_read_from_the_configured_identity_source(
    dev: Dev, key: rsa.RSAPrivateKey
) -> None:
    """``identity = "$request.querystring.token"``: a link (or an EventSource, a WebSocket)
    carries the token, since browsers cannot set headers on those."""
    answer = httpx.get(f"{dev.url}/linked", params={"token": token(key)})
    assert answer.status_code == 200
    assert answer.json()["authorizer"]["jwt"]["claims"]["sub"] == "ada"
    header = {"authorization": f"Bearer {token(key)}"}
    assert httpx.get(f"{dev.url}/linked", headers=header).status_code == 401


def test_a_function_without_auth_gets_no_authorizer(dev: Dev) -> None:
    answer = httpx.get(f"{dev.url}/open")
    assert answer.status_code == 200
    assert answer.json() == {"authorizer": None}


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param(None, id="no token"),
        pytest.param("Bearer", id="no token after Bearer"),
        pytest.param("expired", id="expired"),
        pytest.param("audience", id="wrong audience"),
        pytest.param("issuer", id="wrong issuer"),
        pytest.param("none", id="alg none"),
        pytest.param("other key", id="signed by another key"),
    ],
)
def test_a_bad_token_is_401_without_reaching_the_function(
    dev: Dev, key: rsa.RSAPrivateKey, authorization: str | None
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    tokens = {
        "expired": token(key, exp=int(time.time()) - 60),
        "audience": token(key, aud="someone-else"),
        "issuer": token(key, iss="https://evil.example.com/"),
        "none": jwt.encode(
            {"iss": ISSUER, "aud": "phoney", "exp": int(time.time()) + 60},
            None,
            algorithm="none",
            headers={"kid": "k1"},
        ),
        "other key": token(other),
    }
    headers = {}
    if authorization is not None:
        value = tokens.get(authorization, authorization)
        headers["authorization"] = value if value.startswith("Bearer") else f"Bearer {value}"
    before = dev.invocation_ids()
    answer = httpx.get(f"{dev.url}/secure", headers=headers)
    assert answer.status_code == 401
    assert answer.json() == {"message": "Unauthorized"}
    assert answer.headers["apigw-requestid"]
    # The function was not invoked.
    assert dev.invocation_ids() == before


def test_the_invoke_api_is_not_behind_the_authorizer(dev: Dev) -> None:
    event = {"requestContext": {}}
    result = dev.client("lambda").invoke(FunctionName="secure", Payload=json.dumps(event))
    assert json.loads(result["Payload"].read())["statusCode"] == 200


def test_a_throttle_of_rate_1_burst_2_refuses_the_third_quick_request(dev: Dev) -> None:
    with httpx.Client() as client:
        statuses = [client.get(f"{dev.url}/limited") for _ in range(3)]
    assert [a.status_code for a in statuses] == [200, 200, 429]
    assert statuses[2].json() == {"message": "Too Many Requests"}
    assert int(statuses[2].headers["retry-after"]) >= 1
    # Another function has its own bucket.
    assert httpx.get(f"{dev.url}/open").status_code == 200


def test_a_preflight_from_an_allowed_origin_is_answered_by_the_gateway(dev: Dev) -> None:
    preflight = {"origin": ORIGIN, "access-control-request-method": "GET"}
    for path in ("/open", "/secure"):  # no OPTIONS route, and no token needed
        answer = httpx.options(f"{dev.url}{path}", headers=preflight)
        assert answer.status_code == 204
        assert answer.headers["access-control-allow-origin"] == ORIGIN
        assert answer.headers["access-control-allow-methods"] == "GET"
        assert answer.content == b""


def test_a_preflight_from_another_origin_gets_no_allow_headers(dev: Dev) -> None:
    preflight = {"origin": "https://evil.example.com", "access-control-request-method": "GET"}
    answer = httpx.options(f"{dev.url}/open", headers=preflight)
    assert answer.status_code == 204
    assert "access-control-allow-origin" not in answer.headers
    assert "access-control-allow-methods" not in answer.headers


def test_responses_carry_cors_headers_even_a_401(dev: Dev) -> None:
    answer = httpx.get(f"{dev.url}/open", headers={"origin": ORIGIN})
    assert answer.status_code == 200
    assert answer.headers["access-control-allow-origin"] == ORIGIN
    denied = httpx.get(f"{dev.url}/secure", headers={"origin": ORIGIN})
    assert denied.status_code == 401
    assert denied.headers["access-control-allow-origin"] == ORIGIN
    other = httpx.get(f"{dev.url}/open", headers={"origin": "https://evil.example.com"})
    assert "access-control-allow-origin" not in other.headers


def test_a_bad_throttle_stops_dev_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "faasport.toml").write_text(
        'name = "bad"\n[functions.f]\nhandler = "fns:show"\nroutes = ["GET /"]\n'
        "throttle = { rate = 1, burst = 0 }\n"
    )
    (tmp_path / "fns.py").write_text(HANDLERS)
    done = subprocess.run(
        [sys.executable, "-m", "faasport.cli.main", "dev", str(tmp_path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "throttle: need rate > 0 and burst >= 1" in done.stderr
    assert "Traceback" not in done.stderr


REST_CONFIG = textwrap.dedent(
    f"""
    name = "policies-rest"

    [auth.users]
    issuer = "{ISSUER}"
    audience = "phoney"
    jwks = "jwks.json"

    [auth.links]
    issuer = "{ISSUER}"
    audience = ["phoney"]
    jwks = "keys/jwks.json"
    identity = "$request.querystring.token"

    [functions.secure]
    handler = "fns:show"
    auth = "users"
    routes = ["GET /secure"]

    [functions.linked]
    handler = "fns:show"
    auth = "links"
    routes = ["GET /linked"]

    [api]
    type = "rest"
    throttle = {{ rate = 1, burst = 2 }}
    """
)


def test_a_rest_api_gets_claims_in_1_0_shape_and_its_stage_throttle(
    tmp_path: Path, key: rsa.RSAPrivateKey
) -> None:
    dev = Dev(write_jwks_project(tmp_path, REST_CONFIG, HANDLERS, key, jwks_file="jwks.json"))
    try:
        assert dev.url.endswith("/prod")
        with httpx.Client() as client:
            denied = client.get(f"{dev.url}/secure")
            assert denied.status_code == 401
            assert denied.json() == {"message": "Unauthorized"}
            assert denied.headers["x-amzn-requestid"]
            good = {"authorization": token(key)}  # bare, without "Bearer"
            answer = client.get(f"{dev.url}/secure", headers=good)
            assert answer.status_code == 200
            assert answer.json()["authorizer"]["claims"]["sub"] == "ada"
            # The stage's bucket (burst 2): a request the authorizer refused took nothing.
            assert client.get(f"{dev.url}/secure", headers=good).status_code == 200
            refused = client.get(f"{dev.url}/secure", headers=good)
            assert refused.status_code == 429
            assert refused.json() == {"message": "Too Many Requests"}
        assert (tmp_path / ".faasport" / "state.db").exists()
    finally:
        dev.close()
