"""``faasport events generate`` for streams and buses, and sample bodies by default; each
generated event is read back by ``events.records`` and the real boto3 deserializer."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal

import pytest
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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["s3", "--key", "a.txt", "--method", "POST"], "--method does not apply to s3 events"),
        (["sqs", "--path", "/x"], "--path does not apply to sqs events"),
        (["schedule", "--header", "a:b"], "--header does not apply to schedule events"),
        (["sns", "--query", "a=b"], "--query does not apply to sns events"),
        (["alb", "--trigger", "origin-request"], "--trigger does not apply to alb events"),
        (["apigw-v2", "--name", "jobs"], "--name does not apply to apigw-v2 events"),
        (["function-url", "--key", "a"], "--key does not apply to function-url events"),
        (["sqs", "--removed"], "--removed does not apply to sqs events"),
        (["schedule", "--body", "x"], "--body does not apply to schedule events"),
        (["s3", "--key", "a", "--body", "x"], "--body does not apply to s3 events"),
    ],
)
def test_an_option_that_does_not_apply_is_refused(args: list[str], message: str) -> None:
    result = CliRunner().invoke(main, ["events", "generate", *args])
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and errors[0].startswith(f"Error: {message} (only to ")
    assert result.stdout == ""


def test_options_that_apply_are_taken() -> None:
    assert generate("s3", "--key", "a", "--removed", "--name", "b")["Records"]
    (sample,) = generate("s3")["Records"]  # a sample, as for every source
    assert sample["s3"]["object"]["key"] == "in/example.txt"
    edge = generate("edge", "--trigger", "origin-request", "--method", "POST", "--body", "x")
    assert edge["Records"]


def test_a_refused_option_in_a_real_process() -> None:
    process = subprocess.run(
        [sys.executable, "-m", "faasport.cli.main", "events", "generate", "s3", "--method", "PUT"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert process.returncode == 2
    assert process.stderr.splitlines()[-1] == (
        "Error: --method does not apply to s3 events (only to HTTP sources)"
    )
    assert "Traceback" not in process.stderr
