"""``faasport logs FUNCTION``: the function's log, from ``faasport dev`` (its files under
``.faasport/logs/``) or, with ``--cloud``, from the cloud it was deployed to, in the
readable form of ``faasport dev``'s own log."""

from __future__ import annotations

import os
import re
import sys
import time
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from faasport.cli.project import function_named, project_option, resolve_project_dir, stage_option

if TYPE_CHECKING:
    from faasport.local.logview import LogEvent, LogView

CLOUDS = ("aws", "gcp", "azure")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhdw])")
#: Seconds between two looks at a local log file with --tail.
LOCAL_POLL = 0.2


def parse_since(text: str, now: float) -> float:
    """``--since``: a duration back from now (``90s``, ``10m``, ``1h``, ``2d``, ``1w``) or a
    time (``2026-11-28T21:00:00``, local time unless it has a zone)."""
    found = _DURATION.fullmatch(text.strip())
    if found is not None:
        return now - float(found.group(1)) * _UNITS[found.group(2)]
    try:
        return datetime.fromisoformat(text.strip()).timestamp()
    except ValueError:
        raise click.BadParameter(
            f"{text!r} is neither a duration like 10m, 1h, 2d nor a time like 2026-11-28T21:00:00",
            param_hint="--since",
        ) from None


def _colour() -> bool:
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty() and not os.environ.get("NO_COLOR")


def _show(view: LogView, events: Iterable[LogEvent], text: str | None) -> None:
    from faasport.local.logview import matches

    for event in events:
        if matches(event, text):
            for line in view.render(event):
                click.echo(line)


@click.command()
@click.argument("function")
@click.option("--tail", is_flag=True, help="Keep printing new lines as they come (Ctrl-C stops).")
@click.option("--filter", "text", metavar="TEXT", help="Only the lines that contain TEXT.")
@click.option(
    "--since",
    default="10m",
    show_default=True,
    metavar="WHEN",
    help="From this long ago (30s, 10m, 1h, 2d) or this time (2026-11-28T21:00:00).",
)
@click.option(
    "--cloud",
    type=click.Choice(CLOUDS),
    help="Read the deployed function's log from this cloud (CloudWatch Logs, Cloud Logging, "
    "Azure Monitor). Default: faasport dev's log of the project.",
)
@project_option
@stage_option
def logs(
    function: str,
    tail: bool,
    text: str | None,
    since: str,
    cloud: str | None,
    project_dir: Path | None,
    stage: str | None,
) -> None:
    """Print FUNCTION's log (its short name, or its deployed name PROJECT-FUNCTION).

    Without --cloud: what faasport dev wrote for it in .faasport/logs/. With --cloud: the
    function as deployed (with --stage S: the stage's, named PROJECT-S-FUNCTION). One line
    per invocation and the app's lines with their levels, as faasport dev shows them.
    """
    from faasport.config import load_project
    from faasport.local.logview import LogView

    start = parse_since(since, time.time())
    project = load_project(resolve_project_dir(None, project_dir), stage=stage)
    name = function_named(project, function)
    view = LogView(colour=_colour())
    try:
        if cloud is None:
            _local(project.root, name, start, text, tail, view)
        else:
            from faasport.deploy.logs import follow, reader

            source = reader(cloud, project, project.functions[name])
            _show(view, follow(source, start, text) if tail else source.events(start, text), text)
    except KeyboardInterrupt:
        pass


def _local(
    root: Path, function: str, since: float, text: str | None, tail: bool, view: LogView
) -> None:
    from faasport.local.logfiles import Follower, log_path, read_events

    if not tail:
        if not log_path(root, function).is_file():
            click.echo(
                f'no log of "{function}" yet: faasport dev writes it as the function runs',
                err=True,
            )
        _show(view, read_events(root, function, since), text)
        return
    follower = Follower(root, function, from_start=True)
    while True:
        _show(view, (e for e in follower.poll() if e.timestamp >= since), text)
        time.sleep(LOCAL_POLL)
