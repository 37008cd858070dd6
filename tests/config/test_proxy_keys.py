"""``[proxy]`` routes and a function's ``scopes``, ``rate_limit`` and ``idempotency``: parsed
into the project, and every bad value refused with one line naming the key and the file."""

from __future__ import annotations

from pathlib import Path

import pytest

from config_text import config_error, load_config
from faasport.config.model import Idempotency, RateLimit

AUTH = """
name = "p"
[auth.users]
issuer = "https://issuer.example.com/"
audience = ["p"]
"""


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # messages name the file relative to here


def test_proxy_routes(tmp_path: Path) -> None:
    project = load_config(
        tmp_path,
        """
        name = "p"
        [functions.api]
        app = "m:app"
        [proxy]
        "ANY /users/{proxy+}" = "http://127.0.0.1:9001/{proxy}"
        "GET /status" = { url = "https://status.example.com/health", timeout = 2.5 }
        """,
    )
    first, second = project.proxies
    assert (first.route.key, first.url, first.timeout) == (
        "ANY /users/{proxy+}",
        "http://127.0.0.1:9001/{proxy}",
        30.0,
    )
    assert (second.route.key, second.url, second.timeout) == (
        "GET /status",
        "https://status.example.com/health",
        2.5,
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            '"GET status" = "http://a.example.com/"',
            'faasport.toml: proxy."GET status": bad route: must look like "METHOD /path"',
        ),
        (
            '"GET /a" = "ftp://a.example.com/"',
            'faasport.toml: proxy."GET /a": must be an http:// or https:// URL, got "ftp://',
        ),
        (
            '"GET /a/{id}" = "http://a.example.com/{key}"',
            'faasport.toml: proxy."GET /a/{id}": uses {key}, which is not a parameter of the '
            "route (its parameters: {id})",
        ),
        (
            '"GET /a" = { url = "http://a.example.com/", timeout = 31 }',
            'faasport.toml: proxy."GET /a".timeout: must be 0.05 to 30 seconds on an HTTP API, '
            "got 31",
        ),
        (
            '"GET /a" = { timeout = 3 }',
            'faasport.toml: proxy."GET /a".url: is required',
        ),
        (
            '"GET /a" = { url = "http://a.example.com/", retries = 3 }',
            'faasport.toml: proxy."GET /a".retries: unknown key',
        ),
        (
            '"GET /a" = 3',
            'faasport.toml: proxy."GET /a": must be an upstream URL or a table',
        ),
        (
            '"ANY /{anything+}" = "http://a.example.com/{anything}"',
            'faasport.toml: proxy."ANY /{anything+}": clashes with route "ANY /{proxy+}" of '
            'function "api": both answer the same requests',
        ),
    ],
)
def test_bad_proxy_routes(tmp_path: Path, entry: str, message: str) -> None:
    text = f'name = "p"\n[functions.api]\napp = "m:app"\n[proxy]\n{entry}\n'
    assert config_error(tmp_path, text).startswith(message)


def test_scopes_for_every_route_or_per_route(tmp_path: Path) -> None:
    project = load_config(
        tmp_path,
        AUTH
        + """
        [functions.read]
        handler = "m:read"
        auth = "users"
        routes = ["GET /items", "GET /items/{id}"]
        scopes = ["items:read"]
        [functions.write]
        handler = "m:write"
        auth = "users"
        routes = ["POST /items", "DELETE /items/{id}"]
        scopes = { "DELETE /items/{id}" = ["items:admin", "admin"] }
        """,
    )
    assert dict(project.functions["read"].scopes) == {
        "GET /items": ("items:read",),
        "GET /items/{id}": ("items:read",),
    }
    assert dict(project.functions["write"].scopes) == {
        "DELETE /items/{id}": ("items:admin", "admin")
    }


@pytest.mark.parametrize(
    ("keys", "message"),
    [
        (
            'scopes = ["a"]',
            "faasport.toml: functions.f.scopes: needs a JWT authorizer",
        ),
        (
            'auth = "users"\nscopes = { "GET /other" = ["a"] }',
            'faasport.toml: functions.f.scopes."GET /other": is not a route of this function '
            "(its routes: GET /items)",
        ),
        (
            'auth = "users"\nscopes = []',
            "faasport.toml: functions.f.scopes: must list at least one scope",
        ),
        (
            'auth = "users"\nscopes = ["two words"]',
            "faasport.toml: functions.f.scopes: a scope has no spaces, quotes or backslashes, "
            'got "two words"',
        ),
        (
            'auth = "users"\nscopes = "a"',
            "faasport.toml: functions.f.scopes: must be an array of scopes or a table",
        ),
        (
            'rate_limit = { per = "minute" }',
            "faasport.toml: functions.f.rate_limit.rate: is required",
        ),
        (
            'rate_limit = { rate = 10, per = "fortnight" }',
            "faasport.toml: functions.f.rate_limit.per: must be one of second, minute, hour, "
            'day or seconds > 0, got "fortnight"',
        ),
        (
            'rate_limit = { rate = 10, by = "cookie" }',
            'faasport.toml: functions.f.rate_limit.by: must be "ip", "sub" or "api_key", '
            'got "cookie"',
        ),
        (
            'rate_limit = { rate = 10, by = "sub" }',
            'faasport.toml: functions.f.rate_limit.by: counts JWT subjects: set auth = "NAME"',
        ),
        (
            "rate_limit = { rate = 0 }",
            "faasport.toml: functions.f.rate_limit.rate:",
        ),
        (
            'idempotency = { methods = ["FETCH"] }',
            "faasport.toml: functions.f.idempotency.methods: must be HTTP methods",
        ),
        (
            "idempotency = { ttl = 0 }",
            "faasport.toml: functions.f.idempotency.ttl:",
        ),
        (
            'idempotency = "yes"',
            "faasport.toml: functions.f.idempotency: must be a table",
        ),
    ],
)
def test_bad_policy_keys(tmp_path: Path, keys: str, message: str) -> None:
    text = AUTH + f'[functions.f]\nhandler = "m:f"\nroutes = ["GET /items"]\n{keys}\n'
    assert config_error(tmp_path, text).startswith(message)


def test_rate_limit_and_idempotency(tmp_path: Path) -> None:
    project = load_config(
        tmp_path,
        """
        name = "p"
        [functions.a]
        app = "m:app"
        rate_limit = { rate = 100, per = "hour" }
        idempotency = true
        [functions.b]
        app = "m:app"
        routes = ["GET /b"]
        rate_limit = { rate = 5, per = 10 }
        idempotency = { ttl = 60, payload_hash = true, methods = ["POST"] }
        """,
    )
    a, b = project.functions["a"], project.functions["b"]
    assert a.rate_limit == RateLimit(rate=100, per=3600.0, by="ip")
    assert a.idempotency == Idempotency()
    assert b.rate_limit == RateLimit(rate=5, per=10.0, by="ip")
    assert b.idempotency == Idempotency(ttl=60, payload_hash=True, methods=("POST",))


def test_a_rate_limit_by_key_needs_keys_the_api_checks(tmp_path: Path) -> None:
    """A key nobody checks is whatever the client made up: one per request escapes the limit."""
    text = '[functions.a]\napp = "m:app"\nrate_limit = { rate = 5, by = "api_key" }\n'
    assert config_error(tmp_path, text).startswith(
        'faasport.toml: functions.a.rate_limit.by: "api_key" counts the keys the API checks'
    )
