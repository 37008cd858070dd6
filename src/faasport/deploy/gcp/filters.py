"""A topic event's SNS filter policy as a Pub/Sub subscription filter, where one says the
same: each attribute equal to one of a list of strings. Anything else (numeric ranges,
prefixes, ``exists``, ``anything-but``, nested keys) has no Pub/Sub counterpart."""

from __future__ import annotations

import json
import re

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_VALUE = re.compile(r'[^"\\\x00-\x1f]*')
#: Pub/Sub refuses longer filters.
MAX_BYTES = 256


def pubsub_filter(policy: str) -> str | None:
    """The Pub/Sub filter of ``policy`` (canonical JSON text), or None when it has none."""
    document = json.loads(policy)
    if not isinstance(document, dict) or not document:
        return None
    terms: list[str] = []
    for name, values in sorted(document.items()):
        if not _NAME.fullmatch(name) or not isinstance(values, list) or not values:
            return None
        if not all(isinstance(v, str) and _VALUE.fullmatch(v) for v in values):
            return None
        alternatives = [f'attributes.{name} = "{value}"' for value in values]
        term = " OR ".join(alternatives)
        terms.append(f"({term})" if len(alternatives) > 1 and len(document) > 1 else term)
    text = " AND ".join(terms)
    return text if len(text.encode()) <= MAX_BYTES else None
