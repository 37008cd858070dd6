"""Metrics as structured JSON log lines, for Google Cloud and Azure, whose log-based
metrics read a number from a field of a log entry: one line per counter (its sum) and one
per timing or gauge value, each with ``severity`` (Cloud Logging) and a ``faasport_metric``
object holding the name, kind, unit, value and dimensions."""

from __future__ import annotations

import json
import time

from faasport.metrics import UNITS

TYPE_CHECKING = False
if TYPE_CHECKING:
    from faasport.metrics.buffer import Dimensions, Series


def lines(
    pending: dict[Dimensions, dict[str, Series]], namespace: str, timestamp: int
) -> list[str]:
    seconds, millis = divmod(timestamp, 1000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{millis:03d}Z"
    out = []
    for dims, group in pending.items():
        dimensions = dict(dims)
        for name, (kind, values) in group.items():
            unit = UNITS[kind]
            for value in values:
                entry = {
                    "severity": "INFO",
                    "message": f"metric {name}={value:g} {unit}",
                    "timestamp": stamp,
                    "faasport_metric": {
                        "namespace": namespace,
                        "name": name,
                        "kind": kind,
                        "unit": unit,
                        "value": value,
                        "dimensions": dimensions,
                    },
                }
                out.append(json.dumps(entry, separators=(",", ":"), ensure_ascii=False))
    return out
