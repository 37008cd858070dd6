"""Records as JSON (one array), NDJSON (one object per line) or CSV (nested keys flattened to
dotted columns: ``user.tags.0``)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator
from typing import Any

MEDIA_TYPES = {
    "json": "application/json",
    "ndjson": "application/x-ndjson",
    "csv": "text/csv; charset=utf-8",
}
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def chunks(fmt: str, batches: Iterable[list[Any]], fields: tuple[str, ...]) -> Iterator[bytes]:
    """The response body, one chunk per batch of records."""
    if fmt == "json":
        yield from _json(batches)
    elif fmt == "ndjson":
        for batch in batches:
            yield ("\n".join(map(_encode, batch)) + "\n").encode()
    else:
        yield from _csv(batches, fields)


def _json(batches: Iterable[list[Any]]) -> Iterator[bytes]:
    first = True
    for batch in batches:
        if not batch:
            continue
        text = ",".join(map(_encode, batch))
        yield (("[" if first else ",") + text).encode()
        first = False
    yield b"[]" if first else b"]"


def _csv(batches: Iterable[list[Any]], fields: tuple[str, ...]) -> Iterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(fields)
    for batch in batches:
        writer.writerows(_flat(record) for record in batch)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


def _flat(record: Any) -> list[Any]:
    row: list[Any] = []
    _leaves(record, row)
    return row


def _leaves(value: Any, row: list[Any]) -> None:
    if isinstance(value, dict):
        for child in value.values():
            _leaves(child, row)
    elif isinstance(value, list):
        for child in value:
            _leaves(child, row)
    elif isinstance(value, bool):
        row.append("true" if value else "false")
    else:
        row.append("" if value is None else value)
