"""What the API Gateway codecs' ``build_event`` share: the request's headers as text, and
the request id and arrival time API Gateway stamps on every event. The local gateway builds
an event per request it serves, so each is made cheaply."""

from __future__ import annotations

import time
from os import urandom

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable

    from faasport.core.http import HttpRequest

#: A hex digit -> the UUID variant digit (10xx) with the same two low bits.
_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}
_second = -1
_formatted = ""


def text_pairs(request: HttpRequest) -> Iterable[tuple[str, str]]:
    """The request's headers as (lower-case name, value) text pairs, values decoded as
    UTF-8 (raises ``UnicodeDecodeError``, a ``ValueError``, for other bytes). Text headers
    the request was given are read as they are, without a round trip through bytes."""
    text = request.text_headers
    if text is None:
        return [(name.decode("latin-1"), value.decode("utf-8")) for name, value in request.headers]
    pairs = text.items() if isinstance(text, dict) else text
    return [(name.lower(), value) for name, value in pairs]


def request_id() -> str:
    """A random (version 4) UUID as text, without the UUID object :func:`uuid.uuid4` makes."""
    h = urandom(16).hex()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


def extended_request_id() -> str:
    """16 random hex digits and ``=``: the shape of a REST API's ``extendedRequestId``."""
    return urandom(8).hex() + "="


def request_time() -> tuple[str, int]:
    """Now as API Gateway writes it (``29/Nov/2026:03:40:12 +0000``, formatted once a
    second) and in epoch milliseconds."""
    global _second, _formatted
    now = time.time()
    second = int(now)
    if second != _second:
        _formatted = time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(second))
        _second = second
    return _formatted, int(now * 1000)
