"""Topics and the event bus through a real ``faasport dev``: fan-out to functions and queues
with SNS filter policies and raw delivery, EventBridge rules with patterns, all reached with
boto3 from outside and from inside a function."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from dev_process import Dev, wait_for

CONFIG = textwrap.dedent(
    """
    name = "fanout"

    [queues.audit]
    [queues.raw]

    [topics.orders]
    queues = [
      { queue = "audit" },
      { queue = "raw", raw = true, filter = { kind = ["refund"] } },
    ]

    [functions.big]
    handler = "app:note"
    events = [{ topic = "orders", filter = { total = [{ numeric = [">=", 100] }] } }]

    [functions.all]
    handler = "app:note"
    events = [{ topic = "orders" }]

    [functions.paid]
    handler = "app:note"
    events = [
      { bus = "default", pattern = { source = ["app.orders"], detail = { status = ["paid"] } } },
    ]

    [functions.emitter]
    handler = "app:emit"
    timeout = 10
    """
)

APP = textwrap.dedent(
    """
    import json, os
    from pathlib import Path

    import boto3
    from faasport import events

    def note(event, context):
        for record in events.records(event):
            text = record.text if isinstance(record, events.Message) else json.dumps(record.detail)
            with Path(__file__).with_name("seen.log").open("a") as out:
                out.write(json.dumps([os.environ["AWS_LAMBDA_FUNCTION_NAME"], text]) + "\\n")

    def emit(event, context):
        sns = boto3.client("sns")
        arn = sns.create_topic(Name="orders")["TopicArn"]
        sns.publish(TopicArn=arn, Message="from-inside", MessageAttributes={
            "total": {"DataType": "Number", "StringValue": "500"}})
        detail = json.dumps({"status": "paid", "n": 2})
        boto3.client("events").put_events(Entries=[{
            "Source": "app.orders", "DetailType": "Order", "Detail": detail}])
        return {}
    """
)


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Dev]]:
    root = tmp_path_factory.mktemp("fanout")
    (root / "faasport.toml").write_text(CONFIG)
    (root / "app.py").write_text(APP)
    dev = Dev(root, "--no-reload")
    try:
        yield root, dev
    finally:
        dev.close()


def seen(root: Path) -> list[tuple[str, str]]:
    log = root / "seen.log"
    if not log.exists():
        return []
    return [tuple(json.loads(line)) for line in log.read_text().splitlines()]  # type: ignore[misc]


def test_fan_out_with_filter_policies(running: tuple[Path, Dev]) -> None:
    root, dev = running
    sns = dev.client("sns")
    arn = sns.create_topic(Name="orders")["TopicArn"]
    assert arn == "arn:aws:sns:us-east-1:123456789012:orders"

    def publish(message: str, total: int, kind: str) -> None:
        sns.publish(
            TopicArn=arn,
            Message=message,
            MessageAttributes={
                "total": {"DataType": "Number", "StringValue": str(total)},
                "kind": {"DataType": "String", "StringValue": kind},
            },
        )

    publish("small", 5, "sale")
    publish("large", 250, "refund")
    expected = {"fanout-all": {"small", "large"}, "fanout-big": {"large"}}
    wait_for(
        lambda: (
            {(f, t) for f, t in seen(root)} >= {(f, t) for f, ts in expected.items() for t in ts}
        ),
        20,
        "the function deliveries",
    )
    sqs = dev.client("sqs")
    audit = sqs.receive_message(
        QueueUrl=sqs.get_queue_url(QueueName="audit")["QueueUrl"], MaxNumberOfMessages=10
    )["Messages"]
    envelopes = [json.loads(m["Body"]) for m in audit]
    assert sorted(e["Message"] for e in envelopes) == ["large", "small"]
    assert {e["Type"] for e in envelopes} == {"Notification"}
    raw = sqs.receive_message(
        QueueUrl=sqs.get_queue_url(QueueName="raw")["QueueUrl"],
        MaxNumberOfMessages=10,
        MessageAttributeNames=["All"],
    )["Messages"]
    assert [(m["Body"], m["MessageAttributes"]["kind"]["StringValue"]) for m in raw] == [
        ("large", "refund")
    ]
    assert [t for f, t in seen(root) if f == "fanout-big"] == ["large"]


def test_bus_rules_match_patterns(running: tuple[Path, Dev]) -> None:
    root, dev = running
    bus = dev.client("events")
    answer = bus.put_events(
        Entries=[
            {
                "Source": "app.orders",
                "DetailType": "Order",
                "Detail": json.dumps({"status": "paid"}),
            },
            {
                "Source": "app.orders",
                "DetailType": "Order",
                "Detail": json.dumps({"status": "new"}),
            },
            {
                "Source": "app.other",
                "DetailType": "Order",
                "Detail": json.dumps({"status": "paid"}),
            },
            {"Source": "app.orders", "DetailType": "Order", "Detail": "not json"},
        ]
    )
    assert answer["FailedEntryCount"] == 1
    assert answer["Entries"][3]["ErrorCode"] == "MalformedDetail"
    wait_for(lambda: ("fanout-paid", '{"status": "paid"}') in seen(root), 20, "the rule")
    assert [t for f, t in seen(root) if f == "fanout-paid"] == ['{"status": "paid"}']


def test_boto3_inside_a_function_reaches_topic_and_bus(running: tuple[Path, Dev]) -> None:
    root, dev = running
    result = dev.client("lambda").invoke(FunctionName="emitter", Payload=b"{}")
    assert "FunctionError" not in result, result["Payload"].read()
    wait_for(
        lambda: (
            {("fanout-big", "from-inside"), ("fanout-paid", '{"status": "paid", "n": 2}')}
            <= set(seen(root))
        ),
        20,
        "deliveries from inside",
    )


def test_unsupported_operations_name_themselves(running: tuple[Path, Dev]) -> None:
    from botocore.exceptions import ClientError

    _, dev = running
    with pytest.raises(ClientError, match="does not emulate the SNS operation Subscribe"):
        dev.client("sns").subscribe(TopicArn="arn:aws:sns:us-east-1:1:orders", Protocol="sqs")
    with pytest.raises(ClientError, match="does not emulate the EventBridge operation ListRules"):
        dev.client("events").list_rules()
    with pytest.raises(ClientError, match='topic "nope" does not exist'):
        dev.client("sns").publish(TopicArn="arn:aws:sns:us-east-1:1:nope", Message="x")


def test_topic_publish_and_bus_put_from_the_cli(running: tuple[Path, Dev]) -> None:
    from click.testing import CliRunner

    from cli_output import one_error_line
    from faasport.cli.main import main

    root, _ = running

    def run(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(main, [*args, "--project", str(root)])
        return result.exit_code, result.output

    code, out = run("topic", "publish", "orders", "cli-msg", "--attr", "kind=sale")
    assert code == 0 and len(out.strip()) == 36
    detail = json.dumps({"status": "paid", "via": "cli"})
    code, out = run("bus", "put", "app.orders", "Order", detail)
    assert code == 0 and len(out.strip()) == 36
    wait_for(
        lambda: {("fanout-all", "cli-msg"), ("fanout-paid", detail)} <= set(seen(root)),
        20,
        "the CLI's deliveries",
    )
    unknown = CliRunner().invoke(main, ["topic", "publish", "nope", "x", "--project", str(root)])
    assert 'topic "nope" does not exist' in one_error_line(unknown)
    assert run("bus", "put", "a", "b", "[1]")[0] == 2


def test_a_bad_pattern_stops_faasport_dev_with_one_line(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from cli_output import one_error_line
    from faasport.cli.main import main

    (tmp_path / "faasport.toml").write_text(
        'name = "bad"\n[functions.f]\nhandler = "app:note"\n'
        "events = [{ bus = 'default', "
        "pattern = { detail = { n = [{ numeric = ['>', 'x'] }] } } }]\n"
    )
    result = CliRunner().invoke(main, ["dev", str(tmp_path), "--services-port", "0"])
    line = one_error_line(result)
    assert line.startswith("error: faasport.toml: functions.f.events: pattern: 'detail.n': numeric")


def test_the_start_lines_name_topics_and_rules(running: tuple[Path, Dev]) -> None:
    _, dev = running
    assert "  paid (app:note): no HTTP routes; events: bus default rule" in dev.lines
    assert "  big (app:note): no HTTP routes; events: topic orders" in dev.lines
