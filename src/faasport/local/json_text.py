"""Compact JSON text for what the emulator encodes per invocation (the event, the log
files' records): the standard library's C encoder, made once and reused, rather than the
encoder object :meth:`json.JSONEncoder.encode` makes for every call (a fifth of the cost
of encoding an API Gateway event)."""

from __future__ import annotations

import json
from collections.abc import Callable
from json import encoder
from typing import Any


def compact_encoder(*, ensure_ascii: bool = True) -> Callable[[Any], str]:
    """``json.JSONEncoder(separators=(",", ":"), check_circular=False).encode``: the same
    text, and the same ``TypeError`` for a value JSON cannot hold. Without a cycle check:
    for trees, as events and log records are."""
    standard = json.JSONEncoder(
        separators=(",", ":"), ensure_ascii=ensure_ascii, check_circular=False
    )
    make = getattr(encoder, "c_make_encoder", None)
    if make is None:  # an interpreter without the C accelerator
        return standard.encode
    strings = encoder.encode_basestring_ascii if ensure_ascii else encoder.encode_basestring
    # markers, default, string encoder, indent, separators, sort_keys, skipkeys, allow_nan
    chunks = make(None, standard.default, strings, None, ":", ",", False, False, True)
    join = "".join

    def encode(value: Any) -> str:
        return join(chunks(value, 0))

    return encode
