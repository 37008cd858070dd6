"""Per-invocation log context, and faasport's JSON logger (imported on first use).

``logger()`` is ``logging.getLogger("faasport")`` writing one JSON object per line to stdout,
each carrying the invocation's ``request_id`` and ``cold_start`` flag. Apps can use the same
format: ``faasport.core.jsonlog.configure(logging.getLogger())``.
"""

from __future__ import annotations

from faasport.core.logcontext import current, get

TYPE_CHECKING = False
if TYPE_CHECKING:
    import logging

__all__ = ["current", "get", "logger"]
_logger: list[logging.Logger] = []


def logger() -> logging.Logger:
    if not _logger:
        import logging

        from faasport.core.jsonlog import configure

        _logger.append(configure(logging.getLogger("faasport")))
    return _logger[0]
