"""Run one canonical request through a WSGI (PEP 3333) application."""

from __future__ import annotations

import io
import sys
from collections.abc import Callable, Iterable
from types import TracebackType
from typing import Any

from faasport.core.http import HttpRequest, HttpResponse

ExcInfo = tuple[type[BaseException], BaseException, TracebackType]
StartResponse = Callable[..., Callable[[bytes], object]]
WSGIApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]

_SPECIAL = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}
_WSGI_ERRORS: Any = sys.stderr


def _environ_key(name: str) -> str:
    special = _SPECIAL.get(name)
    return special or "HTTP_" + name.upper().replace("-", "_")


def build_environ(request: HttpRequest) -> dict[str, Any]:
    server_name, server_port = request.server or ("localhost", None)
    if server_port is None:
        server_port = 443 if request.scheme == "https" else 80
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method,
        # PEP 3333 "native strings": the path's UTF-8 bytes seen as latin-1 characters.
        "SCRIPT_NAME": request.root_path.encode("utf-8").decode("latin-1"),
        "PATH_INFO": request.path.encode("utf-8").decode("latin-1"),
        "QUERY_STRING": request.query_string.decode("latin-1"),
        "SERVER_NAME": server_name,
        "SERVER_PORT": str(server_port),
        "SERVER_PROTOCOL": "HTTP/" + request.http_version,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": request.scheme,
        "wsgi.input": io.BytesIO(request.body),
        "wsgi.errors": _WSGI_ERRORS,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    if request.client is not None:
        environ["REMOTE_ADDR"] = request.client[0]
        environ["REMOTE_PORT"] = str(request.client[1])
    for raw_name, raw_value in request.headers:
        name = raw_name.decode("latin-1")
        key = _environ_key(name)
        value = raw_value.decode("latin-1")
        if key in environ:
            # RFC 9110 field combination; cookies are joined the way browsers send them.
            environ[key] += ("; " if name == "cookie" else ",") + value
        else:
            environ[key] = value
    if request.body and "CONTENT_LENGTH" not in environ:
        environ["CONTENT_LENGTH"] = str(len(request.body))
    for key, value in request.extras.items():
        # "aws.event" -> "faasport.event"; a provider's "request" object is its event.
        suffix = key.partition(".")[2]
        environ["faasport." + ("event" if suffix == "request" else suffix)] = value
    return environ


def call_wsgi(app: WSGIApp, environ: dict[str, Any]) -> HttpResponse:
    status_line: list[str] = []
    headers: list[tuple[bytes, bytes]] = []
    written: list[bytes] = []

    def start_response(
        status: str, response_headers: list[tuple[str, str]], exc_info: ExcInfo | None = None
    ) -> Callable[[bytes], object]:
        if exc_info is not None:
            if status_line and written:
                raise exc_info[1].with_traceback(exc_info[2])
        elif status_line:
            raise RuntimeError("WSGI app called start_response twice without exc_info")
        status_line[:] = [status]
        headers[:] = [
            (name.lower().encode("latin-1"), value.encode("latin-1"))
            for name, value in response_headers
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
    if not status_line:
        raise RuntimeError("WSGI app returned without calling start_response")
    return HttpResponse(int(status_line[0][:3]), headers, b"".join(written))
