"""``[auth.NAME] type = "lambda"``, ``[api_keys.*]``, ``[usage_plans.*]`` and
``api_key_required``: parsed into typed objects, every mistake one line naming file and key."""

from __future__ import annotations

from pathlib import Path

import pytest

from config_text import config_error, load_config
from faasport.config.model import ApiKey, LambdaAuth, Quota, Throttle, UsagePlan

BASE = """
name = "access"

[functions.authz]
handler = "fns:authorize"

[functions.api]
handler = "fns:show"
routes = ["GET /items"]
"""

REST = BASE + '\n[api]\ntype = "rest"\n'


def error(tmp_path: Path, text: str) -> str:
    message = config_error(tmp_path, text)
    assert message.startswith(str(tmp_path / "faasport.toml") + ": ")
    return message


def test_a_lambda_authorizer_with_its_defaults(tmp_path: Path) -> None:
    project = load_config(tmp_path, BASE + '\n[auth.custom]\ntype = "lambda"\nfunction = "authz"\n')
    assert project.auth["custom"] == LambdaAuth(name="custom", function="authz")  # type: ignore[attr-defined]


def test_rest_identity_sources_are_read_in_the_http_api_form(tmp_path: Path) -> None:
    project = load_config(
        tmp_path,
        REST + '\n[auth.custom]\ntype = "lambda"\nfunction = "authz"\nttl = 60\n'
        'identity = ["method.request.header.X-User", "method.request.querystring.k", '
        '"context.identity.sourceIp", "$stageVariables.v"]\n',
    )
    auth = project.auth["custom"]  # type: ignore[attr-defined]
    assert auth.identity == (
        "$request.header.X-User",
        "$request.querystring.k",
        "$context.identity.sourceIp",
        "$stageVariables.v",
    )
    assert auth.ttl == 60


def test_keys_and_plans(tmp_path: Path) -> None:
    project = load_config(
        tmp_path,
        REST + '\n[api_keys.partner]\nsecret = "access/partner"\n[api_keys.free]\nenabled = false\n'
        '[usage_plans.gold]\nkeys = ["partner", "free"]\nrate = 10\nburst = 20\n'
        'quota = { limit = 1000, period = "WEEK" }\n',
    ).__dict__
    assert project["api_keys"]["partner"] == ApiKey("partner", "access/partner")
    assert project["api_keys"]["free"] == ApiKey("free", None, enabled=False)
    assert project["usage_plans"]["gold"] == UsagePlan(
        "gold", ("partner", "free"), Throttle(10.0, 20), Quota(1000, "WEEK")
    )


def test_api_key_required_on_a_rest_function(tmp_path: Path) -> None:
    text = REST.replace(
        'routes = ["GET /items"]', 'routes = ["GET /items"]\napi_key_required = true'
    )
    project = load_config(tmp_path, text)
    assert project.functions["api"].api_key_required  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ('[auth.a]\ntype = "lambda"\n', "auth.a.function: is required"),
        (
            '[auth.a]\ntype = "lambda"\nfunctoin = "authz"\n',
            'auth.a.functoin: unknown key; did you mean "function"?',
        ),
        ('[auth.a]\ntype = "oauth"\n', 'auth.a.type: must be "jwt" or "lambda", got "oauth"'),
        (
            '[auth.a]\ntype = "lambda"\nfunction = "authz"\nevent = "cookie"\n',
            'auth.a.event: must be "request" or "token"',
        ),
        (
            '[auth.a]\ntype = "lambda"\nfunction = "authz"\nidentity = ["Authorization"]\n',
            "auth.a.identity[0]: must be an identity source",
        ),
        (
            '[auth.a]\ntype = "lambda"\nfunction = "authz"\nidentity = []\nttl = 5\n',
            "auth.a.ttl: caching needs identity sources",
        ),
        (
            '[auth.a]\ntype = "lambda"\nfunction = "authz"\nttl = 7200\n',
            "auth.a.ttl: must be an integer from 0 to 3600",
        ),
        (
            '[auth.a]\ntype = "lambda"\nfunction = "authz"\nvalidation = "x"\n',
            "auth.a.validation: is for TOKEN authorizers",
        ),
        (
            '[auth.a]\ntype = "lambda"\nfunction = "missing"\n',
            "auth.a.function: no [functions.missing] is defined",
        ),
        ("[api_keys.k]\n", 'api_keys: API keys are a REST API feature: set [api] type = "rest"'),
    ],
)
def test_http_api_mistakes(tmp_path: Path, extra: str, expected: str) -> None:
    assert expected in error(tmp_path, BASE + "\n" + extra)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            '[auth.a]\ntype = "lambda"\nfunction = "authz"\nevent = "token"\n'
            'identity = ["$request.querystring.t"]\n',
            "auth.a.identity: a TOKEN authorizer takes its token from exactly one header",
        ),
        (
            '[auth.a]\ntype = "lambda"\nfunction = "authz"\nevent = "token"\nvalidation = "("\n',
            "auth.a.validation: is not a regular expression",
        ),
        (
            '[auth.a]\ntype = "lambda"\nfunction = "authz"\nsimple = true\n',
            "auth.a.simple: REST API authorizers always answer IAM policies",
        ),
        ("[usage_plans.p]\nrate = 5\n", "usage_plans.p.keys: must list the API keys of the plan"),
        (
            '[usage_plans.p]\nkeys = ["ghost"]\n',
            "usage_plans.p.keys: [0]: no [api_keys.ghost] is defined",
        ),
        (
            '[api_keys.k]\n[usage_plans.p]\nkeys = ["k"]\nquota = { period = "DAY" }\n',
            "usage_plans.p.quota.limit: is required",
        ),
        (
            '[api_keys.k]\n[usage_plans.p]\nkeys = ["k"]\nburst = 0\n',
            "usage_plans.p.burst: must be an integer of at least 1",
        ),
        ('[api_keys.k]\nvalue = "x"\n', "api_keys.k.value: unknown key"),
    ],
)
def test_rest_api_mistakes(tmp_path: Path, extra: str, expected: str) -> None:
    assert expected in error(tmp_path, REST + "\n" + extra)


def test_api_key_required_needs_a_rest_api(tmp_path: Path) -> None:
    text = BASE.replace(
        'routes = ["GET /items"]', 'routes = ["GET /items"]\napi_key_required = true'
    )
    assert "functions.api.api_key_required: API keys are a REST API feature" in error(
        tmp_path, text
    )
