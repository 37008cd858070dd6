"""What the providers' Terraform shares: the ``terraform`` settings block that pins the
provider, and, for Google Cloud and Azure, the plan that writes the files and applies them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from faasport.config.model import Project
from faasport.deploy.hcl import Block, render
from faasport.deploy.plan import Plan, package_command

TERRAFORM_VERSION = ">= 1.5"


def terraform_settings(provider: str, version: str) -> Block:
    """The ``terraform`` block: the Terraform version, and ``hashicorp/<provider>`` at
    ``version``."""
    return Block(
        "terraform",
        body={
            "required_version": TERRAFORM_VERSION,
            "required_providers": Block(
                "required_providers",
                body={provider: {"source": f"hashicorp/{provider}", "version": version}},
            ),
        },
    )


def terraform_plan(
    provider: str,
    project: Project,
    files: Mapping[str, Sequence[Block]],
    install_hint: str,
    checks: tuple[tuple[str, ...], ...] = (),
) -> Plan:
    """``files`` rendered (those with no blocks left out), and the commands: package the
    project, run ``checks``, then ``terraform init`` and ``terraform apply``."""
    header = (
        f"Written by `faasport deploy {provider}` from {project.source.name}; "
        "edit the configuration, not this file."
    )
    return Plan(
        provider=provider,
        files={name: render(blocks, header) for name, blocks in files.items() if blocks},
        commands=(
            package_command(provider, project),
            *checks,
            ("terraform", "init", "-input=false"),
            ("terraform", "apply"),
        ),
        install_hint=install_hint,
    )
