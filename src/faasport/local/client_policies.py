"""A function's per-client policies from its configuration: ``rate_limit`` (a sliding window
per source address, JWT subject or API key) and ``idempotency`` (repeats replayed), both
keeping their records in ``[state] url``. They run after the authorizer and throttles, so a
rate limit by ``sub`` sees the verified subject and a replay is never counted twice."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from faasport.config.model import Function
    from faasport.gateway.request import Policy


def client_policies(function: Function, store: str) -> list[Policy]:
    found: list[Policy] = []
    limit = function.rate_limit
    if limit is not None:
        from faasport.gateway.ratelimit import RateLimit

        found.append(
            RateLimit(store, rate=limit.rate, per=limit.per, by=limit.by, name=function.name)
        )
    idempotency = function.idempotency
    if idempotency is not None:
        from faasport.gateway.idempotency import Idempotency

        found.append(
            Idempotency(
                store,
                ttl=idempotency.ttl,
                # A first request may run as long as the function may.
                in_flight=float(function.timeout),
                payload_hash=idempotency.payload_hash,
                methods=idempotency.methods,
            )
        )
    return found
