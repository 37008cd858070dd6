"""The phoney package importable from examples/phoney, as the function's root is when deployed;
and its settings read again for each test that changes the environment."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set PHONEY_* variables with ``environment.setenv``; settings are read again."""
    from phoney.settings import settings

    settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    settings.cache_clear()
