"""Which files go into an artifact: the project's Python code, and faasport's runtime.

The project contributes its root-level modules (``*.py``) and packages (directories with an
``__init__.py``, or named by a function's ``"module:attr"``), with every file inside them
except tests, caches and what the ``exclude`` key lists. faasport's own runtime is copied in
too, since the target may have no way to install faasport from an index.
"""

from __future__ import annotations

import os
from fnmatch import fnmatch
from pathlib import Path

import faasport
from faasport.config.model import Function, Project
from faasport.deploy.errors import config_error

#: Left out wherever they are: tests, caches, and what holds secrets or local state (an
#: environment file, the local secrets file, SSH keys, faasport dev's state).
EXCLUDED_NAMES = (
    ".env",
    ".env.*",
    "secrets.local.toml",
    ".faasport",
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ed25519",
    "__pycache__",
    "*.pyc",
    "*.pyo",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    ".git",
    "tests",
    "test",
    "conftest.py",
    "test_*.py",
    "*_test.py",
)
#: Left out at the project root: tool state, build output, environments.
EXCLUDED_AT_ROOT = (".faasport", "dist", "deploy", ".venv*", "node_modules")

#: The parts of faasport that run inside a deployed function.
RUNTIME_PACKAGES = (
    "core",
    "aws",
    "gcp",
    "azure",
    "events",
    "gateway",
    "state",
    "secrets",
    "metrics",
    "websocket",
)
RUNTIME_MODULES = ("__init__.py", "py.typed", "db.py")


def _excluded(relative: str, patterns: tuple[str, ...]) -> bool:
    name = relative.rsplit("/", 1)[-1]
    if any(fnmatch(name, pattern) for pattern in EXCLUDED_NAMES):
        return True
    if "/" not in relative and any(fnmatch(name, p) for p in EXCLUDED_AT_ROOT):
        return True
    return any(fnmatch(relative, p) or fnmatch(name, p) for p in patterns)


def tree_files(
    directory: Path, prefix: str, patterns: tuple[str, ...] = (), relative_to: str = ""
) -> dict[str, Path]:
    """Every file below ``directory`` as ``prefix/relative path`` -> file, without what
    :data:`EXCLUDED_NAMES` or ``patterns`` (matched below ``relative_to``) leave out."""
    found: dict[str, Path] = {}
    for current, dirs, names in os.walk(directory):
        here = Path(current).relative_to(directory).as_posix()
        inner = "" if here == "." else here + "/"
        dirs[:] = sorted(d for d in dirs if not _excluded(relative_to + inner + d, patterns))
        for name in sorted(names):
            path = Path(current) / name
            if path.is_file() and not _excluded(relative_to + inner + name, patterns):
                found[f"{prefix}{inner}{name}"] = path
    return found


def _patterns(project: Project) -> tuple[str, ...]:
    return tuple(pattern.rstrip("/") for pattern in project.exclude)


def _top_module(function: Function) -> str:
    """``"shop"`` for ``"shop.web:app"``."""
    return function.target.partition(":")[0].partition(".")[0]


def project_files(project: Project) -> dict[str, Path]:
    """The project's code, by archive path. Fails naming the key when a function's module
    would not be in the artifact."""
    patterns = _patterns(project)
    targets = {_top_module(function) for function in project.functions.values()}
    found: dict[str, Path] = {}
    for entry in sorted(project.root.iterdir(), key=lambda p: p.name):
        if _excluded(entry.name, patterns):
            continue
        if entry.is_file() and entry.suffix == ".py":
            found[entry.name] = entry
        elif entry.is_dir() and ((entry / "__init__.py").is_file() or entry.name in targets):
            found.update(tree_files(entry, f"{entry.name}/", patterns, f"{entry.name}/"))
    for function in project.functions.values():
        top = _top_module(function)
        if f"{top}.py" not in found and not any(name.startswith(f"{top}/") for name in found):
            field = "app" if function.app else "handler"
            raise config_error(
                project,
                ("functions", function.name, field),
                f"module {top!r} is not in the project: no {top}/ or {top}.py at its root "
                "(or it is excluded), so it cannot be packaged",
            )
    return found


def runtime_files() -> dict[str, Path]:
    """faasport's runtime packages, as ``faasport/...`` archive paths."""
    package = Path(faasport.__file__).parent
    found = {
        f"faasport/{name}": package / name for name in RUNTIME_MODULES if (package / name).is_file()
    }
    for name in RUNTIME_PACKAGES:
        if (package / name / "__init__.py").is_file():
            found.update(tree_files(package / name, f"faasport/{name}/"))
    return found


def code_files(project: Project) -> dict[str, Path]:
    """faasport's runtime and the project's code: what every target ships."""
    return {**runtime_files(), **project_files(project)}
