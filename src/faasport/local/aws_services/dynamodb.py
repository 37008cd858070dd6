"""DynamoDB's JSON protocol on ``faasport dev``'s AWS endpoint: the item operations a
function's boto3 calls make (``put_item``, ``get_item``, ``update_item``, ``delete_item``,
``query``, ``scan``, the batch forms, ``describe_table``, ``list_tables``), on the tables
of ``[tables.NAME]``. Every write goes to the table's stream.

Errors are DynamoDB's: ``ResourceNotFoundException``, ``ValidationException``,
``ConditionalCheckFailedException``; an operation not emulated is named in an
``UnknownOperationException``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from faasport.aws.attribute_values import deserialize, serialize
from faasport.local.aws_services.dynamodb_expressions import (
    Condition,
    ExpressionError,
    Update,
    check_all_used,
    key_condition,
    project,
    projection,
)
from faasport.local.sources.queues import QueueError

if TYPE_CHECKING:
    from faasport.config.model import DynamoTable
    from faasport.local.sources.tables import Tables

Item = dict[str, Any]
#: The protocol's error type prefix.
ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"


def _decode(item: Any, what: str) -> Item:
    if not isinstance(item, dict):
        raise QueueError("ValidationException", f"{what} must be a map of attribute values")
    try:
        return {str(name): deserialize(value) for name, value in item.items()}
    except (ValueError, TypeError, ArithmeticError) as exc:
        raise QueueError("ValidationException", f"{what}: {exc}") from None


def _encode(item: Item) -> dict[str, Any]:
    return {name: serialize(value) for name, value in item.items()}


def _placeholders(request: dict[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
    names = request.get("ExpressionAttributeNames") or {}
    if not isinstance(names, dict) or not all(isinstance(v, str) for v in names.values()):
        raise QueueError("ValidationException", "ExpressionAttributeNames must map to strings")
    values = _decode(request.get("ExpressionAttributeValues") or {}, "ExpressionAttributeValues")
    return names, values


def _condition(request: dict[str, Any], names: dict[str, str], values: dict[str, Any]) -> Any:
    text = request.get("ConditionExpression")
    return None if not text else Condition(str(text), names, values)


def _check(condition: Condition | None, old: Item | None) -> None:
    if condition is not None and not condition.holds(old):
        raise QueueError("ConditionalCheckFailedException", "The conditional request failed")


def _old(spec: DynamoTable, tables: Tables, request: dict[str, Any], what: str) -> Any:
    raw = request.get(what)
    if not isinstance(raw, dict):
        raise QueueError("ValidationException", f"{what} is required")
    key = tables.key_of(spec, raw, what)
    stored = tables.get(spec, key)
    return key, (None if stored is None else _decode(stored, "the stored item"))


def _returned(request: dict[str, Any], old: Item | None, new: Item | None) -> dict[str, Any]:
    wanted = request.get("ReturnValues", "NONE")
    if wanted in ("ALL_OLD", "UPDATED_OLD") and old is not None:
        return {"Attributes": _encode(old)}
    if wanted in ("ALL_NEW", "UPDATED_NEW") and new is not None:
        return {"Attributes": _encode(new)}
    if wanted not in ("NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"):
        raise QueueError("ValidationException", f"ReturnValues {wanted!r} is not valid")
    return {}


def put_item(tables: Tables, request: dict[str, Any]) -> dict[str, Any]:
    spec = tables.spec(request.get("TableName"))
    names, values = _placeholders(request)
    condition = _condition(request, names, values)
    check_all_used(values, condition.used_values if condition else set())
    new = _decode(request.get("Item"), "Item")
    with tables.store.lock:
        key, old = _old(spec, tables, request, "Item")
        _check(condition, old)
        tables.write([(spec, key, _encode(new), None if old is None else _encode(old))])
    return _returned(request, old, None)


def get_item(tables: Tables, request: dict[str, Any]) -> dict[str, Any]:
    spec = tables.spec(request.get("TableName"))
    _, old = _old(spec, tables, request, "Key")
    if old is None:
        return {}
    text = request.get("ProjectionExpression")
    if text:
        old = project(old, projection(str(text), _placeholders(request)[0]))
    return {"Item": _encode(old)}


def delete_item(tables: Tables, request: dict[str, Any]) -> dict[str, Any]:
    spec = tables.spec(request.get("TableName"))
    names, values = _placeholders(request)
    condition = _condition(request, names, values)
    check_all_used(values, condition.used_values if condition else set())
    with tables.store.lock:
        key, old = _old(spec, tables, request, "Key")
        _check(condition, old)
        tables.write([(spec, key, None, None if old is None else _encode(old))])
    return _returned(request, old, None)


def update_item(tables: Tables, request: dict[str, Any]) -> dict[str, Any]:
    spec = tables.spec(request.get("TableName"))
    names, values = _placeholders(request)
    condition = _condition(request, names, values)
    text = request.get("UpdateExpression")
    if not text:
        raise QueueError(
            "ValidationException",
            "faasport dev takes UpdateExpression (the legacy AttributeUpdates is not emulated)",
        )
    update = Update(str(text), names, values)
    check_all_used(values, update.used_values | (condition.used_values if condition else set()))
    with tables.store.lock:
        key, old = _old(spec, tables, request, "Key")
        _check(condition, old)
        base = dict(old) if old is not None else _decode(request["Key"], "Key")
        new = update.apply(base)
        for name in (spec.key, spec.sort_key):
            if name is not None and new.get(name) != base.get(name):
                raise QueueError(
                    "ValidationException",
                    f"Cannot update attribute {name}. This attribute is part of the key",
                )
        tables.write([(spec, key, _encode(new), None if old is None else _encode(old))])
    return _returned(request, old, new)


def _page(
    spec: DynamoTable, tables: Tables, items: list[Item], request: dict[str, Any]
) -> dict[str, Any]:
    """Items after ExclusiveStartKey, up to Limit, filtered, projected, with the key to
    carry on from when the page was cut."""
    start = request.get("ExclusiveStartKey")
    if start:
        wanted = tables.key_of(spec, start, "ExclusiveStartKey")
        for index, item in enumerate(items):
            if tables.key_of(spec, _encode(item), "Item") == wanted:
                items = items[index + 1 :]
                break
    limit = request.get("Limit")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise QueueError("ValidationException", "Limit must be at least 1")
    cut = limit is not None and len(items) > limit
    page = items[:limit] if limit is not None else items
    names, values = _placeholders(request)
    filter_text = request.get("FilterExpression")
    kept = page
    if filter_text:
        condition = Condition(str(filter_text), names, values)
        kept = [item for item in page if condition.holds(item)]
    text = request.get("ProjectionExpression")
    if text:
        paths = projection(str(text), names)
        kept = [project(item, paths) for item in kept]
    answer: dict[str, Any] = {
        "Items": [_encode(item) for item in kept],
        "Count": len(kept),
        "ScannedCount": len(page),
    }
    if cut:
        last = page[-1]
        answer["LastEvaluatedKey"] = {
            name: serialize(last[name]) for name in (spec.key, spec.sort_key) if name is not None
        }
    return answer


def _sort_value(value: Any) -> Any:
    return (0, value) if isinstance(value, Decimal) else (1, value)


def query(tables: Tables, request: dict[str, Any]) -> dict[str, Any]:
    spec = tables.spec(request.get("TableName"))
    if request.get("IndexName"):
        raise QueueError("ValidationException", "faasport dev does not emulate indexes")
    names, values = _placeholders(request)
    text = request.get("KeyConditionExpression")
    if not text:
        raise QueueError("ValidationException", "KeyConditionExpression is required")
    partition, sort, used = key_condition(str(text), names, values, spec.key, spec.sort_key)
    if request.get("FilterExpression"):
        used |= Condition(str(request["FilterExpression"]), names, values).used_values
    check_all_used(values, used)
    pk = json.dumps(serialize(partition), sort_keys=True)
    items = [_decode(item, "the stored item") for item in tables.partition(spec, pk)]
    if sort is not None:
        items = [item for item in items if sort.holds(item)]
    if spec.sort_key is not None:
        sort_key = spec.sort_key
        items.sort(key=lambda item: _sort_value(item[sort_key]))
    if request.get("ScanIndexForward") is False:
        items.reverse()
    return _page(spec, tables, items, request)


def scan(tables: Tables, request: dict[str, Any]) -> dict[str, Any]:
    spec = tables.spec(request.get("TableName"))
    items = [_decode(item, "the stored item") for item in tables.scan(spec)]
    return _page(spec, tables, items, request)


def batch_write_item(tables: Tables, request: dict[str, Any]) -> dict[str, Any]:
    groups = request.get("RequestItems")
    if not isinstance(groups, dict) or not groups:
        raise QueueError("ValidationException", "RequestItems must name at least one table")
    changes: list[tuple[DynamoTable, tuple[str, str], Item | None, Item | None]] = []
    count = 0
    with tables.store.lock:
        for name, writes in groups.items():
            spec = tables.spec(name)
            if not isinstance(writes, list):
                raise QueueError("ValidationException", f"RequestItems.{name} must be a list")
            for write in writes:
                count += 1
                if not isinstance(write, dict) or len(write) != 1:
                    raise QueueError(
                        "ValidationException", "each write is one PutRequest or DeleteRequest"
                    )
                if "PutRequest" in write:
                    item = _encode(_decode(write["PutRequest"].get("Item"), "PutRequest.Item"))
                    key = tables.key_of(spec, item, "Item")
                    changes.append((spec, key, item, tables.get(spec, key)))
                elif "DeleteRequest" in write:
                    key = tables.key_of(spec, write["DeleteRequest"].get("Key") or {}, "Key")
                    changes.append((spec, key, None, tables.get(spec, key)))
                else:
                    raise QueueError("ValidationException", f"unknown write {next(iter(write))}")
        if not 1 <= count <= 25:
            raise QueueError(
                "ValidationException", "Member must have length less than or equal to 25"
            )
        keys = [(spec.name, key) for spec, key, _, _ in changes]
        if len(set(keys)) != len(keys):
            raise QueueError(
                "ValidationException", "Provided list of item keys contains duplicates"
            )
        tables.write(changes)
    return {"UnprocessedItems": {}}


def batch_get_item(tables: Tables, request: dict[str, Any]) -> dict[str, Any]:
    groups = request.get("RequestItems")
    if not isinstance(groups, dict) or not groups:
        raise QueueError("ValidationException", "RequestItems must name at least one table")
    responses: dict[str, list[dict[str, Any]]] = {}
    for name, wanted in groups.items():
        spec = tables.spec(name)
        keys = wanted.get("Keys") if isinstance(wanted, dict) else None
        if not isinstance(keys, list) or not 1 <= len(keys) <= 100:
            raise QueueError("ValidationException", f"RequestItems.{name}.Keys: 1 to 100 keys")
        found = [tables.get(spec, tables.key_of(spec, key, "Key")) for key in keys]
        responses[name] = [item for item in found if item is not None]
    return {"Responses": responses, "UnprocessedKeys": {}}


def describe_table(tables: Tables, request: dict[str, Any]) -> dict[str, Any]:
    spec = tables.spec(request.get("TableName"))
    schema = [{"AttributeName": spec.key, "KeyType": "HASH"}]
    attributes = [{"AttributeName": spec.key, "AttributeType": spec.key_type}]
    if spec.sort_key is not None:
        schema.append({"AttributeName": spec.sort_key, "KeyType": "RANGE"})
        attributes.append({"AttributeName": spec.sort_key, "AttributeType": spec.sort_type})
    return {
        "Table": {
            "TableName": spec.name,
            "TableArn": tables.arn(spec.name),
            "TableStatus": "ACTIVE",
            "KeySchema": schema,
            "AttributeDefinitions": attributes,
            "ItemCount": tables.count(spec),
            "BillingModeSummary": {"BillingMode": "PAY_PER_REQUEST"},
            "StreamSpecification": {"StreamEnabled": True, "StreamViewType": spec.stream},
            "LatestStreamArn": tables.stream_arn(spec.name),
        }
    }


def list_tables(tables: Tables, request: dict[str, Any]) -> dict[str, Any]:
    return {"TableNames": sorted(tables.tables)}


OPERATIONS: dict[str, Callable[[Tables, dict[str, Any]], dict[str, Any]]] = {
    "PutItem": put_item,
    "GetItem": get_item,
    "DeleteItem": delete_item,
    "UpdateItem": update_item,
    "Query": query,
    "Scan": scan,
    "BatchWriteItem": batch_write_item,
    "BatchGetItem": batch_get_item,
    "DescribeTable": describe_table,
    "ListTables": list_tables,
}


def call(tables: Tables, operation: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """The HTTP status and JSON answer of one DynamoDB request."""
    handler = OPERATIONS.get(operation)
    try:
        if handler is None:
            raise QueueError(
                "UnknownOperationException",
                f"faasport dev does not emulate the DynamoDB operation {operation}",
            )
        request = json.loads(body or b"{}")
        if not isinstance(request, dict):
            raise QueueError("SerializationException", "the request body must be an object")
        return 200, handler(tables, request)
    except QueueError as exc:
        return 400, {"__type": ERROR_PREFIX + exc.code, "message": str(exc)}
    except ExpressionError as exc:
        return 400, {"__type": ERROR_PREFIX + "ValidationException", "message": str(exc)}
    except ValueError:
        message = "the request body is not valid JSON"
        return 400, {"__type": ERROR_PREFIX + "SerializationException", "message": message}
