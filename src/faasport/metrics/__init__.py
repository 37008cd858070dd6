"""Counters, timings and gauges with dimensions, written once per invocation.

``metrics.count("orders", 2, plan="pro")``, ``metrics.timing("db", 12.5)`` and
``metrics.gauge("queue_depth", 40)`` record into a buffer; the provider entry point calls
:func:`flush` when the invocation ends, which writes the buffer to stdout: CloudWatch
Embedded Metric Format on AWS (and under ``faasport dev``), structured JSON lines on Google
Cloud and Azure (see docs/observability.md for both shapes). On a cloud (and under
``faasport dev``) the first invocation of an environment also counts ``ColdStart``.

``FAASPORT_METRICS`` (``emf``, ``structured`` or ``off``) chooses the format explicitly;
``FAASPORT_METRICS_NAMESPACE`` names the CloudWatch namespace (default: the function name).
"""

from __future__ import annotations

import os
import sys
import time

from faasport.core import logs
from faasport.core.errors import ConfigError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from faasport.metrics.buffer import Dimensions, Series

__all__ = ["UNITS", "configure", "count", "flush", "gauge", "timing"]

#: CloudWatch unit of each kind of metric.
UNITS = {"count": "Count", "timing": "Milliseconds", "gauge": "None"}
FORMAT_VARIABLE = "FAASPORT_METRICS"
NAMESPACE_VARIABLE = "FAASPORT_METRICS_NAMESPACE"
FORMATS = ("emf", "structured", "off")
MAX_NAME = 255

#: Recorded series of the current invocation: dimensions -> metric name -> series.
_pending: dict[Dimensions, dict[str, Series]] = {}
#: Settings chosen by :func:`configure`, else read from the environment on first flush.
_settings: dict[str, str] = {}
#: Where a cold start is counted by itself: on a cloud, and under ``faasport dev``.
_PLATFORM_VARIABLES = {
    "AWS_LAMBDA_FUNCTION_NAME",
    "K_SERVICE",
    "FUNCTION_TARGET",
    "FUNCTIONS_WORKER_RUNTIME",
}
#: True once this environment's cold start has been counted.
_cold_counted: list[bool] = []


def count(name: str, value: float = 1, **dimensions: object) -> None:
    """Add ``value`` to the counter ``name`` (CloudWatch unit ``Count``)."""
    _record("count", name, value, dimensions)


def timing(name: str, ms: float, **dimensions: object) -> None:
    """Record a duration of ``ms`` milliseconds."""
    _record("timing", name, ms, dimensions)


def gauge(name: str, value: float, **dimensions: object) -> None:
    """Record a level (every value recorded in the invocation is kept)."""
    _record("gauge", name, value, dimensions)


def _record(kind: str, name: str, value: float, dimensions: dict[str, object]) -> None:
    from faasport.metrics.buffer import add, check

    add(_pending, kind, check(kind, name, value, dimensions))


def configure(*, namespace: str | None = None, format: str | None = None) -> None:
    """Choose the namespace and output format in code, instead of the environment."""
    if format is not None:
        if format not in FORMATS:
            raise ConfigError(
                f'metrics format: must be one of {", ".join(FORMATS)}, got "{format}"'
            )
        _settings["format"] = format
    if namespace is not None:
        if not namespace.strip() or len(namespace) > MAX_NAME:
            raise ConfigError("metrics namespace: must be 1 to 255 characters, not blank")
        _settings["namespace"] = namespace


def function_name() -> str:
    env = os.environ
    return (
        env.get("AWS_LAMBDA_FUNCTION_NAME")
        or env.get("K_SERVICE")
        or env.get("FUNCTION_TARGET")
        or env.get("WEBSITE_SITE_NAME")
        or "faasport"
    )


def output_format() -> str:
    chosen = _settings.get("format")
    if chosen is None:
        env = os.environ
        chosen = env.get(FORMAT_VARIABLE, "")
        if chosen and chosen not in FORMATS:
            raise ConfigError(
                f'{FORMAT_VARIABLE}: must be one of {", ".join(FORMATS)}, got "{chosen}"'
            )
        if not chosen:
            google_or_azure = ("K_SERVICE", "FUNCTION_TARGET", "FUNCTIONS_WORKER_RUNTIME")
            chosen = "structured" if any(env.get(v) for v in google_or_azure) else "emf"
        _settings["format"] = chosen
    return chosen


def namespace() -> str:
    return _settings.get("namespace") or os.environ.get(NAMESPACE_VARIABLE) or function_name()


def flush() -> None:
    """Write what the invocation recorded (and its cold start) to stdout, then forget it.
    Called by the entry points at the end of every invocation; cheap when nothing is
    pending."""
    if _cold_counted and not _pending:
        return  # the usual invocation: nothing recorded
    cold = False
    if not _cold_counted and logs.get()["cold_start"] is True:
        _cold_counted.append(True)
        cold = _PLATFORM_VARIABLES & os.environ.keys() != set()
    if not (_pending or cold):
        return
    fmt = output_format()
    pending: dict[Dimensions, dict[str, Series]] = {}
    if cold:
        key = (("function", function_name()),)
        pending[key] = {"ColdStart": ("count", [1]), **_pending.pop(key, {})}
    pending.update(_pending)
    _pending.clear()
    if fmt == "off":
        return
    timestamp = int(time.time() * 1000)
    if fmt == "emf":
        from faasport.metrics.emf import lines
    else:
        from faasport.metrics.structured import lines
    text = "".join(line + "\n" for line in lines(pending, namespace(), timestamp))
    out = sys.stdout
    out.write(text)
    out.flush()
