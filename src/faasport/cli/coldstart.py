"""``faasport coldstart``: measures and explains a function's cold start."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from faasport.cli.project import project_option, resolve_project_dir


def render_text(data: dict[str, Any]) -> str:
    lines = [f"faasport coldstart {data['function']}: {data['runs']} fresh starts"]
    artifact = data.get("artifact")
    if artifact:
        lines.append(
            f"from the packaged artifact, isolated (python{artifact['python']} -I -S -B, "
            f"read-only code directory, {artifact['pyc_files']} .pyc files shipped)"
        )
    lines.append("")
    lines.append(f"{'':16}{'median':>10}{'min':>10}{'max':>10}")
    for label, key, unit in (
        ("Init Duration", "init_ms", "ms"),
        ("First request", "first_request_ms", "ms"),
        ("Peak memory", "peak_memory_mb", "MB"),
    ):
        row = data[key]
        lines.append(
            f"{label:16}" + "".join(f"{row[k]:>7.1f} {unit}" for k in ("median", "min", "max"))
        )
    lines += ["", "Imports by top-level package (cumulative ms, self ms, modules)"]
    for row in data["packages"][:12]:
        lines.append(
            f"  {row['package']:32}{row['cumulative_ms']:>9.1f}{row['self_ms']:>9.1f}"
            f"{row['modules']:>6}"
        )
    lines += ["", "Slowest modules (cumulative ms, self ms)"]
    for row in data["modules"][:10]:
        lines.append(f"  {row['module']:40}{row['cumulative_ms']:>9.1f}{row['self_ms']:>9.1f}")
    lines += ["", "Findings"]
    lines += [f"  - {f['message']}" for f in data["findings"]] or ["  none"]
    return "\n".join(lines)


@click.command()
@click.argument("function", required=False)
@click.option(
    "--runs",
    default=5,
    show_default=True,
    type=click.IntRange(1, 100),
    help="Fresh starts to measure.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write an icicle chart of the import tree to this HTML file.",
)
@click.option(
    "--artifact",
    is_flag=True,
    help="Start from the AWS artifact (built as package --target aws builds it), "
    "isolated as Lambda runs it.",
)
@click.option(
    "--zip",
    "zip_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Start from this existing AWS zip instead of building one (implies --artifact).",
)
@project_option
def coldstart(
    function: str | None,
    runs: int,
    as_json: bool,
    html_path: Path | None,
    artifact: bool,
    zip_path: Path | None,
    project_dir: Path | None,
) -> None:
    """Measure FUNCTION's cold start in fresh interpreters and explain it.

    Each start imports the function's entry as faasport dev's environments do and answers
    one request; reports Init Duration, first-request Duration, peak memory, an import
    profile and findings. FUNCTION defaults to the project's only function. With
    --artifact (or --zip), each start runs the packaged artifact unpacked into a read-only
    directory, in a fresh `python -I -S -B` whose path holds only that directory and the
    standard library.
    """
    from contextlib import nullcontext

    from faasport.config import load_project
    from faasport.deploy.package import build_directory
    from faasport.deploy.package.bytecode import find_interpreter
    from faasport.local.coldstart import function_named, measure
    from faasport.local.coldstart_artifact import interpreter, unpacked

    project = load_project(resolve_project_dir(None, project_dir))
    function = function_named(project, function).name

    def build(directory: Path) -> None:
        build_directory(project, directory, "aws", lambda line: click.echo(line, err=True))

    packaged = (
        unpacked(zip_path, build, interpreter(project, find_interpreter(project.python)))
        if artifact or zip_path is not None
        else nullcontext()
    )
    with packaged as unpacked_artifact:
        if not as_json:
            click.echo(
                f"measuring {runs} fresh starts of {function}, and one more that traces its "
                "imports...",
                err=True,
            )
        report = measure(project, function, runs, unpacked_artifact)
    data = report.to_json()
    if html_path is not None:
        from faasport.local.icicle import render

        html_path.write_text(render(f"faasport coldstart {function}", report.roots))
    if as_json:
        click.echo(json.dumps(data, indent=2))
    else:
        click.echo(render_text(data))
