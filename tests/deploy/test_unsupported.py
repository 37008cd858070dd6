"""What Google Cloud and Azure have no counterpart for is refused by ``faasport deploy`` with
one line naming the file, the key and the source, before anything is written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from cli_output import one_error_line
from faasport.cli.main import main
from projects import write_project

WORKER = '[functions.w]\nhandler = "a:h"\n'
REFUSED = [
    (
        WORKER + 'events = [{ stream = "clicks" }]',
        'functions.w.events: stream "clicks" (Kinesis) cannot be deployed to',
    ),
    (
        WORKER + 'events = [{ table = "orders" }]\n[tables.orders]\nkey = "id"',
        'functions.w.events: table "orders" stream (DynamoDB Streams) cannot be deployed to',
    ),
    ('[tables.orders]\nkey = "id"', "tables.orders: DynamoDB tables cannot be deployed to"),
    (
        WORKER + 'events = [{ bus = "default", pattern = { source = ["app"] } }]',
        'functions.w.events: bus "default" rule (EventBridge) cannot be deployed to',
    ),
    (
        WORKER + "websocket = {}",
        "functions.w.websocket: API Gateway WebSocket APIs cannot be deployed to",
    ),
    (
        WORKER + 'on_failure = "jobs"\n[queues.jobs]',
        "functions.w.on_failure: an on-failure destination cannot be deployed to",
    ),
    (
        WORKER + 'sends = ["queue:jobs"]\n[queues.jobs]',
        "functions.w.sends: sends (the project's topics, streams and queues as targets) "
        "cannot be deployed to",
    ),
    ('[queues."jobs.fifo"]', 'queues."jobs.fifo": FIFO queues (SQS .fifo) cannot be deployed to'),
    ("[queues.jobs]\ndelay = 5", "queues.jobs.delay: delayed queues cannot be deployed to"),
    (
        '[queues.jobs]\n[topics.orders]\nqueues = [{ queue = "jobs" }]',
        "topics.orders.queues: queues subscribed to a topic cannot be deployed to",
    ),
    (
        WORKER + 'events = [{ queue = "jobs", window = 5 }]\n[queues.jobs]',
        "functions.w.events[0].window: batching windows cannot be deployed to",
    ),
    (
        '[proxy]\n"ANY /users/{proxy+}" = "https://users.example.com/{proxy}"',
        'proxy."ANY /users/{proxy+}": proxy routes (API Gateway HTTP proxy integrations) '
        "cannot be deployed to",
    ),
]


def deploy(provider: str, directory: Path) -> str:
    return one_error_line(
        CliRunner().invoke(main, ["deploy", provider, str(directory), "--dry-run"])
    )


@pytest.mark.parametrize(("provider", "cloud"), [("gcp", "Google Cloud"), ("azure", "Azure")])
@pytest.mark.parametrize(("config", "message"), REFUSED)
def test_what_has_no_counterpart_is_refused_in_one_line(
    tmp_path: Path, provider: str, cloud: str, config: str, message: str
) -> None:
    directory = write_project(tmp_path, f'name = "x"\n{config}\n')
    line = deploy(provider, directory)
    assert line.startswith("error: ") and f"faasport.toml: {message} {cloud}" in line
    assert not (directory / "deploy").exists()


def test_a_topic_filter_is_refused_on_azure(tmp_path: Path) -> None:
    config = WORKER + 'events = [{ topic = "orders", filter = { kind = ["refund"] } }]'
    directory = write_project(tmp_path, f'name = "x"\n{config}\n')
    line = deploy("azure", directory)
    assert "functions.w.events[0].filter: topic filter policies cannot be deployed to Azure" in line


def test_schedule_time_zones_reach_cloud_scheduler_and_are_refused_on_azure(
    tmp_path: Path,
) -> None:
    config = WORKER + 'events = [{ schedule = "cron(0 9 * * ? *)", timezone = "Europe/Paris" }]'
    directory = write_project(tmp_path, f'name = "x"\n{config}\n')
    line = deploy("azure", directory)
    assert "functions.w.events[0].timezone: schedule time zones cannot be deployed to Azure" in line
    result = CliRunner().invoke(main, ["deploy", "gcp", str(directory), "--dry-run"])
    assert result.exit_code == 0, result.output
    written = "".join(p.read_text() for p in (directory / "deploy" / "gcp").rglob("*.tf"))
    assert re.search(r'time_zone += "Europe/Paris"', written)


def test_an_equality_topic_filter_becomes_a_pub_sub_filter(tmp_path: Path) -> None:
    config = (
        WORKER
        + 'events = [{ topic = "orders", filter = { kind = ["refund", "void"], shop = ["eu"] } }]'
    )
    directory = write_project(tmp_path, f'name = "x"\n{config}\n')
    result = CliRunner().invoke(main, ["deploy", "gcp", str(directory), "--dry-run"])
    assert result.exit_code == 0, result.output
    written = "".join(p.read_text() for p in (directory / "deploy" / "gcp").rglob("*.tf"))
    expected = (
        '(attributes.kind = \\"refund\\" OR attributes.kind = \\"void\\") '
        'AND attributes.shop = \\"eu\\"'
    )
    assert re.search(r"filter += " + re.escape(f'"{expected}"'), written), written


@pytest.mark.parametrize(
    "policy",
    [
        '{ total = [{ numeric = [">=", 100] }] }',
        '{ kind = [{ prefix = "re" }] }',
        '{ detail = { kind = ["refund"] } }',
        '{ "kind-of" = ["refund"] }',
        '{ kind = ["a\\"b"] }',
    ],
)
def test_a_topic_filter_without_a_pub_sub_counterpart_is_refused(
    tmp_path: Path, policy: str
) -> None:
    config = WORKER + f'events = [{{ topic = "orders", filter = {policy} }}]'
    directory = write_project(tmp_path, f'name = "x"\n{config}\n')
    line = deploy("gcp", directory)
    assert "faasport.toml: functions.w.events[0].filter: only a filter of attributes" in line


ACCESS_REFUSED = [
    (
        WORKER + '[auth.custom]\ntype = "lambda"\nfunction = "w"',
        "auth.custom.type: Lambda authorizers cannot be deployed to",
    ),
    (
        WORKER + '[api_keys.partner]\n[api]\ntype = "rest"',
        "api_keys: API keys and usage plans (API Gateway REST APIs) cannot be deployed to",
    ),
]


@pytest.mark.parametrize(("provider", "cloud"), [("gcp", "Google Cloud"), ("azure", "Azure")])
@pytest.mark.parametrize(("config", "message"), ACCESS_REFUSED)
def test_lambda_authorizers_and_api_keys_are_refused_in_one_line(
    tmp_path: Path, provider: str, cloud: str, config: str, message: str
) -> None:
    directory = write_project(tmp_path, f'name = "x"\n{config}\n')
    line = deploy(provider, directory)
    assert line.startswith("error: ") and f"faasport.toml: {message} {cloud}" in line
    assert not (directory / "deploy").exists()
