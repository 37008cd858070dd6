"""``faasport dev``: the local runtime in front of the project's functions."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import threading
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

import click

from faasport.cli.project import project_option, resolve_project_dir, stage_option
from faasport.core.errors import FaasportError

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import FrameType

    from faasport.config.model import EventSource, Project
    from faasport.local.dashboard.server import Dashboard
    from faasport.local.emulator import Emulator
    from faasport.local.sources.event_sources import EventSources


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


def _dashboard(project: Project, emulator: Emulator, sources: EventSources) -> Dashboard | None:
    """The dashboard, recording from now on; None when a route of the project's own is
    under its prefix (the project's route wins)."""
    from faasport.local.dashboard.server import Dashboard, shadowing_route

    clash = shadowing_route(project)
    if clash is not None:
        _stderr_line(f"no dashboard: the route {clash} is under /_faasport/")
        return None
    board = Dashboard(project, emulator, sources.queues)
    board.attach()
    return board


def _colour() -> bool:
    """Colours on a terminal unless NO_COLOR is set; anywhere with FORCE_COLOR."""
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stderr.isatty() and not os.environ.get("NO_COLOR")


def _stderr_line(line: str) -> None:
    from faasport.local.invoker import stderr_line

    stderr_line(f"faasport dev: {line}")  # in order with the functions' lines it holds


def _cannot_listen(host: str, port: int, option: str, exc: OSError) -> FaasportError:
    # asyncio's servers wrap the errno in a sentence of their own: the errno's text is enough.
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    return FaasportError(
        f"cannot listen on {host}:{port} ({option}): {reason}; choose another {option}"
    )


class Checker:
    """``faasport check`` at start and after each change: one line per problem, and the
    functions whose app does not import answered with that init error (the others run)."""

    def __init__(self, project: Project, emulator: Emulator) -> None:
        self.project = project
        self.emulator = emulator
        self.broken: dict[str, str] = {}

    def run(self, first: bool) -> None:
        from faasport.cli.check import run_checks

        try:
            report = run_checks(self.project)
        except (FaasportError, OSError) as exc:  # e.g. an unreadable requirements file
            click.echo(f"error: {' '.join(str(exc).split())}", err=True)
            return
        self.emulator.set_unavailable(report.broken)
        if first:  # the interpreter and the requirements do not change with a reload
            for line in report.warnings:
                click.echo(f"warning: {line}", err=True)
            errors = report.errors
        else:
            errors = [line for line in report.errors if ": cannot import " in line]
        for line in errors:
            click.echo(f"error: {line}", err=True)
        for name in self.broken.keys() - report.broken.keys():
            _stderr_line(f"functions.{name} imports again")
        self.broken = report.broken


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
            names = [_event_name(e) for e in function.events]
            names += [f"stream {s.stream}" for s in function.streams]
            names += [f"bus {r.bus} rule" for r in function.rules]
            sources = ", ".join(names) or "none"
            lines.append(
                f"  {function.name} ({function.target}): no HTTP routes; events: {sources}"
            )
    for proxy in project.proxies:
        route = proxy.route
        lines.append(f"  {route.method:<7} {url}{route.path}  ->  proxy {proxy.url}")
    from faasport.local.api_keys import generated_keys

    lines += [f"  API key {name}: {value}" for name, value in generated_keys(project).items()]
    lines.append(f"Listening on {url} (Ctrl-C to stop)")
    return lines


@click.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@project_option
@stage_option
@click.option("--port", default=3000, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--lambda-port",
    default=3001,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port of the Lambda Invoke API (boto3 endpoint_url).",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--services-port",
    default=3002,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port of the AWS-compatible endpoint (SQS...) that functions' boto3 calls reach.",
)
@click.option("--reload/--no-reload", default=True, show_default=True, help="Restart on changes.")
@click.option(
    "--runtime-client",
    type=click.Choice(["faasport", "awslambdaric"]),
    default="faasport",
    show_default=True,
    help="The Lambda runtime client inside each execution environment.",
)
@click.option(
    "--retry-delay",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds before the first retry of a failed asynchronous invocation (twice that "
    "before the second; Lambda waits about a minute).",
)
@click.option(
    "--idle-timeout",
    default=300.0,
    show_default=True,
    type=click.FloatRange(0, min_open=True),
    help="Seconds an unused execution environment lives before it is stopped (scale to zero).",
)
@click.option(
    "--grace",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0),
    help="Seconds requests in flight get to finish on SIGTERM or Ctrl-C (then 503).",
)
@click.option(
    "--log-format",
    type=click.Choice(["pretty", "json"]),
    default=None,
    help="pretty: one line per invocation, levels in colour, tracebacks on several lines; "
    "json: the lines as CloudWatch gets them. Default: pretty on a terminal, else json.",
)
@click.option(
    "--dashboard/--no-dashboard",
    default=True,
    show_default=True,
    help="Serve the live dashboard at /_faasport/ on the gateway's port.",
)
def dev(
    directory: Path | None,
    project_dir: Path | None,
    stage: str | None,
    port: int,
    lambda_port: int,
    services_port: int,
    host: str,
    reload: bool,
    runtime_client: str,
    retry_delay: float,
    idle_timeout: float,
    grace: float,
    log_format: str | None,
    dashboard: bool,
) -> None:
    """Serve the project (--project, or DIRECTORY; default: .) as Lambda would, locally.

    Each function runs in execution environments (child processes speaking the Lambda
    Runtime API) with its memory, timeout, concurrency and warm settings. HTTP requests go
    through a gateway that routes as API Gateway HTTP APIs do; boto3 can invoke functions
    on --lambda-port. The log goes to stderr (--log-format); a live dashboard is served at
    /_faasport/ on the gateway's port.
    """
    from faasport.config import load_project
    from faasport.local.gateway import Gateway
    from faasport.local.invoke_api import InvokeApi
    from faasport.local.invoker import RuntimeInvoker, stderr_line
    from faasport.local.logfiles import LogFiles
    from faasport.local.logformat import PrettyLog
    from faasport.local.reload import Reloader
    from faasport.local.sources.event_sources import EventSources
    from faasport.local.spec import EmulatorSettings, RuntimeClientKind

    project = load_project(resolve_project_dir(directory, project_dir), stage=stage)
    configured = project  # as written, before the local endpoints are added
    client: RuntimeClientKind = "awslambdaric" if runtime_client == "awslambdaric" else "faasport"
    sources = EventSources(project, _stderr_line, host=host, port=services_port)
    try:
        project = sources.open()
    except OSError as exc:
        sources.stop()
        raise _cannot_listen(host, services_port, "--services-port", exc) from None
    settings = EmulatorSettings(
        idle_timeout=idle_timeout,
        retry_delays=(retry_delay, 2 * retry_delay),
        state_dir=project.root / ".faasport",
    )
    pretty = None
    log: Callable[[str], None] = stderr_line
    if (log_format or ("pretty" if sys.stderr.isatty() else "json")) == "pretty":
        pretty = PrettyLog(stderr_line, colour=_colour())
        log = pretty.line
    invoker = RuntimeInvoker(project, log=log, runtime_client=client, settings=settings)
    emulator = invoker.emulator
    log_files = LogFiles(project.root)  # for faasport logs
    log_files.start()
    emulator.observers.append(log_files)
    if pretty is not None:
        emulator.observers.append(pretty)
    board = _dashboard(project, emulator, sources) if dashboard else None
    invoke_api = InvokeApi(emulator)
    invoker.start()
    sources.start(emulator)
    gateway = Gateway(project, host=host, port=port, invoker=invoker, log=log)
    sources.services.connections = partial(gateway.websockets.manage, emulator.loop)
    if board is not None:
        from faasport.local.dashboard.server import PREFIX

        gateway.mounts.append((PREFIX, board.answer))
    option, chosen = "--port", port
    try:
        gateway.start()
        option, chosen = "--lambda-port", lambda_port
        bound = emulator.call(invoke_api.start(host, lambda_port))
    except OSError as exc:
        sources.stop()
        invoker.close()
        raise _cannot_listen(host, chosen, option, exc) from None
    previous = signal.getsignal(signal.SIGTERM)
    reloader = None
    try:
        # Handled before the ready lines: whoever reads them may stop the server at once.
        signal.signal(signal.SIGTERM, _on_sigterm)
        for line in describe(project, gateway.url):
            click.echo(line, err=True)
        if board is not None:
            base = gateway.url.removesuffix(gateway.flavour.prefix)
            click.echo(f"Dashboard on {base}/_faasport/", err=True)
        click.echo(f"Lambda Invoke API on http://{host}:{bound}", err=True)
        base = gateway.url.removesuffix(gateway.flavour.prefix).replace("http://", "ws://", 1)
        for name in gateway.websockets.apis:
            click.echo(f"WebSocket API {name} on {base}/{name}", err=True)
        served = "SQS, SNS, S3, Kinesis, EventBridge" + (", DynamoDB" if project.tables else "")
        click.echo(f"AWS services on {sources.url} ({served})", err=True)
        checker = Checker(project, emulator)
        if reload:

            def on_change(changed: list[str]) -> None:
                config = [p for p in changed if Path(p) == project.source]
                if config:
                    _config_changed(configured)
                changed = [p for p in changed if p not in config]
                if not changed:
                    return
                names = ", ".join(Path(p).name for p in changed[:3])
                click.echo(f"faasport dev: {names} changed; new environments from now on", err=True)
                checker.run(first=False)
                invoker.reload()

            reloader = Reloader(project.root, on_change)
            reloader.start()
        # Off the start's path (until it reports, a broken app fails in its environment),
        # and once SIGTERM is handled.
        threading.Thread(
            target=checker.run, args=(True,), name="faasport-check", daemon=True
        ).start()
        gateway.serve_forever()
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        # A second signal must not interrupt the clean-up.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        interrupt = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            if reloader is not None:
                reloader.stop()

            async def stop_serving() -> None:
                await asyncio.gather(gateway.stop(grace), invoke_api.close(grace))

            emulator.call(stop_serving())
            sources.stop()  # after the gateway stopped accepting, before the environments go
            gateway.close()
            log_files.close()
        finally:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, interrupt)
    click.echo("faasport dev: stopped", err=True)


def _config_changed(project: Project) -> None:
    """The configuration file changed: one line with what is wrong in it, or that a restart
    applies it (functions, routes, ports and event sources are read at start)."""
    from faasport.config import load_project

    try:
        edited = load_project(project.root, stage=project.stage)
    except FaasportError as exc:
        click.echo(f"error: {' '.join(str(exc).split())}", err=True)
        return
    if edited != project:
        click.echo(
            f"faasport dev: {project.source.name} changed; restart faasport dev to apply it",
            err=True,
        )
