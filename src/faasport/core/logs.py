"""Per-invocation log context, and faasport's JSON logger (imported on first use).

``logger()`` is ``logging.getLogger("faasport")`` writing one JSON object per line to stdout,
each carrying the invocation's ``request_id`` and ``cold_start`` flag. Apps can use the same
format: ``faasport.core.jsonlog.configure(logging.getLogger())``.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging

#: The current invocation: provider entry points write ``request_id`` and ``cold_start``
#: here (one invocation at a time per environment).
current: dict[str, object] = {"request_id": None, "cold_start": False}
_logger: list[logging.Logger] = []


def logger() -> logging.Logger:
    if not _logger:
        import logging

        from faasport.core.jsonlog import configure

        _logger.append(configure(logging.getLogger("faasport")))
    return _logger[0]
