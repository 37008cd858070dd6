"""What every state store offers, the rate-limit arithmetic the stores share, and the one
error they raise.

A store implements a few primitives on its own (``_get``, ``_set``, ``_delete``, ``_cas``
and the three rate-limit operations), each atomic in that store; the public methods here
add the key namespaces, the clock, argument checks and the translation of driver errors
into :class:`StateError`. Idempotency records are built on compare-and-set, so every store
gets them with the same semantics.

Times are the client's wall clock (``time.time()``) in seconds: every client of one store
must keep its clock in sync (NTP), as for any distributed rate limiter without a server clock.
"""

from __future__ import annotations

import math
import os
import time

from faasport.core.errors import FaasportError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    #: A rate-limit record as the row-based stores keep it: three numbers.
    Cell = tuple[float, float, float]

#: Key namespaces: one per kind of record, so a value never meets a counter of the same name.
VALUE = "v:"
BUCKET = "b:"
FIXED = "f:"
SLIDING = "s:"
IDEMPOTENCY = "i:"

IN_PROGRESS = "in_progress"
COMPLETED = "completed"
STARTED = "started"
_PENDING = b"P"
_DONE = b"C"

#: Floating-point slack when comparing times computed in different places.
_EPSILON = 1e-9
#: Slack of a token bucket, in tokens: stores keep times with microsecond precision.
SLACK = 1e-3


def redact(text: str) -> str:
    """``text`` with the passwords of the URLs in it (``scheme://user:PASSWORD@host``, up to
    the last ``@``, since a password may hold ``/``, ``#`` or ``@``) and any
    ``password=...`` replaced by ``***``: a driver's message may repeat its URL."""
    import re

    text = re.sub(r"\b([a-zA-Z][a-zA-Z0-9+.-]*://[^:/\s@]*:)\S*@", r"\1***@", text)
    return re.sub(r"(?i)\b(password=)[^&\s\"']*", r"\1***", text)


class StateError(FaasportError):
    """A state store failed: unreachable, refused, or answered something unusable."""

    def __init__(self, store: str, message: str) -> None:
        message = redact(message)
        super().__init__(f"state store {store}: {message}")
        #: The store's URL without its password.
        self.store = store


class Decision:
    """The answer of a rate-limit operation, with what the ``RateLimit-*`` headers need."""

    __slots__ = ("allowed", "limit", "remaining", "reset_after", "retry_after")

    def __init__(
        self, allowed: bool, limit: int, remaining: int, reset_after: float, retry_after: float
    ) -> None:
        self.allowed = allowed
        #: The burst (token bucket) or the limit per window.
        self.limit = limit
        #: Requests of cost 1 that would still be admitted now.
        self.remaining = remaining
        #: Seconds until the full limit is available again.
        self.reset_after = reset_after
        #: Seconds until this request would be admitted (0 when it was).
        self.retry_after = retry_after

    def __repr__(self) -> str:
        return (
            f"Decision(allowed={self.allowed}, limit={self.limit}, remaining={self.remaining}, "
            f"reset_after={self.reset_after:.3f}, retry_after={self.retry_after:.3f})"
        )


class Sweeps:
    """When a store that keeps expired entries until it is told (memory, SQLite, PostgreSQL)
    deletes them: every ``every`` writes, counted from a random start, so instances too
    short-lived to write that often still share the work between them."""

    __slots__ = ("every", "writes")

    def __init__(self, every: int = 4096) -> None:
        self.every = every
        self.writes = int.from_bytes(os.urandom(4), "big") % every

    def due(self) -> bool:
        """Counts a write; whether this one should sweep."""
        self.writes += 1
        return self.writes % self.every == 0


class Idempotency:
    """An idempotency record: ``status`` is :data:`STARTED` (the caller now owns the key),
    :data:`IN_PROGRESS` (another caller owns it) or :data:`COMPLETED` (``result`` holds
    what the first caller stored)."""

    __slots__ = ("result", "status")

    def __init__(self, status: str, result: bytes | None = None) -> None:
        self.status = status
        self.result = result

    def __repr__(self) -> str:
        return f"Idempotency({self.status!r})"


class Store:
    """A state store. Create one with :func:`faasport.state.open`; it is safe to share
    between threads."""

    #: The scheme's name and the URL without password, for messages.
    name: str = ""
    #: The driver's exception classes, turned into :class:`StateError`.
    errors: tuple[type[BaseException], ...] = ()
    #: The largest value one record holds, in bytes (None: no limit short of memory).
    max_value: int | None = None

    # -- key-value ---------------------------------------------------------------------

    def get(self, key: str) -> bytes | None:
        """The value of ``key``, or None when it is absent or expired."""
        try:
            return self._get(VALUE + _key(key), time.time())
        except self.errors as exc:
            raise self.error(exc) from exc

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        """Store ``value`` under ``key``, for ``ttl`` seconds (None: until deleted)."""
        now = time.time()
        try:
            self._set(VALUE + _key(key), _bytes(value), _expiry(now, ttl))
        except self.errors as exc:
            raise self.error(exc) from exc

    def delete(self, key: str) -> bool:
        """Remove ``key``; whether a value was there that :meth:`get` would have returned
        (an expired one counts as absent, as every store's own expiry makes it)."""
        try:
            return self._delete(VALUE + _key(key), time.time())
        except self.errors as exc:
            raise self.error(exc) from exc

    def compare_and_set(
        self, key: str, expected: bytes | None, value: bytes, ttl: float | None = None
    ) -> bool:
        """Store ``value`` only if the current value is ``expected`` (None: absent or
        expired); whether it was stored."""
        now = time.time()
        try:
            return self._cas(VALUE + _key(key), expected, _bytes(value), _expiry(now, ttl), now)
        except self.errors as exc:
            raise self.error(exc) from exc

    # -- rate limits -------------------------------------------------------------------

    def take(self, key: str, *, rate: float, burst: int, cost: int = 1) -> Decision:
        """Take ``cost`` tokens from a bucket refilled at ``rate`` tokens per second and
        holding at most ``burst`` (GCRA: one timestamp per key)."""
        if not rate > 0 or burst < 1 or not 0 < cost <= burst:
            raise ValueError(
                f"take: need rate > 0 and 0 < cost <= burst, got {rate}/{burst}/{cost}"
            )
        try:
            return self._take(BUCKET + _key(key), time.time(), rate, burst, cost)
        except self.errors as exc:
            raise self.error(exc) from exc

    def fixed_window(self, key: str, *, limit: int, window: float, cost: int = 1) -> Decision:
        """Count ``cost`` against ``limit`` per window of ``window`` seconds (windows
        aligned on the epoch); admitted only while the count stays within the limit."""
        _check_window(limit, window, cost)
        try:
            return self._fixed(FIXED + _key(key), time.time(), limit, window, cost)
        except self.errors as exc:
            raise self.error(exc) from exc

    def sliding_window(self, key: str, *, limit: int, window: float, cost: int = 1) -> Decision:
        """As :meth:`fixed_window`, counting the previous window's hits weighted by how much
        of it still lies within the last ``window`` seconds (no burst at window edges)."""
        _check_window(limit, window, cost)
        try:
            return self._sliding(SLIDING + _key(key), time.time(), limit, window, cost)
        except self.errors as exc:
            raise self.error(exc) from exc

    # -- idempotency -------------------------------------------------------------------

    def begin(self, key: str, ttl: float) -> Idempotency:
        """Claim ``key`` for ``ttl`` seconds (how long the work may take). STARTED: the
        caller does the work, then calls :meth:`complete` or :meth:`abandon`."""
        full = IDEMPOTENCY + _key(key)
        _expiry(0.0, ttl)  # checked before the store is asked
        try:
            for _ in range(3):
                now = time.time()
                if self._cas(full, None, _PENDING, now + ttl, now):
                    return Idempotency(STARTED)
                current = self._get(full, now)
                if current == _PENDING:
                    return Idempotency(IN_PROGRESS)
                if current is not None:
                    return Idempotency(COMPLETED, current[1:])
        except self.errors as exc:
            raise self.error(exc) from exc
        raise StateError(self.name, f"idempotency key {key!r} keeps changing")

    def complete(self, key: str, result: bytes, ttl: float) -> None:
        """Record ``result`` for ``key``; repeats receive it for ``ttl`` seconds."""
        expires = _expiry(time.time(), ttl)
        try:
            self._set(IDEMPOTENCY + _key(key), _DONE + _bytes(result), expires)
        except self.errors as exc:
            raise self.error(exc) from exc

    def abandon(self, key: str) -> None:
        """Release ``key`` after failed work, so a repeat runs it again."""
        try:
            self._delete(IDEMPOTENCY + _key(key), time.time())
        except self.errors as exc:
            raise self.error(exc) from exc

    def close(self) -> None:
        """Release connections; the store is unusable afterwards."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"

    def error(self, exc: BaseException) -> StateError:
        """The :class:`StateError` for a driver's exception: its class and first line."""
        detail = str(exc).strip().splitlines()
        text = f": {detail[0]}" if detail else ""
        return StateError(self.name, f"{type(exc).__name__}{text}")

    # -- what each store implements ----------------------------------------------------

    def _get(self, key: str, now: float) -> bytes | None:
        raise NotImplementedError

    def _set(self, key: str, value: bytes, expires: float | None) -> None:
        raise NotImplementedError

    def _delete(self, key: str, now: float) -> bool:
        raise NotImplementedError

    def _cas(
        self, key: str, expected: bytes | None, value: bytes, expires: float | None, now: float
    ) -> bool:
        raise NotImplementedError

    def _take(self, key: str, now: float, rate: float, burst: int, cost: int) -> Decision:
        raise NotImplementedError

    def _fixed(self, key: str, now: float, limit: int, window: float, cost: int) -> Decision:
        raise NotImplementedError

    def _sliding(self, key: str, now: float, limit: int, window: float, cost: int) -> Decision:
        raise NotImplementedError


class CellStore(Store):
    """A store that runs the rate-limit arithmetic itself on a three-number record, inside
    one atomic read-modify-write (:meth:`_update`)."""

    def _update(
        self, key: str, now: float, change: Callable[[Cell | None], tuple[Cell | None, float]]
    ) -> None:
        """Atomically: read the live record of ``key`` (None when absent or expired), call
        ``change`` with it, and store the record it returns (None: leave as is) until the
        expiry it returns."""
        raise NotImplementedError

    def _take(self, key: str, now: float, rate: float, burst: int, cost: int) -> Decision:
        interval = 1.0 / rate
        tolerance = burst * interval
        outcome: list[Decision] = []

        def change(cell: Cell | None) -> tuple[Cell | None, float]:
            tat = max(cell[0], now) if cell else now
            new = tat + cost * interval
            allowed = new - now <= tolerance + SLACK * interval
            outcome.append(
                bucket_decision(allowed, new if allowed else tat, now, rate, burst, cost)
            )
            return ((new, 0.0, 0.0) if allowed else None), new

        self._update(key, now, change)
        return outcome[-1]

    def _fixed(self, key: str, now: float, limit: int, window: float, cost: int) -> Decision:
        index = now // window
        outcome: list[Decision] = []

        def change(cell: Cell | None) -> tuple[Cell | None, float]:
            count = cell[1] if cell and cell[0] == index else 0.0
            allowed = count + cost <= limit
            after = count + cost if allowed else count
            outcome.append(fixed_decision(allowed, after, now, limit, window, cost))
            return ((index, after, 0.0) if allowed else None), (index + 1) * window

        self._update(key, now, change)
        return outcome[-1]

    def _sliding(self, key: str, now: float, limit: int, window: float, cost: int) -> Decision:
        index = now // window
        outcome: list[Decision] = []

        def change(cell: Cell | None) -> tuple[Cell | None, float]:
            current, previous = _windows(cell, index)
            allowed = sliding_used(previous, current, now, window) + cost <= limit + _EPSILON
            after = current + cost if allowed else current
            outcome.append(sliding_decision(allowed, after, previous, now, limit, window, cost))
            return ((index, after, previous) if allowed else None), (index + 2) * window

        self._update(key, now, change)
        return outcome[-1]


def _windows(cell: Cell | None, index: float) -> tuple[float, float]:
    """(current, previous) window counts of a sliding-window record at window ``index``."""
    if cell is None:
        return 0.0, 0.0
    if cell[0] == index:
        return cell[1], cell[2]
    if cell[0] == index - 1:
        return 0.0, cell[1]
    return 0.0, 0.0


# -- the arithmetic, shared by stores that compute in Python and those that do not ------


def bucket_decision(
    allowed: bool, tat: float, now: float, rate: float, burst: int, cost: int
) -> Decision:
    """The decision of a GCRA take from the stored theoretical arrival time ``tat`` (after
    the take when allowed, before it when not)."""
    interval = 1.0 / rate
    tolerance = burst * interval
    tat = max(tat, now)
    remaining = max(0, int((tolerance - (tat - now)) / interval + SLACK))
    if allowed:
        return Decision(True, burst, remaining, tat - now, 0.0)
    retry = max(0.0, tat + cost * interval - tolerance - now)
    return Decision(False, burst, remaining, tat - now, retry)


def fixed_decision(
    allowed: bool, count: float, now: float, limit: int, window: float, cost: int
) -> Decision:
    """The decision of a fixed-window hit from the window's count after it."""
    reset = (now // window + 1) * window - now
    return Decision(allowed, limit, max(0, int(limit - count)), reset, 0.0 if allowed else reset)


def sliding_used(previous: float, current: float, now: float, window: float) -> float:
    """Hits counted in the last ``window`` seconds: the current window's and the share of
    the previous window's that still lies within it."""
    weight = 1.0 - (now % window) / window
    return previous * weight + current


def sliding_decision(
    allowed: bool,
    current: float,
    previous: float,
    now: float,
    limit: int,
    window: float,
    cost: int,
) -> Decision:
    """The decision of a sliding-window hit from the window counts after it."""
    elapsed = now % window
    used = sliding_used(previous, current, now, window)
    remaining = max(0, int(limit - used + _EPSILON))
    reset = window - elapsed + (window if current else 0.0)
    if allowed:
        return Decision(True, limit, remaining, reset, 0.0)
    room = limit - current - cost
    if previous > 0 and room >= 0:
        # The previous window's weight falls linearly: wait until enough of it has gone.
        retry = window * (1.0 - room / previous) - elapsed
    else:
        retry = window - elapsed
    return Decision(False, limit, remaining, reset, max(0.0, retry))


def _check_window(limit: int, window: float, cost: int) -> None:
    if not window > 0 or not 0 < cost <= limit:
        raise ValueError(f"need window > 0 and 0 < cost <= limit, got {window}/{limit}/{cost}")


#: A key's UTF-8 bytes at most: what every store takes (DynamoDB's partition key holds 2,048
#: with the namespace), so a key works on all of them or on none.
MAX_KEY_BYTES = 1024


def _key(key: str) -> str:
    try:
        size = len(key.encode("utf-8"))
    except (AttributeError, UnicodeEncodeError):  # not text, or a lone surrogate
        size = -1
    if not 0 <= size <= MAX_KEY_BYTES or "\x00" in key:
        shown = repr(key)
        raise ValueError(
            f"state keys are text of at most {MAX_KEY_BYTES} UTF-8 bytes without NUL, got "
            + (shown if len(shown) <= 60 else shown[:57] + "...")
        )
    return key


def _expiry(now: float, ttl: float | None) -> float | None:
    if ttl is None:
        return None
    if not ttl > 0 or math.isinf(ttl):
        raise ValueError(f"ttl must be a positive number of seconds or None, got {ttl!r}")
    return now + ttl


def _bytes(value: bytes) -> bytes:
    if not isinstance(value, bytes | bytearray | memoryview):
        raise TypeError(f"state values are bytes, got {type(value).__name__}")
    return bytes(value)
