"""``state.open``: URLs chosen by scheme, and failures as one clear error."""

from __future__ import annotations

from pathlib import Path

import pytest

from faasport import state
from faasport.core.errors import ConfigError
from servers import free_port


def test_unknown_schemes_are_refused_with_the_choices() -> None:
    for url in ("mongodb://localhost/x", "state.db", ""):
        with pytest.raises(ConfigError, match=r"unknown scheme, use one of sqlite://, memory://"):
            state.open(url)


def test_sqlite_creates_its_directory(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/a/b/state.db"
    with state.open(url) as store:
        store.set("k", b"v")
    with state.open(url) as store:
        assert store.get("k") == b"v"
    assert (tmp_path / "a" / "b" / "state.db").exists()
    for bare in ("sqlite:///", "sqlite://"):
        with pytest.raises(ConfigError, match="names no file"):
            state.open(bare)


def test_sqlite_failure_is_a_state_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(state.StateError, match=r"sqlite:///.*dir\.db: OperationalError: unable"):
        state.open(f"sqlite:///{tmp_path}/dir.db")


@pytest.mark.redis
def test_unreachable_redis_is_a_state_error_without_the_password() -> None:
    store = state.open(f"redis://:secret@127.0.0.1:{free_port()}/0")
    with pytest.raises(state.StateError) as raised:
        store.get("k")
    message = str(raised.value)
    assert message.startswith("state store redis://:***@127.0.0.1:")
    assert "ConnectionError" in message and "secret" not in message
    assert raised.value.store == store.name
    with pytest.raises(state.StateError):
        store.take("k", rate=1, burst=1)


@pytest.mark.postgres
def test_unreachable_postgres_is_a_state_error_without_the_password() -> None:
    with pytest.raises(state.StateError) as raised:
        state.open(f"postgresql://user:secret@127.0.0.1:{free_port()}/db")
    assert str(raised.value).startswith("state store postgresql://user:***@127.0.0.1:")
    assert "OperationalError" in str(raised.value) and "secret" not in str(raised.value)


@pytest.mark.postgres
@pytest.mark.parametrize(
    "url",
    [
        "postgresql://weird:ss:w/rd#?%x@127.0.0.1:{port}/db",  # a password URLs cannot hold
        "postgresql://u@127.0.0.1:{port}/db?password=ss:w/rd",
        "postgresql://u:ss:w/rd@[::1/db",  # the driver repeats the URL in its message
    ],
)
def test_no_message_holds_a_password_however_it_is_written(url: str) -> None:
    with pytest.raises((state.StateError, ConfigError)) as raised:
        state.open(url.format(port=free_port())).get("k")
    assert "ss:w/rd" not in str(raised.value)


def test_every_url_in_a_message_is_redacted() -> None:
    from faasport.state.base import redact

    assert redact("redis://:pa#ss@127.0.0.1:1/0") == "redis://:***@127.0.0.1:1/0"
    assert redact('in URI: "postgresql://u:p@ss@h/db"') == 'in URI: "postgresql://u:***@h/db"'
    assert redact("postgresql://u@h/db?password=x&sslmode=off") == (
        "postgresql://u@h/db?password=***&sslmode=off"
    )
    assert redact("redis://localhost:6379/0") == "redis://localhost:6379/0"


@pytest.mark.dynamodb
def test_dynamodb_failures_are_state_errors(dynamodb_url: str) -> None:
    missing = dynamodb_url.replace("faasport-state-test", "no-such-table")
    store = state.open(missing)
    with pytest.raises(state.StateError, match=r"dynamodb://no-such-table: ResourceNotFound"):
        store.set("k", b"v")
    unreachable = state.open(
        f"dynamodb://table?region=us-east-1&endpoint_url=http://127.0.0.1:{free_port()}"
    )
    with pytest.raises(state.StateError, match=r"dynamodb://table: EndpointConnectionError"):
        unreachable.fixed_window("k", limit=1, window=1)
    with pytest.raises(ConfigError, match="names no table"):
        state.open("dynamodb://?region=us-east-1")
