"""DynamoDB attribute values, against boto3's own TypeSerializer and TypeDeserializer."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

from faasport.aws.attribute_values import deserialize, serialize

VALUES: list[Any] = [
    "text",
    Decimal("3.14"),
    Decimal(7),
    True,
    None,
    {"a": [Decimal(1), "x", {"b": None}]},
    {"x", "y"},
    {Decimal(1), Decimal("2.5")},
    [],
    {},
]


@pytest.mark.parametrize("value", VALUES)
def test_like_boto3(value: Any) -> None:
    wire = TypeSerializer().serialize(value)
    mine = deserialize(wire)
    theirs = TypeDeserializer().deserialize(wire)
    assert mine == theirs == value
    assert deserialize(serialize(value)) == value


def test_binary_is_base64_in_stream_records() -> None:
    # boto3 base64-encodes binary on the wire itself; stream events carry the base64 text.
    assert deserialize({"B": "AP8="}) == b"\x00\xff"
    assert deserialize({"BS": ["YQ==", "Yg=="]}) == {b"a", b"b"}
    assert serialize(b"\x00\xff") == {"B": "AP8="}
    assert deserialize(serialize({b"a", b"b"})) == {b"a", b"b"}


@pytest.mark.parametrize("wire", [{"X": 1}, {}, {"S": "a", "N": "1"}, "S"])
def test_bad_attribute_values_are_refused(wire: Any) -> None:
    with pytest.raises(ValueError):
        deserialize(wire)


def test_values_without_an_attribute_type_are_refused() -> None:
    with pytest.raises(TypeError, match="no DynamoDB attribute value holds object"):
        serialize(object())
