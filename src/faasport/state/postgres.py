"""``postgresql://user:password@host:port/db``: a PostgreSQL store through psycopg 3.

One table, ``faasport_state``, created when missing. Every operation is one statement
(rate limits an ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` whose row lock makes the
check and the update atomic), on one autocommit connection per store, replaced when it
breaks (a frozen execution environment loses its connection).
"""

from __future__ import annotations

import os
import threading
import time
import weakref
from contextlib import suppress

from faasport.state.base import (
    SLACK,
    Decision,
    Store,
    Sweeps,
    _windows,
    bucket_decision,
    fixed_decision,
    sliding_decision,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

#: Seconds to wait for the server to accept a connection.
CONNECT_TIMEOUT = 5
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS faasport_state (key text PRIMARY KEY, value bytea, "
    "n1 double precision, n2 double precision, n3 double precision, expires double precision)"
)
_EXISTS = "SELECT to_regclass('faasport_state')"
_SWEEP = "DELETE FROM faasport_state WHERE expires <= %(now)s"
_LIVE = "(expires IS NULL OR expires > %(now)s)"
_UPSERT_VALUE = (
    "INSERT INTO faasport_state AS s (key, value, expires) VALUES (%(key)s, %(value)s, %(exp)s) "
    "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, n1 = NULL, n2 = NULL, n3 = NULL, "
    "expires = EXCLUDED.expires"
)
# An expired row counts as absent: its n1 lies in the past, so GREATEST picks now.
_TAKE = (
    "INSERT INTO faasport_state AS s (key, n1, expires) "
    "VALUES (%(key)s, %(now)s + %(inc)s, %(now)s + %(inc)s) "
    "ON CONFLICT (key) DO UPDATE SET n1 = GREATEST(s.n1, %(now)s) + %(inc)s, "
    "expires = GREATEST(s.n1, %(now)s) + %(inc)s "
    "WHERE GREATEST(s.n1, %(now)s) + %(inc)s - %(now)s <= %(tolerance)s "
    "RETURNING n1"
)
_FIXED = (
    "INSERT INTO faasport_state AS s (key, n1, n2, expires) "
    "VALUES (%(key)s, %(index)s, %(cost)s, %(exp)s) "
    "ON CONFLICT (key) DO UPDATE SET "
    "n2 = CASE WHEN s.n1 = %(index)s THEN s.n2 + %(cost)s ELSE %(cost)s END, "
    "n1 = %(index)s, expires = %(exp)s "
    "WHERE s.n1 IS DISTINCT FROM %(index)s OR s.n2 + %(cost)s <= %(limit)s "
    "RETURNING n2"
)
_CURRENT = "CASE WHEN s.n1 = %(index)s THEN s.n2 ELSE 0 END"
_PREVIOUS = "CASE WHEN s.n1 = %(index)s THEN s.n3 WHEN s.n1 = %(index)s - 1 THEN s.n2 ELSE 0 END"
_SLIDING = (
    "INSERT INTO faasport_state AS s (key, n1, n2, n3, expires) "
    "VALUES (%(key)s, %(index)s, %(cost)s, 0, %(exp)s) "
    f"ON CONFLICT (key) DO UPDATE SET n1 = %(index)s, n2 = {_CURRENT} + %(cost)s, "
    f"n3 = {_PREVIOUS}, expires = %(exp)s "
    f"WHERE {_PREVIOUS} * %(weight)s + {_CURRENT} + %(cost)s <= %(limit)s + 1e-9 "
    "RETURNING n2, n3"
)


#: Every store of this process, for :func:`_after_fork`.
_STORES: weakref.WeakSet[PostgresStore] = weakref.WeakSet()
#: Connections a forked process inherited: kept, never closed or collected, since closing
#: one would end the parent's session on the socket both share.
_INHERITED: list[Any] = []


def _after_fork() -> None:
    """In a forked child: each store connects afresh, with a lock of its own (the parent's
    may have been held by a thread the child does not have)."""
    for store in list(_STORES):
        if store._connection is not None:
            _INHERITED.append(store._connection)
        store._connection = None
        store._lock = threading.Lock()


os.register_at_fork(after_in_child=_after_fork)


class PostgresStore(Store):
    def __init__(self, url: str, name: str) -> None:
        import psycopg

        self.name = name
        self.errors = (psycopg.Error,)
        self._url = url
        self._lock = threading.Lock()
        self._sweeps = Sweeps()
        self._connection: Any = None
        _STORES.add(self)
        with self._lock:
            try:
                connection = self._connect()
                if connection.execute(_EXISTS).fetchone()[0] is None:
                    # Another process may create it at the same moment.
                    with suppress(psycopg.errors.UniqueViolation, psycopg.errors.DuplicateTable):
                        connection.execute(_SCHEMA)
            except self.errors as exc:
                raise self.error(exc) from exc

    def _connect(self) -> Any:
        connection = self._connection
        if connection is None or connection.broken or connection.closed:
            import psycopg

            connection = psycopg.connect(
                self._url, autocommit=True, connect_timeout=CONNECT_TIMEOUT
            )
            self._connection = connection
        return connection

    def _one(self, sql: str, params: dict[str, Any]) -> tuple[Any, ...] | None:
        with self._lock:
            row: tuple[Any, ...] | None = self._connect().execute(sql, params).fetchone()
        return row

    def _write(self, sql: str, params: dict[str, Any], now: float) -> tuple[Any, ...] | None:
        """:meth:`_one` for a statement that writes (its row, if it returns one): now and
        then, expired rows go too."""
        with self._lock:
            connection = self._connect()
            cursor = connection.execute(sql, params)
            row: tuple[Any, ...] | None = None if cursor.description is None else cursor.fetchone()
            if self._sweeps.due():
                connection.execute(_SWEEP, {"now": now})
        return row

    def _row(self, key: str, columns: str) -> tuple[Any, ...] | None:
        return self._one(f"SELECT {columns} FROM faasport_state WHERE key = %(key)s", {"key": key})

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()

    def _get(self, key: str, now: float) -> bytes | None:
        row = self._one(
            f"SELECT value FROM faasport_state WHERE key = %(key)s AND {_LIVE}",
            {"key": key, "now": now},
        )
        return None if row is None or row[0] is None else bytes(row[0])

    def _set(self, key: str, value: bytes, expires: float | None) -> None:
        self._write(_UPSERT_VALUE, {"key": key, "value": value, "exp": expires}, time.time())

    def _delete(self, key: str, now: float) -> bool:
        with self._lock:
            live = (
                self._connect()
                .execute(
                    f"DELETE FROM faasport_state WHERE key = %(key)s RETURNING {_LIVE}",
                    {"key": key, "now": now},
                )
                .fetchone()
            )
        return bool(live and live[0])

    def _cas(
        self, key: str, expected: bytes | None, value: bytes, expires: float | None, now: float
    ) -> bool:
        params = {"key": key, "value": value, "exp": expires, "now": now, "expected": expected}
        if expected is None:
            sql = (
                f"{_UPSERT_VALUE} WHERE NOT (s.expires IS NULL OR s.expires > %(now)s) RETURNING 1"
            )
        else:
            sql = (
                "UPDATE faasport_state SET value = %(value)s, expires = %(exp)s "
                f"WHERE key = %(key)s AND value = %(expected)s AND {_LIVE} RETURNING 1"
            )
        return self._write(sql, params, now) is not None

    def _take(self, key: str, now: float, rate: float, burst: int, cost: int) -> Decision:
        interval = 1.0 / rate
        params = {
            "key": key,
            "now": now,
            "inc": cost * interval,
            "tolerance": (burst + SLACK) * interval,
        }
        row = self._write(_TAKE, params, now)
        if row is not None:
            return bucket_decision(True, row[0], now, rate, burst, cost)
        current = self._row(key, "n1")
        tat = now if current is None or current[0] is None else current[0]
        return bucket_decision(False, tat, now, rate, burst, cost)

    def _fixed(self, key: str, now: float, limit: int, window: float, cost: int) -> Decision:
        index = now // window
        params = {
            "key": key,
            "index": index,
            "cost": cost,
            "limit": limit,
            "exp": (index + 1) * window,
        }
        row = self._write(_FIXED, params, now)
        if row is not None:
            return fixed_decision(True, row[0], now, limit, window, cost)
        current = self._row(key, "n1, n2")
        count = current[1] if current is not None and current[0] == index else 0
        return fixed_decision(False, count, now, limit, window, cost)

    def _sliding(self, key: str, now: float, limit: int, window: float, cost: int) -> Decision:
        index = now // window
        params = {
            "key": key,
            "index": index,
            "cost": cost,
            "limit": limit,
            "exp": (index + 2) * window,
            "weight": 1.0 - (now % window) / window,
        }
        row = self._write(_SLIDING, params, now)
        if row is not None:
            return sliding_decision(True, row[0], row[1], now, limit, window, cost)
        cell = self._row(key, "n1, n2, n3")
        current, previous = _windows(cell if cell and cell[0] is not None else None, index)
        return sliding_decision(False, current, previous, now, limit, window, cost)
