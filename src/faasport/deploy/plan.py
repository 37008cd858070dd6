"""What ``faasport deploy PROVIDER`` writes and runs, as one value per provider.

Each provider module (:mod:`faasport.deploy.aws`, :mod:`faasport.deploy.gcp`,
:mod:`faasport.deploy.azure`) exposes ``plan(project, options) -> Plan``; the command writes
``plan.files`` into ``deploy/<provider>/`` and then, unless ``--dry-run``, runs
``plan.commands`` there with the provider's own CLI.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from faasport.config.model import Project


@dataclass(frozen=True)
class Plan:
    provider: str
    #: Path relative to ``deploy/<provider>/`` -> file text. Generation is deterministic:
    #: the same project gives the same bytes.
    files: Mapping[str, str]
    #: Each an argv run in ``deploy/<provider>/``; ``commands[i][0]`` is the CLI it needs.
    commands: tuple[tuple[str, ...], ...]
    #: One line telling how to install the CLI the commands need, for when it is missing.
    install_hint: str
    #: Paths in ``deploy/<provider>/`` that another way of deploying it writes (SAM's
    #: template beside Terraform): their presence stops the deploy, with ``foreign_hint``.
    foreign: tuple[str, ...] = ()
    foreign_hint: str = ""


def package_command(provider: str, project: Project) -> tuple[str, ...]:
    """The command that builds ``project``'s artifact, run in its deploy directory (two
    levels below the project): the stage's, when a stage is loaded."""
    stage = ("--stage", project.stage) if project.stage else ()
    return ("faasport", "package", "--target", provider, "--project", "../..", *stage)


def deploy_folder(provider: str, project: Project) -> str:
    """``deploy/<provider>``, or ``deploy/<provider>-<stage>``: each stage has its own
    files and its own Terraform state, so deploying one never touches another."""
    return f"deploy/{provider}-{project.stage}" if project.stage else f"deploy/{provider}"
