"""One way to name the project (``--project/-p``, the argument of dev, deploy and check still
accepted) and the functions (short, or as deployed) on every command."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli_output import one_error_line
from faasport.cli.main import main

PHONEY = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "phoney"


def run(*args: str, stdin: str | None = None) -> Result:
    return CliRunner().invoke(main, list(args), input=stdin)


@pytest.fixture
def phoney(tmp_path: Path) -> Path:
    root = tmp_path / "phoney"
    shutil.copytree(PHONEY, root, ignore=shutil.ignore_patterns(".faasport", "__pycache__"))
    return root


@pytest.mark.parametrize("name", ["worker", "phoney-worker"])
def test_invoke_takes_the_short_or_the_deployed_name(name: str) -> None:
    batch = run("events", "generate", "sqs", "--body", '{"item": 1}', "--body", "not json")
    result = run("invoke", name, "-p", str(PHONEY), "--event", "-", stdin=batch.stdout)
    assert result.exit_code == 0, result.output
    failed = json.loads(batch.stdout)["Records"][1]["messageId"]
    assert json.loads(result.stdout) == {"batchItemFailures": [{"itemIdentifier": failed}]}


def test_invoke_of_an_unknown_name_names_both_forms() -> None:
    line = one_error_line(run("invoke", "phoney-nothing", "--project", str(PHONEY)))
    assert line == (
        'error: unknown function "phoney-nothing"; the functions in faasport.toml are: api, '
        'worker (or as deployed: "phoney-NAME")'
    )


@pytest.mark.parametrize("spelling", [["-p"], ["--project"], []])
def test_deploy_and_check_take_project_or_the_old_argument(
    phoney: Path, spelling: list[str]
) -> None:
    deployed = run("deploy", "aws", *spelling, str(phoney), "--dry-run")
    assert deployed.exit_code == 0, deployed.output
    assert (phoney / "deploy" / "aws" / "template.yaml").is_file()
    checked = run("check", *spelling, str(phoney))
    assert checked.exit_code == 0, checked.output
    assert checked.stdout.startswith('ok: project "phoney"')


@pytest.mark.parametrize("command", [["dev"], ["deploy", "aws"], ["check"]])
def test_two_different_directories_are_a_usage_error(command: list[str], tmp_path: Path) -> None:
    result = run(*command, str(PHONEY), "--project", str(tmp_path))
    assert result.exit_code == 2
    assert "the project directory is given twice" in result.output
    assert "Traceback" not in result.output


def test_package_and_build_take_p(tmp_path: Path) -> None:
    for command in (["package", "--target", "gcp"], ["build"]):
        result = run(*command, "-p", str(tmp_path / "nowhere"))
        assert one_error_line(result).endswith("nowhere: no such project directory")


def test_dev_takes_p(phoney: Path) -> None:
    process = subprocess.Popen(
        [
            *(sys.executable, "-m", "faasport.cli.main", "dev", "-p", str(phoney)),
            *("--port", "0", "--lambda-port", "0", "--services-port", "0", "--no-reload"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        first = process.stderr.readline()
        assert first.startswith('faasport dev: project "phoney" from '), first
        assert first.rstrip().endswith("phoney/faasport.toml")
        for line in process.stderr:
            if line.startswith("Lambda Invoke API on"):
                break
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        process.stderr.close()
