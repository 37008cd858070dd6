"""The emulator's compact JSON encoder writes what the standard encoder writes."""

from __future__ import annotations

import json
from typing import Any

import pytest

from faasport.local.json_text import compact_encoder

VALUES: list[Any] = [
    {"version": "2.0", "headers": {"host": "h", "x": "a,b"}, "timeEpoch": 1795934753043},
    {"body": "caf\u00e9 \u2603 \U0001f600", "quote": 'say "hi"\n', "n": [1, 2.5, -0.0, 1e300]},
    {"isBase64Encoded": False, "cookies": [], "nothing": None, "nested": {"a": [{"b": {}}]}},
    "a string at the top",
    [],
    42,
]


@pytest.mark.parametrize("ensure_ascii", [True, False])
@pytest.mark.parametrize("value", VALUES)
def test_the_text_is_the_standard_encoders(value: Any, ensure_ascii: bool) -> None:
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=ensure_ascii)
    assert compact_encoder(ensure_ascii=ensure_ascii)(value) == expected


def test_what_json_cannot_hold_is_the_standard_type_error() -> None:
    with pytest.raises(TypeError, match="Object of type bytes is not JSON serializable"):
        compact_encoder()({"body": b"raw"})


def test_one_encoder_serves_many_values() -> None:
    encode = compact_encoder()
    assert [encode({"i": i}) for i in range(3)] == ['{"i":0}', '{"i":1}', '{"i":2}']
