"""The event handlers through faasport.testing's events: the audit worker fed the very SNS
envelope the API published (delivered by moto's SQS), the analytics consumer fed the stream's
records, redeliveries of both, and the nightly compaction; on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from items_cloud import Cloud
from sqlalchemy import insert, select

from faasport import aws
from faasport.testing import LambdaClient, LambdaContext, schedule_event, sqs_event
from faasport.testing.events import kinesis_event

pytestmark = pytest.mark.usefixtures("database")

API = aws.handler("items.api:app")


def rows(table: Any) -> list[dict[str, Any]]:
    from items.database import engine

    with engine().connect() as connection:
        return [row._asdict() for row in connection.execute(select(table))]


def test_the_audit_worker_records_each_creation_once(cloud: Cloud) -> None:
    from items.database import audit
    from items.workers import audit_handler

    client = LambdaClient(API)
    made = [
        client.post("/items", json_body={"name": name, "price_cents": 5}).json()
        for name in ("a", "b")
    ]
    envelopes = cloud.published()
    assert len(envelopes) == 2
    answer = audit_handler(sqs_event(*envelopes, queue="audit"), LambdaContext())
    assert answer == {"batchItemFailures": []}
    # Redelivered (a visibility timeout ran out): nothing recorded twice.
    audit_handler(sqs_event(envelopes[0], queue="audit", deliveries=2), LambdaContext())
    recorded = sorted(rows(audit), key=lambda r: r["item_id"])
    assert [(r["item_id"], r["action"]) for r in recorded] == [
        (made[0]["id"], "created"),
        (made[1]["id"], "created"),
    ]
    assert json.loads(recorded[0]["detail"]) == made[0]
    assert {r["message_id"] for r in recorded} == {json.loads(e)["MessageId"] for e in envelopes}


def test_a_bad_audit_message_fails_alone() -> None:
    from items.database import audit
    from items.workers import audit_handler

    good = json.dumps({"action": "created", "item": {"id": 7, "name": "x"}})
    event = sqs_event(good, "not json", json.dumps({"item": {}}), queue="audit")
    answer = audit_handler(event, LambdaContext())
    ids = [record["messageId"] for record in event["Records"]]
    assert answer == {"batchItemFailures": [{"itemIdentifier": i} for i in ids[1:]]}
    assert [r["item_id"] for r in rows(audit)] == [7]


def test_the_analytics_consumer_aggregates_each_record_once(cloud: Cloud) -> None:
    from items.database import item_stats
    from items.workers import analytics_handler

    client = LambdaClient(API)
    first = client.post("/items", json_body={"name": "a", "price_cents": 100}).json()
    client.post("/items", json_body={"name": "b", "price_cents": 250})
    client.request("PATCH", f"/items/{first['id']}", json_body={"quantity": 1})
    client.request("DELETE", f"/items/{first['id']}")
    data = [d.decode() for d in cloud.records()]
    event = kinesis_event(*data, stream="item-changes")
    assert analytics_handler(event, LambdaContext()) == {"batchItemFailures": []}
    assert analytics_handler(event, LambdaContext()) == {"batchItemFailures": []}  # retried
    stats = {r["kind"]: (r["changes"], r["value_cents"]) for r in rows(item_stats)}
    assert stats == {"created": (2, 350), "updated": (1, 0), "deleted": (1, 0)}


def test_a_bad_stream_record_stops_the_batch_there() -> None:
    from items.database import item_stats
    from items.workers import analytics_handler

    change = json.dumps({"kind": "created", "id": 1, "price_cents": 5, "at": ""})
    event = kinesis_event(change, "{}", change.replace('"id": 1', '"id": 2'), stream="s")
    answer = analytics_handler(event, LambdaContext())
    sequences = [record["kinesis"]["sequenceNumber"] for record in event["Records"]]
    # Kinesis retries from the failed record: the one after it is reported too, in order.
    assert answer == {"batchItemFailures": [{"itemIdentifier": s} for s in sequences[1:]]}
    assert [(r["kind"], r["changes"]) for r in rows(item_stats)] == [("created", 1)]


def test_compaction_folds_old_audit_records_into_daily_counts() -> None:
    from items.database import audit, audit_daily, engine, stream_seen
    from items.workers import compact

    now = datetime.now(UTC)
    old = now - timedelta(days=40)
    older = now - timedelta(days=41)
    with engine().begin() as connection:
        for n, (at, action) in enumerate(
            [(old, "created"), (old, "created"), (older, "created"), (now, "created")]
        ):
            connection.execute(
                insert(audit).values(
                    message_id=f"m{n}", item_id=n, action=action, at=at, detail="{}"
                )
            )
        connection.execute(
            insert(stream_seen).values(
                [
                    {"shard": "s", "sequence": "1", "at": now - timedelta(days=3)},
                    {"shard": "s", "sequence": "2", "at": now},
                ]
            )
        )
    result = compact(schedule_event("items-compact"), LambdaContext())
    assert result == {"audit_folded": 3, "days": 2, "sequences_forgotten": 1}
    assert [r["message_id"] for r in rows(audit)] == ["m3"]
    daily = {(r["day"], r["action"]): r["records"] for r in rows(audit_daily)}
    assert daily == {
        (old.date().isoformat(), "created"): 2,
        (older.date().isoformat(), "created"): 1,
    }
    assert [r["sequence"] for r in rows(stream_seen)] == ["2"]
    # Again: nothing left to fold, and the counts stay.
    assert compact(None, None) == {"audit_folded": 0, "days": 0, "sequences_forgotten": 0}
    assert {(r["day"], r["action"]): r["records"] for r in rows(audit_daily)} == daily
