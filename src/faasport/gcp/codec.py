"""functions-framework's ``flask.Request`` to the canonical request, and the canonical
response to a ``flask.Response``.

The request is read from its WSGI environ: the path as the client sent it (``RAW_URI``),
the query string untouched, every header; the scheme, host and client address come from
the X-Forwarded-* headers Google's front end sets. The response keeps every header,
repeated ones included (each Set-Cookie), and its body bytes as they are.
"""

from __future__ import annotations

from faasport.core.forwarded import client_from, server_cached
from faasport.core.http import HttpRequest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from faasport.core.http import Headers, HttpResponse
    from faasport.core.options import AppOptions

_NAMES: dict[str, bytes | None] = {
    "CONTENT_TYPE": b"content-type",
    "CONTENT_LENGTH": b"content-length",
}


def _name(key: str) -> bytes | None:
    """``HTTP_X_REQUEST_ID`` -> ``b"x-request-id"``; None for environ keys that are not
    headers. Remembered: the same few keys recur."""
    name = key[5:].replace("_", "-").lower().encode("latin-1") if key[:5] == "HTTP_" else None
    if len(_NAMES) < 2048:
        _NAMES[key] = name
    return name


def _wsgi_text(value: str) -> str:
    """A PEP 3333 "bytes as latin-1" string, decoded as the UTF-8 the client sent."""
    if value.isascii():
        return value
    return value.encode("latin-1").decode("utf-8", "surrogateescape")


def decode(request: Any, options: AppOptions) -> HttpRequest:
    environ: dict[str, Any] = request.environ
    names = _NAMES
    headers: Headers = []
    for key, value in environ.items():
        name = names[key] if key in names else _name(key)
        if name is not None:
            headers.append((name, value.encode("latin-1")))
    get = environ.get
    server, scheme = server_cached(
        get("HTTP_HOST"),
        get("HTTP_X_FORWARDED_PORT"),
        get("HTTP_X_FORWARDED_PROTO") or get("wsgi.url_scheme"),
    )
    root = _wsgi_text(environ.get("SCRIPT_NAME", ""))
    path = _wsgi_text(environ.get("PATH_INFO", "")) or "/"
    raw_uri = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    raw_path = raw_uri.partition("?")[0].encode("latin-1") if raw_uri else None
    base = options.base_path
    if base and not root and (path == base or path.startswith(base + "/")):
        root, path = base, path[len(base) :] or "/"
    return HttpRequest(
        environ["REQUEST_METHOD"],
        path,
        environ.get("QUERY_STRING", "").encode("latin-1"),
        headers,
        _body(request, environ),
        scheme,
        server,
        client_from(get("HTTP_X_FORWARDED_FOR"), get("REMOTE_ADDR")),
        root,
        raw_path,
        environ.get("SERVER_PROTOCOL", "HTTP/1.1").partition("/")[2] or "1.1",
        {"gcp.request": request},
    )


def _body(request: Any, environ: dict[str, Any]) -> bytes:
    """The request body; no stream is set up for the many requests that have none."""
    if environ.get("CONTENT_LENGTH", "0") in ("0", "") and "HTTP_TRANSFER_ENCODING" not in environ:
        return b""
    data: bytes = request.get_data(cache=False)
    return data


_response_class: Any = None


def encode(response: HttpResponse) -> Any:
    """A ``flask.Response`` with every header of ``response`` in order."""
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in response.headers]
    return _passthrough()(response.body, response.status, headers)


def encode_streamed(status: int, headers: list[tuple[bytes, bytes]], body: Iterator[bytes]) -> Any:
    """A ``flask.Response`` whose body goes out chunk by chunk as ``body`` yields it."""
    pairs = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
    return _passthrough()(body, status, pairs, direct_passthrough=True)


def _passthrough() -> Any:
    global _response_class
    cls = _response_class
    if cls is None:
        from flask import Response

        class Passthrough(Response):
            # Headers and body go out exactly as the app set them.
            automatically_set_content_length = False
            default_mimetype = None

        cls = _response_class = Passthrough
    return cls


class GcpHttp:
    """:func:`decode` and :func:`encode` as a :class:`~faasport.core.codec.Codec`: the
    ``flask.Request`` functions-framework passes an HTTP function, and its response."""

    name = "gcp"

    def infer(self, event: Any) -> bool:
        return hasattr(event, "environ")

    def decode(self, event: Any, context: Any, options: AppOptions) -> HttpRequest:
        return decode(event, options)

    def encode(self, response: HttpResponse, event: Any, options: AppOptions) -> Any:
        return encode(response)


CODEC = GcpHttp()

if TYPE_CHECKING:
    from faasport.core.codec import Codec

    _conforms: Codec[Any, Any] = CODEC
