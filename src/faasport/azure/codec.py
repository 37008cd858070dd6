"""``azure.functions.HttpRequest`` to the canonical request, and the canonical response to
an ``azure.functions.HttpResponse``.

The request's URL gives the path as the client sent it and the query string untouched
(``params`` would lose repeated keys); the route prefix (``/api`` unless host.json says
otherwise) becomes ``root_path``. The response keeps every Set-Cookie (the Functions host
sends each as its own header) and joins other repeated headers with commas, since the host
carries one value per header name. The Python worker re-reads each Set-Cookie with
``http.cookies``, which cannot carry every cookie browsers take (a JSON value, a space, an
attribute it does not know such as ``Partitioned``): such a cookie is logged as a warning
naming it, and one that would fail the whole invocation (a name it refuses) is left out.
"""

from __future__ import annotations

from faasport.core.errors import MalformedEventError
from faasport.core.forwarded import client_from, server_cached
from faasport.core.http import HttpRequest

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from faasport.core.http import Headers, HttpResponse
    from faasport.core.options import AppOptions


def _decoded(path: str) -> str:
    if "%" not in path:
        return path
    from urllib.parse import unquote

    return unquote(path, errors="surrogateescape")


def decode(request: Any, context: Any, route_prefix: str) -> HttpRequest:
    from urllib.parse import urlsplit

    try:
        url = urlsplit(request.url)
    except ValueError:
        raise MalformedEventError("azure", "url", "a valid URL") from None
    given = request.headers
    # The library keeps the headers in a plain dict with lower-case names; read it directly
    # when it is there (Mapping.items() would look every name up again).
    plain: dict[str, str] = getattr(given, "__http_headers__", None) or {
        name.lower(): value for name, value in given.items()
    }
    headers: Headers = [
        (name.encode("latin-1"), str(value).encode("utf-8")) for name, value in plain.items()
    ]
    get = plain.get
    server, scheme = server_cached(
        get("host") or url.netloc or None,
        get("x-forwarded-port"),
        get("x-forwarded-proto") or url.scheme or None,
    )
    raw = url.path or "/"
    full = _decoded(raw)
    root, path = "", full
    if route_prefix and (full == route_prefix or full.startswith(route_prefix + "/")):
        root, path = route_prefix, full[len(route_prefix) :] or "/"
    body = request.get_body()
    return HttpRequest(
        request.method.upper(),
        path,
        url.query.encode("utf-8"),
        headers,
        body if type(body) is bytes else bytes(body or b""),
        scheme,
        server,
        client_from(get("x-forwarded-for"), None),
        root,
        raw.encode("utf-8"),
        extras={"azure.request": request, "azure.context": context},
    )


def encode(response: HttpResponse) -> Any:
    from azure.functions import HttpResponse as AzureResponse

    out = AzureResponse(response.body, status_code=response.status)
    add = out.headers.add
    joined: dict[str, str] = {}
    for name_bytes, value_bytes in response.headers:
        name = name_bytes.decode("latin-1")
        value = value_bytes.decode("latin-1")
        if name == "set-cookie":
            if _carried(value):
                add("Set-Cookie", value)
        elif name in joined:
            joined[name] += ", " + value
        else:
            joined[name] = value
    for name, value in joined.items():
        add(name, value)
    return out


class AzureHttp:
    """:func:`decode` and :func:`encode` as a :class:`~faasport.core.codec.Codec`: the
    ``azure.functions.HttpRequest`` of a function under ``route_prefix``, and its response."""

    name = "azure"

    def __init__(self, route_prefix: str) -> None:
        self.route_prefix = route_prefix

    def infer(self, event: Any) -> bool:
        return hasattr(event, "get_body")

    def decode(self, event: Any, context: Any, options: AppOptions) -> HttpRequest:
        return decode(event, context, self.route_prefix)

    def encode(self, response: HttpResponse, event: Any, options: AppOptions) -> Any:
        return encode(response)


if TYPE_CHECKING:
    from faasport.core.codec import Codec

    _conforms: Codec[Any, Any] = AzureHttp("/api")


def _carried(cookie: str) -> bool:
    """Whether the worker's ``http.cookies`` reading of ``cookie`` leaves it whole (else a
    warning names it); False when that reading would fail the invocation."""
    from http.cookies import CookieError, SimpleCookie

    from faasport.core.logs import logger

    name = cookie.partition("=")[0].strip()
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(cookie)
    except CookieError:
        logger().error(
            "Set-Cookie %r left out: the Azure Functions worker cannot read it and would "
            "fail the invocation",
            name,
        )
        return False
    if list(jar) != [name]:
        logger().warning(
            "Set-Cookie %r may not reach the client as sent: the Azure Functions worker "
            "re-reads it with http.cookies (which drops or splits JSON values, spaces and "
            "attributes it does not know)",
            name,
        )
    return True
