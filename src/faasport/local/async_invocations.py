"""Asynchronous ("Event") invocations, as Lambda runs them: queued, run when an
environment is free, retried twice on failure, then sent to the function's on-failure
destination. Each failure is logged with its error.

With a state directory the queue is kept in SQLite (``.faasport/async.db``): an invocation
leaves it only when it has succeeded or reached its destination, so those queued or running
when ``faasport dev`` stops run again at the next start (at least once, as on Lambda).
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from typing import TYPE_CHECKING, Any

from faasport.local.outcome import Outcome
from faasport.local.pool import error_message
from faasport.local.spec import EmulatorSettings

if TYPE_CHECKING:
    from pathlib import Path

    from faasport.local.emulator import Emulator

DATABASE = "async.db"


class _Store:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS invocations (id TEXT PRIMARY KEY, function TEXT NOT NULL,"
            " payload BLOB NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, queued REAL NOT NULL)"
        )

    def add(self, key: str, function: str, payload: bytes) -> None:
        self.db.execute(
            "INSERT INTO invocations (id, function, payload, queued) VALUES (?, ?, ?, ?)",
            (key, function, payload, time.time()),
        )

    def failed(self, key: str) -> None:
        self.db.execute("UPDATE invocations SET attempts = attempts + 1 WHERE id = ?", (key,))

    def remove(self, key: str) -> None:
        self.db.execute("DELETE FROM invocations WHERE id = ?", (key,))

    def pending(self) -> list[tuple[str, str, bytes, int]]:
        rows = self.db.execute(
            "SELECT id, function, payload, attempts FROM invocations ORDER BY queued"
        )
        return [(str(k), str(f), bytes(p), int(a)) for k, f, p, a in rows]

    def close(self) -> None:
        self.db.close()


class AsyncInvocations:
    def __init__(self, emulator: Emulator, settings: EmulatorSettings) -> None:
        self.emulator = emulator
        self.settings = settings
        self._store: _Store | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    @property
    def attempts(self) -> int:
        return 1 + len(self.settings.retry_delays)

    def resume(self) -> None:
        """Open the queue and run what the previous run left in it."""
        if self.settings.state_dir is None:
            return
        self._store = _Store(self.settings.state_dir / DATABASE)
        left = self._store.pending()
        for key, function, payload, attempts in left:
            if function not in self.emulator.specs:
                self.emulator.log(
                    f"[async] dropping a queued invocation of {function}: no such function now"
                )
                self._store.remove(key)
                continue
            self._spawn(key, function, payload, attempts)
        if left:
            self.emulator.log(f"[async] resuming {len(left)} queued asynchronous invocation(s)")

    def submit(self, function: str, payload: bytes) -> None:
        key = str(uuid.uuid4())
        if self._store is not None:
            self._store.add(key, function, payload)
        self._spawn(key, function, payload, 0)

    def _spawn(self, key: str, function: str, payload: bytes, attempts: int) -> None:
        task = asyncio.ensure_future(self._run(key, function, payload, attempts))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, key: str, function: str, payload: bytes, attempts: int) -> None:
        pool = self.emulator.pools[function]
        delays = self.settings.retry_delays
        outcome: Outcome | None = None
        while attempts < self.attempts:
            if attempts:
                await asyncio.sleep(delays[min(attempts, len(delays)) - 1])
            outcome = await pool.invoke(payload, wait=True)
            if outcome.ok:
                self._done(key)
                return
            attempts += 1
            if self._store is not None:
                self._store.failed(key)
            self.emulator.log(
                f"[{function}] asynchronous invocation {outcome.request_id} failed "
                f"(attempt {attempts} of {self.attempts}): {error_message(outcome.payload)}"
            )
        self._fail(function, payload, outcome, attempts)
        self._done(key)

    def _fail(self, function: str, payload: bytes, outcome: Outcome | None, attempts: int) -> None:
        spec = self.emulator.specs[function]
        destination = spec.on_failure
        if destination is None:
            self.emulator.log(
                f"[{function}] asynchronous invocation dropped after {attempts} attempts "
                "(no on_failure destination is configured)"
            )
            return
        if destination not in self.emulator.specs:
            self.emulator.log(
                f"[{function}] asynchronous invocation failed {attempts} times; its on_failure "
                f'destination "{destination}" is not a function, and faasport dev delivers '
                "only to functions"
            )
            return
        record = _failure_record(spec.arn, payload, outcome, attempts)
        self.emulator.log(
            f"[{function}] asynchronous invocation failed {attempts} times; sent to {destination}"
        )
        self.submit(destination, json.dumps(record).encode())

    def _done(self, key: str) -> None:
        if self._store is not None:
            self._store.remove(key)

    async def close(self) -> None:
        """Stop running; what is queued stays in the store for the next start."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if self._store is not None:
            self._store.close()
            self._store = None


def _failure_record(
    arn: str, payload: bytes, outcome: Outcome | None, attempts: int
) -> dict[str, Any]:
    """What Lambda sends an on-failure destination (the invocation record)."""
    request: Any = _json_or_text(payload)
    response: Any = _json_or_text(outcome.payload) if outcome is not None else None
    return {
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime()),
        "requestContext": {
            "requestId": outcome.request_id if outcome is not None else "",
            "functionArn": f"{arn}:$LATEST",
            "condition": "RetriesExhausted",
            "approximateInvokeCount": attempts,
        },
        "requestPayload": request,
        "responseContext": {
            "statusCode": 200,
            "executedVersion": "$LATEST",
            "functionError": "Unhandled",
        },
        "responsePayload": response,
    }


def _json_or_text(data: bytes) -> Any:
    try:
        return json.loads(data)
    except ValueError:
        return data.decode("utf-8", "replace")
