"""The whole example under a real ``faasport dev`` process, over HTTP: an item created through
the gateway is audited by the queue worker (through the topic's subscription) and counted by
the stream consumer, and the nightly schedule, fired by ``faasport schedule run``, compacts
old audit records; on the SQLite file dev uses by default, and on PostgreSQL through the
``items/db`` secret."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner
from sqlalchemy import Engine, create_engine, insert, select

from dev_process import Dev, wait_for
from faasport.cli.main import main
from postgres import PostgresServer

EXAMPLE = Path(__file__).resolve().parents[1]
DEADLINE = 30


@pytest.fixture(
    params=[
        pytest.param("sqlite", id="sqlite"),
        pytest.param("postgres", marks=pytest.mark.postgres, id="postgres"),
    ]
)
def running(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Dev, Engine]]:
    """faasport dev on a copy of the example, and an engine on the database it uses."""
    project = tmp_path / "items"
    shutil.copytree(
        EXAMPLE, project, ignore=shutil.ignore_patterns(".faasport", "tests", "__pycache__")
    )
    env: dict[str, str] = {}
    if request.param == "sqlite":
        url = f"sqlite:///{project / '.faasport' / 'items.db'}"
    else:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        name = f"items_dev_{time.monotonic_ns()}"
        server.execute(f"CREATE DATABASE {name}")
        url = server.url(database=name)
        env["FAASPORT_SECRET_ITEMS_DB"] = url
    dev = Dev(project, "--no-reload", env=env)
    engine = create_engine(url)
    try:
        yield dev, engine
    finally:
        engine.dispose()
        dev.close()


def test_create_audit_count_and_compact(running: tuple[Dev, Engine]) -> None:
    from items.database import audit, audit_daily, item_stats

    dev, engine = running

    def all_rows(table: Any) -> list[dict[str, Any]]:
        try:
            with engine.connect() as connection:
                return [row._asdict() for row in connection.execute(select(table))]
        except Exception:  # the tables appear with the functions' first use
            return []

    with httpx.Client(base_url=dev.url, timeout=30) as http:
        created = http.post("/items", json={"name": "kettle", "price_cents": 3900})
        assert created.status_code == 201, created.text
        item = created.json()
        assert http.get(f"/items/{item['id']}").json() == item
        bad = http.post("/items", json={"name": "kettle", "price_cents": -1})
        assert bad.status_code == 422
        graphql = http.post("/graphql", json={"query": "{ items { items { name } } }"})
        assert graphql.json() == {"data": {"items": {"items": [{"name": "kettle"}]}}}
        patched = http.patch(f"/items/{item['id']}", json={"price_cents": 3500})
        assert patched.status_code == 200

    # The topic's subscribed queue fed the audit worker ...
    wait_for(lambda: all_rows(audit), DEADLINE, "the audit record")
    [record] = all_rows(audit)
    assert (record["item_id"], record["action"]) == (item["id"], "created")
    # ... and the stream fed the analytics consumer.

    def stats() -> dict[str, tuple[int, int]]:
        return {r["kind"]: (r["changes"], r["value_cents"]) for r in all_rows(item_stats)}

    wait_for(lambda: stats() == {"created": (1, 3900), "updated": (1, 0)}, DEADLINE, "stats")

    old = datetime.now(UTC) - timedelta(days=45)
    with engine.begin() as connection:
        connection.execute(
            insert(audit).values(message_id="old", item_id=1, action="created", at=old, detail="{}")
        )
    fired = CliRunner().invoke(main, ["schedule", "run", "compact", "-p", str(dev.project)])
    assert fired.exit_code == 0, fired.output

    def daily() -> list[tuple[str, str, int]]:
        return [(r["day"], r["action"], r["records"]) for r in all_rows(audit_daily)]

    wait_for(lambda: daily(), DEADLINE, "the compaction")
    assert daily() == [(old.date().isoformat(), "created", 1)]
    assert [r["message_id"] for r in all_rows(audit)] == [record["message_id"]]
