"""``faasport schedule``: the schedules of a running ``faasport dev``; fire one now."""

from __future__ import annotations

from pathlib import Path

import click

from faasport.cli.running import PROJECT, RunningDev


@click.group()
def schedule() -> None:
    """The schedules of a running faasport dev."""


@schedule.command(name="list")
@PROJECT
def list_schedules(directory: Path) -> None:
    """Every schedule: its name, function and expression."""
    for name, found in RunningDev(directory).control("GET", "schedules").items():
        click.echo(f"{name:<30} {found['function']:<20} {found['expression']}")


@schedule.command()
@click.argument("name")
@PROJECT
def run(name: str, directory: Path) -> None:
    """Fire schedule NAME now (its function gets the scheduled event)."""
    RunningDev(directory).control("POST", f"schedules/{name}/run")
    click.echo(f"fired {name}")
