"""``faasport deploy aws|gcp|azure``: write the infrastructure as code, then run the cloud's
own CLI on it (or, with ``--dry-run``, print what would run)."""

from __future__ import annotations

import importlib
from pathlib import Path

import click

#: Each provider's module; it exposes ``plan(project, options) -> Plan``.
PROVIDERS = {
    "aws": "faasport.deploy.aws",
    "gcp": "faasport.deploy.gcp",
    "azure": "faasport.deploy.azure",
}


def _stderr(line: str) -> None:
    click.echo(line, err=True)


@click.command()
@click.argument("provider", type=click.Choice(sorted(PROVIDERS)))
@click.argument("project_dir", default=".", type=click.Path(path_type=Path))
@click.option(
    "--dry-run",
    is_flag=True,
    help="Write the files and print the commands, one per line, without running them.",
)
@click.option(
    "--iac",
    type=click.Choice(["sam", "terraform"]),
    help="aws only: write a SAM template (default) or Terraform modules.",
)
def deploy(provider: str, project_dir: Path, dry_run: bool, iac: str | None) -> None:
    """Deploy the project in PROJECT_DIR (default .) to PROVIDER.

    Writes the infrastructure as code into PROJECT_DIR/deploy/PROVIDER/, then runs there
    faasport package and the provider's CLI (sam or terraform for aws). See docs/deploy.md.
    """
    from faasport.config import load_project
    from faasport.config.load import display_path
    from faasport.deploy.writer import (
        check_foreign,
        check_tools,
        deploy_dir,
        run_commands,
        shell_lines,
        write_files,
    )

    options: dict[str, str] = {}
    if iac is not None:
        if provider != "aws":
            raise click.UsageError(f"--iac applies to aws only, not {provider}")
        options["iac"] = iac
    project = load_project(project_dir)
    plan = importlib.import_module(PROVIDERS[provider]).plan(project, options)
    directory = deploy_dir(project.root, plan)
    check_foreign(plan, directory)
    if not dry_run:
        check_tools(plan)
    written = write_files(plan, directory)
    files = "file" if len(written) == 1 else "files"
    _stderr(f"wrote {len(written)} {files} to {display_path(directory)}")
    if dry_run:
        for line in shell_lines(plan, directory):
            click.echo(line)
    else:
        run_commands(plan, directory, _stderr)
