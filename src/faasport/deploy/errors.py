"""Configuration errors found while packaging or deploying: one line naming the file and the
key, spelled as the configuration loader spells them."""

from __future__ import annotations

from faasport.config.fields import join
from faasport.config.load import PYPROJECT, display_path
from faasport.config.model import Project
from faasport.core.errors import ConfigError


def config_error(project: Project, key: tuple[str | int, ...], message: str) -> ConfigError:
    """``FILE: KEY: MESSAGE`` on one line; ``key`` is the key's path in the configuration
    (``("functions", "api", "memory")``), under ``tool.faasport`` in ``pyproject.toml``."""
    path = "tool.faasport" if project.source.name == PYPROJECT else ""
    for part in key:
        path = join(path, part)
    line = f"{display_path(project.source)}: {path}: {message}"
    return ConfigError(" ".join(line.split()))
