"""The local values of ``[api_keys.*]``: generated once and kept private, or read from the
key's secret; every problem one line naming the key."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from faasport.config import load_project
from faasport.config.model import Project
from faasport.core.errors import ConfigError
from faasport.local.api_keys import GENERATED, generated_keys, key_values

CONFIG = """
name = "keys"
[api]
type = "rest"
[api_keys.made]
[api_keys.kept]
secret = "keys/kept"
"""


def project(root: Path, secret: str | None = None) -> Project:
    (root / "faasport.toml").write_text(CONFIG)
    if secret is not None:
        (root / "secrets.local.toml").write_text(f'"keys/kept" = "{secret}"\n')
    return load_project(root)


def test_a_generated_key_is_made_once_kept_private_and_reused(tmp_path: Path) -> None:
    first = generated_keys(project(tmp_path))
    assert set(first) == {"made"} and len(first["made"]) >= 20
    assert stat.S_IMODE((tmp_path / GENERATED).stat().st_mode) == 0o600
    assert generated_keys(project(tmp_path)) == first


def test_a_secret_key_comes_from_the_secrets_file(tmp_path: Path) -> None:
    values = key_values(project(tmp_path, "kept-value-0123456789abc"))
    assert values["kept"] == "kept-value-0123456789abc"
    assert values["made"] == generated_keys(project(tmp_path))["made"]


def test_a_short_secret_is_refused_in_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        key_values(project(tmp_path, "short"))
    assert str(info.value) == (
        'faasport.toml: api_keys.kept.secret: the value of secret "keys/kept" is 5 characters; '
        "API keys have at least 20"
    )


def test_a_damaged_file_of_generated_keys_is_refused_in_one_line(tmp_path: Path) -> None:
    (tmp_path / ".faasport").mkdir()
    (tmp_path / GENERATED).write_text("[1, 2]")
    with pytest.raises(ConfigError, match="not a JSON object of key values; delete it"):
        generated_keys(project(tmp_path))
