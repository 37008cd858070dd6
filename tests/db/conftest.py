"""One PostgreSQL server for the database tests (tests/postgres.py), started once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from postgres import PostgresServer


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    yield server
    server.stop()
