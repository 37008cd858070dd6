"""Third-party dependencies: which the project declares, and pip installing them for the
target platform into a cache that a rebuild reuses.

``requirements.txt`` in the project root wins when it exists (it is what the clouds read, and
usually pinned); otherwise ``[project] dependencies`` of ``pyproject.toml``. faasport itself
is never installed from an index: its runtime is copied in, and a ``faasport[gcp]``-style
requirement becomes the requirements of those extras.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from faasport.config.load import PYPROJECT, display_path
from faasport.config.model import Project
from faasport.core.errors import ConfigError, FaasportError
from faasport.deploy.errors import config_error

REQUIREMENTS_TXT = "requirements.txt"
#: faasport's extras that add runtime integrations (the others are development tools).
RUNTIME_EXTRAS = ("gcp", "azure", "db")
#: Bump when the layout of a cached tree changes, so old entries are not reused.
CACHE_FORMAT = 1
PLATFORMS = {"x86_64": "manylinux2014_x86_64", "arm64": "manylinux2014_aarch64"}

_NAME = re.compile(r"([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[([^\]]*)\])?")
_EXTRA_MARKER = re.compile(r"(.*?)\s*;\s*extra\s*==\s*[\"']([\w.-]+)[\"']\s*")
#: The user-info part of a URL (``://user:token@``).
_USERINFO = re.compile(r"(\w+://)([^/@\s]+)@([^/\s]*)")
_INCLUDES = ("-r", "--requirement", "-c", "--constraint", "-e", "--editable")
#: pip's bookkeeping that differs from one install to the next, or is of no use deployed.
_DIST_INFO_NOISE = frozenset({"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"})

Log = Callable[[str], None]


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(line: str) -> str | None:
    """The normalized project name a requirement line installs; None for option lines."""
    match = None if line.startswith("-") else _NAME.match(line)
    return normalize(match.group(1)) if match else None


@dataclass(frozen=True)
class Requirements:
    #: Lines of a pip requirements file.
    lines: tuple[str, ...]
    #: Where they came from, for messages.
    source: str

    def names(self) -> set[str]:
        return {name for line in self.lines if (name := requirement_name(line))}

    def uploaded_credentials(self, platform: str, variables: str) -> list[str]:
        """A warning for each URL holding credentials written out (not ``${VARIABLE}``):
        ``platform`` builds from the uploaded source, so they travel with it; ``variables``
        says where the build's environment is set."""
        warnings = []
        for line in self.lines:
            for scheme, userinfo, host in _USERINFO.findall(line):
                if "${" not in userinfo:
                    warnings.append(
                        f"{self.source}: {scheme}***@{host} holds credentials, and {platform} "
                        f"builds from the uploaded source, so they are uploaded with it: write "
                        f"them as ${{VARIABLE}}, which pip reads from the build's environment "
                        f"({variables})"
                    )
        return warnings

    def text(self, *extra: str) -> bytes:
        """A requirements.txt of these lines, plus each of ``extra`` not already listed."""
        names = self.names()
        added = [line for line in extra if requirement_name(line) not in names]
        return "".join(f"{line}\n" for line in (*self.lines, *added)).encode()


def runtime_extra(*extras: str) -> list[str]:
    """The requirements faasport declares for its runtime ``extras`` (``"gcp"``...)."""
    try:
        declared = importlib.metadata.requires("faasport") or []
    except importlib.metadata.PackageNotFoundError:
        return []
    lines = []
    for entry in declared:
        match = _EXTRA_MARKER.fullmatch(entry)
        if match and match.group(2) in set(extras) & set(RUNTIME_EXTRAS):
            lines.append(match.group(1))
    return lines


def _without_faasport(lines: list[str]) -> tuple[str, ...]:
    kept: list[str] = []
    for line in lines:
        match = None if line.startswith("-") else _NAME.match(line)
        if match and normalize(match.group(1)) == "faasport":
            extras = {e.strip() for e in (match.group(2) or "").split(",") if e.strip()}
            kept.extend(x for x in runtime_extra(*extras) if x not in kept)
        elif line not in kept:
            kept.append(line)
    return tuple(kept)


def _requirements_txt(path: Path) -> list[str]:
    lines: list[str] = []
    text = re.sub(r"\\\r?\n", " ", path.read_text(encoding="utf-8"))
    for number, raw in enumerate(text.splitlines(), 1):
        line = re.sub(r"(^|\s)#.*", "", raw).strip()
        if not line:
            continue
        if line.split()[0].split("=")[0] in _INCLUDES:
            raise FaasportError(
                f"{REQUIREMENTS_TXT} line {number}: {line.split()[0]} is not supported in a "
                f"deployed function; list the requirements themselves in {REQUIREMENTS_TXT}"
            )
        lines.append(" ".join(line.split()))
    return lines


def _pyproject_dependencies(path: Path) -> list[str] | None:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{PYPROJECT}: invalid TOML: {exc}") from None
    table = data.get("project")
    if not isinstance(table, dict) or "dependencies" not in table:
        return None
    value = table["dependencies"]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{PYPROJECT}: project.dependencies: must be an array of strings")
    return [" ".join(v.split()) for v in value]


def read_requirements(project: Project) -> Requirements:
    """The project's third-party requirements (see the module docstring for which file)."""
    listed = project.root / REQUIREMENTS_TXT
    if listed.is_file():
        return Requirements(_without_faasport(_requirements_txt(listed)), REQUIREMENTS_TXT)
    pyproject = project.root / PYPROJECT
    declared = _pyproject_dependencies(pyproject) if pyproject.is_file() else None
    if declared is not None:
        return Requirements(_without_faasport(declared), f"{PYPROJECT} [project] dependencies")
    return Requirements((), "none")


def platform_tag(project: Project) -> str:
    """The wheel platform of the one artifact every function shares."""
    functions = list(project.functions.values())
    for function in functions[1:]:
        if function.architecture != functions[0].architecture:
            raise config_error(
                project,
                ("functions", function.name, "architecture"),
                f'is "{function.architecture}" but functions.{functions[0].name} is '
                f'"{functions[0].architecture}": one artifact serves every function, so they '
                "must agree",
            )
    return PLATFORMS[functions[0].architecture if functions else "x86_64"]


def install(project: Project, requirements: Requirements, log: Log) -> Path | None:
    """The requirements installed for the target (``None`` when there are none): a
    directory under ``.faasport/cache/deps``, reused while requirements, platform and
    Python version stay the same."""
    if not requirements.names():
        return None
    platform = platform_tag(project)
    key = json.dumps(
        [CACHE_FORMAT, requirements.lines, platform, "cp", project.python], separators=(",", ":")
    )
    cache = project.root / ".faasport" / "cache" / "deps"
    final = cache / hashlib.sha256(key.encode()).hexdigest()[:32]
    count = len(requirements.names())
    what = f"{count} requirement{'' if count == 1 else 's'} from {requirements.source}"
    where = f"{platform}, CPython {project.python}"
    if final.is_dir():
        log(f"dependencies: {what} for {where}, cached in {display_path(final)}")
        return final
    if importlib.util.find_spec("pip") is None:
        raise FaasportError(f"pip is not installed for {sys.executable}; install pip there")
    log(f"dependencies: installing {what} for {where} with pip")
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=".install-", dir=cache))
    try:
        listing = work / REQUIREMENTS_TXT
        listing.write_bytes(requirements.text())
        _pip(project, listing, work / "site", platform, requirements.source)
        try:
            os.rename(work / "site", final)
        except OSError:
            if not final.is_dir():  # not a concurrent build that got there first
                raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return final


def _pip(project: Project, listing: Path, target: Path, platform: str, source: str) -> None:
    command = [
        sys.executable, "-m", "pip", "install",
        "--target", str(target),
        "--platform", platform,
        "--implementation", "cp",
        "--python-version", project.python,
        "--only-binary=:all:",
        "--no-compile", "--no-input", "--disable-pip-version-check", "--progress-bar", "off",
        "--quiet",
        "--requirement", str(listing),
    ]  # fmt: skip
    done = subprocess.run(command, cwd=project.root, capture_output=True, text=True)
    if done.returncode != 0:
        lines = done.stderr.splitlines() or done.stdout.splitlines() or ["(no output)"]
        errors = [line for line in lines if line.startswith("ERROR:")] or lines[-1:]
        raise FaasportError(
            f"pip could not install the requirements from {source} for {platform}, "
            f"CPython {project.python}: {errors[0].removeprefix('ERROR: ')}"
        )


def installed_files(site: Path) -> dict[str, Path]:
    """The installed tree, by archive path, without pip's per-install bookkeeping, console
    scripts (``bin/``, whose first line names this machine's Python) and bytecode."""
    found: dict[str, Path] = {}
    for current, dirs, names in os.walk(site):
        here = Path(current).relative_to(site).as_posix()
        inner = "" if here == "." else here + "/"
        dirs[:] = sorted(d for d in dirs if d != "__pycache__" and (inner or d != "bin"))
        dist_info = here.endswith(".dist-info")
        for name in sorted(names):
            if name.endswith((".pyc", ".pyo")) or (dist_info and name in _DIST_INFO_NOISE):
                continue
            found[inner + name] = Path(current) / name
    return found
