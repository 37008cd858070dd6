"""The trace of the current invocation: where it comes from, its id in every log line, and
the headers that carry it on to the calls a function makes.

Sources, first found wins: a W3C ``traceparent`` request header, Google Cloud's
``X-Cloud-Trace-Context`` header, then AWS X-Ray's ``_X_AMZN_TRACE_ID`` (which Lambda's
runtime sets for each invocation). The trace id is kept in W3C form, 32 hex digits: X-Ray's
``Root=1-5759e988-bd862e3fe1be46a994272793`` is ``5759e988bd862e3fe1be46a994272793``.
Parsing waits until a log line or :func:`headers` needs it; the AWS entry point does not
even look the headers up before then (:func:`begin_headers` keeps the event's header map).
"""

from __future__ import annotations

import os
from contextvars import ContextVar

#: Marks trace headers given to :func:`begin` (rather than a header map to look them up in).
_GIVEN = object()
#: The raw trace headers of the current invocation, set by the provider entry points: given
#: (``"traceparent"``, ``"cloud"``), or the event's header map (``"headers"``), read when
#: the trace is first needed.
#: ``"xray"`` is the invocation's X-Ray header when the runtime client cannot put it in the
#: process-wide ``_X_AMZN_TRACE_ID`` (several invocations at once); None reads that variable.
current: dict[str, object] = {"traceparent": None, "cloud": None, "headers": _GIVEN, "xray": None}
_var: ContextVar[dict[str, object]] = ContextVar("faasport_trace", default=current)
#: The current invocation's trace sources (``current`` unless :func:`isolate` gave it its own).
get = _var.get
_HEX = "0123456789abcdef"
_cache: list[tuple[tuple[str | None, ...], Trace | None]] = []


class Trace:
    """A trace id (32 hex digits), the caller's span id (16 hex digits, or None) and
    whether the caller sampled it."""

    __slots__ = ("parent_id", "sampled", "trace_id")

    def __init__(self, trace_id: str, parent_id: str | None, sampled: bool) -> None:
        self.trace_id = trace_id
        self.parent_id = parent_id
        self.sampled = sampled

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Trace) and (
            (self.trace_id, self.parent_id, self.sampled)
            == (other.trace_id, other.parent_id, other.sampled)
        )

    def __repr__(self) -> str:
        return f"Trace({self.trace_id!r}, {self.parent_id!r}, {self.sampled!r})"


def isolate(xray: str | None) -> None:
    """Give the running context trace sources of its own (see
    :func:`faasport.core.logcontext.isolate`), with ``xray`` as its X-Ray header."""
    _var.set({"traceparent": None, "cloud": None, "headers": _GIVEN, "xray": xray or ""})


def begin(traceparent: str | None = None, cloud: str | None = None) -> None:
    """Enter an invocation whose request carried these headers (None when absent)."""
    current = get()
    current["traceparent"] = traceparent
    current["cloud"] = cloud
    current["headers"] = _GIVEN


def _raw() -> tuple[str | None, str | None]:
    """The current invocation's ``traceparent`` and ``X-Cloud-Trace-Context`` values."""
    current = _var.get()
    headers = current["headers"]
    if headers is _GIVEN:
        values = (current["traceparent"], current["cloud"])
    elif type(headers) is dict:
        get = headers.get
        values = (
            get("traceparent") or get("Traceparent"),
            get("x-cloud-trace-context") or get("X-Cloud-Trace-Context"),
        )
    else:
        return None, None
    traceparent, cloud = values
    return (
        traceparent if isinstance(traceparent, str) else None,
        cloud if isinstance(cloud, str) else None,
    )


def context() -> Trace | None:
    """The current invocation's trace, or None when no source carries a valid one."""
    given = get()["xray"]
    key = (*_raw(), os.environ.get("_X_AMZN_TRACE_ID") if given is None else str(given))
    cached = _cache[0] if _cache else None  # one read: other threads may replace it
    if cached is not None and cached[0] == key:
        return cached[1]
    traceparent, cloud, xray = key
    found = (
        (traceparent and parse_traceparent(traceparent))
        or (cloud and parse_cloud_trace(cloud))
        or (xray and parse_xray(xray))
        or None
    )
    _cache[:] = [(key, found)]
    return found


def trace_id() -> str | None:
    found = context()
    return found.trace_id if found is not None else None


def headers() -> dict[str, str]:
    """Headers carrying the current trace to an outgoing call, with a new span id for it
    (W3C ``traceparent`` and X-Ray's ``X-Amzn-Trace-Id``); empty outside a trace."""
    found = context()
    if found is None:
        return {}
    span = os.urandom(8).hex()
    flag = "1" if found.sampled else "0"
    tid = found.trace_id
    return {
        "traceparent": f"00-{tid}-{span}-0{flag}",
        "X-Amzn-Trace-Id": f"Root=1-{tid[:8]}-{tid[8:]};Parent={span};Sampled={flag}",
    }


def _hex(text: str, length: int) -> bool:
    return len(text) == length and not text.strip(_HEX) and text.strip("0") != ""


def parse_traceparent(value: str) -> Trace | None:
    """``00-<trace id>-<parent id>-<flags>`` (W3C Trace Context), else None."""
    parts = value.strip().lower().split("-")
    if len(parts) < 4 or len(parts[0]) != 2 or parts[0] == "ff" or parts[0].strip(_HEX):
        return None
    version, tid, parent, flags = parts[:4]
    if (version == "00" and len(parts) != 4) or not (_hex(tid, 32) and _hex(parent, 16)):
        return None
    if len(flags) != 2 or flags.strip(_HEX):
        return None
    return Trace(tid, parent, bool(int(flags, 16) & 1))


def parse_cloud_trace(value: str) -> Trace | None:
    """``<trace id>/<decimal span id>;o=1`` (Google Cloud), else None."""
    head, _, options = value.strip().partition(";")
    tid, _, span = head.partition("/")
    tid = tid.lower()
    if not _hex(tid, 32):
        return None
    parent = None
    if span.isdigit() and 0 < int(span) < 2**64:
        parent = f"{int(span):016x}"
    return Trace(tid, parent, options.strip() == "o=1")


def parse_xray(value: str) -> Trace | None:
    """``Root=1-<8 hex>-<24 hex>;Parent=<16 hex>;Sampled=<0|1>`` (AWS X-Ray), else None."""
    fields = dict(part.strip().partition("=")[::2] for part in value.split(";"))
    root = fields.get("Root", "").lower().split("-")
    if len(root) != 3 or root[0] != "1" or not (len(root[1]) == 8 and len(root[2]) == 24):
        return None
    tid = root[1] + root[2]
    if not _hex(tid, 32):
        return None
    parent = fields.get("Parent", "").lower()
    return Trace(tid, parent if _hex(parent, 16) else None, fields.get("Sampled") == "1")


def begin_headers(headers: object) -> None:
    """:func:`begin` from an event's header map (a dict, or None when it has none): kept
    as it is, its trace headers looked up only if the invocation needs its trace. This runs
    on every invocation; most never log a line or call out."""
    get()["headers"] = headers
