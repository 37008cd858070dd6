"""The canonical HTTP request and response every provider codec and app bridge speaks.

Headers are ordered lists of ``(name, value)`` byte pairs with lower-case names, as in ASGI,
so repeated headers (``Set-Cookie``, ``Cookie``) survive every conversion.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    Headers = list[tuple[bytes, bytes]]


def _first(headers: Headers, name: bytes) -> bytes | None:
    for key, value in headers:
        if key == name:
            return value
    return None


class HttpRequest:
    """One HTTP request, independent of the provider that delivered it.

    ``path`` is percent-decoded and relative to ``root_path`` (the stage or custom-domain
    prefix the app is mounted below); ``raw_path`` is ``root_path + path`` as the client
    sent it, when known; ``query_string`` is exactly what the client sent. ``extras`` are the
    provider's own objects handed to the app (``aws.event``, ``aws.context``...).
    """

    __slots__ = (
        "body",
        "client",
        "extras",
        "headers",
        "http_version",
        "method",
        "path",
        "query_string",
        "raw_path",
        "root_path",
        "scheme",
        "server",
    )

    def __init__(
        self,
        method: str,
        path: str,
        query_string: bytes = b"",
        headers: Headers | None = None,
        body: bytes = b"",
        scheme: str = "https",
        server: tuple[str, int | None] | None = None,
        client: tuple[str, int] | None = None,
        root_path: str = "",
        raw_path: bytes | None = None,
        http_version: str = "1.1",
        extras: dict[str, Any] | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        self.headers: Headers = headers if headers is not None else []
        self.body = body
        self.scheme = scheme
        self.server = server
        self.client = client
        self.root_path = root_path
        self.raw_path = raw_path
        self.http_version = http_version
        self.extras: dict[str, Any] = extras if extras is not None else {}

    def header(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (lower-case), or None."""
        return _first(self.headers, name)

    def __repr__(self) -> str:
        return f"<HttpRequest {self.method} {self.root_path}{self.path}>"


class HttpResponse:
    __slots__ = ("body", "headers", "status")

    def __init__(self, status: int, headers: Headers | None = None, body: bytes = b"") -> None:
        self.status = status
        self.headers: Headers = headers if headers is not None else []
        self.body = body

    def header(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (lower-case), or None."""
        return _first(self.headers, name)

    def __repr__(self) -> str:
        return f"<HttpResponse {self.status} {len(self.body)} bytes>"
