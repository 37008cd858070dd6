"""Reading a ``faasport coldstart --json`` report whose project sleeps in one module at import:
the timings of the other imports vary with the machine's load, and on a loaded one a few of
them can take as long as the sleep."""

from __future__ import annotations

from typing import Any

#: The report names at most this many slow imports, the slowest first.
NAMED = 5


def slow_import(report: dict[str, Any], module: str, at_least_ms: float) -> dict[str, Any] | None:
    """The slow-import finding naming ``module``, which took at least ``at_least_ms`` by itself;
    None only when five other imports, each at least as slow, outranked it."""
    named = [f for f in report["findings"] if f["kind"] == "slow-import"]
    for finding in named:
        assert finding["message"].startswith(f"{finding['module']} takes "), finding
        assert " ms to import by itself" in finding["message"], finding
    found = [f for f in named if f["module"] == module]
    if found:
        assert found[0]["ms"] >= at_least_ms, found
        return found[0]
    assert len(named) == NAMED, f"{module} is not named: {named}"
    assert all(f["ms"] >= at_least_ms for f in named), f"{module} is not named: {named}"
    return None


def module_row(report: dict[str, Any], module: str, at_least_ms: float) -> dict[str, Any] | None:
    """The row of ``module`` in the table of modules with the largest cumulative import time;
    None only when the table is full of modules at least ``at_least_ms`` long."""
    rows = {row["module"]: row for row in report["modules"]}
    if module in rows:
        return rows[module]
    assert len(rows) == 15, f"{module} is not in {sorted(rows)}"
    assert all(row["cumulative_ms"] >= at_least_ms for row in rows.values()), rows
    return None
