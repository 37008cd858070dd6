"""Secret values kept for a while, so a warm environment does not ask the store per request."""

from __future__ import annotations

import threading
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


class SecretCache:
    """Values by key with the monotonic time they were fetched. Thread-safe: concurrent
    callers of one expired key wait for a single fetch instead of each asking the store.
    ``clock`` gives seconds on a monotonic scale (tests pass their own)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._values: dict[tuple[str, str], tuple[float, str]] = {}
        self._fetching: dict[tuple[str, str], threading.Lock] = {}
        self._lock = threading.Lock()

    def get(self, key: tuple[str, str], max_age: float, fetch: Callable[[], str]) -> str:
        """The value of ``key`` if fetched less than ``max_age`` seconds ago, else ``fetch()``'s.

        A failed fetch raises; an expired value is never returned in its place.
        """
        fresh = self._fresh(key, max_age)
        if fresh is not None:
            return fresh
        with self._lock:
            fetching = self._fetching.setdefault(key, threading.Lock())
        with fetching:
            fresh = self._fresh(key, max_age)  # another thread may have fetched it meanwhile
            if fresh is not None:
                return fresh
            started = self._clock()
            value = fetch()
            self._values[key] = (started, value)
            return value

    def _fresh(self, key: tuple[str, str], max_age: float) -> str | None:
        entry = self._values.get(key)
        if entry is not None and self._clock() - entry[0] < max_age:
            return entry[1]
        return None

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._fetching.clear()
