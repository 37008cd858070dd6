"""Run one canonical request through a WSGI (PEP 3333) application."""

from __future__ import annotations

import sys
from io import BytesIO

from faasport.core.http import HttpResponse

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from types import TracebackType
    from typing import Any

    from faasport.core.http import HttpRequest, TextHeaders

    ExcInfo = tuple[type[BaseException], BaseException, TracebackType]
    StartResponse = Callable[..., Callable[[bytes], object]]
    WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_SPECIAL = {b"content-type": "CONTENT_TYPE", b"content-length": "CONTENT_LENGTH"}
#: header name -> environ key, filled as names are seen.
_KEYS: dict[bytes, str] = {}


def _environ_key(name: bytes) -> str:
    key = _KEYS.get(name)
    if key is None:
        key = _SPECIAL.get(name) or "HTTP_" + name.decode("latin-1").upper().replace("-", "_")
        if len(_KEYS) < 1024:
            _KEYS[name] = key
    return key


class _ExtraKeys(dict[str, str]):
    """extras key -> environ key: ``aws.event`` -> ``faasport.event``; a provider's
    ``request`` object is its event."""

    def __missing__(self, key: str) -> str:
        suffix = key.partition(".")[2]
        name = self[key] = "faasport." + ("event" if suffix == "request" else suffix)
        return name


_EXTRA_KEYS = _ExtraKeys()


class _ServerVars(dict[tuple[tuple[str, int | None] | None, str], tuple[str, str]]):
    """(ASGI server, scheme) -> SERVER_NAME and SERVER_PORT: a function sees the same few."""

    def __missing__(self, key: tuple[tuple[str, int | None] | None, str]) -> tuple[str, str]:
        server, scheme = key
        name, port = server if server is not None else ("localhost", None)
        found = (name, str(port if port is not None else (443 if scheme == "https" else 80)))
        if len(self) < 256:
            self[key] = found
        return found


_SERVER_VARS = _ServerVars()


def server_vars(server: tuple[str, int | None] | None, scheme: str) -> tuple[str, str]:
    """``SERVER_NAME`` and ``SERVER_PORT`` of the ASGI ``server`` and ``scheme``."""
    return _SERVER_VARS[server, scheme]


#: Header name as text (any case) -> environ key, remembered up to a bound (against clients
#: that invent names). A plain dict: subscripting a dict subclass is markedly slower.
_TEXT_KEYS: dict[str, str] = {}


def text_key(name: str) -> str:
    """The environ key of header ``name`` (text, any case)."""
    key = _TEXT_KEYS.get(name)
    if key is None:
        key = _environ_key(name.lower().encode("latin-1"))
        if len(_TEXT_KEYS) < 1024:
            _TEXT_KEYS[name] = key
    return key


class WsgiBridge:
    """Serves canonical requests with one WSGI app."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app

    def serve(self, request: HttpRequest) -> HttpResponse:
        return call_wsgi(self.app, self.environ(request))

    def environ(self, request: HttpRequest) -> dict[str, Any]:
        client = request.client
        text = request.text_headers
        query = request.query_string
        environ = make_environ(
            request.method,
            request.root_path,
            request.path,
            # make_environ takes the query as text; these are its bytes as sent.
            query.decode("ascii") if query.isascii() else "",
            request.body,
            request.scheme,
            request.server,
            client[0] if client is not None else None,
            text,
            request.http_version,
        )
        if not query.isascii():
            environ["QUERY_STRING"] = query.decode("latin-1")
        if client is not None and client[1]:
            environ["REMOTE_PORT"] = str(client[1])
        if text is None:
            for raw_name, raw_value in request.headers:
                key = _KEYS.get(raw_name) or _environ_key(raw_name)
                value = raw_value.decode("latin-1")
                if key in environ:
                    environ[key] += ("; " if raw_name == b"cookie" else ",") + value
                else:
                    environ[key] = value
            _body_length(environ, request.body)
        extras = _EXTRA_KEYS
        for key, value in request.extras.items():
            environ[extras[key]] = value
        return environ


def make_environ(
    method: str,
    root: str,
    path: str,
    query: str,
    body: bytes,
    scheme: str,
    server: tuple[str, int | None] | None,
    client: str | None,
    text: TextHeaders | None,
    http_version: str = "1.1",
    cookie: str | None = None,
) -> dict[str, Any]:
    """The environ of a request, from its parts: what :meth:`WsgiBridge.environ` makes of a
    canonical request, and what a provider codec makes of its event directly when the app
    is a WSGI app (no canonical request in between: its every field would be set and read
    once more per invocation). ``path`` and ``root`` are decoded text, ``query`` the query
    string as sent, ``text`` the request's text headers (None: the caller adds headers and
    ``CONTENT_LENGTH`` itself), ``cookie`` a Cookie header to add after them (HTTP API
    events carry cookies apart from the headers)."""
    server_name, server_port = _SERVER_VARS[server, scheme]
    environ: dict[str, Any] = {
        "REQUEST_METHOD": method,
        # PEP 3333 "native strings": UTF-8 bytes seen as latin-1 characters.
        "SCRIPT_NAME": root if root.isascii() else _native(root),
        "PATH_INFO": path if path.isascii() else _native(path),
        "QUERY_STRING": query if query.isascii() else _native(query),
        "SERVER_NAME": server_name,
        "SERVER_PORT": server_port,
        "SERVER_PROTOCOL": "HTTP/" + http_version,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": scheme,
        "wsgi.input": BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if client is not None:
        environ["REMOTE_ADDR"] = client
        environ["REMOTE_PORT"] = "0"
    if text is None:
        return environ
    if isinstance(text, dict):
        # One value per name, all ASCII (HttpRequest's promise for a dict): nothing to
        # convert or combine. Two spellings of one name (``Host``, ``host``) would share a
        # key: then the pairs are combined one by one below.
        size = len(environ) + len(text)
        keys = _TEXT_KEYS
        try:
            for name, value in text.items():
                environ[keys[name]] = value
        except KeyError:  # a name not seen before
            size = -1
        if len(environ) != size:
            for name in text:
                environ.pop(text_key(name), None)
            _add_text_headers(environ, text.items())
    else:
        _add_text_headers(environ, text)
    if cookie is not None:
        if not cookie.isascii():
            cookie = _native(cookie)
        found = environ.get("HTTP_COOKIE")
        environ["HTTP_COOKIE"] = cookie if found is None else found + "; " + cookie
    _body_length(environ, body)
    return environ


def _body_length(environ: dict[str, Any], body: bytes) -> None:
    """``CONTENT_LENGTH`` of the whole body. One sent in chunks arrived whole (the
    platform read them): the app reads its length, not a Transfer-Encoding."""
    if "HTTP_TRANSFER_ENCODING" in environ:
        del environ["HTTP_TRANSFER_ENCODING"]
        environ["CONTENT_LENGTH"] = str(len(body))
    elif body and "CONTENT_LENGTH" not in environ:
        environ["CONTENT_LENGTH"] = str(len(body))


def _native(text: str) -> str:
    """PEP 3333 "native strings": the bytes sent (UTF-8, or whatever the codec kept of other
    bytes as surrogates) seen as latin-1 characters."""
    return text.encode("utf-8", "surrogateescape").decode("latin-1")


def _add_text_headers(environ: dict[str, Any], pairs: Iterable[tuple[str, str]]) -> None:
    for name, value in pairs:
        key = text_key(name)
        if not value.isascii():
            value = _native(value)
        if key in environ:
            # RFC 9110 field combination; cookies are joined as browsers send them.
            environ[key] += ("; " if key == "HTTP_COOKIE" else ",") + value
        else:
            environ[key] = value


#: Status lines ("200 OK") -> their codes: an app answers with the same few.
_STATUS_CODES: dict[str, int] = {}


def call_wsgi(app: WSGIApp, environ: dict[str, Any]) -> HttpResponse:
    written: list[bytes] = []
    #: [status code, text headers, byte headers] once start_response was called.
    started: list[Any] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
    ) -> Callable[[bytes], object]:
        if exc_info is not None:
            if started and written:
                raise exc_info[1].with_traceback(exc_info[2])
        elif started:
            raise RuntimeError("WSGI app called start_response twice without exc_info")
        code = _STATUS_CODES.get(status)
        if code is None:
            code = int(status[:3])
            if len(_STATUS_CODES) < 256:
                _STATUS_CODES[status] = code
        started[:] = (code, None, None)
        text = [(name.lower(), value) for name, value in headers]
        for name, value in text:
            if not (type(name) is str and type(value) is str and name.isascii()):
                break
            if not value.isascii():
                break
        else:
            started[1] = text
            return written.append
        # Non-ASCII text must be latin-1 (PEP 3333), and text: checked now, inside the
        # app's call.
        started[2] = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in text]
        return written.append

    result = app(environ, start_response)
    if type(result) is list and not written:
        # The usual body, a list of bytes (which has no close()), joined at once.
        try:
            body = b"".join(result)
        except TypeError:
            body = b"".join([chunk for chunk in result if chunk])
    else:
        try:
            for chunk in result:
                if chunk:
                    written.append(chunk)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        body = b"".join(written)
    if not started:
        raise RuntimeError("WSGI app returned without calling start_response")
    code, text, headers = started
    return HttpResponse(code, headers, body, text)
