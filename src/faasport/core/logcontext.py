"""The current invocation's log context: provider entry points write ``request_id`` and
``cold_start`` into :func:`get`'s dict, every JSON log line reads them. Its own module so
that :mod:`faasport.core.logs` (imported by every entry point) and
:mod:`faasport.core.jsonlog` (imported on the first log line) both use it without importing
each other.

One invocation at a time per environment uses the module's :data:`current` dict. An
environment serving several at once (``AWS_LAMBDA_MAX_CONCURRENCY``) calls :func:`isolate`
at the start of each: that invocation's thread, and the tasks it starts, then see a dict of
their own, so concurrent invocations never log each other's ids.
"""

from contextvars import ContextVar

current: dict[str, object] = {"request_id": None, "cold_start": False}
_var: ContextVar[dict[str, object]] = ContextVar("faasport_invocation", default=current)
#: The current invocation's context (``current`` unless :func:`isolate` gave it its own).
get = _var.get


def isolate() -> dict[str, object]:
    """Give the running context a log context of its own, and return it."""
    own: dict[str, object] = {"request_id": None, "cold_start": False}
    _var.set(own)
    return own
