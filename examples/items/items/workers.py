"""The event handlers: the audit queue worker, the analytics stream consumer and the nightly
compaction. Each is idempotent, since queues and streams deliver at least once."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

from sqlalchemy import Connection, Table, delete, select
from sqlalchemy.exc import IntegrityError

from faasport import events
from items.database import audit, audit_daily, engine, item_stats, now, stream_seen

#: Audit records older than this many days are folded into daily counts.
RETENTION_DAYS = int(os.environ.get("ITEMS_AUDIT_RETENTION_DAYS", "30"))
#: Kinesis keeps records 24 hours: a sequence number older than this is never redelivered.
SEEN_DAYS = 2


def _add(connection: Connection, table: Table, key: dict[str, Any], **counts: int) -> None:
    """Add ``counts`` to the row ``key`` of ``table``, creating it at zero first."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    statement = dialect.insert(table).values(**key, **counts)
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=list(key),
            set_={name: table.c[name] + statement.excluded[name] for name in counts},
        )
    )


# -- the audit queue worker (subscribed to the item-created topic) --------------------------


def audit_one(record: events.Record) -> None:
    assert isinstance(record, events.Message)
    body = record.json()
    if body.get("Type") == "Notification":  # SNS's envelope, as a subscribed queue gets it
        message_id, body = body["MessageId"], json.loads(body["Message"])
    else:
        message_id = record.id
    with engine().begin() as connection:
        exists = select(audit.c.id).where(audit.c.message_id == message_id)
        if connection.execute(exists).first() is not None:
            return  # delivered again
        connection.execute(
            audit.insert().values(
                message_id=message_id,
                item_id=int(body["item"]["id"]),
                action=str(body["action"]),
                at=now(),
                detail=json.dumps(body["item"], sort_keys=True),
            )
        )


def audit_handler(event: Any, context: Any) -> Any:
    return events.process(event, audit_one)


# -- the analytics consumer of the item-changes stream ----------------------------------------


def count_one(record: events.Record) -> None:
    assert isinstance(record, events.StreamRecord)
    change = record.json()
    kind = str(change["kind"])
    value = int(change["price_cents"]) if kind == "created" else 0
    try:
        with engine().begin() as connection:
            connection.execute(
                stream_seen.insert().values(
                    shard=record.shard or record.partition_key,
                    sequence=record.sequence,
                    at=now(),
                )
            )
            _add(connection, item_stats, {"kind": kind}, changes=1, value_cents=value)
    except IntegrityError:
        return  # this sequence number was counted already


def analytics_handler(event: Any, context: Any) -> Any:
    return events.process(event, count_one)


# -- the nightly compaction -----------------------------------------------------------------


def compact(event: Any = None, context: Any = None) -> dict[str, int]:
    """Fold audit records past retention into per-day counts, and forget stream sequence
    numbers Kinesis can no longer redeliver. One transaction: a failed run changes nothing
    and the next run does it all."""
    cutoff = now() - timedelta(days=RETENTION_DAYS)
    with engine().begin() as connection:
        old = audit.c.at < cutoff
        rows = connection.execute(select(audit.c.at, audit.c.action).where(old)).all()
        per_day: dict[tuple[str, str], int] = {}
        for at, action in rows:
            key = (at.date().isoformat(), action)
            per_day[key] = per_day.get(key, 0) + 1
        for (on, action), records in sorted(per_day.items()):
            _add(connection, audit_daily, {"day": on, "action": action}, records=records)
        folded = connection.execute(delete(audit).where(old)).rowcount
        forgotten = connection.execute(
            delete(stream_seen).where(stream_seen.c.at < now() - timedelta(days=SEEN_DAYS))
        ).rowcount
    return {"audit_folded": folded, "days": len(per_day), "sequences_forgotten": forgotten}
