"""``faasport bucket put / rm / ls``: the local buckets of a running ``faasport dev``."""

from __future__ import annotations

import base64
from pathlib import Path

import click

from faasport.cli.running import PROJECT, RunningDev
from faasport.core.errors import FaasportError


@click.group()
def bucket() -> None:
    """The local buckets of a running faasport dev."""


@bucket.command()
@click.argument("name")
@click.argument("key")
@click.argument("file", type=click.Path(path_type=Path))
@PROJECT
def put(name: str, key: str, file: Path, directory: Path) -> None:
    """Store FILE as object KEY of bucket NAME (its functions get ObjectCreated)."""
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise FaasportError(f"cannot read {file}: {exc.strerror}") from None
    body = {"key": key, "data": base64.b64encode(data).decode()}
    found = RunningDev(directory).control("POST", f"buckets/{name}/put", body)
    click.echo(f"{name}/{key} {len(data)} bytes etag {found['etag']}")


@bucket.command()
@click.argument("name")
@click.argument("key")
@PROJECT
def rm(name: str, key: str, directory: Path) -> None:
    """Remove object KEY of bucket NAME (its functions get ObjectRemoved)."""
    RunningDev(directory).control("POST", f"buckets/{name}/rm", {"key": key})
    click.echo(f"removed {name}/{key}")


@bucket.command()
@click.argument("name")
@click.option("--prefix", default="", help="Only keys starting with this.")
@PROJECT
def ls(name: str, prefix: str, directory: Path) -> None:
    """The objects of bucket NAME: size and key."""
    from urllib.parse import quote

    for found in RunningDev(directory).control("GET", f"buckets/{name}?prefix={quote(prefix)}"):
        click.echo(f"{found['size']:>10}  {found['key']}")
