"""A reused encoder writes what ``json.dumps`` writes, errors included."""

from __future__ import annotations

import json
from typing import Any

import pytest

from faasport.core.json_text import reused_encoder

VALUES: list[Any] = [
    {"version": "2.0", "headers": {"host": "h", "x": "a,b"}, "timeEpoch": 1795934753043},
    {"body": "caf\u00e9 \u2603 \U0001f600", "quote": 'say "hi"\n', "n": [1, 2.5, -0.0, 1e300]},
    {"isBase64Encoded": False, "cookies": [], "nothing": None, "nested": {"a": [{"b": {}}]}},
    "a string at the top",
    [],
    42,
]
MODES = [
    {"compact": compact, "ensure_ascii": ascii_only, "check_circular": check}
    for compact in (True, False)
    for ascii_only in (True, False)
    for check in (True, False)
]


@pytest.mark.parametrize(
    "mode", MODES, ids=lambda mode: "-".join(f"{k}={v}" for k, v in mode.items())
)
@pytest.mark.parametrize("value", VALUES)
def test_the_text_is_the_standard_encoders(value: Any, mode: dict[str, bool]) -> None:
    separators = (",", ":") if mode["compact"] else None
    expected = json.dumps(
        value,
        separators=separators,
        ensure_ascii=mode["ensure_ascii"],
        check_circular=mode["check_circular"],
    )
    assert reused_encoder(**mode)(value) == expected


@pytest.mark.parametrize("check_circular", [True, False])
def test_what_json_cannot_hold_is_the_standard_type_error(check_circular: bool) -> None:
    with pytest.raises(TypeError, match="Object of type bytes is not JSON serializable"):
        reused_encoder(check_circular=check_circular)({"body": b"raw"})


def test_one_encoder_serves_many_values() -> None:
    encode = reused_encoder(compact=True)
    assert [encode({"i": i}) for i in range(3)] == ['{"i":0}', '{"i":1}', '{"i":2}']


def test_a_circular_reference_is_refused() -> None:
    loop: dict[str, Any] = {}
    loop["self"] = loop
    with pytest.raises(ValueError, match="Circular reference detected"):
        reused_encoder()(loop)


def test_a_failed_value_is_not_taken_for_a_circular_one_later() -> None:
    encode = reused_encoder()
    inner: dict[str, Any] = {"body": b"raw"}
    outer = {"inner": inner}
    with pytest.raises(TypeError):
        encode(outer)
    inner["body"] = "text"
    assert encode(outer) == '{"inner": {"body": "text"}}'
