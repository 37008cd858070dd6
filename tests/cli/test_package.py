"""``faasport package`` refuses an artifact whose targets do not import from it, as the cloud
imports them: from the unpacked zip alone, in a fresh interpreter (a real CLI process)."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

RUNNING = f"{sys.version_info[0]}.{sys.version_info[1]}"
OTHER = f"3.{sys.version_info[1] + 1}"
APP = "def app(environ, start_response):\n    return [b'']\n"


def project(root: Path, python: str, config: str, files: dict[str, str]) -> Path:
    (root / "faasport.toml").write_text(f'name = "pk"\npython = "{python}"\n' + config)
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def package(root: Path, target: str = "aws") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faasport.cli.main", "package", "--target", target, "-p", "."],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def errors(process: subprocess.CompletedProcess[str]) -> list[str]:
    assert "Traceback" not in process.stderr
    return [line for line in process.stderr.splitlines() if line.startswith("error:")]


def test_a_target_that_imports_is_packaged(tmp_path: Path) -> None:
    root = project(tmp_path, RUNNING, '[functions.api]\napp = "web:app"\n', {"web.py": APP})
    done = package(root)
    assert done.returncode == 0, done.stderr
    assert errors(done) == []
    assert (root / "dist" / "aws" / "pk.zip").is_file()


def test_a_dependency_missing_from_the_requirements_is_refused(tmp_path: Path) -> None:
    target = "aws"
    # httpx is installed here, so `faasport check` passes, but no requirement ships it.
    web = "import httpx\n\n" + APP
    root = project(tmp_path, RUNNING, '[functions.api]\napp = "web:app"\n', {"web.py": web})
    refused = package(root, target)
    assert refused.returncode == 1
    assert errors(refused) == [
        f'error: functions.api: cannot import "web:app" from dist/{target}/pk.zip: '
        "ModuleNotFoundError: No module named 'httpx'"
    ]
    assert not (root / "dist" / target / "pk.zip").exists()


@pytest.mark.parametrize(("python", "target"), [(RUNNING, "aws"), (OTHER, "aws"), (RUNNING, "gcp")])
def test_the_projects_own_module_left_out_is_refused_whatever_the_python(
    tmp_path: Path, python: str, target: str
) -> None:
    config = textwrap.dedent(
        """
        exclude = ["handlers/jobs.py"]

        [functions.api]
        app = "web:app"

        [functions.jobs]
        handler = "handlers.jobs:handle"
        """
    )
    files = {
        "web.py": APP,
        "handlers/__init__.py": "",
        "handlers/jobs.py": "def handle(event, context):\n    return 1\n",
    }
    refused = package(project(tmp_path, python, config, files), target)
    assert refused.returncode == 1
    [line] = errors(refused)
    assert line.startswith(
        f'error: functions.jobs: cannot import "handlers.jobs:handle" from dist/{target}/pk.zip: '
        "could not import module 'handlers.jobs'"
    )


def test_dependencies_the_platform_installs_are_not_required_in_the_zip(tmp_path: Path) -> None:
    # GCP installs requirements.txt itself: the zip lists httpx but does not hold it.
    web = "import httpx\n\n" + APP
    root = project(tmp_path, RUNNING, '[functions.api]\napp = "web:app"\n', {"web.py": web})
    (root / "requirements.txt").write_text("httpx\n")
    done = package(root, "gcp")
    assert done.returncode == 0, done.stderr
    assert errors(done) == []


def test_a_missing_attribute_is_refused(tmp_path: Path) -> None:
    root = project(tmp_path, OTHER, '[functions.api]\napp = "web:ap"\n', {"web.py": APP})
    refused = package(root)
    assert refused.returncode == 1
    assert errors(refused) == [
        'error: functions.api: cannot import "web:ap" from dist/aws/pk.zip: '
        "module 'web' has no attribute 'ap'"
    ]
