"""Local DynamoDB tables: items kept in the event store, and each change written, in the
same transaction, as a record of the table's stream (the stream mappings of
:mod:`faasport.local.sources.streams` feed them to functions, in order).

Items are held as DynamoDB's attribute-value JSON; a change's stream record holds what the
table's ``StreamViewType`` says (keys, new image, old image, or both). As on DynamoDB, a
write that changes nothing (the same item put again, a delete of a missing item) makes no
stream record.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from faasport.local.sources.consumer import ACCOUNT
from faasport.local.sources.queues import QueueError
from faasport.local.sources.streams import StreamRecordRow, Streams, sequence_number

if TYPE_CHECKING:
    from sqlite3 import Connection

    from faasport.config.model import DynamoTable

#: An item as DynamoDB's attribute-value JSON.
Item = dict[str, Any]
SCHEMA = """
CREATE TABLE IF NOT EXISTS table_items (
    tbl TEXT NOT NULL,
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    item TEXT NOT NULL,
    PRIMARY KEY (tbl, pk, sk)
);
"""
#: Created once for every local table: stream ARNs end with their creation time.
STREAM_LABEL = "2024-01-01T00:00:00.000"


class Tables:
    """The tables, and the records of their streams (a
    :class:`~faasport.local.sources.streams.RecordSource`)."""

    batch_info = "DDBStreamBatchInfo"

    def __init__(self, streams: Streams, tables: Mapping[str, DynamoTable], region: str) -> None:
        self.streams = streams
        self.store = streams.store
        self.tables = tables
        self.region = region

    def open(self) -> None:
        with self.store.lock:
            self.store.db.executescript(SCHEMA)

    def arn(self, table: str) -> str:
        return f"arn:aws:dynamodb:{self.region}:{ACCOUNT}:table/{table}"

    def stream_id(self, table: str) -> str:
        return "dynamodb:" + table  # apart from the Kinesis streams' names

    def stream_arn(self, table: str) -> str:
        return f"{self.arn(table)}/stream/{STREAM_LABEL}"

    def spec(self, name: Any) -> DynamoTable:
        if not isinstance(name, str) or name not in self.tables:
            if isinstance(name, str) and name.startswith("arn:aws:dynamodb:"):
                return self.spec(name.rpartition("/")[2])
            known = ", ".join(sorted(self.tables)) or "none"
            raise QueueError(
                "ResourceNotFoundException",
                f"Requested resource not found: table {name!r} is not in faasport.toml "
                f"(the tables are: {known})",
            )
        return self.tables[name]

    def key_of(self, spec: DynamoTable, item: Mapping[str, Any], what: str) -> tuple[str, str]:
        """The stored key of an item or a ``Key``: its partition and sort key values as
        canonical JSON, checked against the table's key schema."""
        parts = []
        for name, kind in ((spec.key, spec.key_type), (spec.sort_key, spec.sort_type)):
            if name is None:
                parts.append("")
                continue
            value = item.get(name)
            if not isinstance(value, dict) or list(value) != [kind]:
                raise QueueError(
                    "ValidationException",
                    f"One or more parameter values were invalid: {what} must hold the key "
                    f"attribute {name} of type {kind}",
                )
            parts.append(json.dumps(value, sort_keys=True))
        if what == "Key" and len(item) != (2 if spec.sort_key else 1):
            raise QueueError(
                "ValidationException", "The provided key element does not match the schema"
            )
        return parts[0], parts[1]

    def get(self, spec: DynamoTable, key: tuple[str, str]) -> dict[str, Any] | None:
        with self.store.lock:
            row = self.store.db.execute(
                "SELECT item FROM table_items WHERE tbl = ? AND pk = ? AND sk = ?",
                (spec.name, *key),
            ).fetchone()
        return None if row is None else dict(json.loads(row[0]))

    def partition(self, spec: DynamoTable, pk: str) -> list[dict[str, Any]]:
        with self.store.lock:
            rows = self.store.db.execute(
                "SELECT item FROM table_items WHERE tbl = ? AND pk = ?", (spec.name, pk)
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def scan(self, spec: DynamoTable) -> list[dict[str, Any]]:
        with self.store.lock:
            rows = self.store.db.execute(
                "SELECT item FROM table_items WHERE tbl = ? ORDER BY pk, sk", (spec.name,)
            ).fetchall()
        return [json.loads(row[0]) for row in rows]

    def count(self, spec: DynamoTable) -> int:
        with self.store.lock:
            row = self.store.db.execute(
                "SELECT COUNT(*) FROM table_items WHERE tbl = ?", (spec.name,)
            ).fetchone()
        return int(row[0])

    def write(
        self,
        changes: Sequence[tuple[DynamoTable, tuple[str, str], Item | None, Item | None]],
    ) -> None:
        """Apply ``(table, key, new item or None to delete, old item)`` changes in one
        transaction, each with its stream record."""
        records = False
        with self.store.transaction() as db:
            for spec, key, new, old in changes:
                if new == old:
                    continue
                if new is None:
                    db.execute(
                        "DELETE FROM table_items WHERE tbl = ? AND pk = ? AND sk = ?",
                        (spec.name, *key),
                    )
                else:
                    db.execute(
                        "INSERT OR REPLACE INTO table_items VALUES (?, ?, ?, ?)",
                        (spec.name, *key, json.dumps(new)),
                    )
                self._record(db, spec, new, old)
                records = True
        if records:
            self.streams.wake()

    def _record(
        self,
        db: Connection,
        spec: DynamoTable,
        new: dict[str, Any] | None,
        old: dict[str, Any] | None,
    ) -> None:
        some = new if new is not None else old
        assert some is not None
        keys = {name: some[name] for name in (spec.key, spec.sort_key) if name is not None}
        change: dict[str, Any] = {
            "eventID": uuid.uuid4().hex,
            "eventName": "INSERT" if old is None else "REMOVE" if new is None else "MODIFY",
            "Keys": keys,
            "StreamViewType": spec.stream,
        }
        if new is not None and spec.stream in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES"):
            change["NewImage"] = new
        if old is not None and spec.stream in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES"):
            change["OldImage"] = old
        db.execute(
            "INSERT INTO stream_records (stream, partition_key, data, arrived) VALUES (?, ?, ?, ?)",
            (self.stream_id(spec.name), json.dumps(keys), json.dumps(change).encode(), time.time()),
        )

    def event(self, table: str, batch: list[StreamRecordRow]) -> dict[str, Any]:
        """A DynamoDB Streams event, as Lambda delivers it."""
        return {"Records": [self._record_of(table, row) for row in batch]}

    def _record_of(self, table: str, row: StreamRecordRow) -> dict[str, Any]:
        change = json.loads(row.data)
        body: dict[str, Any] = {
            "ApproximateCreationDateTime": int(row.arrived),
            "Keys": change["Keys"],
            "SequenceNumber": sequence_number(row.seq),
            "SizeBytes": len(row.data),
            "StreamViewType": change["StreamViewType"],
        }
        for image in ("NewImage", "OldImage"):
            if image in change:
                body[image] = change[image]
        return {
            "eventID": change["eventID"],
            "eventName": change["eventName"],
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": self.region,
            "dynamodb": body,
            "eventSourceARN": self.stream_arn(table),
        }
