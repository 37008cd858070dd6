"""The shape every AWS HTTP event codec has, and the pieces they share.

A codec converts one provider event format to the canonical request and the canonical
response back (``decode``/``encode``, used inside the function), and the reverse pair
(``build_event``/``parse_result``, used by ``faasport.testing`` and the local gateway).
"""

from __future__ import annotations

from binascii import Error as Base64Error
from binascii import a2b_base64, b2a_base64
from itertools import chain

from faasport.core.errors import MalformedEventError
from faasport.core.forwarded import server_cached

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from typing import Any, Protocol

    from faasport.core import codec
    from faasport.core.http import Headers, HttpRequest, HttpResponse, TextHeaders
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


_LIST = {list}


def header_pairs(single: Any, multi: Any, source: str) -> TextHeaders:
    """Headers as text, named as the event spells them (the canonical request lower-cases
    them), from an event's ``multiValueHeaders`` and ``headers``.

    Both maps are read: ``multiValueHeaders`` wins for a name in both (it carries every
    value), and a name only in ``headers`` is kept (AWS's own example events have them).
    Names must be ASCII and values text that encodes as UTF-8: checked with C-level joins,
    without a Python loop, in the usual case. When every name has one value (the usual
    case) and every value is ASCII, the result is a dict of them, else a list of pairs.
    """
    try:
        if multi:
            if type(multi) is not dict:
                raise TypeError
            if single is not None and type(single) is not dict:
                raise TypeError
            if not single or single.keys() <= multi.keys():
                # The usual event: one value per name. A plain loop is the cheapest way
                # to both check the lists and collect their values.
                one: dict[str, str] = {}
                try:
                    for name, values in multi.items():
                        if type(values) is not list:
                            raise ValueError
                        [one[name]] = values  # ValueError unless exactly one value
                    single_valued = True
                except ValueError:
                    single_valued = False
                if single_valued:
                    # One join: TypeError unless every value is a string.
                    if "".join([*one, *one.values()]).isascii():
                        return one
                    if not "".join(one).isascii():
                        raise TypeError
                    _check_unicode(multi, source, "multiValueHeaders")
                    return list(one.items())
            given = multi.values()
            # Every value a list (and, below, every item a string).
            if set(map(type, given)) != _LIST:
                raise TypeError
            if not "".join(chain.from_iterable(given)).isascii():
                _check_unicode(multi, source, "multiValueHeaders")
            if not "".join(multi).isascii():
                raise TypeError
            pairs = [(name, value) for name, values in multi.items() for value in values]
            if single and not single.keys() <= multi.keys():
                extra = [name for name in single if name not in multi]
                seen = {name.lower() for name in multi}
                extra = [name for name in extra if name.lower() not in seen]
                if not "".join(extra).isascii():
                    raise TypeError
                pairs += [(name, single[name]) for name in extra]
                if not "".join([single[name] for name in extra]).isascii():
                    _check_unicode(single, source, "headers")
            return pairs
        if multi is not None and type(multi) is not dict:
            raise TypeError
        if single:
            if type(single) is not dict:
                raise TypeError
            if "".join([*single, *single.values()]).isascii():
                return single
            if not "".join(single).isascii():
                raise TypeError
            _check_unicode(single, source, "headers")
            return list(single.items())
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


def header_text(given: Any, source: str) -> TextHeaders:
    """Headers as text, named as the event spells them (the canonical request lower-cases
    them), from an event's ``headers`` object (HTTP API and Function URL events: one string
    per name): the object itself, once checked, when every value is ASCII. Names must be
    ASCII and values text that encodes as UTF-8: checked with C-level joins, without a
    Python loop, in the usual case."""
    if not given:
        if given is None or given == {}:
            return []
        raise malformed(source, "headers", "an object of strings or null")
    try:
        if type(given) is not dict:
            raise TypeError
        # One join: TypeError unless every value is a string, ASCII in the usual case.
        if "".join([*given, *given.values()]).isascii():
            return given
        if not "".join(given).isascii():
            raise TypeError
        "".join(given.values()).encode("utf-8")  # lone surrogates cannot reach UTF-8
        return list(given.items())
    except (TypeError, UnicodeEncodeError):
        if not is_text_map(given):
            raise malformed(source, "headers", "an object of strings or null") from None
        if not all(encodes(name, True) for name in given):
            raise malformed(source, "headers", "an object with header names in ASCII") from None
        if not all(encodes(value, False) for value in given.values()):
            raise malformed(source, "headers", "an object of valid Unicode text") from None
        raise


def find_header(headers: TextHeaders, name: str) -> str | None:
    """The last value of header ``name`` (lower case) in text headers of any case."""
    found = None
    for key, value in headers.items() if isinstance(headers, dict) else headers:
        if key == name or key.lower() == name:
            found = value
    return found


def _check_unicode(given: dict[str, Any], source: str, field: str) -> None:
    for values in given.values():
        for value in values if type(values) is list else (values,):
            if not encodes(value, False):
                raise malformed(source, field, "an object of valid Unicode text")


def server_and_scheme(
    headers: TextHeaders, multi: Any = None
) -> tuple[tuple[str, int | None], str]:
    """ASGI ``server`` and ``scheme`` from the Host and X-Forwarded-Port/-Proto headers
    (text headers from :func:`header_pairs`). Names spelt as AWS spells them (lower case,
    or as browsers send them) are looked up directly; else every header is searched."""
    if type(headers) is dict:
        get = headers.get
        host = get("host") or get("Host")
        port = get("x-forwarded-port") or get("X-Forwarded-Port")
        proto = get("x-forwarded-proto") or get("X-Forwarded-Proto")
        if host is not None and port is not None and proto is not None:
            return server_cached(host, port, proto)
    elif multi:
        found = [multi.get(lower) or multi.get(spelt) for lower, spelt in _FORWARDED]
        if all(found):  # each a non-empty list (header_pairs checked the types)
            return server_cached(found[0][-1], found[1][-1], found[2][-1])
    return server_cached(
        find_header(headers, "host"),
        find_header(headers, "x-forwarded-port"),
        find_header(headers, "x-forwarded-proto"),
    )


_FORWARDED = (
    ("host", "Host"),
    ("x-forwarded-port", "X-Forwarded-Port"),
    ("x-forwarded-proto", "X-Forwarded-Proto"),
)


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
_QUERY_JOIN_SAFE = _QUERY_SAFE | {"=", "&"}


def _quote_plus(text: str) -> str:
    if _QUERY_SAFE.issuperset(text):
        return text
    from urllib.parse import quote_plus

    return quote_plus(text)


def encode_query(params: Any, multi: bool, source: str, field: str) -> bytes:
    """``a=1&a=2`` from ``{"a": ["1", "2"]}`` (``multi``) or ``{"a": "1"}`` (decoded
    values, as API Gateway delivers them)."""
    expected = "an object of lists of strings or null" if multi else "an object of strings or null"
    if type(params) is not dict:
        raise malformed(source, field, expected)
    parts: list[str] = []
    try:
        # ``+`` raises TypeError unless key and value are strings.
        if multi:
            for key, values in params.items():
                if type(values) is not list:
                    raise TypeError
                for value in values:
                    parts.append(key + "=" + value)
        else:
            for key, value in params.items():
                parts.append(key + "=" + value)
        query = "&".join(parts)
        # Nothing to escape: only safe characters (letters and digits, checked in C first),
        # and ``=`` and ``&`` only where they were put.
        if query.count("=") == len(parts) and query.count("&") == len(parts) - 1:
            bare = query.replace("=", "").replace("&", "")
            if (bare.isascii() and bare.isalnum()) or _QUERY_JOIN_SAFE.issuperset(query):
                return query.encode("ascii")
        if multi:
            parts = [
                f"{_quote_plus(key)}={_quote_plus(value)}"
                for key, items in params.items()
                for value in items
            ]
        else:
            parts = [f"{_quote_plus(key)}={_quote_plus(value)}" for key, value in params.items()]
    except TypeError:
        raise malformed(source, field, expected) from None
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


#: Whether a decoded path needs no percent-encoding to be its own raw path.
path_safe = _PATH_SAFE_CHARS.issuperset


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
#: The same, for apps with no extra text types (the usual case): a key without a tuple to
#: make and hash.
_text_plain: dict[str, bool] = {}


def is_text_cached(content_type: str, extra: tuple[str, ...]) -> bool:
    if not extra:
        known = _text_plain.get(content_type)
        if known is None:
            if len(_text_plain) > 256:
                _text_plain.clear()
            known = _text_plain[content_type] = is_text(content_type)
        return known
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
    if content_type is not None and (encoding is None or encoding.strip().lower() == "identity"):
        extra = options.text_mime_types
        text = None if extra else _text_plain.get(content_type)
        if text is None:
            text = is_text_cached(content_type, extra)
    else:
        text = False
    if text:
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return b2a_base64(body, newline=False).decode("ascii"), True


def joined_headers(response: HttpResponse) -> tuple[dict[str, str], list[str]]:
    """Response headers as one comma-joined value per name, and the Set-Cookie values."""
    joined: dict[str, str] = {}
    cookies: list[str] = []
    text = response.text_headers
    if text is None:
        # An ASGI app's byte pairs, read as they are: no list of text pairs in between.
        names, values = _NAME_TEXT, _VALUE_TEXT
        pairs = response.headers
        try:
            # The usual response: names seen before, each once, no cookies.
            for name, data in pairs:
                try:
                    joined[names[name]] = values[data]
                except KeyError:
                    joined[names[name]] = _value_text(data)
            if len(joined) == len(pairs) and "set-cookie" not in joined:
                return joined, cookies
        except (KeyError, TypeError):  # a name not seen before; a bytearray
            pass
        text = [(names.get(n) or _name_text(n), v.decode("latin-1")) for n, v in pairs]
    joined = dict(text)
    if len(joined) == len(text) and "set-cookie" not in joined:
        return joined, cookies  # the usual response: each name once, no cookies
    joined = {}
    for key, value in text:
        if key == "set-cookie":
            cookies.append(value)
        elif key in joined:
            joined[key] += ", " + value
        else:
            joined[key] = value
    return joined, cookies


#: Response header names as bytes -> text: an app answers with the same few names, so they
#: are remembered (up to a bound).
_NAME_TEXT: dict[bytes, str] = {}


def _name_text(name: bytes) -> str:
    text = name.decode("latin-1")
    if len(_NAME_TEXT) < 512:
        _NAME_TEXT[bytes(name)] = text
    return text


#: Short response header values as bytes -> text: most (content types, lengths, cache
#: policies) recur from one response to the next, and a lookup costs less than a decode.
_VALUE_TEXT: dict[bytes, str] = {}


def _value_text(value: bytes) -> str:
    text = value.decode("latin-1")
    if len(value) <= 64 and len(_VALUE_TEXT) < 1024:
        _VALUE_TEXT[value] = text
    return text


def grouped_headers(response: HttpResponse) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    text = response.text_headers
    for key, value in text if text is not None else _text_pairs(response.headers):
        found = grouped.get(key)
        if found is None:
            grouped[key] = [value]
        else:
            found.append(value)
    return grouped


def split_headers(response: HttpResponse) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Response headers as REST API results carry them: names with one value in the
    first map, names with several (in order) in the second."""
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    text = response.text_headers
    for key, value in text if text is not None else _text_pairs(response.headers):
        if key in single:
            multi[key] = [single.pop(key), value]
        elif key in multi:
            multi[key].append(value)
        else:
            single[key] = value
    return single, multi


def first_value(single: dict[str, str], multi: dict[str, list[str]], name: str) -> str | None:
    """The first value of response header ``name`` in :func:`split_headers`' maps."""
    value = single.get(name)
    if value is None and name in multi:
        return multi[name][0]
    return value


def _text_pairs(headers: Headers) -> list[tuple[str, str]]:
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in headers]


def first_values(grouped: dict[str, list[str]]) -> tuple[str | None, str | None]:
    """Content-Type and Content-Encoding from grouped response headers."""
    content_type = grouped.get("content-type")
    encoding = grouped.get("content-encoding")
    return (
        content_type[0] if content_type else None,
        encoding[0] if encoding else None,
    )


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
