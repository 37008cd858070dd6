"""The shape every AWS HTTP event codec has, and the pieces they share.

A codec converts one provider event format to the canonical request and the canonical
response back (``decode``/``encode``, used inside the function), and the reverse pair
(``build_event``/``parse_result``, used by ``faasport.testing`` and the local gateway).
"""

from __future__ import annotations

from binascii import Error as Base64Error
from binascii import a2b_base64, b2a_base64

from faasport.core.errors import UnsupportedEventError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any, Protocol

    from faasport.core import codec
    from faasport.core.http import Headers, HttpRequest, HttpResponse
    from faasport.core.options import AppOptions

    Event = Mapping[str, Any]

    class Codec(codec.Codec[Event, dict[str, Any]], Protocol):
        """An AWS HTTP codec: it also builds the events it reads, for ``faasport.testing``
        and the local gateway."""

        def build_event(self, request: HttpRequest, stage: str = ...) -> dict[str, Any]:
            """The event this source would send for ``request`` (tests, local gateway)."""

        def parse_result(self, result: Any) -> HttpResponse:
            """The HTTP response this source makes of a Lambda result (local gateway)."""


# -- request side --------------------------------------------------------------------------


def decode_body(event: Event) -> bytes:
    body = event.get("body")
    if not body:
        return b""
    if event.get("isBase64Encoded"):
        try:
            return a2b_base64(body, strict_mode=True)
        except (Base64Error, ValueError):
            raise UnsupportedEventError(
                "event says isBase64Encoded but its body is not valid base64"
            ) from None
    if isinstance(body, str):
        return body.encode("utf-8")
    raise UnsupportedEventError(f"event body must be a string, not {type(body).__name__}")


_NAMES: dict[str, bytes] = {}


def _name(name: str) -> bytes:
    """A header name as a lower-case byte string (cached: the same few names recur)."""
    key = _NAMES.get(name)
    if key is None:
        key = name.lower().encode("latin-1")
        if len(_NAMES) < 2048:
            _NAMES[name] = key
    return key


def header_pairs(single: Any, multi: Any) -> Headers:
    """Lower-cased header pairs from an event's ``multiValueHeaders`` or ``headers``."""
    names = _NAMES
    if isinstance(multi, dict) and multi:
        return [
            (names.get(name) or _name(name), value.encode("utf-8"))
            for name, values in multi.items()
            for value in values or ()
        ]
    if isinstance(single, dict):
        return [
            (names.get(name) or _name(name), value.encode("utf-8"))
            for name, value in single.items()
            if value is not None
        ]
    return []


_QUERY_SAFE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")


def _quote_plus(text: str) -> str:
    if _QUERY_SAFE.issuperset(text):
        return text
    from urllib.parse import quote_plus

    return quote_plus(text)


def encode_query(params: Mapping[str, Any]) -> bytes:
    """``a=1&a=2`` from ``{"a": ["1", "2"]}`` or ``{"a": "1"}`` (decoded values)."""
    parts: list[str] = []
    for key, values in params.items():
        name = _quote_plus(str(key))
        if isinstance(values, list):
            parts.extend(f"{name}={_quote_plus(str(v))}" for v in values)
        else:
            parts.append(f"{name}={_quote_plus(str(values))}")
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
