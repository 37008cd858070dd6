"""Stand-ins for the clouds' log services: moto's standalone server for CloudWatch Logs, and
for Cloud Logging and Azure Monitor small HTTP servers that record each request and answer
in the shape of the real REST APIs (canned answers set by each test)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from servers import Recorder, moto_server, recording_server


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture
def aws_env(moto_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """boto3 of this process (and of the CLI run in it) pointed at moto."""
    monkeypatch.setenv("AWS_ENDPOINT_URL_CLOUDWATCH_LOGS", moto_url)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_REGION", raising=False)
    return moto_url


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    with recording_server() as recording:
        yield recording
