"""Event records sit in the core layer, each provider decodes its own events, and
``faasport.events`` reaches the providers only lazily: checked on the import statements
that run when a module is imported (module level, outside functions)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "faasport"


def eager_imports(path: Path) -> set[str]:
    """The faasport modules ``path`` imports at module level."""
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.startswith("faasport")}


@pytest.mark.parametrize(
    ("module", "allowed"),
    [
        ("core/records.py", ()),
        ("aws/events.py", ("faasport.core",)),
        ("aws/event_builder.py", ("faasport.core",)),
        ("aws/attribute_values.py", ()),
        ("gcp/events.py", ("faasport.core", "faasport.gcp")),
        ("azure/events.py", ("faasport.core",)),
        ("events/__init__.py", ("faasport.core", "faasport.events")),
        ("events/records.py", ("faasport.core",)),
        ("events/batch.py", ("faasport.core", "faasport.events")),
    ],
)
def test_event_modules_import_only_below_them(module: str, allowed: tuple[str, ...]) -> None:
    imported = eager_imports(SRC / module)
    wrong = {name for name in imported if not name.startswith(allowed)} if allowed else imported
    assert wrong == set()


def test_no_provider_imports_the_events_package() -> None:
    for provider in ("aws", "gcp", "azure", "core"):
        for path in (SRC / provider).rglob("*.py"):
            source = path.read_text()
            assert "faasport.events" not in {
                name
                for node in ast.walk(ast.parse(source))
                if isinstance(node, ast.ImportFrom) and node.module
                for name in [node.module]
            }, path
