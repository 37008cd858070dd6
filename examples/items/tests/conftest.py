"""Fixtures for the items example: the app importable, a moto server standing in for SNS,
SQS and Kinesis in process, and the database as a parameter (SQLite, and a real PostgreSQL
server from tests/postgres.py)."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from faasport import db
from postgres import PostgresServer
from servers import moto_server

HERE = Path(__file__).resolve().parent
for path in (HERE.parent, HERE):  # the app, and items_cloud.py
    if str(path) not in sys.path:
        sys.path.insert(0, str(path))

from items_cloud import Cloud  # noqa: E402


@pytest.fixture(scope="session")
def moto_url() -> Iterator[str]:
    with moto_server() as url:
        yield url


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moto_cloud(moto_url: str) -> Iterator[Cloud]:
    cloud = Cloud(moto_url)
    yield cloud
    cloud.close()


@pytest.fixture
def cloud(moto_url: str, moto_cloud: Cloud, monkeypatch: pytest.MonkeyPatch) -> Iterator[Cloud]:
    """boto3 in the app reaches moto, as it reaches faasport dev's services or AWS; what
    earlier tests sent is drained first."""
    for name, value in {
        "AWS_ENDPOINT_URL_SNS": moto_url,
        "AWS_ENDPOINT_URL_KINESIS": moto_url,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
    }.items():
        monkeypatch.setenv(name, value)
    # What faasport dev and the deployment set from the function's sends.
    monkeypatch.setenv("FAASPORT_TOPIC_ITEM_CREATED", moto_cloud.topic)
    monkeypatch.setenv("FAASPORT_STREAM_ITEM_CHANGES", "item-changes")
    from items import changes

    changes._client.cache_clear()
    moto_cloud.published()
    moto_cloud.records()
    yield moto_cloud
    changes._client.cache_clear()


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", marks=pytest.mark.postgres, id="postgres"),
    ]
)
def database(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """A fresh, empty database for one test, named by ITEMS_DATABASE_URL."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'items.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        name = f"items_{time.monotonic_ns()}"
        server.execute(f"CREATE DATABASE {name}")
        url = server.url(database=name)
    monkeypatch.setenv("ITEMS_DATABASE_URL", url)
    yield url
    db.dispose()  # each test's engine keeps a connection otherwise
