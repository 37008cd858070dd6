"""Local SQS queues on a real SQLite database, with a clock the tests move."""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

import pytest

from faasport.local.sources.queues import Outgoing, QueueError, Queues, QueueSpec
from faasport.local.sources.store import Store


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def make(tmp_path: Path, clock: Clock, *specs: QueueSpec) -> Queues:
    store = Store(tmp_path / "events.db").open()
    return Queues(store, {spec.name: spec for spec in specs}, clock)


def test_a_received_message_reappears_after_its_visibility_timeout(
    tmp_path: Path, clock: Clock
) -> None:
    queues = make(tmp_path, clock, QueueSpec("jobs", visibility_timeout=30))
    sent = queues.send(
        "jobs", "hello", attributes={"k": {"DataType": "String", "StringValue": "v"}}
    )
    [first] = queues.receive("jobs", 10)
    assert (first.id, first.body, first.receives) == (sent.id, "hello", 1)
    assert first.attributes == {"k": {"DataType": "String", "StringValue": "v"}}
    assert queues.receive("jobs", 10) == []
    clock.now += 30
    [again] = queues.receive("jobs", 10)
    assert (again.id, again.receives) == (sent.id, 2)
    assert again.receipt != first.receipt
    assert queues.delete("jobs", [first.receipt]) == 0  # a stale receipt deletes nothing
    assert queues.delete("jobs", [again.receipt]) == 1
    clock.now += 60
    assert queues.receive("jobs", 10) == []


def test_messages_survive_a_reopened_database(tmp_path: Path, clock: Clock) -> None:
    queues = make(tmp_path, clock, QueueSpec("jobs"))
    queues.send("jobs", "kept")
    queues.receive("jobs", 1)
    queues.store.close()
    reopened = make(tmp_path, clock, QueueSpec("jobs"))
    clock.now += 30
    assert [m.body for m in reopened.receive("jobs", 10)] == ["kept"]


def test_after_max_receive_a_message_moves_to_the_dlq(tmp_path: Path, clock: Clock) -> None:
    queues = make(
        tmp_path,
        clock,
        QueueSpec("jobs", visibility_timeout=1, max_receive=2, dlq="dead"),
        QueueSpec("dead"),
    )
    sent = queues.send("jobs", "poison")
    for _ in range(2):
        assert len(queues.receive("jobs", 10)) == 1
        clock.now += 1
    assert queues.receive("jobs", 10) == []
    assert [(id, body) for id, body, _ in queues.peek("dead")] == [(sent.id, "poison")]
    assert queues.redrive("jobs") == 1
    assert [m.id for m in queues.receive("jobs", 10)] == [sent.id]


def test_fifo_groups_are_delivered_in_order_one_batch_at_a_time(
    tmp_path: Path, clock: Clock
) -> None:
    queues = make(tmp_path, clock, QueueSpec("jobs.fifo", visibility_timeout=5))
    for i in range(3):
        queues.send("jobs.fifo", f"a{i}", group="a", dedup=f"a{i}")
    queues.send("jobs.fifo", "b0", group="b", dedup="b0")
    first = queues.receive("jobs.fifo", 2)
    assert [m.body for m in first] == ["a0", "a1"]
    # Group a has messages in flight: only b is handed out.
    assert [m.body for m in queues.receive("jobs.fifo", 10)] == ["b0"]
    queues.delete("jobs.fifo", [m.receipt for m in first])
    assert [m.body for m in queues.receive("jobs.fifo", 10)] == ["a2"]


def test_fifo_deduplicates_within_five_minutes(tmp_path: Path, clock: Clock) -> None:
    queues = make(tmp_path, clock, QueueSpec("jobs.fifo", content_dedup=True))
    first = queues.send("jobs.fifo", "x", group="g", dedup="d1")
    again = queues.send("jobs.fifo", "other body", group="g", dedup="d1")
    assert (again.id, again.duplicate) == (first.id, True)
    by_body = queues.send("jobs.fifo", "x", group="g")
    assert not by_body.duplicate
    assert queues.send("jobs.fifo", "x", group="g").duplicate
    clock.now += 301
    assert not queues.send("jobs.fifo", "x", group="g", dedup="d1").duplicate
    assert queues.counts("jobs.fifo")["visible"] == 3


def test_delay_holds_a_message_back(tmp_path: Path, clock: Clock) -> None:
    queues = make(tmp_path, clock, QueueSpec("jobs", delay=10))
    queues.send("jobs", "late")
    queues.send("jobs", "now", delay=0)
    assert [m.body for m in queues.receive("jobs", 10)] == ["now"]
    assert queues.counts("jobs") == {"visible": 0, "in_flight": 1, "delayed": 1}
    clock.now += 10
    assert [m.body for m in queues.receive("jobs", 10)] == ["late"]


@pytest.mark.parametrize(
    ("queue", "kwargs", "code", "message"),
    [
        ("nope", {}, "AWS.SimpleQueueService.NonExistentQueue", 'queue "nope" does not exist'),
        ("jobs", {"group": "g"}, "InvalidParameterValue", "are for FIFO queues"),
        ("jobs", {"delay": 901}, "InvalidParameterValue", "delay must be 0 to 900"),
        ("jobs.fifo", {}, "MissingParameter", "needs a message group id"),
        ("jobs.fifo", {"group": "g"}, "InvalidParameterValue", "needs a deduplication id"),
        ("jobs.fifo", {"group": "g", "dedup": "d", "delay": 5}, "InvalidParameterValue", "delay"),
    ],
)
def test_refused_sends_name_the_problem(
    tmp_path: Path, clock: Clock, queue: str, kwargs: dict[str, object], code: str, message: str
) -> None:
    queues = make(tmp_path, clock, QueueSpec("jobs"), QueueSpec("jobs.fifo"))
    with pytest.raises(QueueError, match=message) as info:
        queues.send(queue, "body", **kwargs)  # type: ignore[arg-type]
    assert info.value.code == code


def test_purge_empties_a_queue(tmp_path: Path, clock: Clock) -> None:
    queues = make(tmp_path, clock, QueueSpec("jobs"))
    for i in range(3):
        queues.send("jobs", str(i))
    assert queues.purge("jobs") == 3
    assert queues.receive("jobs", 10) == []


def test_a_send_between_an_empty_receive_and_the_wait_is_not_missed(
    tmp_path: Path, clock: Clock
) -> None:
    queues = make(tmp_path, clock, QueueSpec("jobs"))
    since = queues.version("jobs")
    assert queues.receive("jobs", 10) == []
    queues.send("jobs", "x")  # before the consumer waits: the wait must not block
    waiter = threading.Thread(target=queues.wait, args=("jobs", 30.0, since))
    waiter.start()
    waiter.join(timeout=5)
    assert not waiter.is_alive()
    assert [m.body for m in queues.receive("jobs", 10)] == ["x"]
    with pytest.raises(QueueError, match='queue "nope" does not exist'):
        queues.version("nope")


def test_message_ids_are_version_4_uuids(tmp_path: Path, clock: Clock) -> None:
    queues = make(tmp_path, clock, QueueSpec("jobs"))
    sent = queues.send_batch("jobs", [Outgoing(f"m{i}") for i in range(200)])
    ids = [uuid.UUID(s.id) for s in sent if not isinstance(s, QueueError)]
    assert len({str(i) for i in ids}) == 200
    assert all(i.version == 4 and i.variant == uuid.RFC_4122 for i in ids)
    assert [str(i) for i in ids] == [s.id for s in sent if not isinstance(s, QueueError)]


def test_a_backlog_is_received_oldest_first_around_messages_in_flight(
    tmp_path: Path, clock: Clock
) -> None:
    queues = make(tmp_path, clock, QueueSpec("jobs", visibility_timeout=10))
    queues.send_batch("jobs", [Outgoing(f"m{i}") for i in range(30)])
    first = queues.receive("jobs", 10)
    second = queues.receive("jobs", 10)
    queues.delete("jobs", [m.receipt for m in second])
    assert [m.body for m in queues.receive("jobs", 10)] == [f"m{i}" for i in range(20, 30)]
    clock.now += 11  # the first batch was never deleted: it comes back first
    assert [m.body for m in queues.receive("jobs", 10)] == [m.body for m in first]


def test_a_receive_first_deletes_the_batch_its_poller_is_done_with(
    tmp_path: Path, clock: Clock
) -> None:
    queues = make(tmp_path, clock, QueueSpec("jobs", visibility_timeout=10))
    for i in range(4):
        queues.send("jobs", f"m{i}")
    first = queues.receive("jobs", 2)
    clock.now += 10  # the first batch's receipts are stale: their messages are visible again
    again = queues.receive("jobs", 2)
    assert [m.body for m in again] == ["m0", "m1"]
    # A stale receipt deletes nothing; the current ones delete their messages, in the same
    # write that takes the next batch.
    nxt = queues.receive("jobs", 10, done=[m.receipt for m in first] + [again[0].receipt])
    assert [m.body for m in nxt] == ["m2", "m3"]
    clock.now += 10
    assert [m.body for m in queues.receive("jobs", 10)] == ["m1", "m2", "m3"]


def test_a_waiting_poller_on_a_loop_wakes_for_a_send_from_another_thread(
    tmp_path: Path, clock: Clock
) -> None:
    import asyncio

    queues = make(tmp_path, clock, QueueSpec("jobs"))

    async def poll() -> list[str]:
        since = queues.version("jobs")
        assert queues.receive("jobs", 10) == []
        sender = threading.Timer(0.05, queues.send, args=("jobs", "x"))
        sender.start()
        await asyncio.wait_for(queues.wait_async("jobs", 30.0, since), timeout=5)
        return [m.body for m in queues.receive("jobs", 10)]

    assert asyncio.run(poll()) == ["x"]


def test_a_waiting_poller_on_a_loop_does_not_miss_a_send_before_its_wait(
    tmp_path: Path, clock: Clock
) -> None:
    import asyncio

    queues = make(tmp_path, clock, QueueSpec("jobs"))

    async def poll() -> None:
        since = queues.version("jobs")
        queues.send("jobs", "x")  # between the empty receive and the wait
        await asyncio.wait_for(queues.wait_async("jobs", 30.0, since), timeout=1)

    asyncio.run(poll())
    assert queues._waiters["jobs"].futures == []
