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
    from collections.abc import Callable
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
    """A response: status, headers (lower-case names, in order, repeats allowed), body.

    ``streamed`` is set when the body is streamed to the client after the policies have
    finished (``body`` is then empty): a policy that needs the body asks it for it."""

    __slots__ = ("body", "headers", "status", "streamed")

    def __init__(
        self,
        status: int,
        headers: list[tuple[str, str]] | None = None,
        body: bytes = b"",
        streamed: StreamedBody | None = None,
    ) -> None:
        self.status = status
        self.headers = headers if headers is not None else []
        self.body = body
        self.streamed = streamed

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


class StreamedBody:
    """The body of a streamed response, known once the stream has ended: after the
    policies finish, so a policy that needs it (idempotency stores it) asks with
    :meth:`on_end`. The server keeps the body only when asked, up to ``limit`` bytes."""

    __slots__ = ("_body_wanted", "_kept", "_size", "_waiting", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._waiting: list[Callable[[bytes | None], None]] = []
        self._body_wanted = False
        self._kept: list[bytes] | None = []
        self._size = 0

    @property
    def awaited(self) -> bool:
        """Whether a policy waits for the stream's end (the server then tells it)."""
        return bool(self._waiting)

    @property
    def wanted(self) -> bool:
        """Whether a policy wants the body (the server then keeps it)."""
        return self._body_wanted

    def on_end(self, callback: Callable[[bytes | None], None], *, body: bool = True) -> None:
        """``callback(body)`` once the stream has ended: the whole body, or None when it
        ended in error, was cut short or passed ``limit`` bytes. With ``body=False`` the
        callback only learns that the stream ended (what it gets is not for it to read)."""
        self._waiting.append(callback)
        self._body_wanted = self._body_wanted or body

    def keep(self, piece: bytes) -> None:
        """A piece of the body on its way to the client, kept (by the server) while a
        policy wants the body and it is within ``limit``."""
        kept = self._kept
        if kept is None or not self._body_wanted:
            return
        self._size += len(piece)
        if self._size > self.limit:
            self._kept = None
        else:
            kept.append(bytes(piece))

    def kept(self, whole: bool) -> bytes | None:
        """The body kept, for :meth:`end`: None unless the stream ended ``whole`` within
        ``limit`` and a policy wanted it."""
        kept = self._kept
        return b"".join(kept) if whole and kept is not None and self._body_wanted else None

    def end(self, body: bytes | None) -> None:
        """The stream ended with ``body`` (see :meth:`on_end`): called once, by the server."""
        waiting, self._waiting = self._waiting, []
        for callback in waiting:
            try:
                callback(body)
            except Exception:  # the response is out: the others still get their turn
                from faasport.core.logs import logger

                logger().exception("a policy failed once a streamed response had ended")


def note_deadline(request: Request, context: Any) -> None:
    """Puts the invocation's deadline (``time.time()`` seconds) in ``request.context`` when
    ``context`` is a Lambda context that knows it: a policy that must outlast the request
    (idempotency's claim on its key) then holds as long as the invocation may run."""
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    if remaining is not None:
        import time

        request.context["deadline"] = time.time() + remaining() / 1000


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
