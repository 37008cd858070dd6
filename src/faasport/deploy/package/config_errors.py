"""Configuration errors found while packaging, named by file and key like the loader's."""

from __future__ import annotations

from faasport.config.fields import join
from faasport.config.load import PYPROJECT, display_path
from faasport.config.model import Project
from faasport.core.errors import ConfigError


def config_key(project: Project, *parts: str | int) -> str:
    """The key path as written in the project's config file (``tool.faasport.`` in
    ``pyproject.toml``)."""
    path = "tool.faasport" if project.source.name == PYPROJECT else ""
    for part in parts:
        path = join(path, part)
    return path


def config_error(project: Project, key: str, message: str) -> ConfigError:
    return ConfigError(" ".join(f"{display_path(project.source)}: {key}: {message}".split()))
