"""The health-check fast path: answered before the app is imported or called."""

from __future__ import annotations

from faasport.core.http import HttpRequest, HttpResponse

_BODY = b'{"status":"ok"}'
_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"15")]


def is_health_check(request: HttpRequest, health_path: str | None) -> bool:
    return (
        health_path is not None
        and request.path == health_path
        and request.method in ("GET", "HEAD")
    )


def health_response(request: HttpRequest) -> HttpResponse:
    return HttpResponse(200, list(_HEADERS), b"" if request.method == "HEAD" else _BODY)
