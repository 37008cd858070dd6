"""JSON text from one encoder made once and reused: the standard library's C encoder,
rather than the encoder object (and closure) :func:`json.dumps` makes for every call, which
is a fifth of the cost of encoding an API Gateway event. The runtime client writes every
result with one; the emulator its events and log records."""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder
from typing import Any


def reused_encoder(
    *, compact: bool = False, ensure_ascii: bool = True, check_circular: bool = True
) -> Callable[[Any], str]:
    """What ``json.dumps(value, ensure_ascii=..., check_circular=...)`` writes, with
    ``separators=(",", ":")`` when ``compact``; the same ``TypeError`` for a value JSON cannot
    hold and the same ``ValueError`` for a circular reference. ``check_circular=False`` is
    for trees the caller builds (events, log records)."""
    separators = (",", ":") if compact else (", ", ": ")
    standard = json.JSONEncoder(
        separators=separators, ensure_ascii=ensure_ascii, check_circular=check_circular
    )
    make = getattr(encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return standard.encode
    strings = encoder.encode_basestring_ascii if ensure_ascii else encoder.encode_basestring
    item_separator, key_separator = separators
    join = "".join
    if not check_circular:
        # markers, default, string encoder, indent, key separator, item separator,
        # sort_keys, skipkeys, allow_nan
        chunks = make(
            None, standard.default, strings, None, key_separator, item_separator, False, False, True
        )

        def encode(value: Any) -> str:
            return join(chunks(value, 0))

        return encode
    #: The containers being encoded, to refuse a circular reference.
    markers: dict[int, Any] = {}
    checked = make(
        markers, standard.default, strings, None, key_separator, item_separator, False, False, True
    )

    def encode_checked(value: Any) -> str:
        try:
            return join(checked(value, 0))
        except BaseException:
            markers.clear()  # an error leaves the containers it was inside
            raise

    return encode_checked
