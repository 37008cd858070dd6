"""Local Kinesis streams: records kept in order in the event store, and stream mappings that
feed them to functions as Lambda's Kinesis event source mapping does.

Each mapping keeps a checkpoint (the last sequence number done) in the store. A batch that
succeeds moves it past the batch; a ``batchItemFailures`` response moves it to just before
the lowest failed sequence number, so the batch is retried from there and the records before
it are not run again; a function error retries the whole batch, split in halves first when
``bisect`` is on. After ``retries`` failed attempts the batch is given up: a note of it goes
to the ``on_failure`` queue and the mapping goes on. Records never skip ahead of a failure.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Protocol

from faasport.local.sources.consumer import ACCOUNT, Invoke
from faasport.local.sources.queues import Outgoing, QueueError, Queues
from faasport.local.sources.store import Store

if TYPE_CHECKING:
    from faasport.config.model import StreamEvent

SHARD = "shardId-000000000000"
#: Kinesis's limits: a partition key's characters, a record's bytes (data and key), a
#: PutRecords request's bytes.
MAX_KEY = 256
MAX_RECORD = 1024 * 1024
MAX_RECORDS = 5 * MAX_RECORD
SCHEMA = """
CREATE TABLE IF NOT EXISTS stream_records (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    stream TEXT NOT NULL,
    partition_key TEXT NOT NULL,
    data BLOB NOT NULL,
    arrived REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS stream_order ON stream_records (stream, seq);
CREATE TABLE IF NOT EXISTS checkpoints (
    mapping TEXT PRIMARY KEY,
    position INTEGER NOT NULL
);
"""


def sequence_number(seq: int) -> str:
    return f"{seq:056d}"


@dataclass
class StreamRecordRow:
    seq: int
    partition_key: str
    data: bytes
    arrived: float


class RecordSource(Protocol):
    """What a mapping reads records of: Kinesis streams (:class:`Streams`) or DynamoDB tables'
    streams (:class:`~faasport.local.sources.tables.Tables`), both kept in this store."""

    #: The name of the batch's description in an on-failure note.
    batch_info: str

    def stream_id(self, name: str) -> str:
        """The stream of ``name`` in the store."""
        ...

    def stream_arn(self, name: str) -> str: ...

    def event(self, name: str, batch: list[StreamRecordRow]) -> dict[str, Any]:
        """The Lambda event of a batch of ``name``'s records."""
        ...


class Streams:
    def __init__(self, store: Store, names: set[str], region: str = "us-east-1") -> None:
        self.store = store
        self.names = names
        self.region = region
        self._arrived = threading.Condition()

    def open(self) -> None:
        with self.store.lock:
            self.store.db.executescript(SCHEMA)

    batch_info = "KinesisBatchInfo"

    def stream_id(self, name: str) -> str:
        return name

    def stream_arn(self, stream: str) -> str:
        return f"arn:aws:kinesis:{self.region}:{ACCOUNT}:stream/{stream}"

    def known(self, stream: str) -> str:
        if stream not in self.names:
            known = ", ".join(sorted(self.names)) or "none"
            raise QueueError(
                "ResourceNotFoundException",
                f'stream "{stream}" does not exist; the streams are: {known}',
            )
        return stream

    def put(self, stream: str, records: list[tuple[str, bytes]]) -> list[str]:
        """Append ``(partition key, data)`` records in order; their sequence numbers. Kinesis's
        limits hold: a key of 1 to 256 characters, a record of at most 1 MiB with its key,
        5 MiB for them all."""
        self.known(stream)
        for key, data in records:
            if not 1 <= len(key) <= MAX_KEY:
                raise QueueError(
                    "ValidationException",
                    f"a record needs a partition key of 1 to {MAX_KEY} characters",
                )
            if len(data) + len(key.encode()) > MAX_RECORD:
                raise QueueError(
                    "ValidationException",
                    "1 validation error detected: Value at 'data' failed to satisfy constraint:"
                    f" Member must have length less than or equal to {MAX_RECORD}"
                    " (with the partition key)",
                )
        total = sum(len(data) + len(key.encode()) for key, data in records)
        if total > MAX_RECORDS:
            raise QueueError(
                "InvalidArgumentException",
                f"Records size exceeds {MAX_RECORDS // MAX_RECORD} MB limit: {total} bytes",
            )
        now = time.time()
        out = []
        with self.store.transaction() as db:
            for key, data in records:
                cursor = db.execute(
                    "INSERT INTO stream_records (stream, partition_key, data, arrived)"
                    " VALUES (?, ?, ?, ?)",
                    (stream, key, data, now),
                )
                out.append(sequence_number(int(cursor.lastrowid or 0)))
        self.wake()
        return out

    def read(self, stream: str, after: int, limit: int) -> list[StreamRecordRow]:
        with self.store.lock:
            rows = self.store.db.execute(
                "SELECT seq, partition_key, data, arrived FROM stream_records"
                " WHERE stream = ? AND seq > ? ORDER BY seq LIMIT ?",
                (stream, after, limit),
            ).fetchall()
        return [StreamRecordRow(*row) for row in rows]

    def last(self, stream: str) -> int:
        with self.store.lock:
            row = self.store.db.execute(
                "SELECT MAX(seq) FROM stream_records WHERE stream = ?", (stream,)
            ).fetchone()
        return int(row[0] or 0)

    def checkpoint(self, mapping: str) -> int | None:
        with self.store.lock:
            row = self.store.db.execute(
                "SELECT position FROM checkpoints WHERE mapping = ?", (mapping,)
            ).fetchone()
        return None if row is None else int(row[0])

    def save(self, mapping: str, position: int) -> None:
        with self.store.transaction() as db:
            db.execute("INSERT OR REPLACE INTO checkpoints VALUES (?, ?)", (mapping, position))

    def wait(self, timeout: float) -> None:
        with self._arrived:
            self._arrived.wait(timeout)

    def wake(self) -> None:
        with self._arrived:
            self._arrived.notify_all()

    def event(self, stream: str, batch: list[StreamRecordRow]) -> dict[str, Any]:
        return {
            "Records": [
                {
                    "kinesis": {
                        "kinesisSchemaVersion": "1.0",
                        "partitionKey": row.partition_key,
                        "sequenceNumber": sequence_number(row.seq),
                        "data": base64.b64encode(row.data).decode("ascii"),
                        "approximateArrivalTimestamp": round(row.arrived, 3),
                    },
                    "eventSource": "aws:kinesis",
                    "eventVersion": "1.0",
                    "eventID": f"{SHARD}:{sequence_number(row.seq)}",
                    "eventName": "aws:kinesis:record",
                    "invokeIdentityArn": f"arn:aws:iam::{ACCOUNT}:role/lambda-role",
                    "awsRegion": self.region,
                    "eventSourceARN": self.stream_arn(stream),
                }
                for row in batch
            ]
        }


def _lowest_failure(payload: bytes, batch: list[StreamRecordRow]) -> int | None:
    """The seq of the lowest failed record; 0: none failed; None: the whole batch failed."""
    try:
        response = json.loads(payload) if payload else None
    except ValueError:
        return None
    if not isinstance(response, dict) or not response.get("batchItemFailures"):
        return 0
    by_number = {sequence_number(row.seq): row.seq for row in batch}
    failed = []
    for item in response["batchItemFailures"]:
        identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
        if identifier not in by_number:
            return None
        failed.append(by_number[identifier])
    return min(failed)


class StreamMapping:
    """One function fed by one stream; inert until :meth:`start`."""

    def __init__(
        self,
        streams: Streams,
        queues: Queues,
        function: str,
        source: StreamEvent,
        invoke: Invoke,
        log: Any = lambda line: None,
        records: RecordSource | None = None,
    ) -> None:
        self.streams = streams
        self.queues = queues
        self.function = function
        self.source = source
        self.invoke = invoke
        self.log = log
        #: Kinesis records unless told otherwise (a table's stream).
        self.records: RecordSource = records or streams
        self.stream = self.records.stream_id(source.stream)
        self.name = f"{function}:{self.stream}"
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"faasport-{self.name}", daemon=True)

    def start(self) -> None:
        if self.streams.checkpoint(self.name) is None:
            start = 0 if self.source.start == "TRIM_HORIZON" else self.streams.last(self.stream)
            self.streams.save(self.name, start)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self.streams.wake()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        limit, attempts = self.source.batch, 0
        while not self._stopping.is_set():
            position = self.streams.checkpoint(self.name) or 0
            batch = self.streams.read(self.stream, position, limit)
            if not batch:
                self.streams.wait(1.0)
                continue
            event = self.records.event(self.source.stream, batch)
            try:
                result = self.invoke(self.function, json.dumps(event).encode())
                lowest = _lowest_failure(result.payload, batch) if result.ok else None
            except Exception as exc:  # the mapping outlives one bad turn
                if self._stopping.is_set():
                    return
                self.log(f"stream {self.name}: {type(exc).__name__}: {exc}")
                lowest = None
            if lowest == 0:
                self.streams.save(self.name, batch[-1].seq)
                limit, attempts = self.source.batch, 0
                continue
            attempts += 1
            if lowest is not None and lowest > batch[0].seq:
                self.streams.save(self.name, lowest - 1)  # done up to the first failure
            if 0 <= self.source.retries < attempts:
                self._give_up(batch)
                limit, attempts = self.source.batch, 0
                continue
            if lowest is None and self.source.bisect and len(batch) > 1:
                limit = max(1, len(batch) // 2)
            self._stopping.wait(min(0.05 * attempts, 1.0))

    def _give_up(self, batch: list[StreamRecordRow]) -> None:
        self.log(f"stream {self.name}: giving up on {len(batch)} record(s) after retries")
        if self.source.on_failure is not None:
            note = {
                "requestContext": {
                    "condition": "RetryAttemptsExhausted",
                    "functionArn": f"arn:aws:lambda:{self.streams.region}:{ACCOUNT}:function:"
                    f"{self.function}",
                    "approximateInvokeCount": self.source.retries + 1,
                },
                "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            }
            note[self.records.batch_info] = {
                "shardId": SHARD,
                "startSequenceNumber": sequence_number(batch[0].seq),
                "endSequenceNumber": sequence_number(batch[-1].seq),
                "batchSize": len(batch),
                "streamArn": self.records.stream_arn(self.source.stream),
            }
            self.queues.send_batch(self.source.on_failure, [Outgoing(json.dumps(note))])
        self.streams.save(self.name, batch[-1].seq)
