"""The ``[proxy]`` table: routes answered by an upstream HTTP server instead of a function,
as API Gateway's HTTP proxy integrations::

    [proxy]
    "ANY /users/{proxy+}" = "http://127.0.0.1:9001/{proxy}"
    "GET /status" = { url = "https://status.internal/health", timeout = 5 }
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from faasport.config.fields import Table, describe, join
from faasport.config.model import Function, ProxyRoute
from faasport.config.routes import parse_route

_PLACEHOLDER = re.compile(r"\{([A-Za-z0-9_.-]+)\}")
#: API Gateway's bounds on an integration timeout, in seconds: HTTP APIs up to 30, REST APIs
#: up to 29 (their default).
MIN_TIMEOUT, MAX_TIMEOUT, MAX_REST_TIMEOUT = 0.05, 30.0, 29.0


def parse_proxies(
    top: Table, functions: Mapping[str, Function], *, rest: bool = False
) -> tuple[ProxyRoute, ...]:
    table = top.table("proxy")
    if table is None:
        return ()
    most = MAX_REST_TIMEOUT if rest else MAX_TIMEOUT
    owners = {
        (route.method, route.shape): (name, route.key)
        for name, fn in functions.items()
        for route in fn.routes
    }
    found: list[ProxyRoute] = []
    for key in list(table.data):
        value: Any = table.raw(key)
        try:
            route = parse_route(key)
        except ValueError as exc:
            table.fail(key, f"bad route: {exc}")
        timeout = most
        if isinstance(value, dict):
            sub = table.table(key)
            assert sub is not None
            url = sub.string("url", None, expected="an http(s) URL")
            if url is None:
                sub.fail(
                    "url", 'is required: the upstream URL, like "http://127.0.0.1:9001/{proxy}"'
                )
            timeout = sub.number("timeout", most)
            if not MIN_TIMEOUT <= timeout <= most:
                api = "a REST API" if rest else "an HTTP API"
                sub.fail(
                    "timeout",
                    f"must be {MIN_TIMEOUT:g} to {most:g} seconds on {api}, got {timeout:g}",
                )
            sub.finish()
            where = join(table.key(key), "url")
        elif isinstance(value, str):
            url, where = value, table.key(key)
        else:
            table.fail(
                key,
                "must be an upstream URL or a table "
                f'{{ url = "...", timeout = 10 }}, got {describe(value)}',
            )
        _check_url(table, where, url, route.segments)
        owner = owners.get((route.method, route.shape))
        if owner is not None:
            table.fail(
                key,
                f'clashes with route "{owner[1]}" of function "{owner[0]}": '
                "both answer the same requests",
            )
        owners[(route.method, route.shape)] = ("[proxy]", key)
        found.append(ProxyRoute(route=route, url=url, timeout=timeout))
    table.finish()
    return tuple(found)


def _check_url(table: Table, where: str, url: str, segments: tuple[tuple[int, str], ...]) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        table.source.fail(where, f"must be an http:// or https:// URL, got {describe(url)}")
    if parts.fragment or parts.username:
        table.source.fail(where, "must have no #fragment and no user:password@")
    names = {name for kind, name in segments if kind != 0}
    for name in _PLACEHOLDER.findall(url):
        if name not in names:
            known = ", ".join(f"{{{n}}}" for n in sorted(names)) or "none"
            table.source.fail(
                where,
                f"uses {{{name}}}, which is not a parameter of the route (its parameters: {known})",
            )
