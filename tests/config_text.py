"""A configuration written into a folder and loaded, or the one-line error it gets."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from faasport.config import Project, load_project
from faasport.core.errors import ConfigError


def write_config(folder: Path, text: str, name: str = "faasport.toml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


def load_config(folder: Path, text: str) -> Project:
    write_config(folder, text)
    return load_project(folder)


def config_error(folder: Path, text: str, name: str = "faasport.toml") -> str:
    """The message loading refuses ``text`` with: always one line."""
    write_config(folder, text, name)
    with pytest.raises(ConfigError) as info:
        load_project(folder)
    message = str(info.value)
    assert "\n" not in message
    return message
