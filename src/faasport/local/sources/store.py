"""The one SQLite database (WAL) that holds every local event source's messages, so that a
crash of ``faasport dev`` loses nothing: a message is deleted only once its function
succeeded, and one received but not finished reappears after its visibility timeout.

WAL with ``synchronous=NORMAL`` survives the process being killed at any instruction (only
a power loss may drop the last commits). One connection is shared under a lock: every
statement is short, and SQLite serialises writers anyway.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    attributes TEXT NOT NULL DEFAULT '{}',
    grp TEXT,
    dedup TEXT,
    sent_ms INTEGER NOT NULL,
    first_ms INTEGER,
    visible REAL NOT NULL,
    receives INTEGER NOT NULL DEFAULT 0,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS messages_ready ON messages (queue, visible);
-- Receives walk a queue oldest first and stop at a batch: a backlog costs them nothing
-- (on messages_ready every receive sorted every visible message).
CREATE INDEX IF NOT EXISTS messages_order ON messages (queue, seq);
CREATE TABLE IF NOT EXISTS dedup (
    queue TEXT NOT NULL,
    dedup TEXT NOT NULL,
    id TEXT NOT NULL,
    expires REAL NOT NULL,
    PRIMARY KEY (queue, dedup)
);
"""


class Store:
    """The database under ``.faasport/`` (``events.db``); inert until :meth:`open`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.lock = threading.RLock()
        self._db: sqlite3.Connection | None = None

    def open(self) -> Store:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(SCHEMA)
        self._db = db
        return self

    @property
    def db(self) -> sqlite3.Connection:
        if self._db is None:
            raise RuntimeError("the event store is not open")
        return self._db

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One atomic write: everything in the block commits, or nothing does."""
        with self.lock:
            db = self.db
            db.execute("BEGIN IMMEDIATE")
            try:
                yield db
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")

    def close(self) -> None:
        with self.lock:
            if self._db is not None:
                self._db.close()
                self._db = None
