"""Who may call the API, beyond JWTs: ``[auth.NAME] type = "lambda"`` (a Lambda authorizer),
``[api_keys.NAME]`` and ``[usage_plans.NAME]`` (REST API keys), and the checks that need the
whole configuration (the authorizer function exists, the API type allows the feature)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from faasport.config.fields import Table, describe
from faasport.config.model import (
    Api,
    ApiKey,
    Auth,
    Function,
    LambdaAuth,
    Quota,
    Throttle,
    UsagePlan,
)

_NAME = re.compile(r"[A-Za-z0-9_-]{1,128}")
_TOKEN = r"[A-Za-z0-9!#$%&'*+.^_`|~-]+"
#: Identity sources, as HTTP APIs write them and as REST APIs do (normalised to the former).
_IDENTITY = re.compile(
    rf"\$request\.(header|querystring)\.{_TOKEN}|\$(context|stageVariables)\.[A-Za-z0-9_.-]+"
)
_REST_IDENTITY = re.compile(
    rf"method\.request\.(header|querystring)\.{_TOKEN}|(context|stageVariables)\.[A-Za-z0-9_.-]+"
)
_PERIODS = re.compile("DAY|WEEK|MONTH")
DEFAULT_IDENTITY = ("$request.header.Authorization",)
#: Where a JWT authorizer may find its token (HTTP APIs read a header or the query).
JWT_IDENTITY = re.compile(rf"\$request\.(header|querystring)\.{_TOKEN}")


def identity_source(text: str) -> str | None:
    """``text`` in the HTTP API form (``$request.header.X``), or None when it is not one."""
    if _IDENTITY.fullmatch(text):
        return text
    if _REST_IDENTITY.fullmatch(text):
        return "$" + text.removeprefix("method.")
    return None


def parse_lambda_auth(name: str, table: Table) -> LambdaAuth:
    function = table.string("function", None, expected="the name of a function")
    if function is None:
        table.misspelled("function")
        table.fail("function", "is required: the function that authorizes requests")
    event = table.string(
        "event", "request", pattern=re.compile("request|token"), expected='"request" or "token"'
    )

    def source(value: Any, key: str) -> str:
        found = identity_source(value) if isinstance(value, str) else None
        if found is None:
            table.source.fail(
                key,
                'must be an identity source like "$request.header.Authorization", '
                f'"$request.querystring.NAME" or "$context.NAME", got {describe(value)}',
            )
        return found

    sources = table.array("identity", source, "identity sources")
    identity = DEFAULT_IDENTITY if sources is None else tuple(sources)
    if event == "token" and (len(identity) != 1 or not identity[0].startswith("$request.header.")):
        table.fail("identity", "a TOKEN authorizer takes its token from exactly one header")
    ttl = table.integer("ttl", 0, 0, 3600)
    if ttl and not identity:
        table.fail("ttl", "caching needs identity sources: results are cached by their values")
    validation = table.string("validation", None, expected="a regular expression")
    if validation is not None:
        if event != "token":
            table.fail("validation", 'is for TOKEN authorizers (event = "token")')
        try:
            re.compile(validation)
        except re.error as exc:
            table.fail("validation", f"is not a regular expression: {exc}")
    auth = LambdaAuth(
        name=name,
        function=function,
        event="token" if event == "token" else "request",
        identity=identity,
        ttl=ttl,
        simple=table.boolean("simple", True),
        validation=validation,
    )
    table.finish()
    return auth


def parse_api_keys(top: Table) -> dict[str, ApiKey]:
    keys: dict[str, ApiKey] = {}
    for name, table in top.tables("api_keys"):
        if not _NAME.fullmatch(name):
            top.source.fail(table.path, "API key names are letters, digits, '-' or '_'")
        secret = table.string(
            "secret", None, expected="the name of a secret holding the key (20 characters or more)"
        )
        keys[name] = ApiKey(name=name, secret=secret, enabled=table.boolean("enabled", True))
        table.finish()
    return keys


def parse_usage_plans(top: Table, keys: Mapping[str, ApiKey]) -> dict[str, UsagePlan]:
    plans: dict[str, UsagePlan] = {}
    planned: dict[str, str] = {}
    for name, table in top.tables("usage_plans"):
        if not _NAME.fullmatch(name):
            top.source.fail(table.path, "usage plan names are letters, digits, '-' or '_'")
        members = table.strings("keys", "API key names") or ()
        if not members:
            table.misspelled("keys")
            table.fail("keys", 'must list the API keys of the plan, like ["partner"]')
        for index, key in enumerate(members):
            if key not in keys:
                defined = ", ".join(keys) or "none"
                table.fail(
                    "keys", f"[{index}]: no [api_keys.{key}] is defined (defined: {defined})"
                )
            if key in planned:
                table.fail(
                    "keys",
                    f'API key "{key}" is already in usage plan "{planned[key]}": a key belongs '
                    "to one plan of a stage",
                )
            planned[key] = name
        throttle = None
        if table.has("rate") or table.has("burst"):
            throttle = Throttle(
                rate=table.number("rate", 10000.0), burst=table.integer("burst", 5000, 1)
            )
        plans[name] = UsagePlan(name=name, keys=members, throttle=throttle, quota=_quota(table))
        table.finish()
    return plans


def _quota(table: Table) -> Quota | None:
    sub = table.table("quota")
    if sub is None:
        return None
    limit = sub.integer("limit", 0, 1)
    if not sub.has("limit"):
        sub.misspelled("limit")
        sub.fail("limit", "is required: the requests a key may make per period")
    period = sub.string("period", "DAY", pattern=_PERIODS, expected='"DAY", "WEEK" or "MONTH"')
    sub.finish()
    return Quota(
        limit=limit, period="WEEK" if period == "WEEK" else "MONTH" if period == "MONTH" else "DAY"
    )


def check_access(
    top: Table,
    api: Api,
    auth: Mapping[str, Auth],
    functions: Mapping[str, Function],
    keys: Mapping[str, ApiKey],
) -> None:
    """What needs the whole configuration: authorizer functions exist and suit the API."""
    for entry in auth.values():
        if not isinstance(entry, LambdaAuth):
            continue
        where = f"auth.{entry.name}"
        if entry.function not in functions:
            defined = ", ".join(functions) or "none"
            top.source.fail(
                f"{where}.function",
                f"no [functions.{entry.function}] is defined (defined: {defined})",
            )
        if entry.event == "token" and api.type != "rest":
            top.source.fail(
                f"{where}.event",
                'TOKEN authorizers are for REST APIs: set [api] type = "rest", or use '
                '"request" with an identity source',
            )
        if api.type == "rest" and _set(top, "auth", entry.name, "simple"):
            top.source.fail(
                f"{where}.simple", "REST API authorizers always answer IAM policies; remove it"
            )
    for function in functions.values():
        if function.api_key_required and api.type != "rest":
            top.source.fail(
                f"functions.{function.name}.api_key_required",
                'API keys are a REST API feature: set [api] type = "rest"',
            )
        limit = function.rate_limit
        if limit is not None and limit.by == "api_key" and not function.api_key_required:
            # A key nobody checked is whatever the client made up: one per request escapes
            # any limit.
            top.source.fail(
                f"functions.{function.name}.rate_limit.by",
                '"api_key" counts the keys the API checks: set api_key_required = true '
                '(REST API usage plans), or count by "ip" or "sub"',
            )
    if keys and api.type != "rest":
        top.source.fail("api_keys", 'API keys are a REST API feature: set [api] type = "rest"')


def _set(top: Table, *path: str) -> bool:
    data: Any = top.data
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return False
        data = data[key]
    return True
