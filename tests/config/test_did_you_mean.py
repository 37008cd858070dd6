"""Every key of the configuration, misspelled, is named with a "did you mean": top-level keys,
tables, nested tables, inline tables and the tables inside arrays (event sources,
subscriptions) — including keys that are required, whose absence would otherwise be
reported first."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from faasport.config import load_project
from faasport.core.errors import ConfigError
from projects import AWS_EVENTS, AWS_EVERY_KEY, AWS_REST, GCP_AZURE_EVERY_KEY

CONFIGS = {
    "aws": AWS_EVERY_KEY,
    "events": AWS_EVENTS,
    "rest": AWS_REST,
    "gcp-azure": GCP_AZURE_EVERY_KEY,
}
#: Tables whose keys the user names (functions, queues...), and values that are data
#: (EventBridge patterns, subscription filters): no key there is faasport's to suggest.
USER_NAMED = {"functions", "queues", "topics", "tables", "auth", "environment", "traffic", "proxy"}
DATA = {"pattern", "filter"}

Path_ = tuple[str | int, ...]


def schema_keys(data: Any, path: Path_ = ()) -> Iterator[Path_]:
    if isinstance(data, dict):
        for key, value in data.items():
            if not (path and path[-1] in USER_NAMED):
                yield (*path, key)
            if key not in DATA:
                yield from schema_keys(value, (*path, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            yield from schema_keys(value, (*path, index))


def renamed(data: dict[str, Any], path: Path_, new: str) -> dict[str, Any]:
    data = copy.deepcopy(data)
    table: Any = data
    for part in path[:-1]:
        table = table[part]
    items = list(table.items())
    table.clear()
    table.update((new if key == path[-1] else key, value) for key, value in items)
    return data


def toml(value: Any) -> str:
    """TOML for ``value``: every table inline (TOML's inline tables nest freely)."""
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{json.dumps(k)} = {toml(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value)


def misspell(key: str) -> str:
    return key + key[-1]  # "queues" -> "queuess", "on" -> "onn"


CASES = [
    pytest.param(name, path, id=f"{name}:{'.'.join(map(str, path))}")
    for name, config in CONFIGS.items()
    for path in schema_keys(tomllib.loads(config))
]


@pytest.mark.parametrize(("config", "path"), CASES)
def test_every_misspelled_key_gets_did_you_mean(config: str, path: Path_, tmp_path: Path) -> None:
    data = tomllib.loads(CONFIGS[config])
    key = path[-1]
    assert isinstance(key, str)
    wrong = renamed(data, path, misspell(key))
    (tmp_path / "faasport.toml").write_text(
        "\n".join(f"{json.dumps(k)} = {toml(v)}" for k, v in wrong.items()) + "\n"
    )
    with pytest.raises(ConfigError) as raised:
        load_project(tmp_path)
    assert str(raised.value).endswith(f'unknown key; did you mean "{key}"?'), str(raised.value)


@pytest.mark.parametrize(
    ("config", "line"),
    [
        # A table misspelled: what refers to it would be reported missing first.
        (
            '[functions.w]\nhandler = "a:h"\nevents = [{ queue = "jobs" }]\n[queuess.jobs]\n',
            'queuess: unknown key; did you mean "queues"?',
        ),
        # A required key misspelled.
        (
            '[functions.w]\nhandler = "a:h"\nevents = [{ bus = "default", paterns = {} }]\n',
            'functions.w.events[0].paterns: unknown key; did you mean "pattern"?',
        ),
        (
            '[api]\ncors = { origin = ["https://a.example.com"] }\n',
            'api.cors.origin: unknown key; did you mean "origins"?',
        ),
    ],
)
def test_check_names_the_typo_in_one_line(config: str, line: str, tmp_path: Path) -> None:
    (tmp_path / "faasport.toml").write_text('name = "typos"\n' + config)
    process = subprocess.run(
        [sys.executable, "-m", "faasport.cli.main", "check", "-p", "."],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 1
    assert process.stderr.splitlines() == [f"error: faasport.toml: {line}"]
