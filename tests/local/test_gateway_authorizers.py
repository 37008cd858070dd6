"""Lambda authorizers, API keys and usage plans in a real ``faasport dev`` process: the
authorizer is a function of the project, run in its own local environments, and every
status is API Gateway's own (HTTP API and REST API)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dev_process import Dev

HANDLERS = textwrap.dedent(
    """
    import json
    import os

    CALLS = os.path.join(os.path.dirname(__file__), "calls.log")


    def _count(token):
        with open(CALLS, "a") as log:
            log.write(token + "\\n")


    def authorize_http(event, context):
        token = event["identitySource"][0]
        _count(token)
        if token.startswith("allow"):
            return {"isAuthorized": True, "context": {"user": "u1", "level": 3}}
        if token.startswith("deny"):
            return {"isAuthorized": False}
        if token.startswith("crash"):
            raise RuntimeError("authorizer bug")
        return "yes"


    def _policy(effect, resource, **extra):
        statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": resource}
        return {
            "principalId": "u1",
            "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
            **extra,
        }


    def authorize_rest(event, context):
        if event["type"] == "TOKEN":
            token = event["authorizationToken"].removeprefix("Bearer ")
        else:
            headers = {k.lower(): v for k, v in event["headers"].items()}
            token = headers["x-user"]
        _count(token)
        if token.startswith("allow"):
            context = {"user": "u1", "n": 7, "admin": False}
            return _policy("Allow", event["methodArn"], context=context)
        if token.startswith("deny"):
            return _policy("Deny", event["methodArn"])
        if token.startswith("other"):
            return _policy("Allow", "arn:aws:execute-api:*:*:*/prod/POST/*")
        if token.startswith("unauth"):
            raise Exception("Unauthorized")
        raise RuntimeError("authorizer bug")


    def show(event, context):
        body = {"authorizer": event["requestContext"].get("authorizer")}
        identity = event["requestContext"].get("identity") or {}
        if identity.get("apiKeyId"):
            body["key"] = [identity["apiKeyId"], identity["apiKey"]]
        return {"statusCode": 200, "body": json.dumps(body)}
    """
)

HTTP_CONFIG = textwrap.dedent(
    """
    name = "authz-http"

    [auth.tokens]
    type = "lambda"
    function = "authz"
    ttl = 300

    [auth.query]
    type = "lambda"
    function = "authz"
    identity = ["$request.querystring.key"]

    [functions.authz]
    handler = "fns:authorize_http"

    [functions.secure]
    handler = "fns:show"
    auth = "tokens"
    routes = ["GET /secure"]

    [functions.byquery]
    handler = "fns:show"
    auth = "query"
    routes = ["GET /query"]
    """
)

REST_CONFIG = textwrap.dedent(
    """
    name = "authz-rest"

    [api]
    type = "rest"

    [auth.token]
    type = "lambda"
    function = "authz"
    event = "token"
    validation = "Bearer .+"

    [auth.request]
    type = "lambda"
    function = "authz"
    identity = ["method.request.header.X-User"]

    [functions.authz]
    handler = "fns:authorize_rest"

    [functions.secure]
    handler = "fns:show"
    auth = "token"
    routes = ["GET /secure"]

    [functions.byheader]
    handler = "fns:show"
    auth = "request"
    routes = ["GET /header"]

    [functions.keyed]
    handler = "fns:show"
    api_key_required = true
    routes = ["GET /keyed"]

    [api_keys.partner]

    [api_keys.counted]
    secret = "authz/counted-key"

    [api_keys.quick]

    [api_keys.stray]

    [usage_plans.gold]
    keys = ["partner"]
    quota = { limit = 1000, period = "MONTH" }

    [usage_plans.small]
    keys = ["counted"]
    quota = { limit = 2, period = "DAY" }

    [usage_plans.slow]
    keys = ["quick"]
    rate = 0.001
    burst = 1
    """
)

COUNTED_KEY = "counted-key-value-0123456789"


def start(root: Path, config: str) -> Dev:
    (root / "faasport.toml").write_text(config)
    (root / "fns.py").write_text(HANDLERS)
    return Dev(root)


def calls(root: Path) -> list[str]:
    path = root / "calls.log"
    return path.read_text().split() if path.exists() else []


@pytest.fixture(scope="module")
def http_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Dev, Path]]:
    root = tmp_path_factory.mktemp("authz-http")
    server = start(root, HTTP_CONFIG)
    try:
        yield server, root
    finally:
        server.close()


@pytest.fixture(scope="module")
def rest_dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Dev, Path]]:
    root = tmp_path_factory.mktemp("authz-rest")
    (root / "secrets.local.toml").write_text(f'"authz/counted-key" = "{COUNTED_KEY}"\n')
    server = start(root, REST_CONFIG)
    try:
        yield server, root
    finally:
        server.close()


# -- HTTP API: simple responses, payload 2.0 -------------------------------------------------


def test_http_an_allowed_request_reaches_the_function_with_the_context(
    http_dev: tuple[Dev, Path],
) -> None:
    dev, _ = http_dev
    answer = httpx.get(f"{dev.url}/secure", headers={"authorization": "allow-1"})
    assert answer.status_code == 200
    assert answer.json() == {"authorizer": {"lambda": {"user": "u1", "level": 3}}}


def test_http_no_identity_is_401_and_the_authorizer_is_not_invoked(
    http_dev: tuple[Dev, Path],
) -> None:
    dev, root = http_dev
    before = calls(root)
    for headers in ({}, {"authorization": ""}):
        answer = httpx.get(f"{dev.url}/secure", headers=headers)
        assert answer.status_code == 401
        assert answer.json() == {"message": "Unauthorized"}
    assert calls(root) == before


@pytest.mark.parametrize(
    ("token", "status", "message"),
    [
        ("deny-1", 403, "Forbidden"),
        ("crash-1", 500, "Internal Server Error"),
        ("garbage-1", 500, "Internal Server Error"),
    ],
)
def test_http_refusals_and_failures(
    http_dev: tuple[Dev, Path], token: str, status: int, message: str
) -> None:
    dev, _ = http_dev
    answer = httpx.get(f"{dev.url}/secure", headers={"authorization": token})
    assert answer.status_code == status
    assert answer.json() == {"message": message}
    assert "authorizer" not in answer.text  # the function was not reached


def test_http_results_are_cached_by_identity_for_the_ttl(http_dev: tuple[Dev, Path]) -> None:
    dev, root = http_dev
    with httpx.Client() as client:
        for _ in range(3):
            assert (
                client.get(
                    f"{dev.url}/secure", headers={"authorization": "allow-cached"}
                ).status_code
                == 200
            )
        assert (
            client.get(f"{dev.url}/secure", headers={"authorization": "allow-other"}).status_code
            == 200
        )
    assert calls(root).count("allow-cached") == 1
    assert calls(root).count("allow-other") == 1


def test_http_a_query_string_identity_without_cache(http_dev: tuple[Dev, Path]) -> None:
    dev, root = http_dev
    assert httpx.get(f"{dev.url}/query").status_code == 401
    for _ in range(2):
        assert httpx.get(f"{dev.url}/query", params={"key": "allow-q"}).status_code == 200
    assert calls(root).count("allow-q") == 2
    assert httpx.get(f"{dev.url}/query", params={"key": "deny-q"}).status_code == 403


# -- REST API: TOKEN and REQUEST authorizers, IAM policies -----------------------------------


def test_rest_an_allowed_token_reaches_the_function_with_principal_and_context(
    rest_dev: tuple[Dev, Path],
) -> None:
    dev, _ = rest_dev
    answer = httpx.get(f"{dev.url}/secure", headers={"authorization": "Bearer allow-1"})
    assert answer.status_code == 200
    seen = answer.json()["authorizer"]
    assert seen["principalId"] == "u1"
    assert {k: seen[k] for k in ("user", "n", "admin")} == {
        "user": "u1",
        "n": "7",
        "admin": "false",
    }


@pytest.mark.parametrize(
    ("headers", "status", "body"),
    [
        ({}, 401, {"message": "Unauthorized"}),
        ({"authorization": "Basic allow-1"}, 401, {"message": "Unauthorized"}),
        ({"authorization": "Bearer unauth-1"}, 401, {"message": "Unauthorized"}),
        (
            {"authorization": "Bearer deny-1"},
            403,
            {"Message": "User is not authorized to access this resource with an explicit deny"},
        ),
        (
            {"authorization": "Bearer other-1"},
            403,
            {"Message": "User is not authorized to access this resource"},
        ),
        ({"authorization": "Bearer crash-1"}, 500, {"message": None}),
    ],
)
def test_rest_token_statuses(
    rest_dev: tuple[Dev, Path], headers: dict[str, str], status: int, body: object
) -> None:
    dev, _ = rest_dev
    answer = httpx.get(f"{dev.url}/secure", headers=headers)
    assert answer.status_code == status
    assert answer.json() == body
    assert answer.headers["x-amzn-requestid"]


def test_rest_a_token_failing_validation_never_reaches_the_authorizer(
    rest_dev: tuple[Dev, Path],
) -> None:
    dev, root = rest_dev
    assert (
        httpx.get(f"{dev.url}/secure", headers={"authorization": "Basic allow-v"}).status_code
        == 401
    )
    assert "allow-v" not in calls(root)


def test_rest_a_request_authorizer_reads_its_header(rest_dev: tuple[Dev, Path]) -> None:
    dev, _ = rest_dev
    assert httpx.get(f"{dev.url}/header").status_code == 401
    answer = httpx.get(f"{dev.url}/header", headers={"x-user": "allow-h"})
    assert answer.status_code == 200
    assert answer.json()["authorizer"]["principalId"] == "u1"
    assert httpx.get(f"{dev.url}/header", headers={"x-user": "deny-h"}).status_code == 403


# -- REST API: keys and usage plans ----------------------------------------------------------


def generated(root: Path) -> dict[str, str]:
    values: dict[str, str] = json.loads((root / ".faasport" / "api-keys.json").read_text())
    return values


@pytest.mark.parametrize("key", [None, "no-such-key-0123456789abcdef", "stray"])
def test_rest_a_missing_unknown_or_unplanned_key_is_403(
    rest_dev: tuple[Dev, Path], key: str | None
) -> None:
    dev, root = rest_dev
    value = generated(root).get(key or "", key)
    headers = {"x-api-key": value} if value else {}
    answer = httpx.get(f"{dev.url}/keyed", headers=headers)
    assert answer.status_code == 403
    assert answer.json() == {"message": "Forbidden"}


def test_rest_a_generated_key_passes_and_is_shown_at_start(rest_dev: tuple[Dev, Path]) -> None:
    dev, root = rest_dev
    partner = generated(root)["partner"]
    answer = httpx.get(f"{dev.url}/keyed", headers={"x-api-key": partner})
    assert answer.status_code == 200
    assert answer.json()["key"] == ["partner", partner]  # requestContext.identity, as on AWS
    assert any(line.endswith(f"API key partner: {partner}") for line in dev.lines)


def test_rest_over_the_quota_is_429_limit_exceeded(rest_dev: tuple[Dev, Path]) -> None:
    dev, _ = rest_dev
    with httpx.Client(headers={"x-api-key": COUNTED_KEY}) as client:
        assert [client.get(f"{dev.url}/keyed").status_code for _ in range(2)] == [200, 200]
        over = client.get(f"{dev.url}/keyed")
    assert over.status_code == 429
    assert over.json() == {"message": "Limit Exceeded"}


def test_rest_over_the_plan_rate_is_429_too_many_requests(rest_dev: tuple[Dev, Path]) -> None:
    dev, root = rest_dev
    with httpx.Client(headers={"x-api-key": generated(root)["quick"]}) as client:
        assert client.get(f"{dev.url}/keyed").status_code == 200
        over = client.get(f"{dev.url}/keyed")
    assert over.status_code == 429
    assert over.json() == {"message": "Too Many Requests"}


def test_rest_keys_are_stored_hashed(rest_dev: tuple[Dev, Path]) -> None:
    _, root = rest_dev
    database = root / ".faasport" / "state.db"
    with sqlite3.connect(database) as connection:
        dump = "\n".join(connection.iterdump())
    assert "apikey:" in dump
    assert COUNTED_KEY not in dump
    assert generated(root)["partner"] not in dump


# -- configuration errors stop dev with one line ---------------------------------------------


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            HTTP_CONFIG.replace("ttl = 300", 'ttl = 300\nevent = "token"'),
            "auth.tokens.event: TOKEN authorizers are for REST APIs",
        ),
        (
            HTTP_CONFIG.replace('function = "authz"\nttl', 'function = "nope"\nttl'),
            "auth.tokens.function: no [functions.nope]",
        ),
        (HTTP_CONFIG + "\n[api_keys.k]\n", "api_keys: API keys are a REST API feature"),
        (
            REST_CONFIG.replace('keys = ["partner"]', 'keys = ["partner", "counted"]'),
            'usage_plans.small.keys: API key "counted" is already in usage plan "gold"',
        ),
        (
            REST_CONFIG.replace('period = "MONTH"', 'period = "YEAR"'),
            'usage_plans.gold.quota.period: must be "DAY", "WEEK" or "MONTH"',
        ),
    ],
)
def test_a_bad_access_config_stops_dev_with_one_line(
    tmp_path: Path, config: str, message: str
) -> None:
    (tmp_path / "faasport.toml").write_text(config)
    (tmp_path / "fns.py").write_text(HANDLERS)
    done = subprocess.run(
        [sys.executable, "-m", "faasport.cli.main", "dev", str(tmp_path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_key_secret_without_a_local_value_stops_dev_with_one_line(tmp_path: Path) -> None:
    (tmp_path / "faasport.toml").write_text(REST_CONFIG)
    (tmp_path / "fns.py").write_text(HANDLERS)
    done = subprocess.run(
        [sys.executable, "-m", "faasport.cli.main", "dev", str(tmp_path), "--port", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert 'api_keys.counted.secret: secret "authz/counted-key" has no local value' in done.stderr
    assert "Traceback" not in done.stderr
