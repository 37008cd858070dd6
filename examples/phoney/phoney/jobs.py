"""A plain handler: the queue consumer ``worker`` of the phoney example."""

from __future__ import annotations

from typing import Any


def handle(event: dict[str, Any], context: Any) -> dict[str, int]:
    records = event.get("Records") or []
    return {"processed": len(records)}
