"""``faasport.db.engine`` against a real PostgreSQL server (tests/postgres.py), with
credentials from ``faasport.secrets`` (the environment variable source)."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy
from sqlalchemy.pool import NullPool, QueuePool

from faasport import db, secrets
from faasport.core.errors import ConfigError
from postgres import PostgresServer

Role = tuple[str, str]


@pytest.fixture
def role(postgres: PostgresServer) -> Callable[[], Role]:
    """Creates a login role of its own for a test: (name, password)."""

    def create() -> Role:
        name, password = f"app_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
        postgres.execute(f"CREATE ROLE {name} LOGIN PASSWORD '{password}'")
        return name, password

    return create


@pytest.fixture
def secret(monkeypatch: pytest.MonkeyPatch) -> Callable[[Any], str]:
    """Stores a value (a dict is stored as JSON) as a secret in the environment: its name."""
    monkeypatch.setenv("FAASPORT_SECRETS", "env")

    def store(value: Any) -> str:
        name = f"phoney/test/{uuid.uuid4().hex[:8]}"
        text = json.dumps(value) if isinstance(value, dict) else str(value)
        monkeypatch.setenv(secrets.env_name(name), text)
        return name

    return store


def rds(postgres: PostgresServer, user: Role, **extra: Any) -> dict[str, Any]:
    """A secret in the format RDS writes for managed credentials."""
    fields = {
        "engine": "postgres",
        "host": postgres.host,
        "port": postgres.port,
        "username": user[0],
        "password": user[1],
        "dbname": "postgres",
        "dbInstanceIdentifier": "phoney-prod",
    }
    return {**fields, **extra}


def whoami(engine: sqlalchemy.Engine) -> tuple[str, int]:
    with engine.connect() as connection:
        row = connection.execute(sqlalchemy.text("SELECT current_user, pg_backend_pid()")).one()
        return str(row[0]), int(row[1])


def test_credentials_from_an_rds_secret(
    postgres: PostgresServer, role: Callable[[], Role], secret: Callable[[Any], str]
) -> None:
    user = role()
    engine = db.engine(secret=secret(rds(postgres, user)))
    assert whoami(engine)[0] == user[0]
    assert engine.url.drivername == "postgresql+psycopg"
    assert isinstance(engine.pool, QueuePool) and engine.pool.size() == 1
    with engine.connect() as connection:
        parameters = connection.connection.dbapi_connection.info.get_parameters()
    assert parameters["connect_timeout"] == str(db.CONNECT_TIMEOUT)


def test_credentials_from_a_url_secret(
    postgres: PostgresServer, role: Callable[[], Role], secret: Callable[[Any], str]
) -> None:
    user = role()
    engine = db.engine(secret=secret(postgres.url(*user)))
    assert whoami(engine)[0] == user[0]


def test_url_parts_win_over_the_secret(
    postgres: PostgresServer, role: Callable[[], Role], secret: Callable[[Any], str]
) -> None:
    user = role()
    postgres.execute(f"CREATE DATABASE {user[0]}_orders")
    engine = db.engine(
        f"postgresql+psycopg:///{user[0]}_orders", secret=secret(rds(postgres, user))
    )
    with engine.connect() as connection:
        assert (
            connection.scalar(sqlalchemy.text("SELECT current_database()")) == f"{user[0]}_orders"
        )


def test_one_connection_at_a_time(postgres: PostgresServer) -> None:
    engine = db.engine(postgres.url(), pool_timeout=0.2)
    with engine.connect(), pytest.raises(sqlalchemy.exc.TimeoutError):
        engine.connect()


def test_pre_ping_replaces_a_terminated_connection(
    postgres: PostgresServer, role: Callable[[], Role]
) -> None:
    user = role()
    engine = db.engine(postgres.url(*user))
    unpinged = db.engine(postgres.url(*user), pool_pre_ping=False)
    _, first = whoami(engine)
    _, other = whoami(unpinged)
    # The timeout makes pg_terminate_backend wait until the backends have exited.
    postgres.execute(
        "SELECT pg_terminate_backend(%s, 5000), pg_terminate_backend(%s, 5000)", first, other
    )
    name, second = whoami(engine)
    assert (name, second != first) == (user[0], True)
    # Without the ping the dead connection reaches the application.
    with pytest.raises(sqlalchemy.exc.OperationalError):
        whoami(unpinged)


def test_pre_ping_recovers_after_a_server_restart(postgres: PostgresServer) -> None:
    engine = db.engine(postgres.url(), connect_args={"application_name": "restart-test"})
    _, first = whoami(engine)
    postgres.restart()
    _, second = whoami(engine)
    assert second != first


def test_proxy_mode_keeps_no_connection(
    postgres: PostgresServer, role: Callable[[], Role], secret: Callable[[Any], str]
) -> None:
    user = role()
    engine = db.engine(secret=secret(rds(postgres, user)), proxy=True)
    assert isinstance(engine.pool, NullPool)
    _, first = whoami(engine)
    _, second = whoami(engine)
    assert first != second
    open_sessions = "SELECT count(*) FROM pg_stat_activity WHERE usename = %s"
    deadline = time.monotonic() + 5  # a backend exits shortly after its client leaves
    while postgres.execute(open_sessions, user[0]) != [(0,)]:
        assert time.monotonic() < deadline, "a connection was kept open"
        time.sleep(0.02)


def test_rotated_password_is_read_for_the_next_connection(
    postgres: PostgresServer,
    role: Callable[[], Role],
    secret: Callable[[Any], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = role()
    name = secret(rds(postgres, user))
    engine = db.engine(secret=name)
    _, first = whoami(engine)
    rotated = uuid.uuid4().hex
    postgres.execute(f"ALTER ROLE {user[0]} PASSWORD '{rotated}'")
    monkeypatch.setenv(secrets.env_name(name), json.dumps(rds(postgres, (user[0], rotated))))
    postgres.execute("SELECT pg_terminate_backend(%s, 5000)", first)
    assert whoami(engine)[0] == user[0]


def test_memoized_per_arguments(postgres: PostgresServer) -> None:
    url = postgres.url()
    first = db.engine(url, connect_args={"application_name": "a", "sslmode": "disable"})
    again = db.engine(url, connect_args={"sslmode": "disable", "application_name": "a"})
    other = db.engine(url, connect_args={"application_name": "b", "sslmode": "disable"})
    assert first is again
    assert other is not first
    assert db.engine(url, proxy=True) is not db.engine(url)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("hunter2", "is neither a database URL nor RDS-style JSON"),
        ({"engine": "postgres", "host": "h"}, "database secret lacks username, password"),
        ({"host": "h", "username": "u", "password": "p"}, "lacks engine"),
        ({"engine": "db2", "host": "h", "username": "u", "password": "p"}, 'engine "db2"'),
        (
            {"engine": "postgres", "host": "h", "username": "u", "password": "p", "port": "x"},
            "port",
        ),
    ],
)
def test_unusable_secret(secret: Callable[[Any], str], value: Any, error: str) -> None:
    with pytest.raises(ConfigError, match=error) as caught:
        db.engine(secret=secret(value))
    assert "hunter2" not in str(caught.value)


def test_needs_a_url_or_a_secret() -> None:
    with pytest.raises(ConfigError, match="give a database url, or a secret"):
        db.engine()
