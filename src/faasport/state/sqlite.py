"""``sqlite:///path/to/state.db``: the embedded store, one SQLite file (WAL) that every
process on the machine can share. ``sqlite:///rel.db`` is relative to the working
directory, ``sqlite:////abs.db`` absolute.

Each operation is one transaction; rate limits take the write lock first (``BEGIN
IMMEDIATE``) so concurrent processes serialize instead of failing. Expired rows are
filtered on read and swept every few thousand writes.
"""

from __future__ import annotations

import threading
import time

from faasport.state.base import CellStore, Sweeps

TYPE_CHECKING = False
if TYPE_CHECKING:
    import sqlite3
    from collections.abc import Callable

    from faasport.state.base import Cell

#: Milliseconds a writer waits for another process's transaction before failing.
BUSY_TIMEOUT = 10_000
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS faasport_state (key TEXT PRIMARY KEY, value BLOB, "
    "n1 REAL, n2 REAL, n3 REAL, expires REAL) WITHOUT ROWID"
)
_LIVE = "(expires IS NULL OR expires > ?)"


def _prepare(db: sqlite3.Connection) -> None:
    """WAL mode and the table. Switching to WAL answers "database is locked" at once, without
    waiting for the busy timeout, while another process is doing the same (several functions
    opening one new file): so that step is retried until the timeout."""
    import sqlite3
    import time

    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT}")
    deadline = time.monotonic() + BUSY_TIMEOUT / 1000
    while True:
        try:
            db.execute("PRAGMA journal_mode = WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
    db.execute("PRAGMA synchronous = NORMAL")
    db.execute(_SCHEMA)


class SqliteStore(CellStore):
    def __init__(self, url: str) -> None:
        import sqlite3
        from pathlib import Path

        self.name = url
        self.errors = (sqlite3.Error, OSError)
        path = url.partition(":///")[2].split("?", 1)[0]
        if not path:
            raise ValueError(f"{url!r} names no file: use sqlite:///path/to/state.db")
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                path, isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT / 1000
            )
            _prepare(self._db)
        except self.errors as exc:
            raise self.error(exc) from exc
        self._lock = threading.Lock()
        self._sweeps = Sweeps()

    def close(self) -> None:
        self._db.close()

    def _written(self, db: sqlite3.Connection, now: float) -> None:
        if self._sweeps.due():
            db.execute("DELETE FROM faasport_state WHERE expires <= ?", (now,))

    def _get(self, key: str, now: float) -> bytes | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT value FROM faasport_state WHERE key = ? AND {_LIVE}", (key, now)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def _set(self, key: str, value: bytes, expires: float | None) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO faasport_state (key, value, expires) VALUES (?, ?, ?)",
                (key, value, expires),
            )
            self._written(self._db, time.time())

    def _delete(self, key: str, now: float) -> bool:
        with self._lock, _transaction(self._db):
            live = self._db.execute(
                f"SELECT 1 FROM faasport_state WHERE key = ? AND {_LIVE}", (key, now)
            ).fetchone()
            self._db.execute("DELETE FROM faasport_state WHERE key = ?", (key,))
        return live is not None

    def _cas(
        self, key: str, expected: bytes | None, value: bytes, expires: float | None, now: float
    ) -> bool:
        with self._lock, _transaction(self._db):
            row = self._db.execute(
                f"SELECT value FROM faasport_state WHERE key = ? AND {_LIVE}", (key, now)
            ).fetchone()
            if (None if row is None else bytes(row[0])) != expected:
                return False
            self._db.execute(
                "INSERT OR REPLACE INTO faasport_state (key, value, expires) VALUES (?, ?, ?)",
                (key, value, expires),
            )
            self._written(self._db, now)
            return True

    def _update(
        self, key: str, now: float, change: Callable[[Cell | None], tuple[Cell | None, float]]
    ) -> None:
        with self._lock, _transaction(self._db):
            row = self._db.execute(
                f"SELECT n1, n2, n3 FROM faasport_state WHERE key = ? AND {_LIVE}", (key, now)
            ).fetchone()
            new, expires = change(None if row is None or row[0] is None else tuple(row))
            if new is not None:
                self._db.execute(
                    "INSERT OR REPLACE INTO faasport_state (key, n1, n2, n3, expires) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (key, *new, expires),
                )
                self._written(self._db, now)


class _transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, or ``ROLLBACK`` when the block raises."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *rest: object) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")
