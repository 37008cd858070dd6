"""``faasport package --target T`` and ``faasport build``: the deployable artifact."""

from __future__ import annotations

from pathlib import Path

import click

from faasport.cli.project import project_option, resolve_project_dir

TARGET_NAMES = ("aws", "gcp", "azure", "container")


def _stderr(line: str) -> None:
    click.echo(line, err=True)


def run(project_dir: Path | None, target: str) -> None:
    from faasport.config import load_project
    from faasport.deploy.package import build

    artifact = build(load_project(resolve_project_dir(None, project_dir)), target, log=_stderr)
    click.echo(artifact.summary())
    for line in artifact.sizes:
        click.echo(f"  {line}")
    for warning in artifact.warnings:
        click.echo(f"warning: {warning}", err=True)


@click.command()
@click.option(
    "--target",
    required=True,
    type=click.Choice(TARGET_NAMES),
    help="aws: dist/aws/NAME.zip for Lambda; gcp, azure: dist/TARGET/NAME.zip source bundles; "
    "container: dist/container/, a Docker build context for Lambda and Cloud Run.",
)
@project_option
def package(target: str, project_dir: Path | None) -> None:
    """Build the deployable artifact of the project for one target.

    Prints its path and size (zipped and unzipped); progress and warnings go to stderr.
    The same project gives byte-identical zips. See docs/package.md.
    """
    run(project_dir, target)


@click.command()
@project_option
def build(project_dir: Path | None) -> None:
    """Build the AWS Lambda zip: the same as package --target aws."""
    run(project_dir, "aws")
