"""``faasport events generate`` for streams and buses, and sample bodies by default; each
generated event is read back by ``events.records`` and the real boto3 deserializer."""

from __future__ import annotations

import json
from decimal import Decimal

from boto3.dynamodb.types import TypeDeserializer
from click.testing import CliRunner

from faasport import events
from faasport.cli.main import main
from faasport.testing.events import SAMPLE_BODIES


def generate(*args: str) -> dict[str, object]:
    result = CliRunner().invoke(main, ["events", "generate", *args])
    assert result.exit_code == 0, result.output
    generated: dict[str, object] = json.loads(result.stdout)
    return generated


def test_kinesis_records_in_order() -> None:
    records = events.records(generate("kinesis", "--body", "one", "--body", "two", "--name", "s"))
    assert [(r.text, r.channel) for r in records] == [("one", "s"), ("two", "s")]  # type: ignore[union-attr]
    sequences = [r.sequence for r in records]  # type: ignore[union-attr]
    assert sequences == sorted(sequences)


def test_dynamodb_items_as_boto3_reads_them() -> None:
    event = generate("dynamodb", "--body", '{"id": "o-1", "total": 42.5, "tags": ["a"]}')
    [record] = events.records(event)
    assert isinstance(record, events.ChangeRecord)
    assert record.new == {"id": "o-1", "total": Decimal("42.5"), "tags": ["a"]}
    assert record.keys == {"id": "o-1"}
    image = event["Records"][0]["dynamodb"]["NewImage"]  # type: ignore[index]
    assert {k: TypeDeserializer().deserialize(v) for k, v in image.items()} == record.new


def test_eventbridge_custom_event() -> None:
    [record] = events.records(generate("eventbridge", "--body", '{"a": 1}', "--name", "app.x"))
    assert isinstance(record, events.BusEvent)
    assert (record.event_source, record.detail) == ("app.x", {"a": 1})


def test_without_a_body_a_sample_is_used() -> None:
    for source in ("sqs", "sns", "kinesis"):
        [record] = events.records(generate(source))
        assert record.text == SAMPLE_BODIES[source]  # type: ignore[union-attr]
    [change] = events.records(generate("dynamodb"))
    assert change.new == json.loads(SAMPLE_BODIES["dynamodb"], parse_float=Decimal)  # type: ignore[union-attr]


def test_bodies_that_are_not_items_are_usage_errors() -> None:
    result = CliRunner().invoke(main, ["events", "generate", "eventbridge", "--body", "x"])
    assert result.exit_code == 2
    assert "is not a JSON object" in result.output
