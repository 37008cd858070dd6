"""The canonical HTTP request and response every provider codec and app bridge speaks.

Headers are ordered lists of ``(name, value)`` byte pairs with lower-case names, as in ASGI,
so repeated headers (``Set-Cookie``, ``Cookie``) survive every conversion. A codec whose
event carries headers as text may hand them over as text (``text_headers``): the byte pairs
are then made only if something asks for them, and a WSGI app never does.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    import re
    from typing import Any

    Headers = list[tuple[bytes, bytes]]
    #: One ASCII value per name (an event's own header object), or pairs.
    TextHeaders = dict[str, str] | list[tuple[str, str]]


#: Header names as text (any case) -> lower-case bytes: the same few names recur, so they
#: are remembered (up to a bound, against clients that invent names). A plain dict:
#: subscripting a dict subclass is markedly slower.
_NAME_BYTES: dict[str, bytes] = {}


#: Statuses whose responses have no body (RFC 9110): whatever the app wrote is dropped,
#: as HTTP servers drop it (and as a HEAD response's).
BODILESS = (204, 304)


#: What a header's name and value may hold: a token (RFC 9110), and no line break or NUL
#: (compiled on first use).
_NAME: re.Pattern[bytes] | None = None
_VALUE: re.Pattern[bytes] | None = None


def unsendable(status: object, headers: Headers) -> str | None:
    """Why no HTTP server could send a response of ``status`` and ``headers`` as it is (a
    status outside 100-599, a header name that is not a token, a line break or NUL in a
    value), or None. Hosts that build their own response object (Google Cloud, Azure) fail
    on these with their own error page; faasport answers its 500 and names the cause."""
    global _NAME, _VALUE
    if type(status) is not int or not 100 <= status <= 599:
        return f"status {status!r} is not an HTTP status"
    if _NAME is None or _VALUE is None:
        import re

        _NAME = re.compile(rb"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
        _VALUE = re.compile(rb"[^\r\n\x00]*")
    for name, value in headers:
        if not _NAME.fullmatch(name):
            return f"header name {name!r} is not an HTTP token"
        if not _VALUE.fullmatch(value):
            return f"header {name.decode('latin-1')!r} holds a line break or NUL"
    return None


def status_line(status: int) -> str:
    """``"404 Not Found"``: the status with its reason phrase (``Unknown`` for a code HTTP
    does not name)."""
    from http import HTTPStatus

    try:
        return f"{status} {HTTPStatus(status).phrase}"
    except ValueError:
        return f"{status} Unknown"


def _name_bytes(name: str) -> bytes:
    key = name.lower().encode("latin-1")
    if len(_NAME_BYTES) < 2048:
        _NAME_BYTES[name] = key
    return key


def header_bytes(text: TextHeaders) -> Headers:
    """Text headers (see :class:`HttpRequest`) as byte pairs with lower-case names."""
    names = _NAME_BYTES
    pairs = text.items() if isinstance(text, dict) else text
    try:
        return [(names[name], value.encode()) for name, value in pairs]
    except KeyError:  # a name not seen before
        return [(names.get(name) or _name_bytes(name), value.encode()) for name, value in pairs]


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

    ``text_headers``, when a codec gives them instead of ``headers``, are text as the event
    spelled them: ASCII names in any case, values that encode as UTF-8 (the codec has
    checked both): a dict of one value per name when every value is ASCII (often the
    event's own object: read-only), else ``(name, value)`` pairs. ``headers`` is made from
    them on first use, with lower-case names; a WSGI environ is made from them directly.
    """

    __slots__ = (
        "_headers",
        "body",
        "client",
        "extras",
        "http_version",
        "method",
        "path",
        "query_string",
        "raw_path",
        "root_path",
        "scheme",
        "server",
        "text_headers",
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
        text_headers: TextHeaders | None = None,
    ) -> None:
        self.method = method
        self.path = path
        self.query_string = query_string
        self._headers: Headers | None = (
            headers if headers is not None else None if text_headers is not None else []
        )
        self.text_headers = text_headers
        self.body = body
        self.scheme = scheme
        self.server = server
        self.client = client
        self.root_path = root_path
        self.raw_path = raw_path
        self.http_version = http_version
        self.extras: dict[str, Any] = extras if extras is not None else {}

    @property
    def headers(self) -> Headers:
        headers = self._headers
        if headers is None:
            text = self.text_headers
            assert text is not None
            headers = self._headers = header_bytes(text)
        return headers

    @headers.setter
    def headers(self, headers: Headers) -> None:
        self._headers = headers
        self.text_headers = None

    def header(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (lower-case), or None."""
        return _first(self.headers, name)

    def __repr__(self) -> str:
        return f"<HttpRequest {self.method} {self.root_path}{self.path}>"


class HttpResponse:
    """One HTTP response. ``text_headers``, when a bridge gives them instead of
    ``headers``, are ``(name, value)`` text pairs with lower-case names and values in
    latin-1 (a WSGI app's, checked): ``headers`` is made from them on first use, and a
    codec that writes text reads them directly."""

    __slots__ = ("_headers", "body", "status", "text_headers")

    def __init__(
        self,
        status: int,
        headers: Headers | None = None,
        body: bytes = b"",
        text_headers: list[tuple[str, str]] | None = None,
    ) -> None:
        self.status = status
        self._headers: Headers | None = (
            headers if headers is not None else None if text_headers is not None else []
        )
        self.text_headers = text_headers
        self.body = body

    @property
    def headers(self) -> Headers:
        headers = self._headers
        if headers is None:
            text = self.text_headers
            assert text is not None
            headers = self._headers = [
                (name.encode("latin-1"), value.encode("latin-1")) for name, value in text
            ]
            self.text_headers = None  # changes go to the byte pairs from now on
        return headers

    @headers.setter
    def headers(self, headers: Headers) -> None:
        self._headers = headers
        self.text_headers = None

    def header(self, name: bytes) -> bytes | None:
        """The first value of header ``name`` (lower-case), or None."""
        return _first(self.headers, name)

    def __repr__(self) -> str:
        return f"<HttpResponse {self.status} {len(self.body)} bytes>"
