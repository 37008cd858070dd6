"""Route keys, as the configuration reads them: the parser lives in :mod:`faasport.core.routes`,
where the policies inside a deployed function reach it without the configuration tools."""

from __future__ import annotations

from faasport.core.routes import GREEDY, LITERAL, METHODS, PARAM, Route, parse_route

__all__ = ["GREEDY", "LITERAL", "METHODS", "PARAM", "Route", "parse_route"]
