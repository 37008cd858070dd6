from __future__ import annotations

from collections.abc import Iterator

import pytest

import faasport.metrics as metrics
from faasport.core import coldstart, logs


@pytest.fixture(autouse=True)
def fresh_metrics() -> Iterator[None]:
    """Each test starts as a new environment would: nothing pending, nothing configured."""
    saved = dict(logs.current)
    metrics._pending.clear()
    metrics._settings.clear()
    metrics._cold_counted[:] = [True]  # no cold start unless a test asks for one
    yield
    metrics._pending.clear()
    metrics._settings.clear()
    metrics._cold_counted[:] = []
    logs.current.update(saved)
    coldstart.record.pending = False
