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


@dataclass(slots=True)
class Match:
    function: str
    route: Route
    params: Mapping[str, str]


def _priority(route: Route) -> tuple[bool, tuple[int, ...], bool]:
    return (route.greedy, tuple(kind for kind, _ in route.segments), route.method == "ANY")


class _Pattern:
    """A route with parameters, taken apart once for matching."""

    __slots__ = ("fixed", "function", "greedy", "method", "route")

    def __init__(self, function: str, route: Route) -> None:
        self.function = function
        self.route = route
        self.method = route.method
        segments = route.segments
        #: The segments before a greedy parameter (all of them without one).
        self.fixed = segments[:-1] if route.greedy else segments
        #: The greedy parameter's name, if the route ends with one.
        self.greedy = segments[-1][1] if route.greedy else None

    def bind(self, parts: list[str]) -> dict[str, str] | None:
        """The path parameters when ``parts`` (the request path's segments) fit."""
        fixed = self.fixed
        count = len(fixed)
        if self.greedy is not None:
            if len(parts) <= count:
                # A greedy parameter takes at least one segment. The one exception is the
                # catch-all ``/{proxy+}``, which also answers ``/`` here: the configuration
                # means "every path", and deploy pairs it with a ``/`` route to do the same.
                return {} if count == 0 and not parts else None
        elif len(parts) != count:
            return None
        params: dict[str, str] = {}
        for (kind, text), part in zip(fixed, parts, strict=False):
            if kind == LITERAL:
                if part != text:
                    return None
            elif not part:
                return None
            else:
                params[text] = part
        if self.greedy is not None:
            rest = "/".join(parts[count:]) if count else "/".join(parts)
            if not rest:
                return None
            params[self.greedy] = rest
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
        self._patterns = [_Pattern(function, route) for function, route in patterns]

    @classmethod
    def for_functions(cls, functions: Mapping[str, Function]) -> Router:
        return cls((name, route) for name, fn in functions.items() for route in fn.routes)

    @property
    def entries(self) -> list[tuple[str, Route]]:
        """Every (target, route) pair, to build a larger router from."""
        return [*self._exact.values(), *((p.function, p.route) for p in self._patterns)]

    def match(self, method: str, path: str) -> Match | None:
        """The route that answers ``method path`` (path percent-decoded), or None."""
        exact = self._exact
        if exact:
            found = exact.get((method, path)) or exact.get(("ANY", path))
            if found is not None:
                return Match(found[0], found[1], {})
        parts = path[1:].split("/") if path != "/" else []
        for pattern in self._patterns:
            if pattern.method != method and pattern.method != "ANY":
                continue
            params = pattern.bind(parts)
            if params is not None:
                return Match(pattern.function, pattern.route, params)
        return None
