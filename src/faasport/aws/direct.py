"""The WSGI environ and the ASGI scope straight from an HTTP event, for the REST API, HTTP
API and Function URL codecs: once the app is loaded, ``aws.handler`` skips the canonical
request (every field of it would be set and read once more per invocation).

A codec that has them reads its event through one ``_parts`` method, which ``decode`` uses
too, so the checks (a malformed event is a 400 naming the field) and the request the app
sees are the same on every path; ``tests/aws/test_handler.py`` holds them equal.
"""

from __future__ import annotations

from faasport.aws.codec import request_raw_path
from faasport.core.scope import make_scope
from faasport.core.wsgi import make_environ, text_key

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from faasport.aws.codec import Event
    from faasport.core.http import TextHeaders
    from faasport.core.options import AppOptions
    from faasport.core.types import Scope

    #: method, path and root path (decoded), the raw path when the event keeps it encoded,
    #: the query string as sent, body, scheme, server, source IP, text headers, and a
    #: Cookie header to add after them (HTTP API events carry cookies apart) or None.
    Parts = tuple[
        str,
        str,
        str,
        str | None,
        str,
        bytes,
        str,
        tuple[str, int | None],
        str | None,
        TextHeaders,
        str | None,
    ]


def ascii_names(headers: Any, known: dict[str, bytes]) -> None:
    """Remember the ASCII names of ``headers`` (an event's header object, maybe malformed)
    as lower-case bytes in ``known`` (up to a bound, against clients that invent names),
    so that a fast path can take them from there without checking them again."""
    if type(headers) is dict and len(known) < 2048:
        for name in headers:
            if type(name) is str and name.isascii():
                known[name] = name.lower().encode("ascii")


#: Header names as text (any case, ASCII, checked) -> WSGI environ keys.
ENVIRON_KEYS: dict[str, str] = {}


def environ_keys(headers: Any) -> None:
    """Remember the environ keys of the ASCII names of ``headers`` (see
    :func:`ascii_names`)."""
    if type(headers) is dict and len(ENVIRON_KEYS) < 2048:
        for name in headers:
            if type(name) is str and name.isascii():
                ENVIRON_KEYS[name] = text_key(name)


class DirectApp:
    """``wsgi_environ`` and ``asgi_scope`` for a codec with a ``_parts`` method."""

    def _parts(self, event: Event, options: AppOptions) -> Parts:
        raise NotImplementedError

    def wsgi_environ(self, event: Event, context: Any, options: AppOptions) -> dict[str, Any]:
        """The WSGI environ of the request ``decode`` reads (see
        :func:`faasport.core.wsgi.make_environ`)."""
        method, path, root, _, query, body, scheme, server, source_ip, headers, cookie = (
            self._parts(event, options)
        )
        environ = make_environ(
            method, root, path, query, body, scheme, server, source_ip, headers, cookie=cookie
        )
        environ["faasport.event"] = event
        environ["faasport.context"] = context
        return environ

    def asgi_scope(self, event: Event, context: Any, options: AppOptions) -> tuple[Scope, bytes]:
        """The ASGI scope and body of the request ``decode`` reads (see
        :func:`faasport.core.scope.make_scope`)."""
        method, path, root, raw, query, body, scheme, server, source_ip, headers, cookie = (
            self._parts(event, options)
        )
        scope = make_scope(
            method,
            root,
            path,
            request_raw_path(root, path, raw),
            query.encode("utf-8") if query else b"",
            scheme,
            server,
            source_ip,
            headers,
            cookie,
        )
        scope["aws.event"] = event
        scope["aws.context"] = context
        return scope, body
