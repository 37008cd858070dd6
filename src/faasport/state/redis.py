"""``redis://host:port/db`` (``rediss://`` for TLS): a Redis store through redis-py.

Every key lives under ``faasport:``. Rate limits run as Lua scripts, so each decision is
one round trip and atomic; values use Redis's own expiry.
"""

from __future__ import annotations

import math

from faasport.state.base import (
    SLACK,
    Decision,
    Store,
    bucket_decision,
    fixed_decision,
    sliding_decision,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

PREFIX = "faasport:"

# KEYS[1] holds the theoretical arrival time. ARGV: now, interval, tolerance, cost.
# Replies are one string or integer: a single value is the cheapest reply to parse.
_TAKE = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
local new = tat + tonumber(ARGV[4]) * interval
if new - now <= tonumber(ARGV[3]) then
  redis.call('SET', KEYS[1], string.format('%.6f', new), 'PX', math.ceil((new - now) * 1000) + 1)
  return string.format('1 %.6f', new)
end
return string.format('0 %.6f', tat)
"""

# KEYS[1] counts the current window. ARGV: limit, cost, lifetime in ms. Returns the count
# after an admitted hit, or -1 - the count when refused.
_FIXED = """
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
local cost = tonumber(ARGV[2])
if count + cost <= tonumber(ARGV[1]) then
  count = redis.call('INCRBY', KEYS[1], cost)
  if count == cost then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
  return count
end
return -1 - count
"""

# KEYS: current and previous window counters. ARGV: limit, cost, lifetime in ms, weight.
_SLIDING = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
local previous = tonumber(redis.call('GET', KEYS[2]) or '0')
local cost = tonumber(ARGV[2])
if previous * tonumber(ARGV[4]) + current + cost <= tonumber(ARGV[1]) + 1e-9 then
  current = redis.call('INCRBY', KEYS[1], cost)
  if current == cost then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
  return '1 ' .. current .. ' ' .. previous
end
return '0 ' .. current .. ' ' .. previous
"""

# ARGV: expected ('' with ARGV[4] = '0' when absent is expected), value, ms to live or 0.
_CAS = """
local current = redis.call('GET', KEYS[1])
if ARGV[4] == '0' then
  if current then return 0 end
elseif current ~= ARGV[1] then
  return 0
end
if ARGV[3] == '0' then redis.call('SET', KEYS[1], ARGV[2])
else redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) end
return 1
"""


class RedisStore(Store):
    def __init__(self, url: str, name: str) -> None:
        import redis

        self.name = name
        self.errors = (redis.RedisError,)
        try:
            self._redis: Any = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        except (ValueError, *self.errors) as exc:
            raise self.error(exc) from exc
        self._take_script = self._redis.register_script(_TAKE)
        self._fixed_script = self._redis.register_script(_FIXED)
        self._sliding_script = self._redis.register_script(_SLIDING)
        self._cas_script = self._redis.register_script(_CAS)

    def close(self) -> None:
        self._redis.close()

    def _get(self, key: str, now: float) -> bytes | None:
        value: bytes | None = self._redis.get(PREFIX + key)
        return value

    def _set(self, key: str, value: bytes, expires: float | None) -> None:
        if expires is None:
            self._redis.set(PREFIX + key, value)
        else:
            import time

            self._redis.set(PREFIX + key, value, px=_ms(expires - time.time()))

    def _delete(self, key: str) -> bool:
        return bool(self._redis.delete(PREFIX + key))

    def _cas(
        self, key: str, expected: bytes | None, value: bytes, expires: float | None, now: float
    ) -> bool:
        ttl = 0 if expires is None else _ms(expires - now)
        present = "0" if expected is None else "1"
        args = (expected or b"", value, ttl, present)
        return bool(self._cas_script(keys=(PREFIX + key,), args=args))

    def _take(self, key: str, now: float, rate: float, burst: int, cost: int) -> Decision:
        interval = 1.0 / rate
        args = (repr(now), repr(interval), repr((burst + SLACK) * interval), cost)
        allowed, tat = self._take_script(keys=(PREFIX + key,), args=args).split()
        return bucket_decision(allowed == b"1", float(tat), now, rate, burst, cost)

    def _fixed(self, key: str, now: float, limit: int, window: float, cost: int) -> Decision:
        index = int(now // window)
        lifetime = _ms((index + 1) * window - now)
        keys = (f"{PREFIX}{key}:{index}",)
        count = self._fixed_script(keys=keys, args=(limit, cost, lifetime))
        if count < 0:
            return fixed_decision(False, -1 - count, now, limit, window, cost)
        return fixed_decision(True, count, now, limit, window, cost)

    def _sliding(self, key: str, now: float, limit: int, window: float, cost: int) -> Decision:
        index = int(now // window)
        lifetime = _ms((index + 2) * window - now)
        weight = 1.0 - (now % window) / window
        keys = (f"{PREFIX}{key}:{index}", f"{PREFIX}{key}:{index - 1}")
        args = (limit, cost, lifetime, repr(weight))
        allowed, current, previous = self._sliding_script(keys=keys, args=args).split()
        return sliding_decision(
            allowed == b"1", float(current), float(previous), now, limit, window, cost
        )


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))
