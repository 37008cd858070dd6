"""The DynamoDB endpoint in process, through boto3's client and resource APIs: item
operations, expressions, pages, batches, DynamoDB's error shapes, and the stream record each
write leaves (none for a write that changes nothing)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from types import MappingProxyType
from typing import Any

import boto3
import pytest
from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError

from faasport.config.model import DynamoTable
from faasport.local.aws_services.server import Services
from faasport.local.sources.queues import Queues
from faasport.local.sources.store import Store
from faasport.local.sources.streams import Streams
from faasport.local.sources.tables import Tables

TABLES = {
    "orders": DynamoTable("orders", key="customer", sort_key="number", sort_type="N"),
    "users": DynamoTable("users", key="id", stream="KEYS_ONLY"),
}


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Tables]]:
    store = Store(tmp_path / "events.db").open()
    streams = Streams(store, set())
    streams.open()
    tables = Tables(streams, MappingProxyType(TABLES), "us-east-1")
    tables.open()
    services = Services(Queues(store, {}), streams=streams, tables=tables)
    url = services.start()
    try:
        yield url, tables
    finally:
        services.stop()


def session(url: str, kind: str = "resource") -> Any:
    return getattr(boto3, kind)(
        "dynamodb",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )


def changes(tables: Tables, table: str) -> list[dict[str, Any]]:
    return [json.loads(row.data) for row in tables.streams.read(tables.stream_id(table), 0, 100)]


def test_put_get_update_delete_and_the_stream(served: tuple[str, Tables]) -> None:
    url, tables = served
    orders = session(url).Table("orders")
    item = {"customer": "c1", "number": 1, "total": Decimal("9.50"), "tags": {"new"}}
    orders.put_item(Item=item)
    assert orders.get_item(Key={"customer": "c1", "number": 1})["Item"] == item
    assert "Item" not in orders.get_item(Key={"customer": "c1", "number": 2})

    updated = orders.update_item(
        Key={"customer": "c1", "number": 1},
        UpdateExpression="SET #t = #t + :d, notes = list_append(if_not_exists(notes, :e), :n) "
        "REMOVE tags ADD visits :one",
        ExpressionAttributeNames={"#t": "total"},
        ExpressionAttributeValues={":d": 1, ":e": [], ":n": ["late"], ":one": 1},
        ReturnValues="ALL_NEW",
    )["Attributes"]
    assert updated == {
        "customer": "c1",
        "number": 1,
        "total": Decimal("10.50"),
        "notes": ["late"],
        "visits": 1,
    }
    orders.put_item(Item=updated)  # the same item: no change, no stream record
    old = orders.delete_item(Key={"customer": "c1", "number": 1}, ReturnValues="ALL_OLD")
    assert old["Attributes"] == updated
    orders.delete_item(Key={"customer": "c1", "number": 1})  # already gone: no record either

    records = changes(tables, "orders")
    assert [r["eventName"] for r in records] == ["INSERT", "MODIFY", "REMOVE"]
    assert all(r["Keys"] == {"customer": {"S": "c1"}, "number": {"N": "1"}} for r in records)
    assert "OldImage" not in records[0] and records[0]["NewImage"]["total"] == {"N": "9.50"}
    assert records[1]["OldImage"]["tags"] == {"SS": ["new"]}
    assert records[1]["NewImage"]["visits"] == {"N": "1"}
    assert "NewImage" not in records[2] and records[2]["OldImage"]["total"] == {"N": "10.50"}


def test_keys_only_streams_hold_no_images(served: tuple[str, Tables]) -> None:
    url, tables = served
    session(url).Table("users").put_item(Item={"id": "u1", "name": "Ada"})
    [record] = changes(tables, "users")
    assert record["Keys"] == {"id": {"S": "u1"}}
    assert "NewImage" not in record and record["StreamViewType"] == "KEYS_ONLY"


def test_conditions(served: tuple[str, Tables]) -> None:
    url, tables = served
    users = session(url).Table("users")
    users.put_item(Item={"id": "u1", "age": 30}, ConditionExpression=Attr("id").not_exists())
    with pytest.raises(ClientError) as info:
        users.put_item(Item={"id": "u1", "age": 31}, ConditionExpression=Attr("id").not_exists())
    assert info.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    users.update_item(
        Key={"id": "u1"},
        UpdateExpression="SET age = :new",
        ConditionExpression=Attr("age").between(18, 40) & Attr("age").is_in([30, 31]),
        ExpressionAttributeValues={":new": 31},
    )
    with pytest.raises(ClientError) as info:
        users.delete_item(Key={"id": "u1"}, ConditionExpression=Attr("age").lt(31))
    assert info.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert users.get_item(Key={"id": "u1"})["Item"]["age"] == 31
    assert len(changes(tables, "users")) == 2  # the refused writes left no record


def test_query_scan_pages_filters_and_projection(served: tuple[str, Tables]) -> None:
    url, _ = served
    orders = session(url).Table("orders")
    with orders.batch_writer() as batch:
        for number in range(1, 13):
            batch.put_item(Item={"customer": "c1", "number": number, "odd": number % 2 == 1})
        batch.put_item(Item={"customer": "c2", "number": 1, "odd": True})
    first = orders.query(KeyConditionExpression=Key("customer").eq("c1"), Limit=5)
    assert [i["number"] for i in first["Items"]] == [1, 2, 3, 4, 5]
    rest = orders.query(
        KeyConditionExpression=Key("customer").eq("c1"),
        ExclusiveStartKey=first["LastEvaluatedKey"],
    )
    assert [i["number"] for i in rest["Items"]] == list(range(6, 13))
    assert "LastEvaluatedKey" not in rest
    ranged = orders.query(
        KeyConditionExpression=Key("customer").eq("c1") & Key("number").between(3, 10),
        FilterExpression=Attr("odd").eq(True),
        ProjectionExpression="#n",
        ExpressionAttributeNames={"#n": "number"},
        ScanIndexForward=False,
    )
    assert ranged["Items"] == [{"number": n} for n in (9, 7, 5, 3)]
    assert (ranged["Count"], ranged["ScannedCount"]) == (4, 8)
    assert orders.scan()["Count"] == 13
    got = session(url).batch_get_item(
        RequestItems={"orders": {"Keys": [{"customer": "c2", "number": 1}]}}
    )
    assert got["Responses"]["orders"] == [{"customer": "c2", "number": 1, "odd": True}]


def test_errors_are_dynamodbs(served: tuple[str, Tables]) -> None:
    url, _ = served
    client = session(url, "client")  # attribute values as they are, not Python values

    def code(call: Any, **kwargs: Any) -> tuple[str, str]:
        with pytest.raises(ClientError) as info:
            call(**kwargs)
        error = info.value.response["Error"]
        return error["Code"], error["Message"]

    assert code(client.get_item, TableName="nope", Key={"id": {"S": "x"}}) == (
        "ResourceNotFoundException",
        "Requested resource not found: table 'nope' is not in faasport.toml "
        "(the tables are: orders, users)",
    )
    assert code(client.put_item, TableName="users", Item={"id": {"N": "1"}})[0] == (
        "ValidationException"
    )
    assert code(client.get_item, TableName="users", Key={"id": {"S": "x"}, "y": {"S": "z"}}) == (
        "ValidationException",
        "The provided key element does not match the schema",
    )
    assert code(
        client.update_item,
        TableName="users",
        Key={"id": {"S": "x"}},
        UpdateExpression="SET a = :a",
        ExpressionAttributeValues={":a": {"S": "1"}, ":b": {"S": "2"}},
    )[1].startswith("Value provided in ExpressionAttributeValues unused")
    assert (
        code(
            client.update_item,
            TableName="users",
            Key={"id": {"S": "x"}},
            UpdateExpression="SET id = :a",
            ExpressionAttributeValues={":a": {"S": "y"}},
        )[1]
        == "Cannot update attribute id. This attribute is part of the key"
    )
    assert (
        code(
            client.query,
            TableName="users",
            KeyConditionExpression="age > :a",
            ExpressionAttributeValues={":a": {"N": "1"}},
        )[0]
        == "ValidationException"
    )
    assert (
        code(
            client.put_item,
            TableName="users",
            Item={"id": {"S": "x"}},
            ConditionExpression="id = = :a",
        )[0]
        == "ValidationException"
    )
    assert code(
        client.create_table,
        TableName="t",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    ) == (
        "UnknownOperationException",
        "faasport dev does not emulate the DynamoDB operation CreateTable",
    )
    table = client.describe_table(TableName="orders")["Table"]
    assert table["KeySchema"] == [
        {"AttributeName": "customer", "KeyType": "HASH"},
        {"AttributeName": "number", "KeyType": "RANGE"},
    ]
    assert table["LatestStreamArn"].startswith("arn:aws:dynamodb:us-east-1:")
    assert client.list_tables()["TableNames"] == ["orders", "users"]
