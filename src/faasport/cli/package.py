"""``faasport package --target T`` and ``faasport build``: the deployable artifact."""

from __future__ import annotations

import platform
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from faasport.cli.project import project_option, resolve_project_dir, stage_option

if TYPE_CHECKING:
    from faasport.config.model import Project
    from faasport.deploy.package import Artifact

TARGET_NAMES = ("aws", "gcp", "azure", "container")
#: Function architectures -> what ``platform.machine()`` says on such a machine.
MACHINES = {"x86_64": "x86_64", "arm64": "aarch64"}


def _stderr(line: str) -> None:
    click.echo(line, err=True)


def _runs_here(project: Project) -> bool:
    """Whether this interpreter can import what the artifact's dependencies were built for."""
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    architecture = next(iter(project.functions.values())).architecture
    return running == project.python and MACHINES.get(architecture) == platform.machine()


def import_errors(project: Project, artifact: Artifact) -> list[str]:
    """Each function's target imported from the unpacked zip alone (no site-packages), as
    the cloud will. Only the project's own missing module or attribute counts when the
    zip's dependencies are not all there to import: on GCP and Azure the platform installs
    them, and a compiled dependency built for another interpreter (CPython 3.12 when this
    is 3.11) says nothing of the cloud by failing here."""
    from faasport.cli.check import config_key, probe_imports
    from faasport.config.load import display_path

    with tempfile.TemporaryDirectory(prefix="faasport-package-") as unpacked:
        with zipfile.ZipFile(artifact.path) as opened:
            opened.extractall(unpacked)
        verdicts = probe_imports(project, Path(unpacked), isolated=True)
    complete = artifact.target == "aws" and _runs_here(project)
    errors = []
    for name, verdict in verdicts.items():
        if "error" not in verdict:
            continue
        function = project.functions[name]
        reason = " ".join(verdict["error"].split())
        line = (
            f'{config_key(project)}functions.{name}: cannot import "{function.target}" from '
            f"{display_path(artifact.path)}: {reason}"
        )
        if complete or verdict.get("own"):
            errors.append(line)
    return errors


def run(project_dir: Path | None, target: str, stage: str | None = None) -> None:
    from faasport.config import load_project
    from faasport.deploy.package import DIRECTORY_TARGETS, build

    project = load_project(resolve_project_dir(None, project_dir), stage=stage)
    artifact = build(project, target, log=_stderr)
    if target not in DIRECTORY_TARGETS:
        errors = import_errors(project, artifact)
        if errors:
            artifact.path.unlink()  # nothing to deploy by mistake
            for line in errors:
                click.echo(f"error: {line}", err=True)
            click.get_current_context().exit(1)
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
@stage_option
def package(target: str, project_dir: Path | None, stage: str | None) -> None:
    """Build the deployable artifact of the project for one target.

    Prints its path and size (zipped and unzipped); progress and warnings go to stderr.
    The same project gives byte-identical zips. See docs/package.md.
    """
    run(project_dir, target, stage)


@click.command()
@project_option
@stage_option
def build(project_dir: Path | None, stage: str | None) -> None:
    """Build the AWS Lambda zip: the same as package --target aws."""
    run(project_dir, "aws", stage)
