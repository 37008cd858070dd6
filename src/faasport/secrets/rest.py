"""JSON over HTTP with the standard library, for the GCP and Azure secret stores, and the
access token they need, kept until shortly before it expires."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: Token endpoints are on the machine (or link-local): they answer fast or not at all.
TOKEN_TIMEOUT = 5.0
STORE_TIMEOUT = 10.0
#: A token is renewed this long before it expires, so none expires in flight.
TOKEN_MARGIN = 60.0

# Token endpoints are local: requests to them never go through an HTTP proxy.
_direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))
_default = urllib.request.build_opener()


class Unreachable(Exception):
    """The endpoint could not be reached; the message says why (never the request headers)."""


@dataclass(frozen=True)
class Reply:
    status: int
    #: The parsed JSON body; None when the body is not JSON.
    body: Any
    text: str

    def error_message(self) -> str:
        """The service's own error text (``{"error": {"message": ...}}``), or the status."""
        error = self.body.get("error") if isinstance(self.body, dict) else None
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return f"{self.status}: {error['message']}"
        return f"HTTP {self.status}"


def get(url: str, headers: dict[str, str], *, local: bool = False) -> Reply:
    """GET ``url``; any HTTP status is a :class:`Reply`, no answer is :class:`Unreachable`."""
    request = urllib.request.Request(url, headers={"Accept": "application/json", **headers})
    opener = _direct if local else _default
    try:
        with opener.open(request, timeout=TOKEN_TIMEOUT if local else STORE_TIMEOUT) as answer:
            status, raw = answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
        exc.close()
    except (OSError, http.client.HTTPException) as exc:  # URLError is an OSError
        reason = getattr(exc, "reason", None) or exc
        raise Unreachable(str(reason) or type(exc).__name__) from None
    text = raw.decode("utf-8", "replace")
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    return Reply(status, body, text)


class CachedToken:
    """An access token, fetched by ``fetch() -> (token, seconds it stays valid)``, reused
    until ``TOKEN_MARGIN`` seconds before it expires. Thread-safe."""

    def __init__(self, fetch: Callable[[], tuple[str, float]]) -> None:
        self._fetch = fetch
        self._token = ""
        self._renew_at = 0.0
        self._lock = threading.Lock()

    def get(self) -> str:
        with self._lock:
            if not self._token or time.monotonic() >= self._renew_at:
                started = time.monotonic()
                token, lifetime = self._fetch()
                self._token, self._renew_at = token, started + lifetime - TOKEN_MARGIN
            return self._token

    def forget(self) -> None:
        """Drop the token (the store rejected it), so the next ``get`` fetches a new one."""
        with self._lock:
            self._token = ""


def retrying_once(call: Callable[[], Reply], token: CachedToken) -> Reply:
    """``call()``; when the store rejects the cached token (401: revoked or rotated early),
    once more with a new one."""
    reply = call()
    if reply.status == 401:
        token.forget()
        reply = call()
    return reply
