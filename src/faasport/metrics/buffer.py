"""The per-invocation buffer of metric values, and the checks every value passes on entry
(a bad name or value fails where it was recorded, not at the end of the invocation)."""

from __future__ import annotations

import math

#: Dimension (name, value) pairs, sorted by name: the key of one CloudWatch document.
Dimensions = tuple[tuple[str, str], ...]
#: A metric's kind and its values (a counter keeps one running sum).
Series = tuple[str, list[float]]

MAX_NAME = 255
MAX_DIMENSIONS = 30
MAX_DIMENSION_VALUE = 1024


def check(
    kind: str, name: str, value: float, dimensions: dict[str, object]
) -> tuple[str, float, Dimensions]:
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise ValueError(f"metric name must be 1 to {MAX_NAME} characters, not blank: {name!r}")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"metric {name}: the value must be a number, got {type(value).__name__}")
    if not math.isfinite(value):
        raise ValueError(f"metric {name}: the value must be finite, got {value}")
    if len(dimensions) > MAX_DIMENSIONS:
        raise ValueError(
            f"metric {name}: at most {MAX_DIMENSIONS} dimensions, got {len(dimensions)}"
        )
    pairs = []
    for key, raw in sorted(dimensions.items()):
        text = str(raw)
        if not text.strip() or len(text) > MAX_DIMENSION_VALUE:
            raise ValueError(
                f"metric {name}: dimension {key} must be 1 to {MAX_DIMENSION_VALUE} "
                f"characters, not blank"
            )
        if key == name:
            raise ValueError(f"metric {name}: a dimension cannot have the metric's name")
        pairs.append((key, text))
    return name, float(value) if isinstance(value, float) else value, tuple(pairs)


def add(
    pending: dict[Dimensions, dict[str, Series]],
    kind: str,
    checked: tuple[str, float, Dimensions],
) -> None:
    name, value, dims = checked
    group = pending.get(dims)
    if group is None:
        group = pending[dims] = {}
    series = group.get(name)
    if series is None:
        group[name] = (kind, [value])
    elif series[0] != kind:
        raise ValueError(f"metric {name}: recorded as a {series[0]} and as a {kind}")
    elif kind == "count":
        series[1][0] += value
    else:
        series[1].append(value)
