"""``faasport init``: each template is a project that checks, tests, serves and packages."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner, Result

from cli_output import one_error_line
from dev_process import Dev
from faasport.cli.init import TEMPLATES, template_files
from faasport.cli.main import main
from faasport.config import load_project

ROOT = Path(__file__).resolve().parents[2]
HTTP_TEMPLATES = {"fastapi": "api", "flask": "web", "full": "api"}
#: What each event function answers the event its README's ``faasport invoke`` line sends.
INVOKED = {
    "worker": {"batchItemFailures": []},
    "cleanup": {"ticks": 1},
    "uploads": {"keys": ["a.csv"]},
}
#: What each logs at INFO while it does so (a line the template's handler writes).
LOGGED = {"worker": "job ", "cleanup": "cleanup for ", "uploads": "stored "}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def faasport(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """The real command, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "faasport.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("command", ["init", "check"])
def test_help(command: str) -> None:
    result = run(command, "--help")
    assert result.exit_code == 0
    assert "--project" in result.stdout


def test_list_shows_every_template() -> None:
    result = run("init", "--list")
    assert result.exit_code == 0
    listed = [line.split()[0] for line in result.stdout.splitlines()]
    assert listed == ["fastapi", "flask", "full", "scheduled", "worker"]


@pytest.mark.parametrize("template", sorted(TEMPLATES))
def test_from_an_empty_directory_init_check_test_serve(template: str, tmp_path: Path) -> None:
    created = faasport("init", "shop", "--template", template, cwd=tmp_path)
    assert created.returncode == 0, created.stderr
    root = tmp_path / "shop"
    assert {"faasport.toml", "requirements.txt", "README.md", "shop", "tests"} <= {
        p.name for p in root.iterdir()
    }
    assert not [p for p in root.rglob("*") if p.suffix == ".tmpl" or "{{" in _text(p)]

    checked = faasport("check", cwd=root)
    assert checked.returncode == 0, checked.stderr
    assert checked.stderr == ""
    assert checked.stdout.startswith('ok: project "shop" from faasport.toml:')

    tested = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert tested.returncode == 0, tested.stdout
    assert " passed" in tested.stdout and "failed" not in tested.stdout

    invoked = readme_invocations(root)
    assert invoked == {name: INVOKED[name] for name in invoked}
    assert bool(invoked) == (template not in {"fastapi", "flask"})

    if template in HTTP_TEMPLATES:
        server = Dev(root, "--no-reload")
        try:
            response = httpx.get(f"{server.url}/items/1", timeout=30)
            assert response.status_code == 200
            assert response.json() == {"id": 1, "name": "pen"}
            assert httpx.get(f"{server.url}/items/99", timeout=30).status_code == 404
            server.process.send_signal(signal.SIGTERM)
            assert server.process.wait(timeout=30) == 0
        finally:
            server.close()
        assert "faasport dev: stopped" in server.lines


def readme_invocations(root: Path) -> dict[str, object]:
    """Runs the generated README's ``... | faasport invoke NAME`` lines: each result by NAME."""
    results: dict[str, object] = {}
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    for line in (root / "README.md").read_text().splitlines():
        if "| faasport invoke" not in line:
            continue
        done = subprocess.run(
            ["bash", "-o", "pipefail", "-c", line.split("  #")[0]],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, f"{line}: {done.stderr}"
        name = line.split("faasport invoke ")[1].split()[0]
        results[name] = json.loads(done.stdout)
        records = [
            json.loads(x[x.index("{") :]) for x in done.stderr.splitlines() if '"level"' in x
        ]
        assert any(
            r["level"] == "INFO" and r["message"].startswith(LOGGED[name]) for r in records
        ), done.stderr
    return results


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def test_the_flask_project_packages_for_aws(tmp_path: Path) -> None:
    assert faasport("init", "shop", "-t", "flask", cwd=tmp_path).returncode == 0
    root = tmp_path / "shop"
    built = faasport("package", "--target", "aws", "--project", str(root), cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    with zipfile.ZipFile(root / "dist" / "aws" / "shop.zip") as archive:
        names = set(archive.namelist())
    assert {"faasport_handler.py", "shop/main.py", "shop/__init__.py", "flask/__init__.py"} <= names
    assert not {n for n in names if n.startswith(("tests/", "conftest.py", "README.md"))}


def test_existing_files_are_never_overwritten(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("mine\n")
    line = one_error_line(run("init", "-p", str(tmp_path), "-t", "flask"))
    assert line.endswith(
        "requirements.txt already exists; faasport init does not overwrite files: "
        "choose an empty directory"
    )
    assert [p.name for p in tmp_path.iterdir()] == ["requirements.txt"]
    assert (tmp_path / "requirements.txt").read_text() == "mine\n"


def test_an_existing_pyproject_gets_a_tool_faasport_table(tmp_path: Path) -> None:
    original = '[project]\nname = "shop"\nversion = "1.0"\n\n[tool.ruff]\nline-length = 99\n'
    (tmp_path / "pyproject.toml").write_text(original)
    (tmp_path / "README.md").write_text("# my shop\n")
    result = run("init", str(tmp_path), "-t", "full", "--name", "shop")
    assert result.exit_code == 0, result.output
    assert "kept your README.md" in result.stderr
    assert (tmp_path / "README.md").read_text() == "# my shop\n"
    assert not (tmp_path / "faasport.toml").exists()
    text = (tmp_path / "pyproject.toml").read_text()
    assert text.startswith(original)
    data = tomllib.loads(text)
    assert data["tool"]["ruff"] == {"line-length": 99}
    project = load_project(tmp_path)
    assert project.source.name == "pyproject.toml"
    assert sorted(project.functions) == ["api", "cleanup", "uploads", "worker"]
    assert project.queues["jobs"].dlq == "jobs-dlq"

    again = one_error_line(run("init", str(tmp_path), "-t", "worker", "--name", "shop"))
    assert again == (
        "error: pyproject.toml already has a [tool.faasport] table; not overwriting it"
    )


def test_a_pyproject_that_declares_dependencies_gets_no_requirements_txt(
    tmp_path: Path,
) -> None:
    """A requirements.txt would be packaged instead of [project] dependencies: none is
    written, and what the template needs beyond them is named."""
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "pp"\nversion = "0.1"\ndependencies = ["requests>=2"]\n'
    )
    result = run("init", str(tmp_path), "-t", "flask", "--name", "pp")
    assert result.exit_code == 0, result.output
    assert not (tmp_path / "requirements.txt").exists()
    assert "add 'flask>=3.0' to [project] dependencies" in result.stderr
    assert f"next: cd {tmp_path} && faasport check && faasport dev" in result.stderr
    # Packaging reads the declared dependencies.
    from faasport.deploy.package.dependencies import read_requirements

    assert read_requirements(load_project(tmp_path)).lines == ("requests>=2",)


def test_a_name_that_would_hide_an_installed_module_is_refused(tmp_path: Path) -> None:
    line = one_error_line(run("init", str(tmp_path / "flask"), "-t", "flask"))
    assert line == (
        'error: the package "flask" would hide the installed module of that name; '
        "choose another project name with --name"
    )
    assert not (tmp_path / "flask").exists()
    assert one_error_line(run("init", str(tmp_path), "--name", "9lives")).startswith(
        "error: --name 9lives: must be letters"
    )


def test_the_wheel_carries_every_template_file(tmp_path: Path) -> None:
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(tmp_path), str(ROOT)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "PIP_NO_INPUT": "1"},
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = tmp_path.glob("faasport-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = {n for n in archive.namelist() if "/templates/" in n}
    for template in TEMPLATES:
        for relative in template_files(template):
            assert any(
                n.endswith(f"/{relative}.tmpl") and f"/{d}/" in n
                for n in names
                for d in (template, "_common")
            ), relative
