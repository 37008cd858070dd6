"""Every store operation, against every store (the ``store_url`` table in conftest.py)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import pytest

from faasport import state
from faasport.state.base import VALUE, Sweeps
from faasport.state.memory import MemoryStore
from faasport.state.postgres import PostgresStore
from faasport.state.sqlite import SqliteStore


@pytest.fixture
def store(store_url: str) -> Iterator[state.Store]:
    with state.open(store_url) as opened:
        yield opened


@pytest.fixture
def key() -> str:
    return uuid.uuid4().hex


def wait_for_window(window: float, at: float = 0.05) -> None:
    """Sleep until ``at`` seconds into the next window of ``window`` seconds."""
    now = time.time()
    time.sleep((now // window + 1) * window + at - now)


def test_get_set_delete(store: state.Store, key: str) -> None:
    assert store.get(key) is None
    store.set(key, b"\x00one")
    assert store.get(key) == b"\x00one"
    store.set(key, b"two", ttl=60)
    assert store.get(key) == b"two"
    assert store.delete(key) is True
    assert store.get(key) is None
    assert store.delete(key) is False


def test_expired_values_are_not_read(store: state.Store, key: str) -> None:
    store.set(key, b"short", ttl=0.6)
    store.set(key + "-long", b"long", ttl=30)
    assert store.get(key) == b"short"
    time.sleep(0.7)
    assert store.get(key) is None
    assert store.get(key + "-long") == b"long"
    # What get() does not return, delete() did not find: on every store alike.
    assert store.delete(key) is False
    assert store.delete(key + "-long") is True


def test_values_and_ttls_are_checked(store: state.Store, key: str) -> None:
    with pytest.raises(TypeError, match="bytes, got str"):
        store.set(key, "text")  # type: ignore[arg-type]
    for ttl in (0, -1, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="ttl must be"):
            store.set(key, b"x", ttl=ttl)
        with pytest.raises(ValueError, match="ttl must be"):
            store.begin(key, ttl=ttl)
        with pytest.raises(ValueError, match="ttl must be"):
            store.complete(key, b"x", ttl=ttl)
    assert store.get(key) is None


@pytest.mark.parametrize(
    "bad", ["k" * 1025, "é" * 513, "a\x00b", "lone \ud800", b"bytes", 7], ids=repr
)
def test_keys_every_store_can_hold_or_none(store: state.Store, key: str, bad: object) -> None:
    """A key works on every store or is refused on all alike, before the store is asked."""
    calls = [
        lambda k: store.get(k),
        lambda k: store.set(k, b"x"),
        lambda k: store.delete(k),
        lambda k: store.take(k, rate=1, burst=1),
        lambda k: store.sliding_window(k, limit=1, window=1),
        lambda k: store.begin(k, ttl=1),
    ]
    for call in calls:
        with pytest.raises(ValueError, match="state keys are text of at most 1024 UTF-8 bytes"):
            call(bad)
    longest = key + "k" * (1024 - len(key))
    store.set(longest, b"x", ttl=60)
    assert store.get(longest) == b"x"
    assert store.take(key + "é" * ((1024 - len(key)) // 2), rate=1, burst=1).allowed


def test_compare_and_set(store: state.Store, key: str) -> None:
    assert store.compare_and_set(key, None, b"v1") is True
    assert store.compare_and_set(key, None, b"other") is False
    assert store.compare_and_set(key, b"wrong", b"other") is False
    assert store.get(key) == b"v1"
    assert store.compare_and_set(key, b"v1", b"v2", ttl=0.6) is True
    assert store.get(key) == b"v2"
    time.sleep(0.7)
    # Expired counts as absent, whatever the store has not yet deleted.
    assert store.compare_and_set(key, b"v2", b"v3") is False
    assert store.compare_and_set(key, None, b"v3") is True
    assert store.get(key) == b"v3"


def test_token_bucket_admits_the_burst_then_refills(store: state.Store, key: str) -> None:
    start = time.time()
    decisions = [store.take(key, rate=1, burst=3) for _ in range(4)]
    elapsed = time.time() - start
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    denied = decisions[-1]
    assert denied.limit == 3
    # The first token taken comes back one second after it was taken.
    assert 1.0 - elapsed - 0.01 <= denied.retry_after <= 1.0
    assert 3.0 - elapsed - 0.01 <= denied.reset_after <= 3.0
    time.sleep(denied.retry_after + 0.02)
    assert store.take(key, rate=1, burst=3).allowed
    assert not store.take(key, rate=1, burst=3).allowed


def test_token_bucket_cost(store: state.Store, key: str) -> None:
    start = time.time()
    assert store.take(key, rate=1, burst=10, cost=7).remaining == 3
    denied = store.take(key, rate=1, burst=10, cost=4)
    elapsed = time.time() - start
    assert not denied.allowed and denied.remaining == 3
    assert 1.0 - elapsed - 0.01 <= denied.retry_after <= 1.0
    assert store.take(key, rate=1, burst=10, cost=3).allowed
    with pytest.raises(ValueError, match="cost <= burst"):
        store.take(key, rate=1, burst=10, cost=11)
    with pytest.raises(ValueError, match="rate > 0"):
        store.take(key, rate=0, burst=10)


def test_fixed_window(store: state.Store, key: str) -> None:
    decisions = [store.fixed_window(key, limit=3, window=3600) for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    reset = 3600 - time.time() % 3600
    assert decisions[-1].retry_after == pytest.approx(reset, abs=1)
    assert store.fixed_window(key + "-other", limit=3, window=3600).remaining == 2
    with pytest.raises(ValueError, match="cost <= limit"):
        store.fixed_window(key, limit=3, window=60, cost=4)


def test_fixed_window_starts_again_in_the_next_window(store: state.Store, key: str) -> None:
    wait_for_window(1.0)
    assert [store.fixed_window(key, limit=2, window=1.0).allowed for _ in range(3)] == [
        True,
        True,
        False,
    ]
    wait_for_window(1.0)
    assert store.fixed_window(key, limit=2, window=1.0, cost=2).allowed


def test_sliding_window_weighs_the_previous_window(
    store_url: str, store: state.Store, key: str
) -> None:
    # One window must hold five calls with room to spare: moto serves one request at a time,
    # several times slower on a loaded machine, so its windows are longer.
    w = 3.0 if store_url.startswith("dynamodb:") else 1.0
    wait_for_window(w)
    assert all(store.sliding_window(key, limit=4, window=w).allowed for _ in range(4))
    assert not store.sliding_window(key, limit=4, window=w).allowed
    # Just into the next window nearly all of the previous one still counts: a fixed
    # window would admit here.
    wait_for_window(w, at=0.1 * w)
    start = time.time() // w * w
    denied = store.sliding_window(key, limit=4, window=w)
    assert not denied.allowed
    assert 0.05 * w < denied.retry_after < 0.2 * w
    time.sleep(start + 0.5 * w - time.time())
    # Half of the previous window still counts (4 x 0.5): room for 2 until 0.75 of the way in.
    assert store.sliding_window(key, limit=4, window=w, cost=2).allowed
    assert not store.sliding_window(key, limit=4, window=w).allowed
    assert time.time() % w < 0.75 * w


def test_idempotency_records(store: state.Store, key: str) -> None:
    first = store.begin(key, ttl=30)
    assert first.status == state.STARTED
    assert store.begin(key, ttl=30).status == state.IN_PROGRESS
    store.complete(key, b'{"id": 1}', ttl=30)
    repeat = store.begin(key, ttl=30)
    assert (repeat.status, repeat.result) == (state.COMPLETED, b'{"id": 1}')
    # The records live apart from values of the same name.
    assert store.get(key) is None

    other = key + "-failed"
    assert store.begin(other, ttl=30).status == state.STARTED
    store.abandon(other)
    assert store.begin(other, ttl=30).status == state.STARTED


def test_idempotency_records_expire(store: state.Store, key: str) -> None:
    assert store.begin(key, ttl=0.6).status == state.STARTED
    time.sleep(0.7)
    # The first caller died: after its time is up another may start.
    assert store.begin(key, ttl=30).status == state.STARTED
    store.complete(key, b"done", ttl=0.6)
    assert store.begin(key, ttl=30).status == state.COMPLETED
    time.sleep(0.7)
    assert store.begin(key, ttl=30).status == state.STARTED


def _kept(store: state.Store, key: str) -> bool:
    """Whether the store still holds the value of ``key``, expired or not."""
    if isinstance(store, MemoryStore):
        return VALUE + key in store._items
    if isinstance(store, SqliteStore):
        found = store._db.execute("SELECT 1 FROM faasport_state WHERE key = ?", (VALUE + key,))
        return found.fetchone() is not None
    assert isinstance(store, PostgresStore)
    return store._row(VALUE + key, "1") is not None


def test_expired_entries_are_swept_by_later_writes(store: state.Store, key: str) -> None:
    """Stores that keep expired entries until told delete them now and then as they write
    (Redis and DynamoDB expire them themselves), so sessions' rows do not pile up."""
    if not isinstance(store, MemoryStore | SqliteStore | PostgresStore):
        pytest.skip("the store expires entries itself")
    store._sweeps = Sweeps(every=4)
    store.set(key, b"short", ttl=0.2)
    time.sleep(0.3)
    assert _kept(store, key)
    for n in range(4):
        store.set(f"{key}-{n}", b"kept")
    assert not _kept(store, key)
    assert all(store.get(f"{key}-{n}") == b"kept" for n in range(4))
