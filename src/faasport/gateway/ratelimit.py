"""Throttling (a token bucket per function or route, as API Gateway's ``throttle = {rate,
burst}``) and per-client rate limits (``rate_limit = {rate, per, by}``), on a state store.

Over the limit: 429 ``{"message":"Too Many Requests"}`` with ``Retry-After``. Rate limits
also tell every response the client's quota in ``RateLimit-Limit``, ``RateLimit-Remaining``
and ``RateLimit-Reset`` (seconds), as the IETF RateLimit header fields draft writes them.
"""

from __future__ import annotations

import math

from faasport.core.errors import ConfigError
from faasport.gateway.request import LazyStore, Policy, Request, Response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from faasport.state import Decision, Store

#: ``per`` names and their seconds.
PERIODS = {"second": 1.0, "minute": 60.0, "hour": 3600.0, "day": 86400.0}
#: What a client is counted by.
CLIENT_KEYS = ("ip", "sub", "api_key")


def too_many(decision: Decision) -> Response:
    return Response.message(
        429, "Too Many Requests", [("retry-after", str(max(1, math.ceil(decision.retry_after))))]
    )


class Throttle(Policy):
    """At most ``burst`` requests at once and ``rate`` per second on average, for all
    clients together; ``name`` keeps the buckets of several functions or routes apart."""

    def __init__(self, store: Store | str, *, rate: float, burst: int, name: str = "") -> None:
        if not rate > 0 or burst < 1:
            raise ConfigError(f"throttle: need rate > 0 and burst >= 1, got {rate} and {burst}")
        self.store = LazyStore(store)
        self.rate = rate
        self.burst = burst
        self.key = f"throttle:{name}"

    def check(self, request: Request) -> Response | None:
        decision = self.store().take(self.key, rate=self.rate, burst=self.burst)
        return None if decision.allowed else too_many(decision)


class RateLimit(Policy):
    """At most ``rate`` requests per ``per`` (a :data:`PERIODS` name or seconds) for each
    client, counted by ``by``: ``"ip"`` (the source address), ``"sub"`` (the JWT subject:
    put a :class:`~faasport.gateway.jwt.JwtAuthorizer` before this policy) or ``"api_key"``
    (the key an :class:`~faasport.gateway.api_keys.ApiKeys` policy before this one verified:
    a key nobody verified is whatever the client made up, so it counts for nothing). A
    request without a subject or verified key counts by its address.
    A sliding window: no double burst at window edges."""

    def __init__(
        self,
        store: Store | str,
        *,
        rate: int,
        per: str | float = "minute",
        by: str = "ip",
        name: str = "",
    ) -> None:
        window = PERIODS.get(per) if isinstance(per, str) else float(per)
        if window is None or not window > 0:
            raise ConfigError(f"rate_limit.per must be one of {', '.join(PERIODS)} or seconds > 0")
        if by not in CLIENT_KEYS:
            raise ConfigError(f"rate_limit.by must be one of {', '.join(CLIENT_KEYS)}, got {by!r}")
        if rate < 1:
            raise ConfigError(f"rate_limit.rate must be >= 1, got {rate}")
        self.store = LazyStore(store)
        self.rate = rate
        self.window = window
        self.by = by
        self.name = name

    def client(self, request: Request) -> str:
        if self.by == "sub":
            jwt = request.context.get("authorizer", {}).get("jwt", {})
            subject = jwt.get("claims", {}).get("sub")
            if isinstance(subject, str) and subject:
                if len(subject) <= 128:
                    return "sub:" + subject
                import hashlib  # an issuer's long subject: within any store's key size

                return "sub#" + hashlib.sha256(subject.encode("utf-8", "replace")).hexdigest()
        elif self.by == "api_key":
            verified = request.context.get("api_key")
            key = verified.get("apiKey") if isinstance(verified, dict) else None
            if isinstance(key, str) and key:
                import hashlib

                # Keys are secrets: the store sees only their hash.
                return "key:" + hashlib.sha256(key.encode()).hexdigest()
        return "ip:" + request.source_ip

    def check(self, request: Request) -> Response | None:
        key = f"rate:{self.name}:{self.client(request)}"
        decision = self.store().sliding_window(key, limit=self.rate, window=self.window)
        request.context[self] = decision
        return None if decision.allowed else too_many(decision)

    def finish(self, request: Request, response: Response) -> None:
        decision: Decision | None = request.context.get(self)
        if decision is not None:
            response.headers += [
                ("ratelimit-limit", str(decision.limit)),
                ("ratelimit-remaining", str(decision.remaining)),
                ("ratelimit-reset", str(math.ceil(decision.reset_after))),
            ]
