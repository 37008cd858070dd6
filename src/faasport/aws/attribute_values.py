"""DynamoDB's attribute-value JSON (``{"N": "42"}``, ``{"M": {...}}``) to Python values and
back, as boto3's TypeDeserializer does: numbers are :class:`~decimal.Decimal`, string,
number and binary sets are ``set``, binary is ``bytes``."""

from __future__ import annotations

from decimal import Decimal

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any


def deserialize(value: dict[str, Any]) -> Any:
    """The Python value of one attribute value."""
    if not isinstance(value, dict) or len(value) != 1:
        raise ValueError(f"an attribute value has exactly one type key, not {value!r}")
    [(kind, data)] = value.items()
    if kind == "S":
        return str(data)
    if kind == "N":
        return Decimal(data)
    if kind == "BOOL":
        return bool(data)
    if kind == "NULL":
        return None
    if kind == "M":
        return {name: deserialize(item) for name, item in data.items()}
    if kind == "L":
        return [deserialize(item) for item in data]
    if kind == "SS":
        return set(map(str, data))
    if kind == "NS":
        return set(map(Decimal, data))
    if kind in ("B", "BS"):
        from base64 import b64decode

        return b64decode(data) if kind == "B" else {b64decode(item) for item in data}
    raise ValueError(f"unknown attribute value type {kind!r}")


def serialize(value: Any) -> dict[str, Any]:
    """The attribute value of a Python value (the reverse of :func:`deserialize`)."""
    from base64 import b64encode

    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | Decimal | float):
        return {"N": str(value)}
    if isinstance(value, bytes):
        return {"B": b64encode(value).decode()}
    if isinstance(value, dict):
        return {"M": {str(name): serialize(item) for name, item in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [serialize(item) for item in value]}
    if isinstance(value, set | frozenset) and value:
        items = sorted(value, key=repr)
        if all(isinstance(item, str) for item in items):
            return {"SS": items}
        if all(isinstance(item, int | Decimal | float) for item in items):
            return {"NS": [str(item) for item in items]}
        if all(isinstance(item, bytes) for item in items):
            return {"BS": [b64encode(item).decode() for item in items]}
    raise TypeError(f"no DynamoDB attribute value holds {type(value).__name__} {value!r}")
