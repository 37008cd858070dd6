"""Route keys as API Gateway HTTP APIs write them: ``"GET /items/{id}"``, ``"ANY /{proxy+}"``.

A path is ``/`` or ``/``-separated segments, each a literal, a ``{name}`` parameter, or, as
the last segment only, a greedy ``{name+}`` parameter that takes the rest of the path.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "ANY")

_PARAM = re.compile(r"\{([A-Za-z0-9_.-]+)(\+?)\}")
_LITERAL = re.compile(r"[A-Za-z0-9._~!$&'()*+,;=:@%-]+")

LITERAL, PARAM, GREEDY = 0, 1, 2


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    #: Per segment: its kind (LITERAL, PARAM, GREEDY) and its literal text or parameter name.
    segments: tuple[tuple[int, str], ...]

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def greedy(self) -> bool:
        return bool(self.segments) and self.segments[-1][0] == GREEDY

    @property
    def shape(self) -> str:
        """The path with parameter names erased: two routes with the same method and shape
        answer exactly the same requests (``/items/{id}`` and ``/items/{key}`` clash)."""
        parts = (
            "{+}" if kind == GREEDY else "{}" if kind == PARAM else text
            for kind, text in self.segments
        )
        return "/" + "/".join(parts)

    def __str__(self) -> str:
        return self.key


def parse_route(text: str) -> Route:
    """Parse ``"METHOD /path"``; raises ValueError saying what is wrong."""
    method, _, path = text.partition(" ")
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    if not path.startswith("/"):
        raise ValueError("must look like \"METHOD /path\" with the path starting with '/'")
    if path == "/":
        return Route(method, path, ())
    segments: list[tuple[int, str]] = []
    names: set[str] = set()
    raw = path[1:].split("/")
    for index, segment in enumerate(raw):
        if not segment:
            raise ValueError("path has an empty segment ('//' or a trailing '/')")
        param = _PARAM.fullmatch(segment)
        if param:
            name, plus = param.groups()
            if name in names:
                raise ValueError(f"path parameter {{{name}}} appears twice")
            names.add(name)
            if plus and index != len(raw) - 1:
                raise ValueError(f"greedy parameter {{{name}+}} must be the last segment")
            segments.append((GREEDY if plus else PARAM, name))
        elif "{" in segment or "}" in segment:
            raise ValueError(f"segment {segment!r} must be a literal or a whole {{name}} parameter")
        elif not _LITERAL.fullmatch(segment):
            raise ValueError(f"segment {segment!r} has characters not allowed in a path")
        else:
            segments.append((LITERAL, segment))
    return Route(method, path, tuple(segments))
