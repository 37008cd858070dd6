"""DynamoDB tables through a real ``faasport dev``: a function's own boto3 writes reach the
local table, and the table's stream feeds another function its changes in order (typed
records with Python images), retried from the failed sequence number on a partial failure,
and given up with a note on the on-failure queue after its retries."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from dev_process import wait_for
from notes import lines, on_failure_note, serve

CONFIG = textwrap.dedent(
    """
    name = "tables"

    [tables.orders]
    key = "id"

    [tables.poison]
    key = "id"
    stream = "KEYS_ONLY"

    [queues.failures]

    [functions.writer]
    handler = "app:write"
    timeout = 10

    [functions.changes]
    handler = "app:changes"
    events = [{ table = "orders", batch = 10, start = "TRIM_HORIZON" }]

    [functions.strict]
    handler = "app:strict"
    events = [{ table = "poison", batch = 5, retries = 1, on_failure = "failures" }]
    """
)

APP = textwrap.dedent(
    """
    import boto3

    from faasport import events

    def write(event, context):
        table = boto3.resource("dynamodb").Table(event["table"])
        for step in event["steps"]:
            if step["op"] == "put":
                table.put_item(Item=step["item"])
            elif step["op"] == "batch":  # one BatchWriteItem: one commit
                with table.batch_writer() as batch:
                    for item in step["items"]:
                        batch.put_item(Item=item)
            elif step["op"] == "add":
                table.update_item(
                    Key={"id": step["id"]},
                    UpdateExpression="ADD total :n",
                    ExpressionAttributeValues={":n": step["n"]},
                )
            else:
                table.delete_item(Key={"id": step["id"]})
        return int(table.get_item(Key={"id": "a"}).get("Item", {}).get("total", -1))

    def one(record):
        new = record.new or {}
        marker = HERE / "failed-once"
        if new.get("bad") and not marker.exists():
            marker.write_text("")
            raise ValueError("bad, once")
        old = (record.old or {}).get("total")
        note("changes.log", f"{record.change} {record.keys['id']} {old} {new.get('total')}")

    def changes(event, context):
        return events.process(event, one)

    def strict(event, context):
        note("strict.log", " ".join(r.keys["id"] for r in events.records(event)))
        raise ValueError("poison")
    """
)


def test_table_streams(tmp_path: Path) -> None:
    dev = serve(tmp_path, CONFIG, APP)
    try:
        steps = [
            {"op": "put", "item": {"id": "a", "total": 1}},
            {"op": "add", "id": "a", "n": 2},
            {"op": "put", "item": {"id": "b", "total": 5, "bad": True}},
            {"op": "put", "item": {"id": "b", "total": 5, "bad": True}},  # no change: no record
            {"op": "delete", "id": "b"},
            {"op": "delete", "id": "zz"},  # nothing to delete: no record
        ]
        lambda_ = dev.client("lambda")
        payload = json.dumps({"table": "orders", "steps": steps}).encode()
        result = lambda_.invoke(FunctionName="writer", Payload=payload)
        assert "FunctionError" not in result, result["Payload"].read()
        assert json.loads(result["Payload"].read()) == 3
        expected = ["INSERT a None 1", "MODIFY a 1 3", "INSERT b None 5", "REMOVE b 5 None"]
        wait_for(lambda: lines(tmp_path, "changes.log") == expected, 20, "every change, in order")
        # The bad record failed once (a partial failure): retried from it, not from the start.
        assert lines(tmp_path, "changes.log").count("INSERT a None 1") == 1

        # A table's stream is read from the host too, through the same endpoint.
        orders = dev.client("dynamodb")
        item = orders.get_item(TableName="orders", Key={"id": {"S": "a"}})["Item"]
        assert item == {"id": {"S": "a"}, "total": {"N": "3"}}

        payload = json.dumps(
            {"table": "poison", "steps": [{"op": "batch", "items": [{"id": i} for i in "xyz"]}]}
        ).encode()
        assert "FunctionError" not in lambda_.invoke(FunctionName="writer", Payload=payload)
        note = on_failure_note(dev)
        info = note["DDBStreamBatchInfo"]
        assert info["batchSize"] == 3
        assert info["streamArn"].startswith("arn:aws:dynamodb:us-east-1:")
        assert note["requestContext"]["approximateInvokeCount"] == 2
        assert lines(tmp_path, "strict.log") == ["x y z", "x y z"]
    finally:
        dev.close()
