"""``faasport deploy aws|gcp|azure``: write the infrastructure as code, then run the cloud's
own CLI on it (or, with ``--dry-run``, print what would run)."""

from __future__ import annotations

from pathlib import Path

import click

from faasport.cli.project import project_option, resolve_project_dir, stage_option
from faasport.deploy.options import IAC, PACKAGES
from faasport.deploy.providers import PROVIDERS


def _stderr(line: str) -> None:
    click.echo(line, err=True)


@click.command()
@click.argument("provider", type=click.Choice(sorted(PROVIDERS)))
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@project_option
@stage_option
@click.option(
    "--dry-run",
    is_flag=True,
    help="Write the files and print the commands, one per line, without running them.",
)
@click.option(
    "--iac",
    type=click.Choice(IAC),
    help="aws only: write a SAM template (default) or Terraform modules.",
)
@click.option(
    "--package",
    type=click.Choice(PACKAGES),
    help="aws, gcp: the functions as a zip (default) or as one container image "
    "(faasport package --target container; docs/package.md).",
)
def deploy(
    provider: str,
    directory: Path | None,
    project_dir: Path | None,
    stage: str | None,
    dry_run: bool,
    iac: str | None,
    package: str | None,
) -> None:
    """Deploy the project (--project, or DIRECTORY; default: .) to PROVIDER.

    Writes the infrastructure as code into deploy/PROVIDER/ of the project (with --stage
    S: deploy/PROVIDER-S/), then runs there
    faasport package and the provider's CLI (sam or terraform for aws). See docs/deploy.md.
    """
    from faasport.config import load_project
    from faasport.config.load import display_path
    from faasport.deploy.providers import OptionError, options, plan
    from faasport.deploy.writer import (
        check_foreign,
        check_tools,
        deploy_dir,
        run_commands,
        shell_lines,
        write_files,
    )

    given = {name: value for name, value in (("iac", iac), ("package", package)) if value}
    try:
        chosen = options(provider, given)
    except OptionError as exc:
        raise click.UsageError(str(exc)) from None
    project = load_project(resolve_project_dir(directory, project_dir), stage=stage)
    deployment = plan(provider, project, chosen)
    # What packaging refuses (a JWT key set file that is missing...): a deploy stops before
    # writing anything; a dry run says it would.
    from faasport.core.errors import FaasportError
    from faasport.deploy.package.policies import entry_policies

    try:
        entry_policies(project, provider)
    except FaasportError as exc:
        if not dry_run:
            raise
        _stderr(f"warning: {' '.join(str(exc).split())}; the deploy would stop there")
    directory = deploy_dir(project, deployment)
    check_foreign(deployment, directory)
    if not dry_run:
        check_tools(deployment)
    written = write_files(deployment, directory)
    files = "file" if len(written) == 1 else "files"
    _stderr(f"wrote {len(written)} {files} to {display_path(directory)}")
    if dry_run:
        for line in shell_lines(deployment, directory):
            click.echo(line)
    else:
        run_commands(deployment, directory, _stderr)
