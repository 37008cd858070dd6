"""Request ids and traces carried on to the upstreams.

The request id is the caller's ``X-Request-Id`` when it sent a sane one, else the
invocation's own (Lambda's request id), else a new one; the client gets it back. The trace
is the invocation's (W3C ``traceparent``, X-Ray's ``_X_AMZN_TRACE_ID``, Cloud Trace), read
by faasport, or a new one: each upstream call gets it as ``traceparent`` and
``X-Amzn-Trace-Id`` with a span id of its own.
"""

from __future__ import annotations

import os
import re
import uuid
from typing import Any

from faasport.core import trace

_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


def request_id(scope: dict[str, Any], incoming: str | None) -> str:
    if incoming and _REQUEST_ID.fullmatch(incoming):
        return incoming
    context = scope.get("aws.context")
    own = getattr(context, "aws_request_id", None)
    return own if isinstance(own, str) and own else str(uuid.uuid4())


def outgoing(traceparent: str | None) -> dict[str, str]:
    """Trace headers for one upstream call: faasport's current trace, the caller's
    ``traceparent``, or a new trace."""
    found = trace.headers()
    if found:
        return found
    parent = trace.parse_traceparent(traceparent) if traceparent else None
    trace_id = parent.trace_id if parent else os.urandom(16).hex()
    sampled = "1" if parent is None or parent.sampled else "0"
    span = os.urandom(8).hex()
    return {
        "traceparent": f"00-{trace_id}-{span}-0{sampled}",
        "X-Amzn-Trace-Id": f"Root=1-{trace_id[:8]}-{trace_id[8:]};Parent={span};Sampled={sampled}",
    }
