"""The shape every AWS HTTP event codec has, and the pieces they share.

A codec converts one provider event format to the canonical request and the canonical
response back (``decode``/``encode``, used inside the function), and the reverse pair
(``build_event``/``parse_result``, used by ``faasport.testing`` and the local gateway).
"""

from __future__ import annotations

import sys
from binascii import Error as Base64Error
from binascii import a2b_base64, b2a_base64
from itertools import chain

from faasport.core.errors import MalformedEventError
from faasport.core.forwarded import server_cached

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any, Protocol

    from faasport.core.http import Headers, HttpRequest, HttpResponse, TextHeaders
    from faasport.core.options import AppOptions

    Event = Mapping[str, Any]

    class Codec(Protocol):
        name: str

        def infer(self, event: Event) -> bool:
            """True when ``event`` is in this codec's format."""

        def decode(self, event: Event, context: Any, options: AppOptions) -> HttpRequest:
            """The canonical request carried by ``event``."""

        def encode(
            self, response: HttpResponse, event: Event, options: AppOptions
        ) -> dict[str, Any]:
            """The Lambda result that answers ``event`` with ``response``."""

        def build_event(self, request: HttpRequest, stage: str = ...) -> dict[str, Any]:
            """The event this source would send for ``request`` (tests, local gateway)."""

        def parse_result(self, result: Any) -> HttpResponse:
            """The HTTP response this source makes of a Lambda result (local gateway)."""


# -- request side --------------------------------------------------------------------------


def malformed(source: str, field: str, expected: str) -> MalformedEventError:
    return MalformedEventError(source, field, expected)


def string(value: Any, source: str, field: str) -> str:
    """``value`` when it is a string; else the event is malformed."""
    if type(value) is str:
        return value
    raise malformed(source, field, "a string")


def optional_string(value: Any, source: str, field: str) -> str | None:
    if value is None or type(value) is str:
        return value
    raise malformed(source, field, "a string or null")


def optional_object(value: Any, source: str, field: str) -> dict[str, Any] | None:
    if value is None or type(value) is dict:
        return value
    raise malformed(source, field, "an object or null")


def decode_body(event: Event, source: str) -> bytes:
    body = event.get("body")
    flag = event.get("isBase64Encoded")
    if flag is not None and type(flag) is not bool:
        raise malformed(source, "isBase64Encoded", "true, false or null")
    if not body:
        if body is None or body == "":
            return b""
        raise malformed(source, "body", "a string or null")
    if type(body) is not str:
        raise malformed(source, "body", "a string or null")
    if flag:
        try:
            return a2b_base64(body, strict_mode=True)
        except (Base64Error, ValueError):
            raise malformed(source, "body", "valid base64, as isBase64Encoded says") from None
    return body.encode("utf-8")


#: Header names as the event spells them -> lower-case (interned: compared often).
HEADER_NAMES: dict[str, str] = {}


def header_name(name: str) -> str:
    """A header name in lower case (cached: the same few names recur). A name that is not
    ASCII is a TypeError here, so that the caller reports the field."""
    if not name.isascii():
        raise TypeError("header name is not ASCII")
    key = HEADER_NAMES.get(name)
    if key is None:
        key = sys.intern(name.lower())
        if len(HEADER_NAMES) < 2048:
            HEADER_NAMES[name] = key
    return key


def header_pairs(single: Any, multi: Any, source: str) -> TextHeaders:
    """Lower-cased header pairs, as text, from an event's ``multiValueHeaders`` and
    ``headers``.

    Both maps are read: ``multiValueHeaders`` wins for a name in both (it carries every
    value), and a name only in ``headers`` is kept (AWS's own example events have them).
    Every value is checked to be text that encodes as UTF-8, without a Python loop for the
    usual all-ASCII case.
    """
    names = HEADER_NAMES
    try:
        if multi:
            if type(multi) is not dict:
                raise TypeError
            pairs: TextHeaders = []
            append = pairs.append
            for name, values in multi.items():
                if type(values) is not list:
                    raise TypeError
                key = names.get(name) or header_name(name)
                for value in values:
                    append((key, value))
            # join raises TypeError for a value that is not a string.
            if not "".join(chain.from_iterable(multi.values())).isascii():
                _check_unicode(multi, source, "multiValueHeaders")
            if single is not None and type(single) is not dict:
                raise TypeError
            if single:
                extra = [name for name in single if name not in multi]
                if extra:
                    seen = {key for key, _ in pairs}
                    for name in extra:
                        key = names.get(name) or header_name(name)
                        if key not in seen:
                            append((key, single[name]))
                    if not "".join(single.values()).isascii():
                        _check_unicode(single, source, "headers")
            return pairs
        if multi is not None and type(multi) is not dict:
            raise TypeError
        if single:
            pairs = [
                (names.get(name) or header_name(name), value) for name, value in single.items()
            ]
            if not "".join(single.values()).isascii():
                _check_unicode(single, source, "headers")
            return pairs
        if single is not None and type(single) is not dict:
            raise TypeError
        return []
    except (AttributeError, TypeError):
        if not is_text_map(single):
            raise malformed(source, "headers", "an object of strings or null") from None
        if not is_list_map(multi):
            raise malformed(
                source, "multiValueHeaders", "an object of lists of strings or null"
            ) from None
        for field, given in (("headers", single), ("multiValueHeaders", multi)):
            if given and not all(encodes(name, True) for name in given):
                raise malformed(source, field, "an object with header names in ASCII") from None
        raise


def _check_unicode(given: dict[str, Any], source: str, field: str) -> None:
    for values in given.values():
        for value in values if type(values) is list else (values,):
            if not encodes(value, False):
                raise malformed(source, field, "an object of valid Unicode text")


def server_and_scheme(headers: TextHeaders) -> tuple[tuple[str, int | None], str]:
    """ASGI ``server`` and ``scheme`` from the Host and X-Forwarded-Port/-Proto headers."""
    host = port = proto = None
    for name, value in headers:
        if name == "host":
            host = value
        elif name == "x-forwarded-port":
            port = value
        elif name == "x-forwarded-proto":
            proto = value
    return server_cached(host, port, proto)


def encodes(text: str, ascii_only: bool) -> bool:
    """Whether ``text`` encodes as ASCII (or as UTF-8: no lone surrogates)."""
    try:
        text.encode("ascii" if ascii_only else "utf-8")
    except UnicodeEncodeError:
        return False
    return True


def is_text_map(value: Any) -> bool:
    """None, or an object of strings."""
    return value is None or (
        type(value) is dict and all(type(k) is str and type(v) is str for k, v in value.items())
    )


def is_list_map(value: Any) -> bool:
    """None, or an object of lists of strings."""
    return value is None or (
        type(value) is dict
        and all(
            type(k) is str and type(v) is list and all(type(x) is str for x in v)
            for k, v in value.items()
        )
    )


_QUERY_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def _quote_plus(text: str) -> str:
    if _QUERY_SAFE.issuperset(text):
        return text
    from urllib.parse import quote_plus

    return quote_plus(text)


def encode_query(params: Any, multi: bool, source: str, field: str) -> bytes:
    """``a=1&a=2`` from ``{"a": ["1", "2"]}`` (``multi``) or ``{"a": "1"}`` (decoded
    values, as API Gateway delivers them)."""
    expected = "an object of lists of strings or null" if multi else "an object of strings or null"
    if not (is_list_map(params) if multi else is_text_map(params)):
        raise malformed(source, field, expected)
    parts: list[str] = []
    try:
        for key, values in params.items():
            name = _quote_plus(key)
            if multi:
                parts.extend(f"{name}={_quote_plus(value)}" for value in values)
            else:
                parts.append(f"{name}={_quote_plus(values)}")
    except UnicodeEncodeError:
        raise malformed(source, field, "an object of valid Unicode text") from None
    return "&".join(parts).encode("ascii")


def route_path(template: str, params: Mapping[str, Any] | None) -> str | None:
    """``/items/{id}`` with ``{"id": "7"}`` -> ``/items/7``; None when it cannot be filled."""
    if template == "/{proxy+}" and params:  # the usual catch-all route
        proxy = params.get("proxy")
        return "/" + proxy if isinstance(proxy, str) else None
    if not template.startswith("/"):
        return None
    out = template
    for name, value in (params or {}).items():
        out = out.replace("{" + name + "+}", str(value)).replace("{" + name + "}", str(value))
    return None if "{" in out else out


def split_root(path: str, route: str | None, options: AppOptions) -> tuple[str, str]:
    """Split a decoded request path into ``(root_path, path)``.

    The configured ``base_path`` wins. Otherwise, when the event names the matched route
    (``resource`` / ``routeKey`` plus path parameters), whatever stands before it in the
    path is a stage or custom-domain prefix the app is mounted below.
    """
    base = options.base_path
    if base:
        if path == base or path.startswith(base + "/"):
            return base, path[len(base) :] or "/"
        return "", path
    if route and route != "/" and path != route and path.endswith(route):
        prefix = path[: -len(route)]
        if prefix.startswith("/") and not prefix.endswith("/"):
            return prefix, route
    return "", path


_PATH_SAFE = "/:@!$&'()*+,;=~-._"
_PATH_SAFE_CHARS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789" + _PATH_SAFE
)


def request_raw_path(root: str, path: str, encoded: str | None) -> bytes:
    """``raw_path`` for ASGI: the client's encoded path when the event carries it."""
    if encoded is not None:
        return encoded.encode("utf-8")
    full = root + path
    if _PATH_SAFE_CHARS.issuperset(full):
        return full.encode("ascii")
    from urllib.parse import quote

    return quote(full, safe=_PATH_SAFE).encode("ascii")


def decoded(path: str) -> str:
    if "%" not in path:
        return path
    from urllib.parse import unquote

    return unquote(path)


# -- response side -------------------------------------------------------------------------

_TEXT_TYPES = (
    "text/",
    "application/json",
    "application/javascript",
    "application/xml",
    "application/x-www-form-urlencoded",
    "application/graphql",
    "image/svg+xml",
)
_TEXT_SUFFIXES = ("+json", "+xml")


_text_cache: dict[tuple[str, tuple[str, ...]], bool] = {}


def is_text_cached(content_type: str, extra: tuple[str, ...]) -> bool:
    key = (content_type, extra)
    known = _text_cache.get(key)
    if known is None:
        if len(_text_cache) > 256:
            _text_cache.clear()
        known = _text_cache[key] = is_text(content_type, extra)
    return known


def is_text(content_type: str, extra: Iterable[str] = ()) -> bool:
    mime, _, params = content_type.partition(";")
    mime = mime.strip().lower()
    charset = ""
    for param in params.split(";"):
        key, _, value = param.partition("=")
        if key.strip().lower() == "charset":
            charset = value.strip().strip('"').lower()
    if charset and charset not in ("utf-8", "utf8", "us-ascii", "ascii"):
        return False  # the gateway would re-encode it as UTF-8 and change its bytes
    return (
        mime.startswith(_TEXT_TYPES)
        or mime.endswith(_TEXT_SUFFIXES)
        or any(mime.startswith(t) for t in extra)
    )


def encode_body(
    body: bytes, content_type: str | None, encoding: str | None, options: AppOptions
) -> tuple[str, bool]:
    """The response body as a JSON string, and whether that string is base64 (binary):
    text only when the content type is textual, the charset UTF-8, and nothing encodes it."""
    if not body:
        return "", False
    if (
        content_type is not None
        and (encoding is None or encoding.strip().lower() == "identity")
        and is_text_cached(content_type, options.text_mime_types)
    ):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return b2a_base64(body, newline=False).decode("ascii"), True


def joined_headers(headers: Headers) -> tuple[dict[str, str], list[str]]:
    """Response headers as one comma-joined value per name, and the Set-Cookie values."""
    joined: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        if name == b"set-cookie":
            cookies.append(value.decode("latin-1"))
            continue
        key = name.decode("latin-1")
        text = value.decode("latin-1")
        if key in joined:
            joined[key] += ", " + text
        else:
            joined[key] = text
    return joined, cookies


def grouped_headers(headers: Headers) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for name, value in headers:
        grouped.setdefault(name.decode("latin-1"), []).append(value.decode("latin-1"))
    return grouped


def first_values(grouped: dict[str, list[str]]) -> tuple[str | None, str | None]:
    """Content-Type and Content-Encoding from grouped response headers."""
    content_type = grouped.get("content-type")
    encoding = grouped.get("content-encoding")
    return (
        content_type[0] if content_type else None,
        encoding[0] if encoding else None,
    )


def status_line(status: int) -> str:
    from http import HTTPStatus

    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def body_from_result(result: Mapping[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise ValueError("body must be a string")
    if result.get("isBase64Encoded"):
        return a2b_base64(body)
    return body.encode("utf-8")


def event_body(body: bytes, base64_always: bool) -> tuple[str | None, bool]:
    """A request body as an event carries it: text when it can be, else base64."""
    if not body:
        return None, False
    if not base64_always:
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return b2a_base64(body, newline=False).decode("ascii"), True
