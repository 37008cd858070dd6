"""What the API Gateway codecs' ``build_event`` share: the request's headers as text, and
the request id and arrival time API Gateway stamps on every event. The local gateway builds
an event per request it serves, so each is made cheaply."""

from __future__ import annotations

import os
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from faasport.core.http import HttpRequest


def _first_bits(k: int) -> int:
    """``k`` random bits from a generator of the ids' own, made at first use (importing
    :mod:`random` would add to every function's cold start, and a deployed function builds
    no events). The module's shared generator belongs to the application (and its tests,
    which may seed it or watch it); this one is reseeded in a forked child, as that one is."""
    global _bits
    import random

    generator = random.Random()
    if hasattr(os, "register_at_fork"):
        os.register_at_fork(after_in_child=generator.seed)
    _bits = generator.getrandbits
    return _bits(k)


_bits: Callable[[int], int] = _first_bits
#: Cleared and set in a random 128-bit number, it is a version 4 UUID (RFC 9562).
_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_SET = (0x4000 << 64) | (0x8000 << 48)
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
    """A random (version 4) UUID as text. Request ids need to be unique, not secret: drawn
    from :mod:`random`, without the system call of :func:`os.urandom` (or the UUID object
    :func:`uuid.uuid4` makes) per request."""
    h = f"{_bits(128) & _CLEAR | _SET:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def extended_request_id() -> str:
    """16 random hex digits and ``=``: the shape of a REST API's ``extendedRequestId``."""
    return f"{_bits(64):016x}="


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
