"""``faasport coldstart`` on a project with a slow import and a heavy SDK it must name, its
JSON and text reports, exit codes, and its HTML chart opened in headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from cli_output import one_error_line
from coldstart_report import module_row, slow_import
from faasport.cli.main import main

CONFIG = """
name = "slowpoke"

[functions.api]
app = "slowpoke.main:app"
health = "/health"

[functions.jobs]
handler = "slowpoke.jobs:handle"
"""

SOURCES = {
    "slowpoke/__init__.py": "",
    # Work at import time: what the report must name.
    "slowpoke/slowmod.py": "import time\ntime.sleep(0.3)\nVALUE = 1\n",
    # A heavy SDK imported eagerly, which the request never calls.
    "slowpoke/storage.py": "import boto3\n\ndef client():\n    return boto3.client('s3')\n",
    "slowpoke/main.py": textwrap.dedent(
        """
        from slowpoke import slowmod, storage

        def app(environ, start_response):
            start_response("200 OK", [("content-type", "text/plain")])
            return [str(slowmod.VALUE).encode()]
        """
    ),
    "slowpoke/jobs.py": "def handle(event, context):\n    return {'ok': True}\n",
    "broken/__init__.py": "",
    "broken/main.py": "import no_such_module_here\napp = None\n",
}


def write_project(root: Path, config: str = CONFIG) -> Path:
    for name, text in SOURCES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    (root / "faasport.toml").write_text(config)
    return root


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["coldstart", *args])


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_project(tmp_path_factory.mktemp("slowpoke"))


@pytest.fixture(scope="module")
def report(project: Path) -> dict[str, Any]:
    result = run("api", "--runs", "2", "--json", "--project", str(project))
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def finding(report: dict[str, Any], kind: str) -> dict[str, Any]:
    (found,) = (f for f in report["findings"] if f["kind"] == kind)
    return found


def test_times_and_memory_of_each_start(report: dict[str, Any]) -> None:
    assert report["function"] == "api" and report["runs"] == 2
    # The app is imported lazily: the first request pays the 0.3 s sleep, init does not.
    assert report["first_request_ms"]["median"] >= 290
    assert report["init_ms"]["median"] < report["first_request_ms"]["median"]
    for key in ("init_ms", "first_request_ms", "peak_memory_mb"):
        row = report[key]
        assert 0 < row["min"] <= row["median"] <= row["max"]
    # boto3 alone takes tens of megabytes.
    assert report["peak_memory_mb"]["median"] > 20


def test_names_the_slow_import(report: dict[str, Any]) -> None:
    # Other slow imports (parts of boto3, of the standard library) vary by machine and load,
    # so the sleeping module must be named, not necessarily first.
    slow_import(report, "slowpoke.slowmod", at_least_ms=290)
    slowmod = module_row(report, "slowpoke.slowmod", at_least_ms=290)
    if slowmod is not None:
        main_row = module_row(report, "slowpoke.main", at_least_ms=290)
        assert main_row is not None and slowmod["self_ms"] >= 290
        assert main_row["cumulative_ms"] >= slowmod["cumulative_ms"]
    packages = {row["package"]: row for row in report["packages"]}
    assert packages["slowpoke"]["self_ms"] >= 290


def test_names_the_heavy_sdk_and_what_the_request_never_used(report: dict[str, Any]) -> None:
    heavy = {f["module"] for f in report["findings"] if f["kind"] == "heavy-sdk"}
    assert {"boto3", "botocore"} <= heavy
    unused = finding(report, "unused-at-first-request")
    assert "boto3" in unused["modules"] and "botocore" in unused["modules"]
    # The request ran slowpoke's own code, so slowpoke is not "unused".
    assert "slowpoke" not in unused["modules"]


def test_missing_bytecode_is_counted(report: dict[str, Any]) -> None:
    pyc = finding(report, "pyc-missing")
    # slowpoke/__init__, slowmod, storage, main and the generated faasport_handler.
    assert pyc["files"] == 5
    # The generated entry answers health checks without the app: nothing to report.
    assert not [f for f in report["findings"] if f["kind"] == "health-imports-app"]


def test_import_tree_nests_the_app_under_the_entry(report: dict[str, Any]) -> None:
    def names(nodes: list[dict[str, Any]]) -> set[str]:
        out: set[str] = set()
        for node in nodes:
            out.add(node["name"])
            out |= names(node["children"])
        return out

    main_node = next(n for n in _walk(report["import_tree"]) if n["name"] == "slowpoke.main")
    assert {"slowpoke.slowmod", "slowpoke.storage", "boto3"} <= names(main_node["children"])


def _walk(nodes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for node in nodes:
        out.append(node)
        out += _walk(node["children"])
    return out


@pytest.fixture(scope="module")
def charted(project: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Result, Path]:
    chart = tmp_path_factory.mktemp("chart") / "imports.html"
    result = run("jobs", "--runs", "1", "--html", str(chart), "--project", str(project))
    assert result.exit_code == 0, result.output
    return result, chart


def test_plain_handler_text_report_and_html_chart(charted: tuple[Result, Path]) -> None:
    result, chart = charted
    text = result.stdout
    assert "faasport coldstart jobs: 1 fresh starts" in text
    assert "Init Duration" in text and "First request" in text and "Peak memory" in text
    assert "Findings" in text
    html = chart.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<svg" in html
    assert "faasport.aws" in html
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nope"], 'unknown function "nope"; the functions in faasport.toml are: api, jobs'),
        ([], "name the function to measure; the functions in faasport.toml are: api, jobs"),
    ],
)
def test_user_errors_are_one_line(project: Path, args: list[str], message: str) -> None:
    result = run(*args, "--project", str(project))
    assert result.exit_code == 1
    assert one_error_line(result) == f"error: {message}"


def test_a_function_that_cannot_start_is_one_line(tmp_path: Path) -> None:
    root = write_project(tmp_path, '[functions.bad]\nhandler = "broken.main:app"\n')
    result = run("--runs", "1", "--json", "--project", str(root))
    assert result.exit_code == 1
    assert one_error_line(result) == (
        "error: function bad failed to start: faasport.core.errors.ImportModuleError: "
        "Unable to import module 'broken.main': No module named 'no_such_module_here'"
    )


def test_an_event_function_gets_an_event_of_its_own_source(tmp_path: Path) -> None:
    """A queue consumer's first invocation is a batch from its queue, not ``{}``."""
    config = '[queues.jobs]\n[functions.worker]\nhandler = "work:handle"\n'
    root = write_project(tmp_path, config + 'events = [{ queue = "jobs" }]\n')
    (root / "work.py").write_text(
        "from faasport import events\n\n"
        "def handle(event, context):\n"
        "    return events.process(event, lambda record: record.json())\n"
    )
    result = run("--runs", "1", "--json", "--project", str(root))
    assert result.exit_code == 0, result.output


def test_a_function_that_starts_but_fails_its_first_invocation_says_so(tmp_path: Path) -> None:
    root = write_project(tmp_path, '[functions.bad]\nhandler = "work:handle"\n')
    (root / "work.py").write_text("def handle(event, context):\n    raise ValueError('no')\n")
    result = run("--runs", "1", "--json", "--project", str(root))
    assert (
        one_error_line(result)
        == "error: function bad failed on its first invocation: ValueError: no"
    )


def test_help() -> None:
    result = run("--help")
    assert result.exit_code == 0
    assert "Usage: main coldstart [OPTIONS] [FUNCTION]" in result.stdout


def test_usage_errors_exit_2(project: Path) -> None:
    assert run("api", "--runs", "0", "--project", str(project)).exit_code == 2
    assert run("api", "--runs", "many").exit_code == 2


CHROMIUM = shutil.which("chromium")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium: make chromium installs it")
def test_the_chart_opens_in_headless_chromium(charted: tuple[Result, Path], tmp_path: Path) -> None:
    _, chart = charted
    assert CHROMIUM is not None
    common = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--enable-logging=stderr",
        "--v=0",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    out = subprocess.run(
        [*common, "--dump-dom", chart.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    # The DOM as Chromium built it: the chart's rectangles, one per module drawn.
    assert out.stdout.count("<rect ") > 20
    assert "faasport.aws" in out.stdout
    console = [line for line in out.stderr.splitlines() if "CONSOLE" in line]
    assert console == []
    assert "ERR_FILE_NOT_FOUND" not in out.stderr and "net::" not in out.stderr
    shot = tmp_path / "chart.png"
    subprocess.run(
        [*common, f"--screenshot={shot}", "--window-size=1280,800", chart.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
