"""The runtime ships inside every function: importing it must stay cheap and stdlib-only."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

RUNTIME = [
    "faasport.aws",
    "faasport.core",
    "faasport.gcp",
    "faasport.azure",
    "faasport.events",
    "faasport.secrets",
    "faasport.db",
    "faasport.metrics",
    "faasport.state",
    "faasport.gateway",
    "faasport.websocket",
]

PROBE = """
import json, sys
before = set(sys.modules)
import {module}
new = sorted(set(sys.modules) - before)
print(json.dumps(new))
"""


@pytest.mark.parametrize("module", RUNTIME)
def test_runtime_imports_only_the_standard_library(module: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = json.loads(out.stdout)
    third_party = sorted(
        {m.split(".")[0] for m in loaded} - set(sys.stdlib_module_names) - {"faasport"}
    )
    assert third_party == []
    # Cheap at import: the event loop, logging and typing arrive only when needed.
    # A fetch of a secret brings urllib, ssl and tomllib; importing does not.
    later = {"asyncio", "logging", "typing", "json", "inspect", "urllib.request", "ssl", "tomllib"}
    assert not later & set(loaded)
