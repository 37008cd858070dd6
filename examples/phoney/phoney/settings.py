"""Settings from the environment (``faasport.toml`` sets them per function), read once."""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

#: Lambda's limit on a buffered response (API Gateway and Function URLs alike).
BUFFERED_LIMIT = 6 * 1024 * 1024


@dataclass(frozen=True)
class Settings:
    #: Records one buffered request may ask for.
    max_count: int
    #: Records one streamed request may ask for.
    max_stream_count: int
    #: Leaves (strings, numbers...) a template may have.
    max_fields: int
    #: Bytes a buffered response may have before the client is told to stream.
    max_response_bytes: int
    default_locale: str
    #: True in the function deployed with ``stream = true``: ndjson and csv are streamed.
    streaming: bool


def _integer(name: str, default: int) -> int:
    text = os.environ.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"environment variable {name} must be an integer, got {text!r}") from None
    if value < 1:
        raise ValueError(f"environment variable {name} must be 1 or more, got {value}")
    return value


@functools.cache
def settings() -> Settings:
    return Settings(
        max_count=_integer("PHONEY_MAX_COUNT", 50_000),
        max_stream_count=_integer("PHONEY_MAX_STREAM_COUNT", 2_000_000),
        max_fields=_integer("PHONEY_MAX_FIELDS", 200),
        max_response_bytes=_integer("PHONEY_MAX_RESPONSE_BYTES", BUFFERED_LIMIT),
        default_locale=os.environ.get("PHONEY_DEFAULT_LOCALE", "en_US"),
        streaming=os.environ.get("PHONEY_STREAMING", "") in ("1", "true"),
    )
