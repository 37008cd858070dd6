"""``sends``: the topics, streams and queues a function sends to, checked against what the
project defines, and the environment variable each one's address is given in."""

from __future__ import annotations

from pathlib import Path

import pytest

from config_text import config_error, load_config
from faasport.config.model import Send

PROJECT = """
name = "shop"

[queues.jobs]

[topics.order-paid]

[functions.reader]
handler = "shop:read"
events = [{ stream = "clicks" }, { topic = "refunds" }]

[functions.api]
handler = "shop:api"
"""


def test_targets_of_every_kind_with_their_variables(tmp_path: Path) -> None:
    project = load_config(
        tmp_path,
        PROJECT + 'sends = ["topic:order-paid", "topic:refunds", "stream:clicks", "queue:jobs", '
        '"queue:jobs"]\n',
    )
    sends = project.functions["api"].sends
    assert sends == (
        Send("topic", "order-paid"),
        Send("topic", "refunds"),
        Send("stream", "clicks"),
        Send("queue", "jobs"),
    )
    assert [send.variable for send in sends] == [
        "FAASPORT_TOPIC_ORDER_PAID",
        "FAASPORT_TOPIC_REFUNDS",
        "FAASPORT_STREAM_CLICKS",
        "FAASPORT_QUEUE_JOBS",
    ]
    assert project.functions["reader"].sends == ()


@pytest.mark.parametrize(
    ("sends", "message"),
    [
        (
            '["topic:orders"]',
            'functions.api.sends[0]: no topic "orders" in the project (order-paid, refunds); '
            "add a [topics.orders] table",
        ),
        (
            '["queue:jobs", "stream:views"]',
            'functions.api.sends[1]: no stream "views" in the project (clicks); add a function '
            'with events = [{ stream = "views" }]',
        ),
        (
            '["queue:mail"]',
            'functions.api.sends[0]: no queue "mail" in the project (jobs); add a [queues.mail] '
            "table",
        ),
        (
            '["bucket:uploads"]',
            'functions.api.sends[0]: must be "topic:NAME", "stream:NAME" or "queue:NAME", like '
            '"topic:orders", got "bucket:uploads"',
        ),
        ('["jobs"]', 'functions.api.sends[0]: must be "topic:NAME"'),
        ('"queue:jobs"', "functions.api.sends: must be"),
    ],
)
def test_unknown_targets_are_one_line_naming_the_entry(
    tmp_path: Path, sends: str, message: str
) -> None:
    error = config_error(tmp_path, PROJECT + f"sends = {sends}\n")
    assert error.startswith(f"{tmp_path / 'faasport.toml'}: {message}"), error


def test_a_table_stream_is_not_a_stream_to_send_to(tmp_path: Path) -> None:
    config = PROJECT.replace(
        'events = [{ stream = "clicks" }, { topic = "refunds" }]',
        'events = [{ stream = "clicks" }, { table = "orders" }]',
    )
    error = config_error(
        tmp_path, config + 'sends = ["stream:orders"]\n[tables.orders]\nkey = "id"\n'
    )
    assert 'functions.api.sends[0]: no stream "orders" in the project (clicks)' in error
