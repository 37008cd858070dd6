"""Where the data lives: the tables, and the engine from ``faasport.db``.

The database is chosen once per execution environment, in this order:

1. ``ITEMS_DATABASE_URL``: a SQLAlchemy URL, for tests and one-off runs;
2. the secret ``items/db`` (a URL or RDS-style JSON, read through ``faasport.secrets``), on
   the cloud and under ``faasport dev`` when ``secrets.local.toml`` or a
   ``FAASPORT_SECRET_ITEMS_DB`` variable gives it;
3. under ``faasport dev`` without one: the SQLite file ``.faasport/items.db`` of the project.
"""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.types import TypeDecorator

from faasport import db
from faasport.secrets import env_name

SECRET = "items/db"
URL_VARIABLE = "ITEMS_DATABASE_URL"
LOCAL_FILE = Path(__file__).resolve().parents[1] / ".faasport" / "items.db"


class UtcDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database: SQLite keeps no time zone, so it is put back."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        return None if value is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None or value.tzinfo is not None:
            return value
        return value.replace(tzinfo=UTC)


metadata = MetaData()

items = Table(
    "items",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(100), nullable=False),
    Column("description", String(1000), nullable=False),
    Column("price_cents", Integer, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
)

#: One row per item creation, written by the queue worker from the topic's message.
audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # The topic message's id: a message delivered twice is recorded once.
    Column("message_id", String(100), nullable=False, unique=True),
    Column("item_id", Integer, nullable=False),
    Column("action", String(20), nullable=False),
    Column("at", UtcDateTime, nullable=False, index=True),
    Column("detail", Text, nullable=False),
)

#: What the nightly compaction leaves of audit rows past retention: a count per day and action.
audit_daily = Table(
    "audit_daily",
    metadata,
    Column("day", String(10), primary_key=True),
    Column("action", String(20), primary_key=True),
    Column("records", Integer, nullable=False),
)

#: The analytics aggregate, kept by the stream consumer: changes per kind, and their value.
item_stats = Table(
    "item_stats",
    metadata,
    Column("kind", String(20), primary_key=True),
    Column("changes", Integer, nullable=False),
    Column("value_cents", Integer, nullable=False),
)

#: Stream records already counted (Kinesis delivers at least once); compacted nightly.
stream_seen = Table(
    "stream_seen",
    metadata,
    Column("sequence", String(128), nullable=False),
    Column("shard", String(128), nullable=False),
    Column("at", UtcDateTime, nullable=False, index=True),
    UniqueConstraint("shard", "sequence"),
)

_ready: set[int] = set()
_lock = threading.Lock()


def url() -> str | None:
    """The database URL the environment gives, or None when the secret holds it."""
    given = os.environ.get(URL_VARIABLE)
    if given:
        return given
    if os.environ.get("FAASPORT_SECRETS") == "env" and not os.environ.get(env_name(SECRET)):
        # faasport dev with no value for the secret: a SQLite file in the project.
        LOCAL_FILE.parent.mkdir(exist_ok=True)
        return f"sqlite:///{LOCAL_FILE}"
    return None


def engine() -> Engine:
    """The environment's engine, its tables created on first use."""
    given = url()
    found = db.engine(given) if given is not None else db.engine(secret=SECRET)
    if id(found) not in _ready:
        with _lock:
            if id(found) not in _ready:
                with found.begin() as connection:
                    if connection.dialect.name == "postgresql":
                        # Functions starting together would race to create the same tables.
                        connection.execute(text("SELECT pg_advisory_xact_lock(74110116)"))
                    metadata.create_all(connection)
                _ready.add(id(found))
    return found


def now() -> datetime:
    return datetime.now(UTC)
