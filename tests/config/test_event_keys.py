"""The configuration keys of local event sources: FIFO queues, delay, content-based
deduplication, batching windows and schedule time zones; each mistake is one line naming the
file and the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from config_text import config_error, load_config
from faasport.config import QueueEvent, ScheduleEvent
from faasport.config.model import DynamoTable, StreamEvent

WORKER = '[functions.w]\nhandler = "a:b"\ntimeout = 5\n'


def load(tmp_path: Path, text: str) -> object:
    return load_config(tmp_path, 'name = "t"\n' + text)


def error(tmp_path: Path, text: str) -> str:
    return config_error(tmp_path, 'name = "t"\n' + text)


def test_fifo_queue_with_its_keys(tmp_path: Path) -> None:
    project = load(
        tmp_path,
        '[queues."jobs.fifo"]\ncontent_dedup = true\ndelay = 5\ndlq = "dead.fifo"\n'
        + WORKER
        + 'events = [{ queue = "jobs.fifo", batch = 10, window = 2 }]\n',
    )
    queue = project.queues["jobs.fifo"]  # type: ignore[attr-defined]
    assert (queue.fifo, queue.content_dedup, queue.delay, queue.dlq) == (
        True,
        True,
        5,
        "dead.fifo",
    )
    [event] = project.functions["w"].events  # type: ignore[attr-defined]
    assert event == QueueEvent("jobs.fifo", 10, 2)


def test_schedule_time_zone(tmp_path: Path) -> None:
    project = load(
        tmp_path,
        WORKER + 'events = [{ schedule = "cron(0 3 * * ? *)", timezone = "Asia/Tokyo" }]\n',
    )
    assert project.functions["w"].events == (  # type: ignore[attr-defined]
        ScheduleEvent("cron(0 3 * * ? *)", "Asia/Tokyo"),
    )


def test_tables_and_their_stream_mappings(tmp_path: Path) -> None:
    project = load(
        tmp_path,
        '[tables.orders]\nkey = "customer"\nsort_key = "n"\nsort_type = "N"\n'
        '[tables."audit.log"]\nkey = "id"\nstream = "KEYS_ONLY"\n'
        + WORKER
        + 'events = [{ table = "orders", batch = 5, bisect = true }, { stream = "orders" }]\n',
    )
    assert dict(project.tables) == {  # type: ignore[attr-defined]
        "orders": DynamoTable("orders", "customer", "S", "n", "N", "NEW_AND_OLD_IMAGES"),
        "audit.log": DynamoTable("audit.log", "id", stream="KEYS_ONLY"),
    }
    # A table's stream and a Kinesis stream of the same name are two sources.
    assert project.functions["w"].streams == (  # type: ignore[attr-defined]
        StreamEvent("orders", "dynamodb", batch=5, bisect=True),
        StreamEvent("orders"),
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[tables.orders]\n",
            "faasport.toml: tables.orders.key: is required: the partition key's attribute name, "
            'like "id"',
        ),
        (
            '[tables.orders]\nkey = "id"\nkey_type = "X"\n',
            'faasport.toml: tables.orders.key_type: must be "S" (string), "N" (number) or "B" '
            '(binary), got "X"',
        ),
        (
            '[tables.orders]\nkey = "id"\nstream = "ALL"\n',
            "faasport.toml: tables.orders.stream: must be KEYS_ONLY, NEW_IMAGE, OLD_IMAGE or "
            'NEW_AND_OLD_IMAGES, got "ALL"',
        ),
        (
            WORKER + 'events = [{ table = "orders" }]\n',
            'faasport.toml: functions.w.events: table "orders" is not defined (defined: none); '
            "add [tables.orders] with its key",
        ),
        (
            '[tables.orders]\nkey = "id"\n'
            + WORKER
            + 'events = [{ table = "orders", batch = 1001 }]\n',
            "faasport.toml: functions.w.events[0].batch: must be an integer from 1 to 1000, "
            "got 1001",
        ),
        (
            "[queues.jobs]\ncontent_dedup = true\n",
            'faasport.toml: queues.jobs.content_dedup: is for FIFO queues (named "NAME.fifo")',
        ),
        (
            '[queues.jobs]\ndlq = "dead.fifo"\n',
            "faasport.toml: queues.jobs.dlq: the dead-letter queue of a standard queue is "
            'standard too, got "dead.fifo"',
        ),
        (
            "[queues.jobs]\ndelay = 901\n",
            "faasport.toml: queues.jobs.delay: must be an integer from 0 to 900, got 901",
        ),
        (
            '[queues."jobs.fifo"]\ncontent_dedup = "yes"\n',
            'faasport.toml: queues."jobs.fifo".content_dedup: must be true or false, got "yes"',
        ),
        (
            "[queues.jobs]\n" + WORKER + 'events = [{ queue = "jobs", window = 301 }]\n',
            "faasport.toml: functions.w.events[0].window: must be an integer from 0 to 300, "
            "got 301",
        ),
        (
            '[queues."jobs.fifo"]\n' + WORKER + 'events = [{ queue = "jobs.fifo", batch = 11 }]\n',
            "faasport.toml: functions.w.events[0].batch: must be an integer from 1 to 10, got 11",
        ),
        (
            WORKER + 'events = [{ schedule = "rate(1 day)", timezone = "Mars/Olympus" }]\n',
            'faasport.toml: functions.w.events[0].timezone: unknown time zone "Mars/Olympus"; '
            'use an IANA name like "Europe/Paris"',
        ),
    ],
)
def test_mistakes_name_file_and_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, expected: str
) -> None:
    monkeypatch.chdir(tmp_path)  # the file is named relative to the working directory
    assert error(tmp_path, text) == expected


def test_a_fifo_queue_gets_a_fifo_dead_letter_queue(tmp_path: Path) -> None:
    project = load(tmp_path, '[queues."jobs.fifo"]\n[queues.mail]\n')
    assert project.queues["jobs.fifo"].dlq == "jobs-dlq.fifo"  # type: ignore[attr-defined]
    assert project.queues["mail"].dlq == "mail-dlq"  # type: ignore[attr-defined]
