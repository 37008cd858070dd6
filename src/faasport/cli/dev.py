"""``faasport dev``: the local runtime in front of the project's functions."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from types import FrameType

    from faasport.config.model import EventSource, Project


class _Stop(Exception):
    """SIGTERM arrived: leave serve_forever the way Ctrl-C (KeyboardInterrupt) does."""


def _on_sigterm(signum: int, frame: FrameType | None) -> None:
    raise _Stop


def _event_name(source: EventSource) -> str:
    from faasport.config.model import BucketEvent, QueueEvent, ScheduleEvent

    if isinstance(source, QueueEvent):
        return f"queue {source.queue}"
    if isinstance(source, ScheduleEvent):
        return f"schedule {source.schedule}"
    if isinstance(source, BucketEvent):
        return f"bucket {source.bucket}"
    return f"topic {source.topic}"


def describe(project: Project, url: str) -> list[str]:
    """One line per route (and per function without routes), then the URL."""
    from faasport.config.load import display_path

    lines = [f'faasport dev: project "{project.name}" from {display_path(project.source)}']
    for function in project.functions.values():
        for route in function.routes:
            lines.append(
                f"  {route.method:<7} {url}{route.path}  ->  {function.name} ({function.target})"
            )
        if not function.routes:
            sources = ", ".join(_event_name(e) for e in function.events) or "none"
            lines.append(
                f"  {function.name} ({function.target}): no HTTP routes; events: {sources} "
                "(event sources are not emulated yet; use faasport invoke)"
            )
    lines.append(f"Listening on {url} (Ctrl-C to stop)")
    return lines


@click.command()
@click.argument("directory", default=".", type=click.Path(path_type=Path))
@click.option("--port", default=3000, show_default=True, type=click.IntRange(0, 65535))
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
def dev(directory: Path, port: int, host: str) -> None:
    """Serve the project in DIRECTORY (default: .) on a local HTTP gateway.

    Requests are routed as API Gateway HTTP APIs route them and answered by the functions
    in this process, with START/END/REPORT lines on stderr.
    """
    from faasport.config import load_project
    from faasport.core.errors import FaasportError
    from faasport.local.gateway import Gateway

    project = load_project(directory)
    try:
        gateway = Gateway(project, host=host, port=port)
    except OSError as exc:
        raise FaasportError(
            f"cannot listen on {host}:{port}: {exc.strerror or exc}; choose another --port"
        ) from None
    for line in describe(project, gateway.url):
        click.echo(line, err=True)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        signal.signal(signal.SIGTERM, _on_sigterm)
        gateway.serve_forever()
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        # A second signal must not interrupt the clean-up.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            gateway.close()
        finally:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, interrupt)
    click.echo("faasport dev: stopped", err=True)
