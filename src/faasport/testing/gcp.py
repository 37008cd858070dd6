"""``GcpClient``: requests to a ``gcp.handler`` function as functions-framework delivers
them behind Google's front end, in process."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from faasport.testing.events import http_request
from faasport.testing.result import HttpClient, HttpResult


class GcpClient(HttpClient):
    """Sends requests to an HTTP function (``function(flask.Request)``) with the
    X-Forwarded-* headers Google's front end adds, and reads the ``flask.Response``."""

    def __init__(self, function: Callable[[Any], Any]) -> None:
        self.function = function

    def request(self, method: str, path: str = "/", **kwargs: Any) -> HttpResult:
        from flask import Request, make_response
        from werkzeug.test import EnvironBuilder

        canonical = http_request(method, path, **kwargs)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in canonical.headers]
        client = canonical.client[0] if canonical.client else "203.0.113.7"
        forwarded = [v for k, v in headers if k == "x-forwarded-for"]
        headers = [(k, v) for k, v in headers if k not in ("x-forwarded-for", "content-length")]
        headers.append(("x-forwarded-for", ", ".join([*forwarded, client])))
        if not any(k == "x-forwarded-proto" for k, _ in headers):
            headers.append(("x-forwarded-proto", "https"))
        raw_path = (canonical.raw_path or b"/").decode("ascii")
        builder = EnvironBuilder(
            path=raw_path,
            method=canonical.method,
            headers=headers,
            data=canonical.body,
            query_string=canonical.query_string.decode("latin-1"),
        )
        environ = builder.get_environ()
        environ["RAW_URI"] = raw_path + (
            "?" + environ["QUERY_STRING"] if environ.get("QUERY_STRING") else ""
        )
        # functions-framework calls the function inside a Flask request context.
        with _app().request_context(environ):
            response = make_response(self.function(Request(environ)))
        if response.direct_passthrough:  # streamed (gcp.handler(..., stream=True)): read it
            # as functions-framework's server does, after the function returned
            try:
                body = b"".join(response.iter_encoded())
            finally:
                response.close()
            if canonical.method == "HEAD":
                body = b""
        else:
            body = b"" if canonical.method == "HEAD" else response.get_data()
        return HttpResult(
            response.status_code,
            [(k.lower(), v) for k, v in response.headers.items()],
            body,
            response,
        )


_flask: Any = None


def _app() -> Any:
    global _flask
    if _flask is None:
        from flask import Flask

        _flask = Flask("faasport.testing.gcp")
    return _flask
