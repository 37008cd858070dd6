"""Recorded real events (tests/fixtures/events, sources in its README.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

EVENTS = Path(__file__).parent / "fixtures" / "events"


def recorded(name: str) -> dict[str, Any]:
    """A fresh copy of the recorded event ``name`` (file name without ``.json``)."""
    data: dict[str, Any] = json.loads((EVENTS / f"{name}.json").read_text())
    return data


def names(prefix: str) -> list[str]:
    """The recorded events whose file name starts with ``prefix``."""
    return sorted(p.stem for p in EVENTS.glob(f"{prefix}*.json"))
