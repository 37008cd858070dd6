"""``faasport package`` and ``faasport build`` on the command line."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli_output import one_error_line
from faasport.cli.main import main
from faasport.cli.package import TARGET_NAMES
from faasport.deploy.package import TARGETS

PROJECT = Path(__file__).parent / "project"
SIZE_LINE = re.compile(
    r".*/dist/aws/shop\.zip: \d+\.\d (KB|MB) zipped, \d+\.\d (KB|MB) unzipped, \d+ files, "
    r"built in \d+\.\d s"
)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


#: The app without the test project's dependencies (``package`` refuses an app that does not
#: import from its artifact, and without requirements nothing third-party is in it).
BARE_APP = """
async def app(scope, receive, send):
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """The test project without requirements, so no pip runs here."""
    root = Path(shutil.copytree(PROJECT, tmp_path / "shop"))
    (root / "requirements.txt").unlink()
    (root / "shop" / "web.py").write_text(BARE_APP)
    return root


def test_an_app_importing_what_is_not_packaged_is_refused(project: Path) -> None:
    (project / "shop" / "web.py").write_text("import idna\n" + BARE_APP)
    result = run("package", "--target", "aws", "--project", str(project))
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert [line for line in result.stderr.splitlines() if "error" in line] == [
        'error: functions.api: cannot import "shop.web:app" from '
        f"{project / 'dist' / 'aws' / 'shop.zip'}: ModuleNotFoundError: No module named 'idna'"
    ]
    assert not (project / "dist" / "aws" / "shop.zip").exists()


def test_package_prints_the_artifact_and_its_size_then_a_size_report(project: Path) -> None:
    result = run("package", "--target", "aws", "--project", str(project))
    assert result.exit_code == 0, result.output
    first, *report = result.stdout.splitlines()
    assert SIZE_LINE.fullmatch(first)
    assert [line.split(":")[0] for line in report] == ["  api", "  worker", "  heaviest"]
    assert (project / "dist" / "aws" / "shop.zip").is_file()


def test_build_is_package_for_aws(project: Path) -> None:
    assert run("package", "--target", "aws", "--project", str(project)).exit_code == 0
    first = (project / "dist" / "aws" / "shop.zip").read_bytes()
    result = run("build", "--project", str(project))
    assert result.exit_code == 0, result.output
    assert SIZE_LINE.fullmatch(result.stdout.splitlines()[0])
    assert (project / "dist" / "aws" / "shop.zip").read_bytes() == first


@pytest.mark.parametrize(
    ("target", "artifact"),
    [
        ("gcp", "dist/gcp/shop.zip"),
        ("azure", "dist/azure/shop.zip"),
        ("container", "dist/container"),
    ],
)
def test_every_target_on_the_command_line(project: Path, target: str, artifact: str) -> None:
    result = run("package", "--target", target, "--project", str(project))
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(str(project / artifact) + ": ")
    assert (project / artifact).exists()


def test_a_bad_or_missing_target_is_a_usage_error(project: Path) -> None:
    assert run("package", "--target", "heroku", "--project", str(project)).exit_code == 2
    assert run("package", "--project", str(project)).exit_code == 2
    assert run("build", "--target", "gcp").exit_code == 2


def test_the_command_offers_every_target() -> None:
    assert tuple(TARGETS) == TARGET_NAMES
    result = run("package", "--help")
    assert result.exit_code == 0
    assert "aws|gcp|azure|container" in result.stdout


def test_a_bad_config_is_one_error_line(project: Path) -> None:
    config = project / "faasport.toml"
    arm64 = config.read_text().replace("timeout = 120\n", 'architecture = "arm64"\n', 1)
    config.write_text(arm64)
    line = one_error_line(run("package", "--target", "aws", "--project", str(project)))
    assert line.endswith(
        'faasport.toml: functions.worker.architecture: is "arm64" but functions.api is '
        '"x86_64": one artifact serves every function, so they must agree'
    )
    config.write_text('[functions.api]\napp = "shop.web:app"\nmemory = 99999\n')
    line = one_error_line(run("package", "--target", "gcp", "--project", str(project)))
    assert line.endswith("functions.api.memory: must be an integer from 128 to 10240, got 99999")


def test_a_missing_module_is_one_error_line(project: Path) -> None:
    shutil.rmtree(project / "shop")
    line = one_error_line(run("package", "--target", "aws", "--project", str(project)))
    assert "functions.api.app: module 'shop' is not in the project: no shop/" in line


@pytest.mark.parametrize(("target", "where"), [("gcp", "--set-build-env-vars"), ("azure", "app")])
def test_credentials_in_an_index_url_are_a_warning_never_printed(
    project: Path, target: str, where: str
) -> None:
    """Google Cloud and Azure build from the uploaded source, requirements.txt included: a
    token written into an index URL travels with it (one from the environment does not)."""
    (project / "requirements.txt").write_text(
        "--extra-index-url https://build:s3cr3t-token@pypi.corp.example/simple\n"
        "--index-url https://${PIP_TOKEN}@pypi.corp.example/simple\n"
    )
    result = run("package", "--target", target, "--project", str(project))
    assert result.exit_code == 0, result.output
    warned = [line for line in result.output.splitlines() if "holds credentials" in line]
    assert len(warned) == 1 and "https://***@pypi.corp.example" in warned[0]
    assert where in warned[0]
    assert "s3cr3t" not in result.output
