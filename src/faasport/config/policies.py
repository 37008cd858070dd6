"""A function's request policies beyond ``auth`` and ``throttle``: ``scopes`` (per route, for
its JWT authorizer), ``rate_limit`` (per client) and ``idempotency``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType

from faasport.config.fields import Table, describe
from faasport.config.model import Idempotency, RateLimit
from faasport.config.routes import METHODS, Route

#: ``per`` names and their seconds (the same as :data:`faasport.gateway.ratelimit.PERIODS`).
PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
_BY = re.compile("ip|sub|api_key")
_SCOPE = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 scope-token


def parse_scopes(
    table: Table, routes: tuple[Route, ...], auth: str, *, jwt: bool = True
) -> Mapping[str, tuple[str, ...]]:
    """``scopes = ["items:read"]`` (every route of the function) or ``scopes = { "POST
    /items" = ["items:write"] }`` (route key -> scopes, any one of which is needed)."""
    value = table.raw("scopes")
    if not table.has("scopes"):
        return MappingProxyType({})
    if auth == "none" or not jwt:
        table.fail("scopes", 'needs a JWT authorizer: set auth = "NAME" of an [auth.NAME] table')
    found: dict[str, tuple[str, ...]] = {}
    if isinstance(value, list):
        needed = _scope_list(table, "scopes")
        found = {route.key: needed for route in routes}
    elif isinstance(value, dict):
        sub = table.table("scopes")
        assert sub is not None
        keys = {route.key for route in routes}
        for key in list(sub.data):
            if key not in keys:
                listed = ", ".join(sorted(keys)) or "none"
                sub.fail(key, f"is not a route of this function (its routes: {listed})")
            found[key] = _scope_list(sub, key)
        sub.finish()
    else:
        table.fail(
            "scopes",
            f"must be an array of scopes or a table of route -> scopes, got {describe(value)}",
        )
    return MappingProxyType(found)


def _scope_list(table: Table, name: str) -> tuple[str, ...]:
    scopes = table.strings(name, "scope strings") or ()
    if not scopes:
        table.fail(name, 'must list at least one scope, like ["items:read"]')
    for scope in scopes:
        if not _SCOPE.fullmatch(scope):
            table.fail(name, f"a scope has no spaces, quotes or backslashes, got {describe(scope)}")
    return scopes


def parse_rate_limit(table: Table, auth: str) -> RateLimit | None:
    sub = table.table("rate_limit")
    if sub is None:
        return None
    if not sub.has("rate"):
        sub.fail("rate", "is required: the requests each client may make per period")
    rate = sub.integer("rate", 1, 1)
    per_value = sub.raw("per") if sub.has("per") else "minute"
    if isinstance(per_value, str) and per_value in PERIODS:
        per = PERIODS[per_value]
    elif isinstance(per_value, int | float) and not isinstance(per_value, bool) and per_value > 0:
        per = float(per_value)
    else:
        sub.fail(
            "per", f"must be one of {', '.join(PERIODS)} or seconds > 0, got {describe(per_value)}"
        )
    by = sub.string("by", "ip", pattern=_BY, expected='"ip", "sub" or "api_key"')
    if by == "sub" and auth == "none":
        sub.fail("by", 'counts JWT subjects: set auth = "NAME" of an [auth.NAME] table')
    sub.finish()
    return RateLimit(
        rate=rate, per=per, by="sub" if by == "sub" else "api_key" if by == "api_key" else "ip"
    )


def parse_idempotency(table: Table) -> Idempotency | None:
    value = table.raw("idempotency")
    if value is True:
        return Idempotency()
    if value is False or not table.has("idempotency"):
        return None
    sub = table.table("idempotency")
    assert sub is not None
    methods = sub.strings("methods", "HTTP methods") or Idempotency.methods
    for method in methods:
        if method not in METHODS or method == "ANY":
            allowed = ", ".join(m for m in METHODS if m != "ANY")
            sub.fail("methods", f"must be HTTP methods ({allowed}), got {describe(method)}")
    idempotency = Idempotency(
        ttl=sub.integer("ttl", 3600, 1, 7 * 86400),
        payload_hash=sub.boolean("payload_hash", False),
        methods=methods,
    )
    sub.finish()
    return idempotency
