"""A JSON Web Key Set from a file or an https URL, cached, and fetched again when a token
names a key it does not hold (a rotation) — at most once per ``refresh_interval``, so
tokens with made-up key ids cannot make every request fetch."""

from __future__ import annotations

import threading
import time

from faasport.core.errors import FaasportError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

#: Seconds to wait for the key set's URL.
FETCH_TIMEOUT = 5.0
#: Bytes a key set may have: a real one holds a few keys.
MAX_DOCUMENT = 1024 * 1024
_LOOPBACK = ("http://127.0.0.1", "http://localhost", "http://[::1]")


class KeySetError(FaasportError):
    """The key set could not be read or holds no usable key."""


class KeySet:
    """``source`` is a file path or an ``https://`` URL (``http://`` only on loopback)."""

    def __init__(
        self,
        source: str,
        *,
        refresh_interval: float = 60.0,
        max_age: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if source.startswith("http://") and not source.startswith(_LOOPBACK):
            raise KeySetError(f"JWKS URL {source!r} must use https")
        self.source = source
        self.refresh_interval = refresh_interval
        self.max_age = max_age
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str | None, Any] = {}
        self._loaded_at: float | None = None
        #: How many times the source was read (tests and logs).
        self.loads = 0

    def get(self, kid: str | None) -> Any:
        """The ``PyJWK`` for ``kid`` (None: the only key of a one-key set), or None."""
        with self._lock:
            now = self._clock()
            if self._loaded_at is None or now - self._loaded_at >= self.max_age:
                self._load(now)
            key = self._find(kid)
            if key is None and now - (self._loaded_at or 0.0) >= self.refresh_interval:
                self._load(now)
                key = self._find(kid)
            return key

    def _find(self, kid: str | None) -> Any:
        if kid is None:
            keys = list(self._keys.values())
            return keys[0] if len(keys) == 1 else None
        return self._keys.get(kid)

    def _load(self, now: float) -> None:
        import json

        import jwt

        self._loaded_at = now
        self.loads += 1
        try:
            document = json.loads(self._read())
            if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
                raise ValueError('not a JWKS document: an object with a "keys" list')
            keys = jwt.PyJWKSet.from_dict(document).keys
        except (OSError, ValueError, RecursionError, jwt.PyJWTError) as exc:
            raise KeySetError(f"JWKS {self.source}: {type(exc).__name__}: {exc}") from exc
        self._keys = {key.key_id: key for key in keys}

    def _read(self) -> bytes:
        if not self.source.startswith(("https://", "http://")):
            with open(self.source, "rb") as file:
                return file.read()
        from urllib.request import Request, urlopen

        request = Request(self.source, headers={"accept": "application/json"})
        deadline = time.monotonic() + FETCH_TIMEOUT
        parts: list[bytes] = []
        size = 0
        with urlopen(request, timeout=FETCH_TIMEOUT) as answer:
            # The whole fetch has FETCH_TIMEOUT, not each read: a server sending a byte at a
            # time would hold every request waiting on the key set.
            while part := answer.read1(65536):
                size += len(part)
                if size > MAX_DOCUMENT:
                    raise ValueError(f"the key set is over {MAX_DOCUMENT} bytes")
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the key set took over {FETCH_TIMEOUT:.0f} s to arrive")
                parts.append(part)
        return b"".join(parts)
