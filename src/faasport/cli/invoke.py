"""``faasport invoke``: one invocation of a function, its result on stdout."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import click

from faasport.cli.project import (
    function_named,
    project_option,
    resolve_project_dir,
    stage_option,
)
from faasport.core.errors import FaasportError


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
    """
    from faasport.config import load_project
    from faasport.local.invoker import InvocationError, RuntimeInvoker

    project = load_project(resolve_project_dir(None, project_dir), stage=stage)
    event = read_event(event_path)
    function = function_named(project, function)  # unknown names fail before anything runs
    invoker = RuntimeInvoker(project)
    error: InvocationError | None = None
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
