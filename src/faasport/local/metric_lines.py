"""EMF lines as ``faasport dev`` shows them: the metrics and dimensions in a few words,
rather than the whole CloudWatch document."""

from __future__ import annotations

import json
from typing import Any


def readable(line: str) -> str:
    """``metrics phoney-api: jobs=10 Count, parse=12.5 Milliseconds [queue=jobs]`` for an
    EMF document (after its ``[function]`` prefix, if any); any other line unchanged."""
    prefix = ""
    if line.startswith("["):
        head, sep, rest = line.partition("] ")
        if sep and rest.startswith('{"_aws":'):
            prefix, line = head + sep, rest
    if not line.startswith('{"_aws":'):
        return prefix + line
    try:
        document: dict[str, Any] = json.loads(line)
        directive = document["_aws"]["CloudWatchMetrics"][0]
        parts = []
        for metric in directive["Metrics"]:
            value = document[metric["Name"]]
            shown = ",".join(f"{v:g}" for v in value) if isinstance(value, list) else f"{value:g}"
            parts.append(f"{metric['Name']}={shown} {metric.get('Unit', 'None')}")
        dimensions = ", ".join(f"{key}={document[key]}" for key in directive["Dimensions"][0])
    except (ValueError, KeyError, IndexError, TypeError):
        return prefix + line
    suffix = f" [{dimensions}]" if dimensions else ""
    return f"{prefix}metrics {directive['Namespace']}: {', '.join(parts)}{suffix}"
