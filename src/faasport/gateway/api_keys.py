"""API keys and usage plans as REST APIs enforce them.

A request to a method that requires a key carries it in ``x-api-key``. The store holds only
each key's SHA-256 (:func:`register`), with its name and usage plan. A missing, unknown or
disabled key, or one in no plan, is answered 403 ``{"message":"Forbidden"}``; a key over its
plan's rate (a token bucket per key: ``rate`` per second, ``burst``) 429 ``{"message":"Too
Many Requests"}``; over its quota for the calendar period (UTC day, ISO week, month) 429
``{"message":"Limit Exceeded"}``. ``request.context["api_key"]`` is ``{"apiKey": ...,
"apiKeyId": ...}`` (the key and its name), what REST APIs put in
``requestContext.identity``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from faasport.gateway.ratelimit import too_many
from faasport.gateway.request import LazyStore, Policy, Request, Response

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from faasport.state import Store

PERIODS = ("DAY", "WEEK", "MONTH")
_PREFIX = "apikey:"


@dataclass(frozen=True)
class Plan:
    """A usage plan: per key, ``rate`` requests a second with bursts of ``burst`` (None: no
    throttle) and ``quota`` requests per ``period`` (None: no quota)."""

    name: str
    rate: float | None = None
    burst: int = 1
    quota: int | None = None
    period: str = "DAY"


def digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def register(
    store: Store, value: str, *, name: str, plan: str | None, enabled: bool = True
) -> None:
    """Record key ``value`` (by its hash only) as key ``name`` of usage plan ``plan``."""
    record = {"name": name, "plan": plan, "enabled": enabled}
    store.set(_PREFIX + digest(value), json.dumps(record).encode())


def period_end(period: str, now: datetime) -> tuple[str, datetime]:
    """The calendar period containing ``now`` (UTC): its label and its end."""
    day = datetime(now.year, now.month, now.day, tzinfo=UTC)
    if period == "DAY":
        return day.strftime("%Y-%m-%d"), day + timedelta(days=1)
    if period == "WEEK":
        year, week, weekday = now.isocalendar()
        return f"{year}-W{week:02d}", day + timedelta(days=8 - weekday)
    start = day.replace(day=1)
    end = (
        start.replace(year=start.year + 1, month=1)
        if start.month == 12
        else start.replace(month=start.month + 1)
    )
    return start.strftime("%Y-%m"), end


class ApiKeys(Policy):
    """Requires a valid key of one of ``plans`` (by name) and applies its plan. ``keys``
    (``{value: (name, plan, enabled)}``) are registered in the store on first use, and then
    only they are accepted: a key left out of the configuration stops working even though
    its record stays in the store. Without ``keys``, every key :func:`register` recorded is."""

    def __init__(
        self,
        store: Store | str,
        plans: Mapping[str, Plan],
        *,
        keys: Mapping[str, tuple[str, str | None, bool]] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = LazyStore(store)
        self.plans = dict(plans)
        self._pending = dict(keys or {})
        self._known = None if keys is None else {digest(value) for value in keys}
        self._clock = clock

    def _registered(self) -> Store:
        store = self.store()
        if self._pending:
            for value, (name, plan, enabled) in self._pending.items():
                register(store, value, name=name, plan=plan, enabled=enabled)
            self._pending = {}
        return store

    def check(self, request: Request) -> Response | None:
        value = request.headers.get("x-api-key")
        if not value:
            return Response.message(403, "Forbidden")
        hashed = digest(value)
        store = self._registered()
        if self._known is not None and hashed not in self._known:
            return Response.message(403, "Forbidden")
        record = self._record(store, hashed)
        plan = self.plans.get(record.get("plan") or "") if record else None
        if record is None or plan is None or not record.get("enabled", True):
            return Response.message(403, "Forbidden")
        if plan.rate is not None:
            decision = store.take(f"usage:{plan.name}:{hashed}", rate=plan.rate, burst=plan.burst)
            if not decision.allowed:
                return too_many(decision)
        if plan.quota is not None and not self._within_quota(store, plan, hashed):
            return Response.message(429, "Limit Exceeded")
        request.context["api_key"] = {"apiKey": value, "apiKeyId": record["name"]}
        return None

    @staticmethod
    def _record(store: Store, hashed: str) -> dict[str, Any] | None:
        raw = store.get(_PREFIX + hashed)
        if raw is None:
            return None
        record = json.loads(raw)
        return record if isinstance(record, dict) else None

    def _within_quota(self, store: Store, plan: Plan, hashed: str) -> bool:
        """Count one request against the key's quota for the current period: one counter per
        period, expiring with it, changed by compare-and-set (atomic in every store)."""
        assert plan.quota is not None
        now = self._clock()
        label, end = period_end(plan.period, now)
        key = f"quota:{plan.name}:{hashed}:{label}"
        ttl = max(1.0, (end - now).total_seconds())
        for _ in range(50):
            current = store.get(key)
            used = int(current) if current is not None else 0
            if used >= plan.quota:
                return False
            if store.compare_and_set(key, current, str(used + 1).encode(), ttl):
                return True
        return False
