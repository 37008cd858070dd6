"""``faasport init``: a new, runnable project from a template.

Templates are package data under ``faasport/cli/templates/NAME``; ``_common`` holds the
files every template shares (a template's own file of the same name wins). File names end in
``.tmpl`` (so that no tool takes them for the package's own code), a ``_package_`` directory
becomes the project's Python package, and ``{{name}}``-style placeholders are substituted.
"""

from __future__ import annotations

import importlib.util
import re
import shlex
import sys
import tomllib
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from faasport.cli.project import project_option, resolve_project_dir
from faasport.core.errors import FaasportError
from faasport.deploy.ci_workflow import CLOUDS, Cloud

if TYPE_CHECKING:
    from faasport.config.model import Project


TEMPLATES = {
    "fastapi": "an HTTP API with FastAPI (ASGI)",
    "flask": "a web app with Flask (WSGI)",
    "worker": "a queue consumer (faasport.events.process), with its queue and dead-letter queue",
    "scheduled": "a task run on a schedule (EventBridge rate/cron)",
    "full": "FastAPI API + queue consumer + scheduled task + bucket handler",
}
COMMON = "_common"
SUFFIX = ".tmpl"
PACKAGE_DIR = "_package_"
#: Kept when present instead of refusing: an existing project has its own.
KEEP_EXISTING = ("README.md",)

_PLACEHOLDER = re.compile(r"\{\{(\w+)\}\}")
_HEADER = re.compile(r"^(\[\[?)([^\]]+)(\]\]?)", re.MULTILINE)


def _files(root: Traversable, prefix: str = "") -> dict[str, Traversable]:
    found: dict[str, Traversable] = {}
    for entry in root.iterdir():
        relative = f"{prefix}{entry.name}"
        if entry.is_dir():
            found.update(_files(entry, relative + "/"))
        elif entry.name.endswith(SUFFIX):
            found[relative[: -len(SUFFIX)]] = entry
    return found


def template_files(template: str) -> dict[str, str]:
    """The template's files, relative path to text, before substitution."""
    base = resources.files("faasport.cli") / "templates"
    merged = {**_files(base / COMMON), **_files(base / template)}
    return {path: merged[path].read_text(encoding="utf-8") for path in sorted(merged)}


def names_for(directory: Path, name: str | None) -> dict[str, str]:
    """The placeholders' values: the project name, its Python package, a bucket name."""
    if name is None:
        name = re.sub(r"[^A-Za-z0-9-]+", "-", directory.resolve().name).strip("-") or "app"
        if not name[0].isalpha():
            name = "app-" + name
        name = name[:64]
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9-]{0,63}", name):
        raise FaasportError(
            f"--name {name}: must be letters, digits and '-' starting with a letter (at most 64)"
        )
    package = name.lower().replace("-", "_")
    if importlib.util.find_spec(package) is not None:
        raise FaasportError(
            f'the package "{package}" would hide the installed module of that name; '
            "choose another project name with --name"
        )
    version = sys.version_info
    python = f"3.{version.minor}" if version >= (3, 11) else "3.12"
    return {
        "name": name,
        "package": package,
        "bucket": f"{name.lower()[:50]}-uploads",
        "python": python,
    }


def _substitute(text: str, values: dict[str, str]) -> str:
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def as_tool_table(config: str) -> str:
    """``faasport.toml`` text as the ``[tool.faasport]`` table of a pyproject.toml."""
    body = _HEADER.sub(lambda m: f"{m.group(1)}tool.faasport.{m.group(2)}{m.group(3)}", config)
    return "\n[tool.faasport]\n" + body


def plan(directory: Path, template: str, values: dict[str, str]) -> dict[Path, str]:
    """What to write where; ``faasport.toml`` goes into an existing pyproject.toml."""
    files: dict[Path, str] = {}
    for relative, text in template_files(template).items():
        relative = relative.replace(PACKAGE_DIR, values["package"])
        files[directory / relative] = _substitute(text, values)
    pyproject = directory / "pyproject.toml"
    if pyproject.is_file():
        text = pyproject.read_text(encoding="utf-8")
        try:
            tool = tomllib.loads(text).get("tool", {})
        except tomllib.TOMLDecodeError as exc:
            raise FaasportError(f"pyproject.toml: invalid TOML: {exc}") from None
        if isinstance(tool, dict) and "faasport" in tool:
            raise FaasportError(
                "pyproject.toml already has a [tool.faasport] table; not overwriting it"
            )
        config = files.pop(directory / "faasport.toml")
        files[pyproject] = text.rstrip("\n") + "\n" + as_tool_table(config)
    return files


def declared_dependencies(directory: Path) -> list[str] | None:
    """``[project] dependencies`` of an existing pyproject.toml, None when it declares
    none: a requirements.txt next to it would be used instead, so init writes none."""
    pyproject = directory / "pyproject.toml"
    if not pyproject.is_file():
        return None
    project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
    found = project.get("dependencies") if isinstance(project, dict) else None
    return [str(d) for d in found] if isinstance(found, list) else None


def missing_requirements(declared: list[str], template: str) -> list[str]:
    """The template's requirement lines whose distributions ``declared`` does not name."""
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.utils import canonicalize_name

    names = set()
    for line in declared:
        try:
            names.add(canonicalize_name(Requirement(line).name))
        except InvalidRequirement:
            continue
    wanted = [
        line.strip()
        for line in template.splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return [line for line in wanted if canonicalize_name(Requirement(line).name) not in names]


@click.command()
@click.argument("directory", required=False, type=click.Path(path_type=Path, file_okay=False))
@project_option
@click.option(
    "--template",
    "-t",
    type=click.Choice(sorted(TEMPLATES)),
    default="fastapi",
    show_default=True,
    help="What the project starts with (--list describes each).",
)
@click.option("--name", help="The project name (default: from the directory's name).")
@click.option("--list", "list_", is_flag=True, help="List the templates and exit.")
@click.option(
    "--ci",
    type=click.Choice(["github"]),
    help="Also write a CI workflow that tests, then deploys with short-lived credentials "
    "(OIDC). In an existing project, writes only the workflow.",
)
@click.option(
    "--cloud",
    type=click.Choice(CLOUDS),
    default="aws",
    show_default=True,
    help="With --ci: where the workflow deploys.",
)
@click.option(
    "--stage",
    default=None,
    metavar="NAME",
    help="With --ci: the stage ([stages.NAME]) the workflow deploys.",
)
def init(
    directory: Path | None,
    project_dir: Path | None,
    template: str,
    name: str | None,
    list_: bool,
    ci: str | None,
    cloud: Cloud,
    stage: str | None,
) -> None:
    """Create a runnable project in DIRECTORY (or --project; default: .) from a template.

    Writes the app, faasport.toml (or a [tool.faasport] table appended to an existing
    pyproject.toml), tests using faasport.testing, requirements.txt and a README. Refuses to
    overwrite any file. With --ci github, also .github/workflows/faasport.yml.
    """
    if list_:
        for key in sorted(TEMPLATES):
            click.echo(f"{key:<10} {TEMPLATES[key]}")
        return
    from faasport.config.load import display_path

    directory = resolve_project_dir(directory, project_dir)
    if ci is not None and _has_project(directory):
        _write_workflow(directory, cloud, stage)
        return
    if stage is not None and ci is None:
        raise click.UsageError("--stage applies to the workflow of --ci")
    values = names_for(directory, name)
    files = plan(directory, template, values)
    pyproject = directory / "pyproject.toml"
    declared = declared_dependencies(directory)
    missing: list[str] = []
    if declared is not None:
        missing = missing_requirements(declared, files.pop(directory / "requirements.txt"))
    kept = [p for p in files if p.name in KEEP_EXISTING and p.exists() and p.parent == directory]
    for path in kept:
        del files[path]
    existing = [p for p in files if p.exists() and p != pyproject]
    if existing:
        raise FaasportError(
            f"{display_path(existing[0])} already exists; faasport init does not overwrite "
            "files: choose an empty directory"
        )
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    where = display_path(directory.resolve())
    config = "pyproject.toml [tool.faasport]" if pyproject in files else "faasport.toml"
    click.echo(f'created project "{values["name"]}" ({template}) in {where}: {config}', err=True)
    for path in kept:
        click.echo(f"kept your {path.name}; the template's was not written", err=True)
    if ci is not None:
        _write_workflow(directory, cloud, stage)
    cd = "" if where == "." else f"cd {shlex.quote(where)} && "
    if declared is None:
        install = "pip install -r requirements.txt && "
    else:
        # Packaging reads [project] dependencies when there is no requirements.txt.
        install = ""
        if missing:
            click.echo(
                "your pyproject.toml declares the dependencies, so no requirements.txt was "
                f"written: add {', '.join(repr(m) for m in missing)} to [project] dependencies",
                err=True,
            )
    click.echo(f"next: {cd}{install}faasport check && faasport dev", err=True)


def _has_project(directory: Path) -> bool:
    from faasport.config.load import CONFIG_FILE, PYPROJECT

    if (directory / CONFIG_FILE).is_file():
        return True
    pyproject = directory / PYPROJECT
    try:
        return "faasport" in tomllib.loads(pyproject.read_text(encoding="utf-8")).get("tool", {})
    except (OSError, tomllib.TOMLDecodeError):
        return False


def _write_workflow(directory: Path, cloud: Cloud, stage: str | None) -> None:
    """The workflow for the project in ``directory``, as it is configured."""
    from faasport.config import load_project
    from faasport.config.load import display_path
    from faasport.deploy.ci_workflow import PATH, workflow

    project = load_project(directory, stage=stage)
    path = directory / PATH
    if path.exists():
        raise FaasportError(f"{display_path(path)} already exists; not overwriting it")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(workflow(project, cloud, stage=stage), encoding="utf-8")
    click.echo(f"wrote {display_path(path)}: tests, then deploys to {cloud}", err=True)
    for line in _ci_setup(project, cloud):
        click.echo(f"  {line}", err=True)


def _ci_setup(project: Project, cloud: Cloud) -> list[str]:
    """What the repository and the cloud need before the workflow can deploy."""
    from faasport.deploy.aws.ci import role_name

    if cloud == "aws":
        lines = [
            "set the repository variable AWS_ACCOUNT_ID;",
            f"the role {role_name(project)} is written by faasport deploy aws with "
            '[ci] github_repo = "OWNER/NAME" in the configuration: deploy once by hand',
        ]
        if project.ci is None:
            lines.append("([ci] is not set yet: add it before that first deploy)")
        return lines
    if cloud == "gcp":
        return [
            "set the repository variables GCP_PROJECT, GCP_WORKLOAD_IDENTITY_PROVIDER and "
            "GCP_SERVICE_ACCOUNT (see docs/ci.md)"
        ]
    return [
        "set the repository variables AZURE_CLIENT_ID, AZURE_TENANT_ID and "
        "AZURE_SUBSCRIPTION_ID of an app registration with a federated credential for this "
        "repository's branch (see docs/ci.md)"
    ]
