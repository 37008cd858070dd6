"""The keys that say what the cloud reserves and keeps: ``reserved_concurrency`` apart from
the local cap ``concurrency``, every queue's dead-letter queue unless ``dlq = false``, and
the API's stage throttling."""

from __future__ import annotations

from pathlib import Path

import pytest

from config_text import config_error, load_config
from faasport.config import Throttle


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # messages name the file relative to here


def test_concurrency_reserves_nothing_unless_reserved_concurrency_says(tmp_path: Path) -> None:
    project = load_config(
        tmp_path,
        """
        name = "p"
        [functions.a]
        handler = "m:a"
        concurrency = 4
        [functions.b]
        handler = "m:b"
        reserved_concurrency = 0
        """,
    )
    assert (project.functions["a"].concurrency, project.functions["a"].reserved_concurrency) == (
        4,
        None,
    )
    assert project.functions["b"].reserved_concurrency == 0


def test_warm_environments_must_fit_in_the_reserved_ones(tmp_path: Path) -> None:
    message = config_error(
        tmp_path,
        """
        name = "p"
        [functions.a]
        handler = "m:a"
        reserved_concurrency = 1
        warm = 2
        """,
    )
    assert message.startswith(
        "faasport.toml: functions.a.warm: must be at most reserved_concurrency"
    )
    message = config_error(
        tmp_path, 'name = "p"\n[functions.a]\nhandler = "m:a"\nreserved_concurrency = -1\n'
    )
    assert message == (
        "faasport.toml: functions.a.reserved_concurrency: must be an integer of at least 0, got -1"
    )


def test_every_queue_gets_a_dead_letter_queue_unless_it_opts_out(tmp_path: Path) -> None:
    project = load_config(
        tmp_path,
        """
        name = "p"
        [queues.jobs]
        [queues.mail]
        dlq = "undelivered"
        [queues.audit]
        dlq = false
        [queues.undelivered]
        [queues.jobs-dlq]
        [queues.again]
        dlq = true
        """,
    )
    dlqs = {name: queue.dlq for name, queue in project.queues.items()}
    assert dlqs == {
        "jobs": "jobs-dlq",
        "mail": "undelivered",
        "audit": None,
        # Dead-letter queues themselves get none.
        "undelivered": None,
        "jobs-dlq": None,
        "again": "again-dlq",
    }


def test_a_bad_dlq_names_the_key(tmp_path: Path) -> None:
    message = config_error(tmp_path, 'name = "p"\n[queues.jobs]\ndlq = 3\n')
    assert message == (
        "faasport.toml: queues.jobs.dlq: must be a queue name (letters, digits, '-', '_') or "
        "false, got 3"
    )


def test_the_api_stage_throttle(tmp_path: Path) -> None:
    assert load_config(tmp_path, 'name = "p"\n').api.throttle == Throttle()
    project = load_config(tmp_path, 'name = "p"\n[api]\nthrottle = { rate = 50, burst = 80 }\n')
    assert project.api.throttle == Throttle(rate=50.0, burst=80)
    message = config_error(tmp_path, 'name = "p"\n[api]\nthrottle = { rate = 0 }\n')
    assert message.startswith("faasport.toml: api.throttle.rate: must be a number greater than 0")


def test_stream_is_a_boolean_that_defaults_to_off(tmp_path: Path) -> None:
    project = load_config(
        tmp_path,
        """
        name = "p"
        [functions.a]
        app = "m:app"
        stream = true
        [functions.b]
        app = "m:app"
        routes = ["GET /b"]
        """,
    )
    assert (project.functions["a"].stream, project.functions["b"].stream) == (True, False)
    message = config_error(tmp_path, 'name = "p"\n[functions.a]\napp = "m:app"\nstream = "yes"\n')
    assert "functions.a.stream" in message
    assert "faasport.toml" in message
