"""``max_concurrency`` (invocations per environment) and ``capacity_provider`` (Lambda Managed
Instances): their values, and the one-line errors naming key and file."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from faasport.config import Project, load_project
from faasport.core.errors import ConfigError

ARN = "arn:aws:lambda:us-east-1:123456789012:capacity-provider:shared"


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # messages name the file relative to here


def load(tmp_path: Path, keys: str) -> Project:
    text = 'name = "p"\n[functions.api]\napp = "m:app"\n' + textwrap.dedent(keys)
    (tmp_path / "faasport.toml").write_text(text)
    return load_project(tmp_path)


def error(tmp_path: Path, keys: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(tmp_path, keys)
    return str(info.value)


def test_one_at_a_time_unless_said(tmp_path: Path) -> None:
    function = load(tmp_path, "").functions["api"]
    assert (function.max_concurrency, function.capacity_provider) == (1, None)
    function = load(tmp_path, f'max_concurrency = 8\ncapacity_provider = "{ARN}"\n').functions[
        "api"
    ]
    assert (function.max_concurrency, function.capacity_provider) == (8, ARN)


@pytest.mark.parametrize(
    ("value", "got"),
    [("0", "got 0"), ("1601", "got 1601"), ('"8"', 'got "8"'), ("true", "got true")],
)
def test_max_concurrency_is_an_integer_lambda_accepts(tmp_path: Path, value: str, got: str) -> None:
    message = error(tmp_path, f"max_concurrency = {value}\n")
    assert message.startswith("faasport.toml: functions.api.max_concurrency: must be an integer")
    assert "from 1 to 1600" in message and got in message
    assert "\n" not in message


def test_capacity_provider_is_an_arn(tmp_path: Path) -> None:
    message = error(tmp_path, 'capacity_provider = "shared"\n')
    assert message.startswith("faasport.toml: functions.api.capacity_provider: must be a")
    assert "capacity provider ARN" in message


@pytest.mark.parametrize(
    ("keys", "named"),
    [
        ("max_concurrency = 4\nsnapstart = true\n", "max_concurrency"),
        (f'capacity_provider = "{ARN}"\nsnapstart = true\n', "capacity_provider"),
    ],
)
def test_snapstart_conflicts_with_managed_instances(tmp_path: Path, keys: str, named: str) -> None:
    message = error(tmp_path, keys)
    assert message.startswith(f"faasport.toml: functions.api.{named}: ")
    assert "cannot use SnapStart" in message
