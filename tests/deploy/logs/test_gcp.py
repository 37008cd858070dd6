"""faasport logs --cloud gcp: the entries:list request Cloud Logging gets (its filter, order,
pages, token), the entries shown as faasport dev shows its log, and failures as one line."""

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
SERVICE = {"type": "cloud_run_revision", "labels": {"service_name": "shop-api"}}
PAGE_1 = {
    "entries": [
        {
            "timestamp": "2026-11-28T21:00:00.123456789Z",
            "severity": "INFO",
            "jsonPayload": {"message": "item 1", "logger": "shop"},
            "resource": SERVICE,
        },
        {
            "timestamp": "2026-11-28T21:00:01Z",
            "severity": "ERROR",
            "textPayload": "failed item 1",
            "resource": SERVICE,
        },
        {  # a request log: nothing the function wrote
            "timestamp": "2026-11-28T21:00:01Z",
            "httpRequest": {"requestMethod": "GET", "status": 200},
            "resource": SERVICE,
        },
    ],
    "nextPageToken": "page-2",
}
PAGE_2 = {
    "entries": [
        {"timestamp": "2026-11-28T21:00:02Z", "textPayload": "printed", "resource": SERVICE},
    ]
}


@pytest.fixture
def root(tmp_path: Path, recorder: Recorder, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("FAASPORT_GCP_LOGGING_ENDPOINT", recorder.url)
    monkeypatch.setenv("FAASPORT_GCP_PROJECT", "my-project")
    monkeypatch.setenv("FAASPORT_GCP_TOKEN", "token-1")
    monkeypatch.setenv("PATH", "")  # no gcloud: the token comes from the variable
    return write_project(tmp_path / "shop", CONFIG)


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["logs", *args, "--cloud", "gcp"])


def test_entries_of_the_functions_service_in_the_readable_format(
    root: Path, recorder: Recorder
) -> None:
    recorder.answers = [(200, PAGE_1), (200, PAGE_2)]
    result = run("api", "--since", "2026-11-28T20:59:00+00:00", "--project", str(root))
    assert result.exit_code == 0, result.output
    assert [re.sub(TIME, "T", line) for line in result.stdout.splitlines()] == [
        "T api INFO  item 1",
        "T api ERROR failed item 1",
        "T api printed",
    ]
    (path, headers, first), (_, _, second) = recorder.seen
    assert path == "/v2/entries:list"
    assert headers["Authorization"] == "Bearer token-1"
    assert first["resourceNames"] == ["projects/my-project"]
    assert first["orderBy"] == "timestamp asc"
    assert first["filter"] == (
        'resource.type = "cloud_run_revision" AND resource.labels.service_name = "shop-api" '
        'AND timestamp >= "2026-11-28T20:59:00.000000Z"'
    )
    assert "pageToken" not in first and second["pageToken"] == "page-2"


def test_stage_and_filter_reach_the_query(root: Path, recorder: Recorder) -> None:
    recorder.answers = [(200, {})]
    result = run("api", "--stage", "prod", "--filter", 'say "hi"', "--project", str(root))
    assert result.exit_code == 0, result.output
    query = recorder.seen[0][2]["filter"]
    assert 'resource.labels.service_name = "shop-prod-api"' in query
    assert query.endswith('(textPayload : "say \\"hi\\"" OR jsonPayload.message : "say \\"hi\\"")')


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (
            403,
            {"error": {"code": 403, "message": "Permission denied on logs", "status": "DENIED"}},
            "answered 403: Permission denied on logs (is the token valid and allowed to read",
        ),
        (500, b"<html>oops</html>", "answered 500: Internal Server Error"),
        (200, b"[]", "answered 200 with something other than a JSON object"),
    ],
)
def test_a_failing_service_is_one_line(
    root: Path, recorder: Recorder, status: int, body: object, expected: str
) -> None:
    recorder.answers = [(status, body)]
    line = one_error_line(run("api", "--project", str(root)))
    assert 'Cloud Logging (service "shop-api" in project "my-project")' in line
    assert expected in line


def test_without_a_project_or_a_token_says_what_to_set(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("FAASPORT_GCP_TOKEN")
    line = one_error_line(run("api", "--project", str(root)))
    assert "no access token for Cloud Logging: set FAASPORT_GCP_TOKEN, or install gcloud" in line
    monkeypatch.delenv("FAASPORT_GCP_PROJECT")
    monkeypatch.delenv("GOOGLE_CLOUD_PROJECT", raising=False)
    line = one_error_line(run("api", "--project", str(root)))
    assert "set FAASPORT_GCP_PROJECT (or GOOGLE_CLOUD_PROJECT)" in line
