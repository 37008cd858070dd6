"""``faasport invoke``: one invocation of a function, its result on stdout."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from faasport.cli.project import (
    function_named,
    project_option,
    resolve_project_dir,
    stage_option,
)
from faasport.core.errors import FaasportError

if TYPE_CHECKING:
    from faasport.config.model import Project


def read_event(path: str | None) -> Any:
    if path is None:
        return {}
    if path == "-":
        name = "stdin"
        text = sys.stdin.read()
    else:
        name = path
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise FaasportError(f"cannot read event file {path}: {exc.strerror}") from None
    if not text.strip():
        raise FaasportError(f"{name} is empty: the event is a JSON document, {{}} at least")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FaasportError(f"{name}: the event is not valid JSON: {exc}") from None


@click.command()
@click.argument("function")
@click.option(
    "--event",
    "event_path",
    metavar="FILE|-",
    help="The event as a JSON file, or - to read it from stdin. Default: {}.",
)
@project_option
@stage_option
def invoke(
    function: str, event_path: str | None, project_dir: Path | None, stage: str | None
) -> None:
    """Invoke FUNCTION (its short name, or its deployed name PROJECT-FUNCTION) once with an
    event and print its JSON result.

    The function's own output and the START/END/REPORT lines go to stderr, so stdout holds
    only the result. Sample HTTP events: faasport events generate.

    The function's AWS calls (SQS, SNS, S3...) reach the project's running faasport dev, or
    without one the same local endpoint, started for this invocation: never the cloud.
    """
    from faasport.config import load_project
    from faasport.local.invoker import InvocationError, RuntimeInvoker, stderr_line
    from faasport.local.metric_lines import readable

    project = load_project(resolve_project_dir(None, project_dir), stage=stage)
    event = read_event(event_path)
    function = function_named(project, function)  # unknown names fail before anything runs
    error: InvocationError | None = None
    with _local_services(project) as served:
        invoker = RuntimeInvoker(served, log=lambda line: stderr_line(readable(line)))
        try:
            invoker.start()
            result = invoker.invoke(function, event)
        except InvocationError as exc:
            result, error = exc.payload, exc
        finally:
            invoker.close()
    click.echo(json.dumps(result, ensure_ascii=False))
    if error is not None:
        raise error


@contextmanager
def _local_services(project: Project) -> Iterator[Project]:
    """``project`` as its functions see it under ``faasport dev``: their boto3 calls go to
    the running dev's AWS-compatible endpoint, else to one served meanwhile (what they send
    waits in the project's local queues and buckets for the next ``faasport dev``)."""
    from faasport.cli.running import NotRunningError, RunningDev
    from faasport.local.sources.event_sources import EventSources, with_endpoints

    try:
        url = RunningDev(project.root).url
    except NotRunningError:
        sources = EventSources(project)
        served = sources.open()
        try:
            yield served
        finally:
            sources.stop()
        return
    yield with_endpoints(project, url)
