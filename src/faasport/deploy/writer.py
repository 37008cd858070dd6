"""Carry out a :class:`~faasport.deploy.plan.Plan`: write its files into
``<project root>/deploy/<provider>/`` and run its commands there."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from faasport.config.load import display_path
from faasport.config.model import Project
from faasport.core.errors import FaasportError
from faasport.deploy.plan import Plan, deploy_folder

#: The command every plan may use to build the artifact: this faasport, always at hand.
OWN_CLI = "faasport"


def deploy_dir(project: Project, plan: Plan) -> Path:
    return project.root / deploy_folder(plan.provider, project)


def check_foreign(plan: Plan, directory: Path) -> None:
    """Refuse to write beside what another IaC wrote for the same provider: both describe the
    same resources under the same names, and the other one's stack or state still owns them."""
    for name in plan.foreign:
        path = directory / name
        if path.exists():
            raise FaasportError(f"{display_path(path)} is there: {plan.foreign_hint}")


def write_files(plan: Plan, directory: Path) -> list[Path]:
    """Write the plan's files (only those whose text changed); every file's path."""
    paths = []
    for name, text in plan.files.items():
        path = directory / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def shell_lines(plan: Plan, directory: Path) -> list[str]:
    """Each command as one line a shell runs as it is: ``(cd DIR && CMD ...)``."""
    where = shlex.quote(display_path(directory))
    return [f"(cd {where} && {shlex.join(command)})" for command in plan.commands]


def check_tools(plan: Plan) -> None:
    """Fail, naming what to install, when a command's CLI is not on PATH."""
    for command in plan.commands:
        tool = command[0]
        if tool != OWN_CLI and shutil.which(tool) is None:
            raise FaasportError(
                f"deploy {plan.provider} needs {tool}, which is not on PATH; "
                f"{plan.install_hint} (or use --dry-run to only write the files)"
            )


def _argv(command: Sequence[str]) -> list[str]:
    if command[0] == OWN_CLI:  # the running faasport, even when its venv is not on PATH
        return [sys.executable, "-m", "faasport.cli.main", *command[1:]]
    return list(command)


def run_commands(plan: Plan, directory: Path, echo: Callable[[str], None]) -> None:
    """Run the commands in order in ``directory``; stop at the first that fails."""
    for command, line in zip(plan.commands, shell_lines(plan, directory), strict=True):
        echo(f"$ {line}")
        code = subprocess.run(_argv(command), cwd=directory, check=False).returncode
        if code != 0:
            raise FaasportError(f"{shlex.join(command)} failed with exit code {code}")
