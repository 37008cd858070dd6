"""The ``[api]`` table: which API Gateway API fronts the HTTP functions, and its CORS."""

from __future__ import annotations

import re
from typing import NoReturn

from faasport.config.fields import Table, describe, join
from faasport.config.functions import parse_throttle
from faasport.config.model import Api, Cors, Throttle
from faasport.config.routes import METHODS

_ORIGIN = re.compile(r"\*|https?://[^/\s]+")
_HEADER = re.compile(r"\*|[A-Za-z0-9!#$%&'*+.^_`|~-]+")


def parse_api(top: Table) -> Api:
    table = top.table("api")
    if table is None:
        return Api()
    kind = table.string(
        "type", "http", pattern=re.compile("http|rest"), expected='"http" or "rest"'
    )
    api = Api(
        type="rest" if kind == "rest" else "http",
        cors=_cors(table),
        throttle=parse_throttle(table) or Throttle(),
    )
    table.finish()
    return api


def _cors(table: Table) -> Cors | None:
    sub = table.table("cors")
    if sub is None:
        return None
    origins = sub.strings("origins", "origins")
    if not origins:
        sub.fail("origins", 'must list the allowed origins, like ["https://app.example.com"]')
    for index, origin in enumerate(origins):
        if not _ORIGIN.fullmatch(origin):
            _fail(
                sub,
                "origins",
                index,
                f'must be "*" or an origin like https://example.com '
                f"without a path, got {describe(origin)}",
            )
    methods = sub.strings("methods", "HTTP methods") or ("*",)
    for index, method in enumerate(methods):
        if method != "*" and (method not in METHODS or method == "ANY"):
            allowed = ", ".join(m for m in METHODS if m != "ANY")
            _fail(sub, "methods", index, f'must be "*" or one of {allowed}, got {describe(method)}')
    headers = sub.strings("headers", "header names") or ("*",)
    for index, header in enumerate(headers):
        if not _HEADER.fullmatch(header):
            _fail(sub, "headers", index, f'must be "*" or a header name, got {describe(header)}')
    cors = Cors(
        origins=origins,
        methods=methods,
        headers=headers,
        max_age=sub.integer("max_age", 0, 0, 86400),
    )
    sub.finish()
    return cors


def _fail(table: Table, name: str, index: int, message: str) -> NoReturn:
    table.source.fail(join(table.key(name), index), message)
