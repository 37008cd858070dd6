"""What a test client receives: status, headers in order, body bytes."""

from __future__ import annotations

import json
from typing import Any


class HttpResult:
    """What the client receives once the source has turned the Lambda result into HTTP."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes, raw: Any):
        self.status = status
        self.headers = headers
        self.body = body
        #: The handler's return value, as the source received it.
        self.raw = raw

    def header(self, name: str) -> str | None:
        values = self.header_list(name)
        return values[0] if values else None

    def header_list(self, name: str) -> list[str]:
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    @property
    def cookies(self) -> list[str]:
        """Every ``Set-Cookie`` value, in order."""
        return self.header_list("set-cookie")

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def json(self) -> Any:
        return json.loads(self.body)

    def __repr__(self) -> str:
        return f"<HttpResult {self.status} {len(self.body)} bytes>"


class HttpClient:
    """What every test client offers: ``request`` and its shorthands. Keyword arguments
    are those of :func:`faasport.testing.http_request` (``query``, ``headers``,
    ``cookies``, ``body``, ``json_body``...)."""

    def request(self, method: str, path: str = "/", **kwargs: Any) -> HttpResult:
        raise NotImplementedError

    def get(self, path: str = "/", **kwargs: Any) -> HttpResult:
        return self.request("GET", path, **kwargs)

    def post(self, path: str = "/", **kwargs: Any) -> HttpResult:
        return self.request("POST", path, **kwargs)

    def head(self, path: str = "/", **kwargs: Any) -> HttpResult:
        return self.request("HEAD", path, **kwargs)
