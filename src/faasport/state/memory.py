"""``memory://``: a store in this process's memory, for tests and single-process use.

Nothing is shared between processes or survives a restart. Expired entries are dropped
when read and swept every few thousand writes.
"""

from __future__ import annotations

import threading

from faasport.state.base import CellStore, Sweeps

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from faasport.state.base import Cell

_INFINITY = float("inf")


class MemoryStore(CellStore):
    def __init__(self, url: str) -> None:
        self.name = url
        self._lock = threading.Lock()
        #: key -> (expires, value or rate-limit record)
        self._items: dict[str, tuple[float, bytes | Cell]] = {}
        self._sweeps = Sweeps()

    def _live(self, key: str, now: float) -> bytes | Cell | None:
        item = self._items.get(key)
        if item is None:
            return None
        if item[0] <= now:
            del self._items[key]
            return None
        return item[1]

    def _put(self, key: str, expires: float | None, value: bytes | Cell) -> None:
        self._items[key] = (_INFINITY if expires is None else expires, value)
        if self._sweeps.due():
            import time

            now = time.time()
            for stale in [k for k, (at, _) in self._items.items() if at <= now]:
                del self._items[stale]

    def _get(self, key: str, now: float) -> bytes | None:
        with self._lock:
            value = self._live(key, now)
        return value if isinstance(value, bytes) else None

    def _set(self, key: str, value: bytes, expires: float | None) -> None:
        with self._lock:
            self._put(key, expires, value)

    def _delete(self, key: str, now: float) -> bool:
        with self._lock:
            item = self._items.pop(key, None)
        return item is not None and item[0] > now

    def _cas(
        self, key: str, expected: bytes | None, value: bytes, expires: float | None, now: float
    ) -> bool:
        with self._lock:
            if self._live(key, now) != expected:
                return False
            self._put(key, expires, value)
            return True

    def _update(
        self, key: str, now: float, change: Callable[[Cell | None], tuple[Cell | None, float]]
    ) -> None:
        with self._lock:
            cell = self._live(key, now)
            new, expires = change(cell if isinstance(cell, tuple) else None)
            if new is not None:
                self._put(key, expires, new)
