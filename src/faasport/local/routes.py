"""Which function answers a request: API Gateway HTTP API route selection.

The most specific route wins: any route without a greedy ``{name+}`` before any with one;
then, segment by segment, a literal before a ``{param}`` before a greedy parameter; and for
the same path, a route with a method before ``ANY``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from faasport.config.model import Function
from faasport.config.routes import LITERAL, Route


@dataclass(frozen=True)
class Match:
    function: str
    route: Route
    params: Mapping[str, str]


def _priority(route: Route) -> tuple[bool, tuple[int, ...], bool]:
    return (route.greedy, tuple(kind for kind, _ in route.segments), route.method == "ANY")


def _bind(route: Route, parts: list[str]) -> dict[str, str] | None:
    """The path parameters when ``parts`` (the request path's segments) fit ``route``."""
    segments = route.segments
    fixed = len(segments) - 1 if route.greedy else len(segments)
    if route.greedy:
        if len(parts) <= fixed:
            # A greedy parameter takes at least one segment. The one exception is the
            # catch-all ``/{proxy+}``, which also answers ``/`` here: the configuration
            # means "every path", and deploy pairs it with a ``/`` route to do the same.
            return {} if fixed == 0 and not parts else None
    elif len(parts) != fixed:
        return None
    params: dict[str, str] = {}
    for (kind, text), part in zip(segments[:fixed], parts, strict=False):
        if kind == LITERAL:
            if part != text:
                return None
        elif not part:
            return None
        else:
            params[text] = part
    if route.greedy:
        rest = "/".join(parts[fixed:])
        if not rest:
            return None
        params[segments[-1][1]] = rest
    return params


class Router:
    def __init__(self, routes: Iterable[tuple[str, Route]]) -> None:
        self._exact: dict[tuple[str, str], tuple[str, Route]] = {}
        patterns: list[tuple[str, Route]] = []
        for function, route in routes:
            if all(kind == LITERAL for kind, _ in route.segments):
                self._exact.setdefault((route.method, route.path), (function, route))
            else:
                patterns.append((function, route))
        patterns.sort(key=lambda entry: _priority(entry[1]))
        self._patterns = patterns

    @classmethod
    def for_functions(cls, functions: Mapping[str, Function]) -> Router:
        return cls((name, route) for name, fn in functions.items() for route in fn.routes)

    @property
    def entries(self) -> list[tuple[str, Route]]:
        """Every (target, route) pair, to build a larger router from."""
        return [*self._exact.values(), *self._patterns]

    def match(self, method: str, path: str) -> Match | None:
        """The route that answers ``method path`` (path percent-decoded), or None."""
        exact = self._exact
        found = exact.get((method, path)) or exact.get(("ANY", path))
        if found is not None:
            return Match(found[0], found[1], {})
        parts = path[1:].split("/") if path != "/" else []
        for function, route in self._patterns:
            if route.method != method and route.method != "ANY":
                continue
            params = _bind(route, parts)
            if params is not None:
                return Match(function, route, params)
        return None
