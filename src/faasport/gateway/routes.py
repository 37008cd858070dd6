"""Matching a request against route keys (``"GET /items/{id}"``, ``"ANY /{proxy+}"``) the
way API Gateway picks a route: the most specific match wins."""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from faasport.core.routes import Route


class RouteTable:
    """Route keys mapped to values; ``find`` returns the value of the best match."""

    def __init__(self, entries: Mapping[str, object]) -> None:
        from faasport.core.routes import parse_route

        self._routes: list[tuple[Route, object]] = []
        for key, value in entries.items():
            try:
                self._routes.append((parse_route(key), value))
            except ValueError as exc:
                from faasport.core.errors import ConfigError

                raise ConfigError(f"route {key!r}: {exc}") from None

    def find(self, method: str, path: str) -> object | None:
        best: tuple[tuple[int, ...], object] | None = None
        parts = [p for p in path.split("/") if p] if path != "/" else []
        for route, value in self._routes:
            if route.method not in ("ANY", method):
                continue
            rank = _rank(route, parts)
            if rank is not None:
                rank = (*rank, route.method != "ANY")
                if best is None or rank > best[0]:
                    best = (rank, value)
        return None if best is None else best[1]

    def keys(self) -> Iterable[str]:
        return (route.key for route, _ in self._routes)


def _rank(route: Route, parts: list[str]) -> tuple[int, ...] | None:
    """None when ``route`` does not match the path ``parts``; else a sort key: literal
    segments first, then parameters, and a greedy parameter last."""
    from faasport.core.routes import GREEDY, LITERAL

    literals = params = 0
    for index, (kind, text) in enumerate(route.segments):
        if kind == GREEDY:
            return (0, literals, params) if len(parts) > index else None
        if index >= len(parts):
            return None
        if kind == LITERAL:
            if parts[index] != text:
                return None
            literals += 1
        else:
            params += 1
    return (1, literals, params) if len(parts) == len(route.segments) else None
