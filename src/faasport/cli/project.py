"""How every command is told the project: ``--project/-p DIR`` (default ``.``), and how a
function is named: short (``worker``) or as deployed (``phoney-worker``)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from faasport.config.model import Project

F = TypeVar("F", bound=Callable[..., Any])

PROJECT_HELP = "The project directory (default: .)."


def project_option(command: F) -> F:
    """``--project/-p DIR``: the same option on every command."""
    option = click.option(
        "--project",
        "-p",
        "project_dir",
        default=None,
        type=click.Path(path_type=Path),
        help=PROJECT_HELP,
    )
    return option(command)


def stage_option(command: F) -> F:
    """``--stage NAME``: the project with ``[stages.NAME]``'s overrides, named for it."""
    option = click.option(
        "--stage",
        default=None,
        metavar="NAME",
        help="Load [stages.NAME] of the configuration over the rest; resources are named "
        "PROJECT-NAME.",
    )
    return option(command)


def resolve_project_dir(positional: Path | None, option: Path | None) -> Path:
    """The directory given as ``--project`` or, the older spelling of ``dev`` and ``deploy``,
    as an argument; both at once only when they agree."""
    if positional is not None and option is not None and positional != option:
        raise click.UsageError(
            f"the project directory is given twice ({positional} and --project {option}); "
            "give it once"
        )
    return option or positional or Path(".")


def function_named(project: Project, given: str) -> str:
    """The short name of the function called ``given``, short or as deployed on Lambda."""
    from faasport.deploy.aws.naming import function_name
    from faasport.local.emulator import UnknownFunctionError

    if given in project.functions:
        return given
    for name, function in project.functions.items():
        if function_name(project, function) == given:
            return name
    raise UnknownFunctionError(
        given, project.functions, project.source.name, deployed=f"{project.name}-NAME"
    )
