"""CloudWatch Embedded Metric Format: one JSON document per line, which CloudWatch Logs
turns into metrics. A document holds one set of dimension values, at most 100 metrics and
at most 100 values per metric; a buffer past those limits is split into more documents."""

from __future__ import annotations

import json

from faasport.metrics import UNITS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from faasport.metrics.buffer import Dimensions, Series

MAX_METRICS = 100
MAX_VALUES = 100


def lines(
    pending: dict[Dimensions, dict[str, Series]], namespace: str, timestamp: int
) -> list[str]:
    return [
        json.dumps(document, separators=(",", ":"), ensure_ascii=False)
        for document in documents(pending, namespace, timestamp)
    ]


def documents(
    pending: dict[Dimensions, dict[str, Series]], namespace: str, timestamp: int
) -> Iterator[dict[str, Any]]:
    for dims, group in pending.items():
        remaining = {name: (kind, values) for name, (kind, values) in group.items()}
        while remaining:
            names = list(remaining)[:MAX_METRICS]
            document: dict[str, Any] = {
                "_aws": {
                    "Timestamp": timestamp,
                    "CloudWatchMetrics": [
                        {
                            "Namespace": namespace,
                            "Dimensions": [[key for key, _ in dims]],
                            "Metrics": [
                                {"Name": name, "Unit": UNITS[remaining[name][0]]} for name in names
                            ],
                        }
                    ],
                },
                **dict(dims),
            }
            for name in names:
                kind, values = remaining[name]
                taken, rest = values[:MAX_VALUES], values[MAX_VALUES:]
                document[name] = taken[0] if len(taken) == 1 else taken
                if rest:
                    remaining[name] = (kind, rest)
                else:
                    del remaining[name]
            yield document
