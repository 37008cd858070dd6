"""Every function's environment names ``[state] url`` as ``FAASPORT_STATE_URL``, a relative
SQLite path made absolute under the project; the function's own environment may override it."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HANDLER = """
import os

def handle(event, context):
    return os.environ.get("FAASPORT_STATE_URL")
"""


def invoke(project: Path) -> object:
    done = subprocess.run(
        [sys.executable, "-m", "faasport.cli.main", "invoke", "job", "--project", str(project)],
        input="{}",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("state", "environment", "expected"),
    [
        ("", "", "sqlite:///{root}/.faasport/state.db"),
        ('[state]\nurl = "redis://127.0.0.1:6379/2"\n', "", "redis://127.0.0.1:6379/2"),
        ("", 'environment = { FAASPORT_STATE_URL = "memory://" }\n', "memory://"),
    ],
    ids=["default", "redis", "overridden"],
)
def test_functions_see_the_state_url(
    tmp_path: Path, state: str, environment: str, expected: str
) -> None:
    (tmp_path / "jobs.py").write_text(HANDLER)
    (tmp_path / "faasport.toml").write_text(
        f'name = "s"\n\n[functions.job]\nhandler = "jobs:handle"\n{environment}\n{state}'
    )
    assert invoke(tmp_path) == expected.format(root=tmp_path.resolve())
