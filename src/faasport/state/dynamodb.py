"""``dynamodb://TABLE?region=eu-west-1&endpoint_url=http://127.0.0.1:8000``: a DynamoDB
store through boto3, on the table ``faasport deploy`` creates (partition key ``pk``, a
string; TTL attribute ``expires``, epoch seconds).

DynamoDB deletes expired items late (within days), so reads filter on the exact expiry kept
in ``x``; ``expires`` is that time rounded up to a whole second for the TTL sweeper.

The token bucket and the fixed window are conditional ``UpdateItem`` calls: one request
when the guess about the record's state (drained bucket, same window) is right, and the
failed condition returns the record to decide on otherwise. The sliding window needs
arithmetic a condition cannot express, so it reads the item, computes, and writes back on
condition that its version ``ver`` is unchanged; a lost race reads again.
"""

from __future__ import annotations

import math
import random
import time

from faasport.state.base import (
    SLACK,
    CellStore,
    Decision,
    StateError,
    bucket_decision,
    fixed_decision,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from faasport.state.base import Cell

#: Attempts of a rate-limit update racing other writers before giving up.
ATTEMPTS = 64
_CONFLICT = "ConditionalCheckFailedException"


class DynamoStore(CellStore):
    #: An item holds 400 KB with its names and key (at most 1 KB here). DynamoDB counts a
    #: binary value's bytes, local emulators may count its base64 text: 256 KB fits both.
    max_value = 256 * 1024

    def __init__(self, url: str) -> None:
        from urllib.parse import parse_qs, urlsplit

        import boto3
        import botocore.config
        import botocore.exceptions

        self.name = url.split("?", 1)[0]
        self.errors = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
        parts = urlsplit(url)
        self.table = parts.netloc
        if not self.table:
            raise ValueError(f"{url!r} names no table: use dynamodb://TABLE")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        config = botocore.config.Config(
            connect_timeout=5, read_timeout=5, retries={"max_attempts": 3, "mode": "standard"}
        )
        try:
            self._client: Any = boto3.session.Session().client(
                "dynamodb",
                region_name=query.get("region"),
                endpoint_url=query.get("endpoint_url"),
                config=config,
            )
        except self.errors as exc:
            raise self.error(exc) from exc

    def close(self) -> None:
        self._client.close()

    def _raw(self, key: str) -> dict[str, Any] | None:
        item: dict[str, Any] | None = self._client.get_item(
            TableName=self.table, Key={"pk": {"S": key}}, ConsistentRead=True
        ).get("Item")
        return item

    def _item(self, key: str, now: float) -> dict[str, Any] | None:
        item = self._raw(key)
        if item is None or ("x" in item and float(item["x"]["N"]) <= now):
            return None
        return item

    def _get(self, key: str, now: float) -> bytes | None:
        item = self._item(key, now)
        return None if item is None or "v" not in item else bytes(item["v"]["B"])

    def _set(self, key: str, value: bytes, expires: float | None) -> None:
        self._client.put_item(TableName=self.table, Item=_value_item(key, value, expires))

    def _delete(self, key: str, now: float) -> bool:
        old = self._client.delete_item(
            TableName=self.table, Key={"pk": {"S": key}}, ReturnValues="ALL_OLD"
        ).get("Attributes")
        # DynamoDB's TTL deletes expired items within days: until then they count as absent.
        return old is not None and ("x" not in old or float(old["x"]["N"]) > now)

    def _cas(
        self, key: str, expected: bytes | None, value: bytes, expires: float | None, now: float
    ) -> bool:
        values: dict[str, Any] = {":now": _number(now)}
        if expected is None:
            condition = "attribute_not_exists(pk) OR x <= :now"
        else:
            condition = "v = :expected AND (attribute_not_exists(x) OR x > :now)"
            values[":expected"] = {"B": expected}
        try:
            self._client.put_item(
                TableName=self.table,
                Item=_value_item(key, value, expires),
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except self.errors[0] as exc:
            if _code(exc) == _CONFLICT:
                return False
            raise
        return True

    def _conditional(self, key: str, update: str, condition: str, values: dict[str, Any]) -> Any:
        """The attributes after a conditional ``UpdateItem``, or ``(None, item)`` with the
        item as it was (None when absent) when the condition failed."""
        try:
            return self._client.update_item(
                TableName=self.table,
                Key={"pk": {"S": key}},
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
                ReturnValues="UPDATED_NEW",
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )["Attributes"]
        except self.errors[0] as exc:
            if _code(exc) != _CONFLICT:
                raise
            return None, _code_item(exc)

    def _take(self, key: str, now: float, rate: float, burst: int, cost: int) -> Decision:
        interval = 1.0 / rate
        increment = cost * interval
        latest = now + (burst + SLACK) * interval - increment
        expires = {"N": str(math.ceil(now + burst * interval) + 1)}
        for _ in range(ATTEMPTS):
            # Drained bucket (the usual case under load): add to the stored time.
            done = self._conditional(
                key,
                "SET n1 = n1 + :inc, x = n1 + :inc, expires = :exp",
                "n1 > :now AND n1 <= :latest",
                {
                    ":inc": _number(increment),
                    ":now": _number(now),
                    ":latest": _number(latest),
                    ":exp": expires,
                },
            )
            if not isinstance(done, tuple):
                return bucket_decision(True, float(done["n1"]["N"]), now, rate, burst, cost)
            item = done[1]
            if item is not None and "n1" in item and float(item["n1"]["N"]) > now:
                return bucket_decision(False, float(item["n1"]["N"]), now, rate, burst, cost)
            # Full or absent bucket: start from now, unless another writer got there first.
            done = self._conditional(
                key,
                "SET n1 = :new, x = :new, expires = :exp",
                "attribute_not_exists(pk) OR n1 <= :now",
                {":new": _number(now + increment), ":now": _number(now), ":exp": expires},
            )
            if not isinstance(done, tuple):
                return bucket_decision(True, now + increment, now, rate, burst, cost)
        raise StateError(self.name, f"{key!r} kept changing for {ATTEMPTS} attempts")

    def _fixed(self, key: str, now: float, limit: int, window: float, cost: int) -> Decision:
        index = now // window
        end = (index + 1) * window
        common = {":i": _number(index), ":exp": {"N": str(math.ceil(end))}, ":x": _number(end)}
        for _ in range(ATTEMPTS):
            done = self._conditional(
                key,
                "SET n2 = n2 + :c, x = :x, expires = :exp",
                "n1 = :i AND n2 <= :room",
                {**common, ":c": {"N": str(cost)}, ":room": {"N": str(limit - cost)}},
            )
            if not isinstance(done, tuple):
                return fixed_decision(True, float(done["n2"]["N"]), now, limit, window, cost)
            item = done[1]
            if item is not None and "n1" in item and float(item["n1"]["N"]) == index:
                return fixed_decision(False, float(item["n2"]["N"]), now, limit, window, cost)
            done = self._conditional(
                key,
                "SET n1 = :i, n2 = :c, n3 = :zero, x = :x, expires = :exp",
                "attribute_not_exists(pk) OR n1 <> :i",
                {**common, ":c": {"N": str(cost)}, ":zero": {"N": "0"}},
            )
            if not isinstance(done, tuple):
                return fixed_decision(True, cost, now, limit, window, cost)
        raise StateError(self.name, f"{key!r} kept changing for {ATTEMPTS} attempts")

    def _update(
        self, key: str, now: float, change: Callable[[Cell | None], tuple[Cell | None, float]]
    ) -> None:
        for attempt in range(ATTEMPTS):
            item = self._raw(key)
            cell: Cell | None = None
            if item is not None and "n1" in item and float(item["x"]["N"]) > now:
                cell = (float(item["n1"]["N"]), float(item["n2"]["N"]), float(item["n3"]["N"]))
            new, expires = change(cell)
            if new is None:
                return
            version = int(item["ver"]["N"]) if item is not None and "ver" in item else 0
            # The version of the record read, expired or not, must still be the stored one.
            if item is None:
                condition, values = "attribute_not_exists(pk)", None
            else:
                condition, values = "ver = :ver", {":ver": {"N": str(version)}}
            written = {
                "pk": {"S": key},
                "n1": _number(new[0]),
                "n2": _number(new[1]),
                "n3": _number(new[2]),
                "ver": {"N": str(version + 1)},
                "x": _number(expires),
                "expires": {"N": str(math.ceil(expires))},
            }
            try:
                if values is None:
                    self._client.put_item(
                        TableName=self.table, Item=written, ConditionExpression=condition
                    )
                else:
                    self._client.put_item(
                        TableName=self.table,
                        Item=written,
                        ConditionExpression=condition,
                        ExpressionAttributeValues=values,
                    )
                return
            except self.errors[0] as exc:
                if _code(exc) != _CONFLICT:
                    raise
            # Another writer won: back off a little, then decide again on its record.
            time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise StateError(self.name, f"{key!r} kept changing for {ATTEMPTS} attempts")


def _value_item(key: str, value: bytes, expires: float | None) -> dict[str, Any]:
    item: dict[str, Any] = {"pk": {"S": key}, "v": {"B": value}}
    if expires is not None:
        item["x"] = _number(expires)
        item["expires"] = {"N": str(math.ceil(expires))}
    return item


def _number(value: float) -> dict[str, str]:
    return {"N": repr(float(value))}


def _code(exc: Any) -> str:
    code: str = exc.response.get("Error", {}).get("Code", "")
    return code


def _code_item(exc: Any) -> dict[str, Any] | None:
    """The item a failed condition returned (``ReturnValuesOnConditionCheckFailure``)."""
    item: dict[str, Any] | None = exc.response.get("Item")
    return item
