"""``faasport.secrets`` and ``faasport.db`` ship inside functions: importing them must pull
in no third-party module (boto3, SQLAlchemy) and none of the heavier standard modules that
only a fetch needs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

PROBE = """
import json, sys
before = set(sys.modules)
import {module}
print(json.dumps(sorted(set(sys.modules) - before)))
"""
#: Loaded on the first fetch from a cloud store, never at import.
LATER = {"urllib.request", "http.client", "ssl", "tomllib", "asyncio", "logging"}


@pytest.mark.parametrize("module", ["faasport.secrets", "faasport.db"])
def test_import_is_standard_library_only(module: str) -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded = set(json.loads(out.stdout))
    assert module in loaded
    third_party = {m.split(".")[0] for m in loaded} - set(sys.stdlib_module_names) - {"faasport"}
    assert third_party == set()
    assert LATER & loaded == set()
