"""``faasport coldstart --artifact`` and ``--zip``: fresh starts of the packaged artifact,
isolated as Lambda runs it, that name the slow import and use the shipped ``.pyc`` files
(``.pyc`` missing is reported only for a zip without them)."""

from __future__ import annotations

import json
import sys
import textwrap
import zipfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli_output import one_error_line
from coldstart_report import slow_import
from faasport.cli.main import main
from faasport.deploy.package.bytecode import find_interpreter

VERSION = "{}.{}".format(*sys.version_info[:2])
pytestmark = pytest.mark.skipif(
    find_interpreter(VERSION) is None, reason=f"python{VERSION} is not on PATH"
)

CONFIG = f"""
name = "slowpack"
python = "{VERSION}"

[functions.api]
app = "slowpack.main:app"
health = "/health"
"""

SOURCES = {
    "slowpack/__init__.py": "",
    "slowpack/slowmod.py": "import time\ntime.sleep(0.3)\nVALUE = 1\n",
    "slowpack/main.py": textwrap.dedent(
        """
        from slowpack import slowmod

        def app(environ, start_response):
            start_response("200 OK", [("content-type", "text/plain")])
            return [str(slowmod.VALUE).encode()]
        """
    ),
}
#: The project's own modules a start imports, and the generated entry.
OWN = {"slowpack", "slowpack.main", "slowpack.slowmod", "faasport_handler"}


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["coldstart", *args])


def as_json(result: Result) -> dict[str, Any]:
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def kinds(report: dict[str, Any]) -> set[str]:
    return {f["kind"] for f in report["findings"]}


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("slowpack")
    for name, text in SOURCES.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    (root / "faasport.toml").write_text(CONFIG)
    return root


@pytest.fixture(scope="module")
def built(project: Path) -> dict[str, Any]:
    return as_json(run("api", "--artifact", "--runs", "2", "--json", "--project", str(project)))


def test_the_artifact_runs_isolated_from_a_read_only_directory(
    built: dict[str, Any], project: Path
) -> None:
    artifact = built["artifact"]
    assert artifact["isolated"] and artifact["no_site"] and artifact["dont_write_bytecode"]
    assert artifact["code_read_only"]
    assert artifact["python"] == VERSION and artifact["note"] is None
    # The unpacked artifact, then the standard library: not the project, no site-packages.
    code, *stdlib = artifact["sys_path"]
    assert Path(code).name == "task" and not Path(code).is_relative_to(project)
    assert not [p for p in artifact["sys_path"] if "site-packages" in p or str(project) in p]
    assert all(Path(p).is_relative_to(Path(sys.base_prefix).resolve()) for p in stdlib)
    # faasport's runtime and the app come from the artifact, as on Lambda.
    assert OWN | {"faasport.aws", "faasport.core.loader"} <= set(artifact["code_modules"])
    # Nothing was written next to the project's sources.
    assert not list(project.rglob("__pycache__")) and not (project / "dist").exists()


def test_the_artifact_run_names_the_slow_import_and_uses_the_shipped_pyc(
    built: dict[str, Any],
) -> None:
    assert built["runs"] == 2
    slow_import(built, "slowpack.slowmod", at_least_ms=290)
    # Lazily imported app: the first request pays the sleep, Init does not.
    assert built["first_request_ms"]["median"] >= 290
    assert built["init_ms"]["median"] < built["first_request_ms"]["median"]
    assert built["artifact"]["pyc_files"] >= len(OWN)
    assert "pyc-missing" not in kinds(built)


@pytest.fixture(scope="module")
def zips(project: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    result = CliRunner().invoke(main, ["package", "--target", "aws", "--project", str(project)])
    assert result.exit_code == 0, result.output
    shipped = project / "dist" / "aws" / "slowpack.zip"
    sources = tmp_path_factory.mktemp("zips") / "sources-only.zip"
    with zipfile.ZipFile(shipped) as full, zipfile.ZipFile(sources, "w") as bare:
        for info in full.infolist():
            if "__pycache__" not in info.filename:
                bare.writestr(info, full.read(info))
    return shipped, sources


def test_pyc_missing_is_reported_only_for_a_zip_without_them(
    project: Path, zips: tuple[Path, Path]
) -> None:
    shipped, sources = zips
    with_pyc = as_json(run("--zip", str(shipped), "--runs", "1", "--json", "-p", str(project)))
    assert "pyc-missing" not in kinds(with_pyc)
    bare = as_json(run("--zip", str(sources), "--runs", "1", "--json", "-p", str(project)))
    assert bare["artifact"]["pyc_files"] == 0
    (missing,) = (f for f in bare["findings"] if f["kind"] == "pyc-missing")
    # Every module the start imported from the artifact: the app's, the entry, faasport's.
    assert missing["files"] == len(bare["artifact"]["code_modules"]) > len(OWN)
    assert missing["message"].startswith(f"{missing['files']} of the artifact's modules")
    assert "faasport package --target aws" in missing["message"]


def test_text_report_says_it_ran_the_artifact(project: Path, zips: tuple[Path, Path]) -> None:
    result = run("api", "--zip", str(zips[0]), "--runs", "1", "--project", str(project))
    assert result.exit_code == 0, result.output
    assert "from the packaged artifact, isolated (python" in result.stdout
    assert "  - slowpack.slowmod takes " in result.stdout


def test_a_zip_that_is_not_an_artifact_is_one_line(project: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.zip"
    text.write_text("not a zip")
    result = run("--zip", str(text), "--project", str(project))
    assert result.exit_code == 1
    assert one_error_line(result).startswith(f"error: {text} is not a readable zip")
    other = tmp_path / "other.zip"
    with zipfile.ZipFile(other, "w") as archive:
        archive.writestr("lambda_function.py", "def handler(event, context): pass\n")
    result = run("--zip", str(other), "--project", str(project))
    assert result.exit_code == 1
    assert one_error_line(result) == (
        f"error: {other} has no faasport_handler.py at its root; "
        "build it with faasport package --target aws"
    )


def test_a_missing_zip_is_a_usage_error(project: Path, tmp_path: Path) -> None:
    assert run("--zip", str(tmp_path / "none.zip"), "--project", str(project)).exit_code == 2


def test_without_the_configs_python_it_says_what_that_costs(tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    for name, text in SOURCES.items():
        (other / name).parent.mkdir(parents=True, exist_ok=True)
        (other / name).write_text(text)
    (other / "faasport.toml").write_text(CONFIG.replace(f'"{VERSION}"', '"3.19"'))
    report = as_json(run("--artifact", "--runs", "1", "--json", "--project", str(other)))
    artifact = report["artifact"]
    assert artifact["python"] == VERSION and artifact["pyc_files"] == 0
    assert artifact["note"].startswith("no Python 3.19 (python in faasport.toml) on this machine")
    (missing,) = (f for f in report["findings"] if f["kind"] == "pyc-missing")
    assert missing["message"].endswith("which compiles the artifact's modules at every start")
