"""JSON log lines: one object per line with timestamp, level, message, request id and
cold-start flag, plus the traceback for exceptions."""

from __future__ import annotations

import json
import logging
import sys
import time
import traceback
from typing import Any

from faasport.core.logcontext import get
from faasport.core.trace import trace_id


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        context = get()
        entry: dict[str, Any] = {
            "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": context["request_id"],
            "cold_start": context["cold_start"],
            "trace_id": trace_id(),
        }
        if record.exc_info:
            entry["exception"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(entry, default=str, ensure_ascii=False)


class _StdoutHandler(logging.Handler):
    """Writes to whatever ``sys.stdout`` is at the time (test runners swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stdout.write(self.format(record) + "\n")
            sys.stdout.flush()
        except Exception:
            self.handleError(record)


def configure(logger: logging.Logger, level: int | str = logging.INFO) -> logging.Logger:
    """Make ``logger`` write JSON lines to stdout (idempotent)."""
    if not any(isinstance(h.formatter, JsonFormatter) for h in logger.handlers):
        handler = _StdoutHandler()
        handler.setFormatter(JsonFormatter())
        logger.addHandler(handler)
        logger.setLevel(level)
        logger.propagate = False
    return logger
