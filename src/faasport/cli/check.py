"""``faasport check``: what would fail at the first request, found before it.

The configuration is parsed as every command parses it; each function's target is imported in
a fresh interpreter, from the project root and with the function's environment, by the same
loader and kind detection the runtime uses; the running Python is compared with ``python``,
and the installed distributions with the project's requirements.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from faasport.cli.project import project_option, resolve_project_dir
from faasport.core.errors import FaasportError

if TYPE_CHECKING:
    from faasport.config.model import Function, Project

#: Seconds one function's import may take before it is reported as hanging.
IMPORT_TIMEOUT = 60.0

# Runs in the fresh interpreter: argv[1] the target, argv[2] the file for the JSON verdict.
_PROBE = """\
import builtins, json, os, sys
target, out = sys.argv[1], sys.argv[2]
parts = (os.sep + "site-packages" + os.sep, os.sep + "dist-packages" + os.sep)
own, direct, real = os.getcwd() + os.sep, set(), builtins.__import__
def noting(name, globals=None, locals=None, fromlist=(), level=0):
    # What the project's own modules import (not what libraries try to import).
    where = (globals or {}).get("__file__") or ""
    if level == 0 and where.startswith(own) and not any(p in where for p in parts):
        direct.add(name.partition(".")[0])
    return real(name, globals, locals, fromlist, level)
builtins.__import__ = noting
try:
    from faasport.core.errors import AppError
    from faasport.core.loader import detect_kind, import_from_string
    kind = detect_kind(import_from_string(target))
except AppError as exc:
    verdict = {"error": str(exc), "own": "yes"}
except BaseException as exc:
    text = str(exc)
    verdict = {"error": type(exc).__name__ + (": " + text if text else "")}
else:
    verdict = {"kind": kind}
    # Third-party modules the project imports: their distributions must ship with it.
    verdict["imported"] = sorted(
        name for name in direct
        if any(p in (getattr(sys.modules.get(name), "__file__", None) or "") for p in parts)
    )
with open(out, "w", encoding="utf-8") as file:
    json.dump(verdict, file)
"""

_KINDS = {"asgi": "an ASGI app", "wsgi": "a WSGI app", "handler": "a handler(event, context)"}


@dataclass
class Report:
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)
    #: Functions whose target does not import -> the init error Lambda would report.
    broken: dict[str, str] = field(default_factory=dict)


def _one_line(text: str) -> str:
    return " ".join(text.split())


def python_warning(project: Project) -> str | None:
    running = f"{sys.version_info[0]}.{sys.version_info[1]}"
    if running == project.python:
        return None
    key = "tool.faasport.python" if project.source.name == "pyproject.toml" else "python"
    if not project.python_given:
        return (
            f"{project.source.name}: no {key}, so functions deploy on Python {project.python} "
            f"(the default) but faasport runs Python {running} ({sys.executable}); set "
            f'{key} = "{running}" to deploy what runs here'
        )
    return (
        f'{project.source.name}: {key} = "{project.python}" but faasport runs Python '
        f"{running} ({sys.executable}); local runs may differ from the deployed function"
    )


def dependency_errors(project: Project) -> list[str]:
    """One line per requirement that is not installed, or installed at another version."""
    import importlib.metadata

    from packaging.requirements import InvalidRequirement, Requirement

    from faasport.deploy.package.dependencies import read_requirements

    requirements = read_requirements(project)
    problems = []
    for line in requirements.lines:
        try:
            requirement = Requirement(line)
        except InvalidRequirement as exc:
            if line.startswith(("-", ".", "/")) or "://" in line:
                continue  # pip's own options, URLs and paths: pip's business at package time
            reason = str(exc).splitlines()[0]
            problems.append(f"{requirements.source}: {line!r} is not a requirement: {reason}")
            continue
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        try:
            version = importlib.metadata.version(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            problems.append(
                f"{requirements.source}: {requirement.name} is not installed; pip install '{line}'"
            )
            continue
        if requirement.specifier and not requirement.specifier.contains(version, prereleases=True):
            problems.append(
                f"{requirements.source}: {requirement.name} {version} is installed but "
                f"{requirement.name}{requirement.specifier} is required"
            )
    return problems


def _probe(
    root: Path, function: Function, target: str, out: Path, *, isolated: bool = False
) -> subprocess.Popen[bytes]:
    """Import ``target`` from ``root``: with ``isolated``, from ``root`` and the standard
    library alone (no site-packages), as a deployed artifact runs."""
    environ = {**os.environ, **function.environment}
    argv = [sys.executable, "-c", _PROBE, target, str(out)]
    if isolated:
        environ.pop("PYTHONPATH", None)
        argv.insert(1, "-S")  # -c puts the working directory, root, first on sys.path
    else:
        environ["PYTHONPATH"] = os.pathsep.join(
            [str(root), *filter(None, [os.environ.get("PYTHONPATH")])]
        )
    return subprocess.Popen(
        argv,
        cwd=root,
        env=environ,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _verdict(process: subprocess.Popen[bytes], out: Path) -> dict[str, Any]:
    try:
        process.wait(IMPORT_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return {"error": f"importing took over {IMPORT_TIMEOUT:.0f} s; does it wait at import?"}
    try:
        verdict: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"error": f"the interpreter importing it exited with code {process.returncode}"}
    return verdict


def probe_imports(
    project: Project, root: Path, *, isolated: bool = False
) -> dict[str, dict[str, Any]]:
    """Import every function's target from ``root``, each in its own fresh interpreter, all
    at once: the verdict per function (``kind``, or ``error`` and ``own`` when the target's
    own module or attribute is missing)."""
    with tempfile.TemporaryDirectory(prefix="faasport-check-") as scratch:
        started = [
            (
                function,
                _probe(
                    root,
                    function,
                    function.target,
                    Path(scratch) / f"{function.name}.json",
                    isolated=isolated,
                ),
            )
            for function in project.functions.values()
        ]
        return {
            function.name: _verdict(process, Path(scratch) / f"{function.name}.json")
            for function, process in started
        }


def config_key(project: Project) -> str:
    """How keys are named in messages: ``tool.faasport.`` in a pyproject.toml."""
    return "tool.faasport." if project.source.name == "pyproject.toml" else ""


def import_errors(project: Project, report: Report) -> None:
    """Import every function's target, each in its own fresh interpreter, all at once (and
    the event handler of an HTTP function that has one)."""
    prefix = config_key(project)
    targets = [
        (function, "app" if function.app else "handler", function.target)
        for function in project.functions.values()
    ]
    targets += [
        (function, "handler", function.handler)
        for function in project.functions.values()
        if function.app is not None and function.handler is not None
    ]
    with tempfile.TemporaryDirectory(prefix="faasport-check-") as scratch:
        started = [
            (function, field, target, Path(scratch) / f"{function.name}.{field}.json")
            for function, field, target in targets
        ]
        processes = [_probe(project.root, f, target, out) for f, _, target, out in started]
        imported: dict[str, set[str]] = {}
        for (function, field, target, out), process in zip(started, processes, strict=True):
            verdict = _verdict(process, out)
            imported.setdefault(function.name, set()).update(verdict.get("imported", ()))
            key = f"{prefix}functions.{function.name}"
            both = function.app is not None and function.handler is not None
            if "error" in verdict:
                where = f"{key}.handler" if both and field == "handler" else key
                reason = _one_line(verdict["error"])
                report.errors.append(f'{where}: cannot import "{target}": {reason}')
                if target == function.target:
                    module = target.partition(":")[0]
                    report.broken[function.name] = f"Unable to import module '{module}': {reason}"
                continue
            kind = verdict["kind"]
            if field == "app" or function.app is None:
                report.kinds[function.name] = kind
            if field == "app" and kind == "handler":
                report.errors.append(
                    f'{key}.app: "{function.app}" is {_KINDS[kind]}, not an ASGI or WSGI app; '
                    "set handler instead of app"
                )
            elif field == "handler" and kind != "handler":
                fix = (
                    "it receives the events of the HTTP function"
                    if both
                    else "set app instead of handler"
                )
                report.errors.append(
                    f'{key}.handler: "{target}" is {_KINDS[kind]}, not a '
                    f"handler(event, context); {fix}"
                )
    report.warnings.extend(unlisted_imports(project, imported))


#: Distributions a function may import without listing them: Lambda's runtime has boto3.
PROVIDED = ("boto3",)


def unlisted_imports(project: Project, imported: dict[str, set[str]]) -> list[str]:
    """One line per function that imports third-party modules whose distributions the
    requirements do not bring (nor anything they require): the deployed function would
    not have them."""
    import importlib.metadata

    from packaging.utils import canonicalize_name

    from faasport.deploy.package.dependencies import read_requirements

    requirements = read_requirements(project)
    covered = _closure([*requirements.lines, *PROVIDED])
    owners = importlib.metadata.packages_distributions()
    if requirements.source == "none":
        why = "but the project lists no requirements (requirements.txt)"
    else:
        why = f"which {requirements.source} does not list (nor what it lists requires)"
    lines = []
    prefix = config_key(project)
    for function, modules in sorted(imported.items()):
        missing: dict[str, str] = {}
        for module in sorted(modules):
            distributions = owners.get(module) or []
            if distributions and not any(canonicalize_name(d) in covered for d in distributions):
                missing[module] = distributions[0]
        if missing:
            names = ", ".join(f"{m} ({d})" for m, d in missing.items())
            lines.append(
                f"{prefix}functions.{function}: imports {names}, {why}: the deployed "
                "function would not have it"
            )
    return lines


def _closure(lines: list[str]) -> set[str]:
    """The canonical names of the distributions ``lines`` name and all they require (the
    installed ones' metadata, with the extras asked for)."""
    import importlib.metadata

    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    seen: set[str] = set()
    pending: list[tuple[str, frozenset[str]]] = []
    for line in lines:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        pending.append((requirement.name, frozenset(requirement.extras)))
    done: set[tuple[str, frozenset[str]]] = set()
    while pending:
        name, extras = pending.pop()
        if (canonicalize_name(name), extras) in done:
            continue
        done.add((canonicalize_name(name), extras))
        seen.add(canonicalize_name(name))
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue
        for text in requires:
            try:
                requirement = Requirement(text)
            except InvalidRequirement:
                continue
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": e}) for e in {"", *extras}):
                pending.append((requirement.name, frozenset(requirement.extras)))
    return seen


def file_problems(project: Project) -> tuple[list[str], list[str]]:
    """(errors, warnings) of the files the functions read beside the configuration: the
    local secrets file, a JWT authorizer's key set."""
    from faasport.config.model import JwtAuth
    from faasport.secrets.errors import LOCAL_FILE
    from faasport.secrets.local import read_local_file

    errors, warnings = [], []
    try:
        read_local_file(project.root / LOCAL_FILE)
    except FaasportError as exc:
        errors.append(" ".join(str(exc).split()))
    for auth in project.auth.values():
        if not isinstance(auth, JwtAuth) or not auth.jwks or "://" in auth.jwks:
            continue
        if not (project.root / auth.jwks).is_file():
            warnings.append(
                f"{project.source.name}: auth.{auth.name}.jwks: {auth.jwks} is not a file "
                "yet: every request to its routes is a 401, and packaging stops"
            )
    return errors, warnings


def run_checks(project: Project) -> Report:
    report = Report()
    warning = python_warning(project)
    if warning:
        report.warnings.append(warning)
    errors, warnings = file_problems(project)
    report.errors.extend(errors)
    report.warnings.extend(warnings)
    report.errors.extend(dependency_errors(project))
    import_errors(project, report)
    return report


@click.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path))
@project_option
def check(directory: Path | None, project_dir: Path | None) -> None:
    """Check the project (--project, or DIRECTORY; default: .) before running it.

    Validates the configuration, imports every function's target in a fresh interpreter the
    way the runtime does (and tells ASGI, WSGI and handlers apart), compares the running
    Python with `python` and the installed distributions with the requirements. Prints one
    line per problem; exits 1 if any is an error.
    """
    from faasport.config import load_project
    from faasport.config.load import display_path

    project = load_project(resolve_project_dir(directory, project_dir))
    report = run_checks(project)
    for line in report.warnings:
        click.echo(f"warning: {line}", err=True)
    for line in report.errors:
        click.echo(f"error: {line}", err=True)
    if report.errors:
        click.get_current_context().exit(1)
    kinds = ", ".join(f"{name} ({kind})" for name, kind in report.kinds.items()) or "none"
    click.echo(f'ok: project "{project.name}" from {display_path(project.source)}: {kinds}')
