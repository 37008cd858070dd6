"""The start of every invocation, for every provider entry point: the request id and
cold-start flag in the log context, and the provider event turned into the canonical
request, or into the 400 that answers an event its source could not have sent.

Only :class:`~faasport.core.errors.UnsupportedEventError` (and its
:class:`~faasport.core.errors.MalformedEventError`) becomes a 400: decoders raise them on
purpose, naming the field. Any other exception is a bug in a decoder and propagates.
"""

from __future__ import annotations

from faasport.core import coldstart, logs
from faasport.core.errors import MalformedEventError, UnsupportedEventError
from faasport.core.runner import error_response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any, TypeVar

    from faasport.core.http import HttpResponse

    T = TypeVar("T")


def begin(request_id: str | None) -> bool:
    """Enter a new invocation: its id and cold-start flag go into every log line of it.
    Returns the cold-start flag (True for the environment's first invocation)."""
    cold = coldstart.record.pending and coldstart.record.take()
    current = logs.get()
    current["request_id"] = request_id
    current["cold_start"] = cold
    return cold


def http_request(request_id: str | None, decode: Callable[..., T], *args: Any) -> T | HttpResponse:
    """Begin an HTTP invocation and decode its event with ``decode(*args)`` (the event
    first): the canonical request (or what ``decode`` makes of the event instead, such as
    a WSGI environ), or the 400 response to send back."""
    # begin(), inline: this runs on every request.
    record = coldstart.record
    current = logs.get()
    current["request_id"] = request_id
    current["cold_start"] = record.pending and record.take()
    try:
        return decode(*args)
    except (UnsupportedEventError, UnicodeEncodeError) as exc:
        return refused(exc, request_id, args[0] if args else None)


def refused(
    exc: UnsupportedEventError | UnicodeEncodeError, request_id: str | None, event: object
) -> HttpResponse:
    """The 400 answering an event a decoder refused (``exc``): an UnicodeEncodeError is
    re-raised unless a field of the event holds text that is not valid Unicode."""
    if isinstance(exc, UnsupportedEventError):
        return rejected(exc, request_id)
    # JSON can carry lone surrogates ("\\ud800"), which no UTF-8 request can hold.
    field = _unencodable_field(event)
    if field is None:
        raise exc
    return rejected(MalformedEventError("", field, "valid Unicode text"), request_id)


def rejected(exc: UnsupportedEventError, request_id: str | None) -> HttpResponse:
    """The 400 answering an event that cannot be decoded; the message is one faasport
    wrote (it names the field), never text from the event or from Python."""
    logs.logger().warning("rejected event: %s", exc)
    return error_response(400, str(exc), request_id)


def _unencodable_field(event: object) -> str | None:
    """The top-level field of a JSON event holding a string that is not valid Unicode."""
    if type(event) is not dict:
        return None
    for key, value in event.items():
        if _unencodable(value):
            return str(key)
    return None


def _unencodable(value: object) -> bool:
    if type(value) is str:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return True
        return False
    if type(value) is dict:
        return any(_unencodable(k) or _unencodable(v) for k, v in value.items())
    if type(value) is list:
        return any(_unencodable(v) for v in value)
    return False
