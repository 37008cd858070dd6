"""API keys and usage plans on a real store (SQLite in a temporary directory): 403 for a
missing, unknown, disabled or unplanned key, 429 over the rate or the quota, quotas per
calendar period, and keys kept only as hashes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from faasport import state
from faasport.gateway.api_keys import ApiKeys, Plan, digest, period_end
from faasport.gateway.request import Request, Response
from faasport.state import Store

GOLD = "gold-key-0123456789abcdef"
SILVER = "silver-key-0123456789abcdef"
OFF = "disabled-key-0123456789abcdef"
LOOSE = "unplanned-key-0123456789abcdef"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with state.open(f"sqlite:///{tmp_path / 'state.db'}") as opened:
        yield opened


def keys_policy(store: Store, now: list[datetime] | None = None, **plans: Plan) -> ApiKeys:
    clock = (lambda: now[0]) if now else (lambda: datetime.now(UTC))
    keys = {
        GOLD: ("partner", "gold", True),
        SILVER: ("reader", "silver", True),
        OFF: ("old", "gold", False),
        LOOSE: ("loose", None, True),
    }
    return ApiKeys(
        store, plans or {"gold": Plan("gold"), "silver": Plan("silver")}, keys=keys, clock=clock
    )


def call(policy: ApiKeys, key: str | None) -> Response | None:
    headers = {"x-api-key": key} if key is not None else {}
    return policy.check(Request("GET", "/items", headers))


def message(response: Response | None) -> tuple[int, str]:
    assert response is not None
    return response.status, json.loads(response.body)["message"]


def test_a_key_of_a_plan_passes_and_the_app_learns_which(store: Store) -> None:
    policy = keys_policy(store)
    view = Request("GET", "/items", {"x-api-key": GOLD})
    assert policy.check(view) is None
    assert view.context["api_key"] == {"apiKey": GOLD, "apiKeyId": "partner"}


@pytest.mark.parametrize("key", [None, "", "not-a-key-0123456789abcdef", OFF, LOOSE])
def test_missing_unknown_disabled_and_unplanned_keys_are_403(store: Store, key: str | None) -> None:
    assert message(call(keys_policy(store), key)) == (403, "Forbidden")


def test_the_store_holds_hashes_not_keys(store: Store, tmp_path: Path) -> None:
    call(keys_policy(store), GOLD)
    raw = (tmp_path / "state.db").read_bytes()
    assert GOLD.encode() not in raw
    assert store.get("apikey:" + digest(GOLD)) is not None


def test_a_key_dropped_from_the_configuration_stops_working(store: Store) -> None:
    call(keys_policy(store), SILVER)  # registered once
    keys = {GOLD: ("partner", "gold", True)}
    policy = ApiKeys(store, {"gold": Plan("gold"), "silver": Plan("silver")}, keys=keys)
    assert message(call(policy, SILVER)) == (403, "Forbidden")
    assert call(policy, GOLD) is None


def test_over_the_plan_rate_is_429_too_many_requests_per_key(store: Store) -> None:
    policy = keys_policy(store, gold=Plan("gold", rate=0.001, burst=2), silver=Plan("silver"))
    assert call(policy, GOLD) is None
    assert call(policy, GOLD) is None
    refused = call(policy, GOLD)
    assert message(refused) == (429, "Too Many Requests")
    assert refused is not None and refused.header("retry-after") is not None
    assert call(policy, SILVER) is None  # another key, another bucket


def test_over_the_quota_is_429_limit_exceeded_until_the_next_period(store: Store) -> None:
    now = [datetime(2026, 11, 28, 23, 59, tzinfo=UTC)]
    policy = keys_policy(
        store, now, gold=Plan("gold", quota=3, period="DAY"), silver=Plan("silver")
    )
    assert [call(policy, GOLD) for _ in range(3)] == [None, None, None]
    assert message(call(policy, GOLD)) == (429, "Limit Exceeded")
    now[0] = datetime(2026, 11, 29, 0, 0, 1, tzinfo=UTC)
    assert call(policy, GOLD) is None


@pytest.mark.parametrize(
    ("period", "now", "label", "end"),
    [
        (
            "DAY",
            datetime(2026, 11, 28, 18, 0, tzinfo=UTC),
            "2026-11-28",
            datetime(2026, 11, 29, tzinfo=UTC),
        ),
        (
            "WEEK",
            datetime(2026, 11, 28, 18, 0, tzinfo=UTC),
            "2026-W48",
            datetime(2026, 11, 30, tzinfo=UTC),
        ),
        (
            "WEEK",
            datetime(2026, 11, 30, 0, 0, tzinfo=UTC),
            "2026-W49",
            datetime(2026, 12, 7, tzinfo=UTC),
        ),
        (
            "MONTH",
            datetime(2026, 12, 31, 23, 0, tzinfo=UTC),
            "2026-12",
            datetime(2027, 1, 1, tzinfo=UTC),
        ),
        ("MONTH", datetime(2026, 2, 3, tzinfo=UTC), "2026-02", datetime(2026, 3, 1, tzinfo=UTC)),
    ],
)
def test_quota_periods_are_calendar_periods_in_utc(
    period: str, now: datetime, label: str, end: datetime
) -> None:
    assert period_end(period, now) == (label, end)
