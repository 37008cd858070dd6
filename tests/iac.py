"""Reading generated infrastructure as code with the real tools: Terraform parsed by
python-hcl2, a folder scanned by checkov, and generation repeated in fresh processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hcl2

REPO = Path(__file__).resolve().parents[1]


def unquote(value: Any, *, comments: bool = False) -> Any:
    """python-hcl2's result as plain values: it keeps the quotes on strings and labels and
    the ``$${`` escapes; drop them, and its ``__is_block__`` markers (its ``__comments__``
    too, unless ``comments``)."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return json.loads(value).replace("$${", "${")
    if isinstance(value, dict):
        return {
            unquote(k, comments=comments): unquote(v, comments=comments)
            for k, v in value.items()
            if not k.startswith("__") or (comments and k.endswith("comments__"))
        }
    if isinstance(value, list):
        return [unquote(item, comments=comments) for item in value]
    return value


def resources(
    files: Mapping[str, str], kind: str = "resource", *, comments: bool = False
) -> dict[str, dict[str, Any]]:
    """The ``kind`` blocks of every file as ``{"google_x": {"name": body}}``."""
    found: dict[str, dict[str, Any]] = {}
    for text in files.values():
        for block in unquote(hcl2.loads(text), comments=comments).get(kind, []):
            for type_, named in block.items():
                found.setdefault(type_, {}).update(named)
    return found


def parse_tf(files: Mapping[str, str], folder: str) -> dict[str, list[Any]]:
    """The Terraform files directly in ``folder`` ("" for the root module), parsed and
    merged by block type."""
    merged: dict[str, list[Any]] = {}
    for name, text in sorted(files.items()):
        if name.rpartition("/")[0] == folder:
            for kind, found in hcl2.loads(text).items():
                merged.setdefault(kind, []).extend(found)
    parsed: dict[str, list[Any]] = unquote(merged)
    return parsed


def blocks(parsed: dict[str, list[Any]], kind: str) -> dict[str, Any]:
    """The blocks of one type by their first label."""
    return {label: body for block in parsed.get(kind, []) for label, body in block.items()}


def write_files(files: Mapping[str, str], directory: Path) -> None:
    """Write a plan's files (paths relative to ``directory``)."""
    for name, text in files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def run_checkov(directory: Path, *flags: str) -> Any:
    """One offline checkov run over ``directory`` (no platform API key, no policy download,
    no check for a newer checkov); its JSON report. ``flags`` name the frameworks."""
    executable = os.environ.get("FAASPORT_CHECKOV") or str(REPO / ".venv-tools/bin/checkov")
    assert Path(executable).is_file(), f"checkov not found at {executable}: run make install"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_", "CKV_", "PRISMA_"))}
    env.update(BC_SKIP_MAPPING="TRUE", CKV_SKIP_PACKAGE_UPDATE_CHECK="true")
    started = time.monotonic()
    result = subprocess.run(
        [executable, "-d", str(directory), *flags, "--compact", "--skip-download", "-o", "json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    print(f"checkov: {time.monotonic() - started:.1f} s")
    assert result.stdout, result.stderr
    return json.loads(result.stdout)


def checkov_passes(directory: Path, *, skipped: bool = False) -> set[str]:
    """checkov's CloudFormation and Terraform checks over the deployments written below
    ``directory``, one folder each: asserts that none failed and that none of its files failed
    to parse; the folders with a passed check (or a skipped one too, with ``skipped``)."""
    found = run_checkov(directory, "--framework", "cloudformation", "terraform")
    reports: list[Any] = found if isinstance(found, list) else [found]
    failed = [
        (check["check_id"], check["file_path"], check["resource"])
        for report in reports
        for check in report["results"]["failed_checks"]
    ]
    assert failed == []
    assert [report["summary"]["parsing_errors"] for report in reports] == [0] * len(reports)
    kinds = ("passed_checks", "skipped_checks") if skipped else ("passed_checks",)
    return {
        check["file_path"].split("/")[1]
        for report in reports
        for kind in kinds
        for check in report["results"][kind]
    }


def same_output_in_two_processes(script: str, project: Path) -> str:
    """What ``python -c script project`` prints, the same under two hash seeds."""
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script, str(project)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        ).stdout
        for seed in ("1", "2")
    }
    assert len(outputs) == 1
    return outputs.pop()
