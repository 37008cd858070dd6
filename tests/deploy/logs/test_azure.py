"""faasport logs --cloud azure: the Log Analytics query Azure Monitor gets (the function's
traces in its app, since when, containing what), the rows shown as faasport dev shows its
log, and failures as one line."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli_output import one_error_line
from faasport.cli.main import main
from projects import write_project
from servers import Recorder

CONFIG = 'name = "shop"\n[functions.api]\napp = "shop.web:app"\n[stages.prod]\n'
TIME = r"\d\d:\d\d:\d\d"
WORKSPACE = "8d3c5a1e-0000-4000-8000-000000000001"
ANSWER = {
    "tables": [
        {
            "name": "PrimaryResult",
            "columns": [
                {"name": "TimeGenerated", "type": "datetime"},
                {"name": "Message", "type": "string"},
                {"name": "SeverityLevel", "type": "int"},
            ],
            "rows": [
                ["2026-11-28T21:00:00.1234567Z", "item 1", 1],
                ["2026-11-28T21:00:01Z", "failed item 1", 3],
                ["2026-11-28T21:00:02Z", '{"level":"WARNING","message":"json line"}', 1],
            ],
        }
    ]
}


@pytest.fixture
def root(tmp_path: Path, recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FAASPORT_AZURE_LOGS_ENDPOINT", recorder.url)
    monkeypatch.setenv("FAASPORT_AZURE_WORKSPACE", WORKSPACE)
    monkeypatch.setenv("FAASPORT_AZURE_TOKEN", "token-2")
    monkeypatch.setenv("PATH", "")
    return write_project(tmp_path / "shop", CONFIG)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["logs", *args, "--cloud", "azure"])


def test_the_functions_traces_in_the_readable_format(root: Path, recorder: Recorder) -> None:
    recorder.answers = [(200, ANSWER)]
    result = run("api", "--since", "2026-11-28T20:59:00+00:00", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert [re.sub(TIME, "T", line) for line in result.stdout.splitlines()] == [
        "T api INFO  item 1",
        "T api ERROR failed item 1",
        "T api WARNING json line",
    ]
    [(path, headers, body)] = recorder.seen
    assert path == f"/v1/workspaces/{WORKSPACE}/query"
    assert headers["Authorization"] == "Bearer token-2"
    assert body["query"].splitlines() == [
        "AppTraces",
        "| where TimeGenerated >= datetime(2026-11-28T20:59:00.000000Z)",
        '| where AppRoleName startswith "func-shop-"',
        '| where OperationName == "api"',
        "| project TimeGenerated, Message, SeverityLevel",
        "| order by TimeGenerated asc",
    ]


def test_stage_and_filter_reach_the_query(root: Path, recorder: Recorder) -> None:
    recorder.answers = [(200, {"tables": [{"columns": [], "rows": []}]})]
    result = run("api", "--stage", "prod", "--filter", 'a "b"', "--project", str(root))
    assert result.exit_code == 0, result.output
    query = recorder.seen[0][2]["query"]
    assert '| where AppRoleName startswith "func-shop-prod-"' in query
    assert '| where Message contains_cs "a \\"b\\""' in query


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            400,
            {
                "error": {
                    "code": "BadArgumentError",
                    "message": "The request had some invalid properties",
                }
            },
            "answered 400: The request had some invalid properties",
        ),
        (403, {"error": {"message": "denied"}}, "answered 403: denied (is the token valid"),
        (200, {"tables": []}, "answered without a result table"),
    ],
)
def test_a_failing_service_is_one_line(
    root: Path, recorder: Recorder, status: int, body: object, expected: str
) -> None:
    recorder.answers = [(status, body)]
    line = one_error_line(run("api", "--project", str(root)))
    assert f'Azure Monitor (workspace "{WORKSPACE}")' in line and expected in line


def test_without_a_workspace_says_how_to_find_it(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAASPORT_AZURE_WORKSPACE")
    line = one_error_line(run("api", "--project", str(root)))
    assert "set FAASPORT_AZURE_WORKSPACE to the id of the app's Log Analytics workspace" in line
