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

    from faasport.core.http import HttpRequest

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


#: extras key -> environ key, filled as keys are seen.
_EXTRAS: dict[str, str] = {}


def _extra_key(key: str) -> str:
    # "aws.event" -> "faasport.event"; a provider's "request" object is its event.
    suffix = key.partition(".")[2]
    name = _EXTRAS[key] = "faasport." + ("event" if suffix == "request" else suffix)
    return name


#: header name as text (any case) -> environ key.
_TEXT_KEYS: dict[str, str] = {}


def _text_environ_key(name: str) -> str:
    key = _environ_key(name.lower().encode("latin-1"))
    if len(_TEXT_KEYS) < 1024:
        _TEXT_KEYS[name] = key
    return key


class WsgiBridge:
    """Serves canonical requests with one WSGI app."""

    def __init__(self, app: WSGIApp) -> None:
        self.app = app
        self._template: dict[str, Any] = {
            "SERVER_PROTOCOL": "HTTP/1.1",
            "wsgi.version": (1, 0),
            "wsgi.errors": sys.stderr,
            "wsgi.multithread": False,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
        }

    def serve(self, request: HttpRequest) -> HttpResponse:
        return call_wsgi(self.app, self.environ(request))

    def environ(self, request: HttpRequest) -> dict[str, Any]:
        environ = self._template.copy()
        server = request.server
        scheme = request.scheme
        if server is None:
            server_name, server_port = "localhost", None
        else:
            server_name, server_port = server
        environ["REQUEST_METHOD"] = request.method
        root = request.root_path
        # PEP 3333 "native strings": the path's UTF-8 bytes seen as latin-1 characters.
        environ["SCRIPT_NAME"] = root.encode("utf-8").decode("latin-1") if root else ""
        path = request.path
        environ["PATH_INFO"] = path if path.isascii() else path.encode().decode("latin-1")
        environ["QUERY_STRING"] = request.query_string.decode("latin-1")
        environ["SERVER_NAME"] = server_name
        environ["SERVER_PORT"] = str(
            server_port if server_port is not None else (443 if scheme == "https" else 80)
        )
        environ["wsgi.url_scheme"] = scheme
        environ["wsgi.input"] = BytesIO(request.body)
        if request.http_version != "1.1":
            environ["SERVER_PROTOCOL"] = "HTTP/" + request.http_version
        client = request.client
        if client is not None:
            environ["REMOTE_ADDR"] = client[0]
            environ["REMOTE_PORT"] = str(client[1])
        text = request.text_headers
        if text is not None:
            keys = _TEXT_KEYS
            for name, value in text:
                key = keys.get(name) or _text_environ_key(name)
                if not value.isascii():
                    value = value.encode("utf-8").decode("latin-1")
                if key in environ:
                    # RFC 9110 field combination; cookies are joined as browsers send them.
                    environ[key] += ("; " if key == "HTTP_COOKIE" else ",") + value
                else:
                    environ[key] = value
        else:
            for raw_name, raw_value in request.headers:
                key = _KEYS.get(raw_name) or _environ_key(raw_name)
                value = raw_value.decode("latin-1")
                if key in environ:
                    environ[key] += ("; " if raw_name == b"cookie" else ",") + value
                else:
                    environ[key] = value
        if request.body and "CONTENT_LENGTH" not in environ:
            environ["CONTENT_LENGTH"] = str(len(request.body))
        extras = _EXTRAS
        for key, value in request.extras.items():
            environ[extras.get(key) or _extra_key(key)] = value
        return environ


def call_wsgi(app: WSGIApp, environ: dict[str, Any]) -> HttpResponse:
    response = HttpResponse(0)
    written: list[bytes] = []

    def start_response(
        status: str, headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
    ) -> Callable[[bytes], object]:
        if exc_info is not None:
            if response.status and written:
                raise exc_info[1].with_traceback(exc_info[2])
        elif response.status:
            raise RuntimeError("WSGI app called start_response twice without exc_info")
        response.status = int(status[:3])
        response.headers = [
            (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers
        ]
        return written.append

    result = app(environ, start_response)
    try:
        for chunk in result:
            if chunk:
                written.append(chunk)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    if not response.status:
        raise RuntimeError("WSGI app returned without calling start_response")
    response.body = b"".join(written)
    return response
