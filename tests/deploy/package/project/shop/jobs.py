"""A plain handler: Lambda passes the raw event, the other clouds a list of records."""

from __future__ import annotations

from typing import Any


def handle(event: Any, context: Any) -> dict[str, int]:
    records = event if isinstance(event, list) else event.get("Records") or []
    return {"processed": len(records)}
