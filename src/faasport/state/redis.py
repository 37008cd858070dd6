"""``redis://host:port/db`` (``rediss://`` for TLS): a Redis store through redis-py.

Every key lives under ``faasport:``. Rate limits run as Lua scripts, so each decision is
one round trip and atomic; values use Redis's own expiry.

A rate-limit decision is the hot path: its script runs by SHA (``EVALSHA``, loaded once per
connection that finds it missing) on redis-py connections the store keeps itself, with the
request written from bytes prepared once per script. redis-py's own command path (retries,
pool events, metrics hooks) costs more per call than the rest of the decision.
"""

from __future__ import annotations

import hashlib
import math
import os

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
# after an admitted hit, or -1 - the count when refused. Admitting is the common case, so it
# is one INCRBY; a refusal takes the hit back.
_FIXED = """
local cost = tonumber(ARGV[2])
local count = redis.call('INCRBY', KEYS[1], cost)
if count == cost then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
if count <= tonumber(ARGV[1]) then return count end
redis.call('DECRBY', KEYS[1], cost)
return cost - 1 - count
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


class _Script:
    """A Lua script with a fixed number of keys and arguments: the head of its ``EVALSHA``
    request (RESP) built once, each call adding only its keys and arguments."""

    __slots__ = ("head", "source")

    def __init__(self, source: str, keys: int, args: int) -> None:
        self.source = source
        sha = hashlib.sha1(source.encode()).hexdigest().encode()
        self.head = b"*%d\r\n$7\r\nEVALSHA\r\n$40\r\n%s\r\n$%d\r\n%d\r\n" % (
            3 + keys + args,
            sha,
            len(str(keys)),
            keys,
        )

    def request(self, items: tuple[str | int, ...]) -> bytes:
        parts = [self.head]
        for item in items:
            data = item.encode() if isinstance(item, str) else b"%d" % item
            parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
        return b"".join(parts)


_TAKE_SCRIPT = _Script(_TAKE, 1, 4)
_FIXED_SCRIPT = _Script(_FIXED, 1, 3)
_SLIDING_SCRIPT = _Script(_SLIDING, 2, 4)


class RedisStore(Store):
    def __init__(self, url: str, name: str) -> None:
        import redis
        from redis.exceptions import NoScriptError

        self.name = name
        self.errors = (redis.RedisError,)
        try:
            self._redis: Any = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        except (ValueError, *self.errors) as exc:
            raise self.error(exc) from exc
        self._cas_script = self._redis.register_script(_CAS)
        self._pool: Any = self._redis.connection_pool
        self._no_script = NoScriptError
        self._broken = (redis.ConnectionError, redis.TimeoutError)
        #: Idle connections of the scripts' fast path (list append and pop are atomic).
        self._idle: list[Any] = []
        self._pid = os.getpid()

    def close(self) -> None:
        idle, self._idle = self._idle, []
        for connection in idle:
            connection.disconnect()
        self._redis.close()

    def _run(self, script: _Script, items: tuple[str | int, ...]) -> Any:
        """Run ``script`` on an idle connection of this process (a new one if none is). An
        idle connection the server has closed meanwhile is replaced once, as redis-py's own
        retry would."""
        if self._pid != os.getpid():  # forked: the parent's sockets are not ours
            self._idle, self._pid = [], os.getpid()
        request = (script.request(items),)  # a bytes object would be sent int by int
        try:
            connection = self._idle.pop()
        except IndexError:
            return self._send(self._new(), script, request)
        try:
            return self._send(connection, script, request)
        except self._broken:
            return self._send(self._new(), script, request)

    def _new(self) -> Any:
        return self._pool.connection_class(**self._pool.connection_kwargs)

    def _send(self, connection: Any, script: _Script, request: tuple[bytes]) -> Any:
        try:
            try:
                connection.send_packed_command(request, check_health=False)
                reply = connection.read_response()
            except self._no_script:  # a new server, or one that lost its scripts
                connection.send_command("SCRIPT", "LOAD", script.source)
                connection.read_response()
                connection.send_packed_command(request, check_health=False)
                reply = connection.read_response()
        except BaseException:
            connection.disconnect()  # its next reply might be this request's
            raise
        self._idle.append(connection)
        return reply

    def _get(self, key: str, now: float) -> bytes | None:
        value: bytes | None = self._redis.get(PREFIX + key)
        return value

    def _set(self, key: str, value: bytes, expires: float | None) -> None:
        if expires is None:
            self._redis.set(PREFIX + key, value)
        else:
            import time

            self._redis.set(PREFIX + key, value, px=_ms(expires - time.time()))

    def _delete(self, key: str, now: float) -> bool:
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
        items = (PREFIX + key, repr(now), repr(interval), repr((burst + SLACK) * interval), cost)
        allowed, tat = self._run(_TAKE_SCRIPT, items).split()
        return bucket_decision(allowed == b"1", float(tat), now, rate, burst, cost)

    def _fixed(self, key: str, now: float, limit: int, window: float, cost: int) -> Decision:
        index = int(now // window)
        lifetime = _ms((index + 1) * window - now)
        count = self._run(_FIXED_SCRIPT, (f"{PREFIX}{key}:{index}", limit, cost, lifetime))
        if count < 0:
            return fixed_decision(False, -1 - count, now, limit, window, cost)
        return fixed_decision(True, count, now, limit, window, cost)

    def _sliding(self, key: str, now: float, limit: int, window: float, cost: int) -> Decision:
        index = int(now // window)
        lifetime = _ms((index + 2) * window - now)
        weight = 1.0 - (now % window) / window
        items = (f"{PREFIX}{key}:{index}", f"{PREFIX}{key}:{index - 1}", limit, cost, lifetime)
        allowed, current, previous = self._run(_SLIDING_SCRIPT, (*items, repr(weight))).split()
        return sliding_decision(
            allowed == b"1", float(current), float(previous), now, limit, window, cost
        )


def _ms(seconds: float) -> int:
    return max(1, math.ceil(seconds * 1000))
