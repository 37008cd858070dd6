"""``faasport cost`` on the command line: traffic from options or [traffic], durations given
or measured by the local runtime, the price date, JSON, and one-line errors."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli_output import one_error_line
from faasport.cli.main import main
from faasport.local import durations
from faasport.local.emulator import Emulator
from faasport.local.spec import FunctionSpec

CONFIG = """
name = "shop"

[functions.app]
handler = "shop:handle"
memory = 1536
architecture = "arm64"
"""


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["cost", *args])


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "faasport.toml").write_text(textwrap.dedent(CONFIG))
    (tmp_path / "shop.py").write_text(
        "import time\n\ndef handle(event, context):\n    time.sleep(0.02)\n    return 1\n"
    )
    return tmp_path


def test_prints_each_function_the_totals_the_date_and_the_break_even(project: Path) -> None:
    # AWS's published example (3M requests, 120 ms, 1536 MB Arm) is $2.27 a month.
    result = run(
        "--project", str(project), "--requests", "app=3_000_000", "--duration-ms", "app=120"
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == "shop: monthly cost, list prices read 2026-11-28"
    assert lines[1].split() == [
        "function",
        "requests",
        "duration",
        "memory",
        "AWS",
        "Google",
        "Cloud",
        "Azure",
    ]
    assert lines[2].split()[:6] == ["app", "3,000,000", "120.0", "ms", "1536", "MB"]
    total = lines[4].split()
    assert total[0] == "total" and total[1] == "$2.27"
    assert lines[6].startswith("app: an always-on container (AWS Fargate 0.25 vCPU, 1.5 GB: $")
    assert "AWS above " in lines[6] and "Azure above " in lines[6]
    assert lines[-1].startswith("not included: data transfer")


def test_traffic_table_is_read_and_the_command_line_wins(project: Path) -> None:
    config = project / "faasport.toml"
    config.write_text(
        config.read_text() + "\n[traffic]\napp = { requests = 3000000, duration_ms = 120 }\n"
    )
    first = json.loads(run("--project", str(project), "--json").stdout)
    assert first["providers"]["aws"]["total"] == "2.27"
    assert first["functions"][0]["duration_source"] == "given"
    assert first["prices_date"] == {"aws": "2026-11-28", "gcp": "2026-11-28", "azure": "2026-11-28"}
    again = json.loads(run("--project", str(project), "--json", "--requests", "app=0").stdout)
    assert again["providers"]["aws"]["total"] == "0.00"


def test_durations_measured_by_the_local_runtime(project: Path) -> None:
    (project / ".faasport").mkdir()
    runtime = Emulator([FunctionSpec("app", "shop.handle", project)], log=lambda line: None)
    runtime.start()
    try:
        for _ in range(3):
            assert runtime.invoke("app", b"{}").ok
    finally:
        runtime.stop()
    recorded = durations.read(project, "app")
    assert len(recorded) == 3
    assert all(20 <= ms < 2000 for ms in recorded)
    result = run("--project", str(project), "--requests", "app=1000", "--from-dev", "--json")
    assert result.exit_code == 0, result.output
    function = json.loads(result.stdout)["functions"][0]
    assert function["duration_source"] == "median of 3 runs under faasport dev"
    assert function["duration_ms"] == sorted(recorded)[1]


def test_a_function_without_duration_is_one_error_line(project: Path) -> None:
    line = one_error_line(run("--project", str(project), "--requests", "app=10"))
    assert line == (
        "error: no duration for function app: give --duration-ms app=MS, set duration_ms in "
        "[traffic], or run it under faasport dev and add --from-dev"
    )
    line = one_error_line(run("--project", str(project), "--from-dev", "--requests", "app=10"))
    assert "no duration for function app" in line  # nothing was recorded


def test_an_unknown_function_is_one_error_line(project: Path) -> None:
    line = one_error_line(
        run("--project", str(project), "--requests", "api=10", "--duration-ms", "app=5")
    )
    assert line == 'error: unknown function "api"; the functions are: app'


@pytest.mark.parametrize("value", ["app", "app=", "=5", "app=-1", "app=many"])
def test_a_malformed_pair_is_a_usage_error(project: Path, value: str) -> None:
    result = run("--project", str(project), "--requests", value)
    assert result.exit_code == 2
    assert "expected FUNCTION=NUMBER" in result.output


@pytest.mark.parametrize(
    ("traffic", "message"),
    [
        ("api = 5", "faasport.toml: traffic.api: is not a function (the functions are: app)"),
        ("app = -5", "faasport.toml: traffic.app: must be an integer of at least 0, got -5"),
        ("app = { duration_ms = 5 }", "faasport.toml: traffic.app.requests: is required"),
        ("app = { requests = 5, speed = 1 }", "faasport.toml: traffic.app.speed: unknown key"),
    ],
)
def test_a_bad_traffic_table_names_the_key_and_file(
    project: Path, traffic: str, message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    config = project / "faasport.toml"
    config.write_text(config.read_text() + f"\n[traffic]\n{traffic}\n")
    line = one_error_line(run("--duration-ms", "app=5"))
    assert line.startswith(f"error: {message}")


def test_api_gateway_volume_tiers_are_a_row_of_their_own(tmp_path: Path) -> None:
    (tmp_path / "faasport.toml").write_text('name = "big"\n[functions.api]\napp = "a:app"\n')
    args = ["--project", str(tmp_path), "--requests", "api=432000000", "--duration-ms", "api=10"]
    text = run(*args)
    assert text.exit_code == 0, text.output
    (row,) = [line for line in text.stdout.splitlines() if line.startswith("volume tiers")]
    # 132M HTTP API requests above 300M at $0.90/M instead of $1.00/M on AWS only.
    assert row.split()[2:] == ["-$13.20", "$0.00", "$0.00"]
    data = json.loads(run(*args, "--json").stdout)
    assert data["providers"]["aws"]["volume_discount"] == "-13.20"
    charges = data["providers"]["aws"]["functions"]["api"]["charges"]
    assert charges["API Gateway HTTP API"] == "432.00"
    small = run("--project", str(tmp_path), "--requests", "api=1000", "--duration-ms", "api=10")
    assert "volume tiers" not in small.stdout


def test_a_run_is_billed_one_step_at_least_and_no_amount_is_minus_zero() -> None:
    from decimal import Decimal

    from faasport.cli.cost import _money
    from faasport.deploy.cost.model import _seconds

    assert _seconds(0, 1) == Decimal("0.001")  # Lambda bills 1 ms at least
    assert _seconds(0.2, 100) == Decimal("0.1")
    assert _money(Decimal("-0.001")) == "$0.00"
    assert _money(Decimal("-0.01")) == "-$0.01"


def test_durations_of_every_process_are_kept(tmp_path: Path) -> None:
    """faasport invoke while faasport dev runs: each appends, neither rewrites the other's."""
    (tmp_path / ".faasport").mkdir()
    dev, invoke = durations.DurationLog(tmp_path, "api"), durations.DurationLog(tmp_path, "api")
    for value in (10.0, 11.0):
        dev.record(value)  # the first is written at once, the second waits
    invoke.record(50.0)
    dev.flush()
    assert sorted(durations.read(tmp_path, "api")) == [10.0, 11.0, 50.0]
    many = durations.DurationLog(tmp_path, "worker")
    many.record(0.0)  # written at once; the rest wait for the next write
    for i in range(1, 3 * durations.KEEP):
        many.record(float(i))
    assert len(many.pending) == durations.KEEP  # a heavy load holds no more than is kept
    many.flush()
    kept = durations.read(tmp_path, "worker")
    assert len(kept) == durations.KEEP and kept[-1] == 3 * durations.KEEP - 1
    for value in range(3 * durations.KEEP, 5 * durations.KEEP):
        many.pending.append(float(value))
    many.write()  # the file held more than twice KEEP: cut back to the last KEEP
    assert len(durations.path(tmp_path, "worker").read_text().splitlines()) == durations.KEEP
    assert durations.read(tmp_path, "worker")[-1] == 5 * durations.KEEP - 1
