"""CORS as HTTP APIs answer it, through the middleware."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from faasport import gateway
from faasport.core.errors import ConfigError
from faasport.testing import HttpClient

PREFLIGHT = {"access-control-request-method": "PUT"}


@pytest.fixture
def client(entry: str, make_client: Callable[..., HttpClient]) -> HttpClient:
    cors = gateway.Cors(
        origins=["https://app.example.com", "https://*.example.org"],
        methods=["GET", "PUT"],
        headers=["content-type", "x-trace"],
        expose_headers=["x-request-id"],
        credentials=True,
        max_age=600,
    )
    return make_client(entry, [cors])


def test_preflight_is_answered_without_the_app(client: HttpClient) -> None:
    origin = {"origin": "https://app.example.com"}
    answer = client.request(
        "OPTIONS",
        "/items",
        headers={**origin, **PREFLIGHT, "access-control-request-headers": "X-Trace"},
    )
    assert answer.status == 204 and answer.body == b""
    assert answer.header("access-control-allow-origin") == "https://app.example.com"
    assert answer.header("access-control-allow-credentials") == "true"
    assert answer.header("access-control-allow-methods") == "GET,PUT"
    assert answer.header("access-control-allow-headers") == "content-type,x-trace"
    assert answer.header("access-control-max-age") == "600"
    assert "Origin" in (answer.header("vary") or "")


def test_wildcard_patterns_match_one_label_or_more(client: HttpClient) -> None:
    for origin, allowed in [
        ("https://a.example.org", True),
        ("https://a.b.example.org", True),
        ("https://example.org", False),
        ("https://a.example.org.evil.com", False),
        ("http://a.example.org", False),
    ]:
        answer = client.request("OPTIONS", "/", headers={"origin": origin, **PREFLIGHT})
        assert answer.status == 204
        assert (answer.header("access-control-allow-origin") == origin) is allowed, origin


def test_disallowed_preflights_get_no_allow_headers(client: HttpClient) -> None:
    for headers in [
        {"origin": "https://evil.com", **PREFLIGHT},
        {"origin": "https://app.example.com", "access-control-request-method": "DELETE"},
        {
            "origin": "https://app.example.com",
            **PREFLIGHT,
            "access-control-request-headers": "x-other",
        },
    ]:
        answer = client.request("OPTIONS", "/", headers=headers)
        assert answer.status == 204
        assert answer.header("access-control-allow-origin") is None


def test_simple_requests_get_the_origin_headers(client: HttpClient) -> None:
    allowed = client.get("/items", headers={"origin": "https://app.example.com"})
    assert allowed.status == 200 and allowed.json()["path"].endswith("/items")
    assert allowed.header("access-control-allow-origin") == "https://app.example.com"
    assert allowed.header("access-control-expose-headers") == "x-request-id"
    assert "Origin" in (allowed.header("vary") or "")
    refused = client.get("/items", headers={"origin": "https://evil.com"})
    assert refused.status == 200
    assert refused.header("access-control-allow-origin") is None
    assert "Origin" in (refused.header("vary") or "")


def test_any_origin_without_credentials(make_client: Callable[..., HttpClient]) -> None:
    client = make_client("function-url", [gateway.Cors(origins=["*"])])
    answer = client.request("OPTIONS", "/", headers={"origin": "https://x.test", **PREFLIGHT})
    assert answer.header("access-control-allow-origin") == "*"
    assert answer.header("access-control-allow-methods") == "PUT"
    assert answer.header("access-control-allow-credentials") is None
    with pytest.raises(ConfigError, match="credentials need explicit origins"):
        gateway.Cors(origins=["*"], credentials=True)


def test_cors_headers_reach_denials(issuer: object, make_client: Callable[..., HttpClient]) -> None:
    authorizer = gateway.JwtAuthorizer(
        issuer=issuer.name,
        audience=issuer.audience,
        jwks=str(issuer.jwks),  # type: ignore[attr-defined]
    )
    cors = gateway.Cors(origins=["https://app.example.com"])
    client = make_client("azure", [cors, authorizer])
    denied = client.get("/", headers={"origin": "https://app.example.com"})
    assert denied.status == 401
    assert denied.header("access-control-allow-origin") == "https://app.example.com"
    # A preflight never needs a token.
    answer = client.request(
        "OPTIONS", "/", headers={"origin": "https://app.example.com", **PREFLIGHT}
    )
    assert answer.status == 204
