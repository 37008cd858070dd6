"""What a policy sees and answers: a small view of the request, a response, and the
``Policy`` contract.

A policy is three methods over these objects, with no knowledge of ASGI, WSGI or a
provider's event: ``check`` before the app (an answer ends the request there), ``finish``
after it (add headers, store results), ``fail`` when the app raised. The ASGI and WSGI
middleware (:mod:`faasport.gateway.middleware`) and the local gateway build the view and
run the same policies.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from faasport.state import Store


class Request:
    """The request as policies see it. ``headers`` has lower-case names, repeated headers
    joined with ``", "`` (cookies with ``"; "``). ``context`` collects what policies learn
    (``"authorizer"``, ``"session"``...) and reaches the app."""

    __slots__ = ("body", "context", "headers", "method", "path", "query", "source_ip")

    def __init__(
        self,
        method: str,
        path: str,
        headers: dict[str, str],
        source_ip: str = "",
        query: str = "",
        body: bytes = b"",
    ) -> None:
        self.method = method.upper()
        self.path = path or "/"
        self.headers = headers
        self.source_ip = source_ip
        self.query = query
        self.body = body
        self.context: dict[Any, Any] = {}

    def __repr__(self) -> str:
        return f"<Request {self.method} {self.path}>"


class Response:
    """A response: status, headers (lower-case names, in order, repeats allowed), body."""

    __slots__ = ("body", "headers", "status")

    def __init__(
        self, status: int, headers: list[tuple[str, str]] | None = None, body: bytes = b""
    ) -> None:
        self.status = status
        self.headers = headers if headers is not None else []
        self.body = body

    @classmethod
    def message(
        cls, status: int, message: str, headers: list[tuple[str, str]] | None = None
    ) -> Response:
        """API Gateway's own error shape: ``{"message": "..."}`` as JSON."""
        import json

        body = json.dumps({"message": message}, separators=(",", ":")).encode()
        return cls(status, [("content-type", "application/json"), *(headers or [])], body)

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return None

    def __repr__(self) -> str:
        return f"<Response {self.status} {len(self.body)} bytes>"


class Policy:
    """A request policy; the default methods do nothing."""

    def check(self, request: Request) -> Response | None:
        """Before the app: None lets the request through, a Response answers it."""
        return None

    def finish(self, request: Request, response: Response) -> None:
        """After the app answered (or a policy did): may change ``response``."""

    def fail(self, request: Request) -> None:
        """The app raised instead of answering (``finish`` is not called)."""


class LazyStore:
    """A store given as a URL is opened on first use, so building policies at import time
    opens no connection."""

    def __init__(self, store: Store | str) -> None:
        self._source = store
        self._store: Store | None = None if isinstance(store, str) else store

    def __call__(self) -> Store:
        if self._store is None:
            from faasport import state

            assert isinstance(self._source, str)
            self._store = state.open(self._source)
        return self._store
