"""What ``faasport coldstart --artifact`` starts from: the AWS artifact (built by the
caller, as ``faasport package --target aws`` builds it, or an existing zip), unpacked into a
temporary directory that is made read-only as Lambda's code directory is, and the
interpreter that runs it.

The interpreter is the config's ``python`` when this machine has it, as for the bytecode
the artifact ships: an interpreter of another version cannot use those ``.pyc`` files and
compiles every module, which the report then says. Building is the caller's (the command
line's): the emulator's layer does not reach up into packaging.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from faasport.config.load import display_path
from faasport.config.model import Project
from faasport.core.errors import FaasportError
from faasport.local.entry import MODULE


@dataclass(frozen=True)
class Artifact:
    #: The unpacked artifact: the only directory of the function's code on ``sys.path``.
    directory: Path
    #: The interpreter each start runs.
    interpreter: str
    version: str
    #: ``.pyc`` files the artifact ships.
    pyc_files: int
    #: Why the artifact's bytecode cannot be used by ``interpreter``, when it cannot.
    note: str | None = None

    def to_json(self) -> dict[str, object]:
        return {
            "interpreter": self.interpreter,
            "python": self.version,
            "pyc_files": self.pyc_files,
            "note": self.note,
        }


def _extract(source: Path, directory: Path) -> None:
    try:
        with zipfile.ZipFile(source) as archive:
            for member in archive.namelist():
                if member.startswith("/") or ".." in Path(member).parts:
                    raise FaasportError(f"{display_path(source)}: unsafe path {member!r} in zip")
            archive.extractall(directory)
    except (zipfile.BadZipFile, OSError) as error:
        raise FaasportError(f"{display_path(source)} is not a readable zip: {error}") from None
    if not (directory / f"{MODULE}.py").is_file():
        raise FaasportError(
            f"{display_path(source)} has no {MODULE}.py at its root; build it with "
            "faasport package --target aws"
        )


def _set_modes(directory: Path, *, writable: bool) -> None:
    """Files 0444 and directories 0555 (or back to 0644/0755): a write into the code
    directory fails as on Lambda, for every user but root."""
    file_mode, dir_mode = (0o644, 0o755) if writable else (0o444, 0o555)
    for current, dirs, files in os.walk(directory):
        for name in files:
            path = os.path.join(current, name)
            if not os.path.islink(path):
                os.chmod(path, file_mode)
        for name in dirs:
            os.chmod(os.path.join(current, name), dir_mode)
    os.chmod(directory, dir_mode)


def interpreter(project: Project, found: str | None) -> tuple[str, str, str | None]:
    """(executable, version, note) for ``found``, the config's Python on this machine (None
    when it has none, and the current interpreter runs the artifact instead)."""
    if found is not None:
        return _real_executable(found), project.python, None
    here = "{}.{}".format(*sys.version_info[:2])
    return (
        sys.executable,
        here,
        f"no Python {project.python} ({project.python_origin}) on this machine: "
        f"started with Python {here}, which compiles the artifact's modules at every start",
    )


def _real_executable(executable: str) -> str:
    """The interpreter's own binary, not a wrapper script (a pyenv shim) whose start-up
    would be counted in every Init Duration."""
    try:
        done = subprocess.run(
            [executable, "-I", "-c", "import sys; print(sys.executable)"],
            capture_output=True,
            text=True,
            timeout=30,
        )
    except (OSError, subprocess.TimeoutExpired):
        return executable
    found = done.stdout.strip()
    return found if done.returncode == 0 and found else executable


@contextmanager
def unpacked(
    source: Path | None,
    build: Callable[[Path], object],
    runner: tuple[str, str, str | None],
) -> Iterator[Artifact]:
    """The artifact that ``build(directory)`` writes (or the zip ``source``) unpacked for the
    time of the ``with`` block, read-only, to be run by ``runner`` (see :func:`interpreter`)."""
    executable, version, note = runner
    with tempfile.TemporaryDirectory(prefix="faasport-artifact-") as work:
        directory = Path(work).resolve() / "task"
        if source is None:
            build(directory)
        else:
            directory.mkdir()
            _extract(source, directory)
        pyc = sum(1 for _ in directory.rglob("*.pyc"))
        _set_modes(directory, writable=False)
        try:
            yield Artifact(directory, executable, version, pyc, note)
        finally:
            _set_modes(directory, writable=True)
