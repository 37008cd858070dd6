"""Recording, flushing once per invocation through the real entry points, the cold start
counted by itself, the structured format of Google Cloud and Azure, and bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

import faasport.metrics as metrics
from faasport.core import logs
from faasport.core.errors import ConfigError
from faasport.testing.events import event as sample_event

ENTRY = textwrap.dedent(
    """
    import json, types
    from faasport import aws, metrics

    def work(event, context):
        metrics.count("jobs", event["n"], queue="q1")
        metrics.timing("job_ms", 4.5, queue="q1")
        print(json.dumps({"handled": event["n"]}))
        return {"ok": True}

    handler = aws.handler(work)
    for i, n in enumerate((1, 2)):
        handler({"n": n}, types.SimpleNamespace(aws_request_id=f"r{i}"))
    """
)


def run_entry(**env: str) -> list[dict[str, Any]]:
    out = subprocess.run(
        [sys.executable, "-c", ENTRY],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "AWS_LAMBDA_FUNCTION_NAME": "worker", **env},
    )
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_each_invocation_flushes_once_and_the_first_counts_the_cold_start() -> None:
    lines = run_entry()
    # Line order: the app's own output, then the invocation's metrics, per invocation.
    assert [("handled" in line, "_aws" in line) for line in lines] == [
        (True, False),
        (False, True),
        (False, True),
        (True, False),
        (False, True),
    ]
    cold, first, second = (line for line in lines if "_aws" in line)
    assert cold["ColdStart"] == 1 and cold["function"] == "worker"
    assert cold["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "worker"
    assert (first["jobs"], first["job_ms"], first["queue"]) == (1, 4.5, "q1")
    assert (second["jobs"], second["job_ms"]) == (2, 4.5)
    assert "ColdStart" not in second


def test_namespace_and_format_from_the_environment() -> None:
    lines = run_entry(FAASPORT_METRICS_NAMESPACE="Phoney/Prod", FAASPORT_METRICS="structured")
    entries = [line["faasport_metric"] for line in lines if "faasport_metric" in line]
    assert {e["namespace"] for e in entries} == {"Phoney/Prod"}
    assert [(e["name"], e["value"]) for e in entries] == [
        ("ColdStart", 1),
        ("jobs", 1),
        ("job_ms", 4.5),
        ("jobs", 2),
        ("job_ms", 4.5),
    ]


def test_off_writes_nothing() -> None:
    lines = run_entry(FAASPORT_METRICS="off")
    assert all("handled" in line for line in lines)


def test_google_cloud_gets_structured_lines(capsys: pytest.CaptureFixture[str]) -> None:
    metrics.configure(namespace="phoney", format="structured")
    metrics.timing("render", 12.0, route="/items")
    metrics.timing("render", 8.0, route="/items")
    metrics.count("hits", 2, route="/items")
    metrics.flush()
    entries = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [e["severity"] for e in entries] == ["INFO"] * 3
    assert [e["message"] for e in entries] == [
        "metric render=12 Milliseconds",
        "metric render=8 Milliseconds",
        "metric hits=2 Count",
    ]
    assert entries[0]["faasport_metric"] == {
        "namespace": "phoney",
        "name": "render",
        "kind": "timing",
        "unit": "Milliseconds",
        "value": 12.0,
        "dimensions": {"route": "/items"},
    }
    assert entries[0]["timestamp"].endswith("Z")


def test_nothing_pending_writes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    metrics.flush()
    metrics.count("once")
    metrics.flush()
    metrics.flush()
    assert len(capsys.readouterr().out.splitlines()) == 1


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: metrics.count(""), ValueError, "metric name must be 1 to 255 characters"),
        (lambda: metrics.count("x" * 256), ValueError, "metric name must be 1 to 255"),
        (lambda: metrics.count("a", True), TypeError, "metric a: the value must be a number"),
        (lambda: metrics.gauge("a", "3"), TypeError, "got str"),  # type: ignore[arg-type]
        (lambda: metrics.timing("a", float("nan")), ValueError, "must be finite, got nan"),
        (lambda: metrics.count("a", route=""), ValueError, "dimension route must be 1 to"),
        (lambda: metrics.count("a", a="x"), ValueError, "cannot have the metric's name"),
        (
            lambda: metrics.count("a", **{f"d{i}": i for i in range(31)}),
            ValueError,
            "at most 30 dimensions, got 31",
        ),
    ],
)
def test_bad_values_fail_where_they_are_recorded(
    call: Any, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call()
    assert metrics._pending == {}


def test_one_name_cannot_be_two_kinds() -> None:
    metrics.count("latency")
    with pytest.raises(ValueError, match="metric latency: recorded as a count and as a timing"):
        metrics.timing("latency", 3)


def test_bad_settings_name_what_to_fix(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(
        ConfigError, match='metrics format: must be one of emf, structured, off, got "x"'
    ):
        metrics.configure(format="x")
    with pytest.raises(ConfigError, match="metrics namespace"):
        metrics.configure(namespace=" ")
    monkeypatch.setenv("FAASPORT_METRICS", "cloudwatch")
    metrics.count("a")
    with pytest.raises(
        ConfigError, match='FAASPORT_METRICS: must be one of emf, structured, off, got "cloudwatch"'
    ):
        metrics.flush()


def test_no_cold_start_line_off_any_platform(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("AWS_LAMBDA_FUNCTION_NAME", "K_SERVICE", "FUNCTION_TARGET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("FUNCTIONS_WORKER_RUNTIME", raising=False)
    metrics._cold_counted.clear()
    logs.current["cold_start"] = True
    metrics.flush()
    assert capsys.readouterr().out == ""


def test_faasport_dev_shows_the_cold_start_in_a_few_words(tmp_path: Any) -> None:
    phoney = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "phoney"
    event = tmp_path / "event.json"
    event.write_text(json.dumps(sample_event("apigw-v2", "GET", "/health")))
    out = subprocess.run(
        [sys.executable, "-m", "faasport.cli.main", "invoke", "api", "--event", str(event)],
        capture_output=True,
        text=True,
        check=True,
        cwd=phoney,
    )
    assert "[api] metrics phoney-api: ColdStart=1 Count [function=phoney-api]" in out.stderr
