"""``faasport queue``: send to, inspect, purge and redrive the local queues of a running
``faasport dev``."""

from __future__ import annotations

from pathlib import Path

import click

from faasport.cli.running import PROJECT as _PROJECT
from faasport.cli.running import RunningDev

Attributes = dict[str, dict[str, str]]


def attribute_option(
    ctx: click.Context, param: click.Parameter, values: tuple[str, ...]
) -> Attributes:
    out: Attributes = {}
    for value in values:
        name, sep, text = value.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{value!r} must look like NAME=VALUE")
        out[name] = {"DataType": "String", "StringValue": text}
    return out


@click.group()
def queue() -> None:
    """The local queues of a running faasport dev."""


@queue.command()
@click.argument("name")
@click.argument("body")
@click.option("--group", help="Message group id (FIFO queues).")
@click.option("--dedup", help="Deduplication id (FIFO queues).")
@click.option("--delay", type=click.IntRange(0, 900), help="Seconds before it is delivered.")
@click.option(
    "--attr",
    "attributes",
    multiple=True,
    callback=attribute_option,
    help="NAME=VALUE (repeatable).",
)
@_PROJECT
def send(
    name: str,
    body: str,
    group: str | None,
    dedup: str | None,
    delay: int | None,
    attributes: Attributes,
    directory: Path,
) -> None:
    """Send BODY to queue NAME; prints the message id."""
    dev = RunningDev(directory)
    request: dict[str, object] = {"QueueUrl": dev.queue_url(name), "MessageBody": body}
    if group:
        request["MessageGroupId"] = group
    if dedup:
        request["MessageDeduplicationId"] = dedup
    if delay is not None:
        request["DelaySeconds"] = delay
    if attributes:
        request["MessageAttributes"] = attributes
    click.echo(dev.sqs("SendMessage", request)["MessageId"])


@queue.command(name="list")
@_PROJECT
def list_queues(directory: Path) -> None:
    """Every queue with its visible, in-flight and delayed messages."""
    counts = RunningDev(directory).control("GET", "queues")
    click.echo(f"{'QUEUE':<40} {'VISIBLE':>8} {'IN FLIGHT':>10} {'DELAYED':>8}")
    for name, count in counts.items():
        click.echo(
            f"{name:<40} {count['visible']:>8} {count['in_flight']:>10} {count['delayed']:>8}"
        )


@queue.command()
@click.argument("name")
@_PROJECT
def purge(name: str, directory: Path) -> None:
    """Delete every message of queue NAME."""
    dev = RunningDev(directory)
    dev.sqs("PurgeQueue", {"QueueUrl": dev.queue_url(name)})
    click.echo(f"purged {name}")


@queue.command()
@click.argument("name")
@_PROJECT
def dlq(name: str, directory: Path) -> None:
    """The messages in queue NAME's dead-letter queue (left in place)."""
    found = RunningDev(directory).control("GET", f"queues/{name}/dlq")
    click.echo(f"{found['dlq']}: {len(found['messages'])} message(s)")
    for message in found["messages"]:
        click.echo(f"{message['id']}  receives={message['receives']}  {message['body']}")


@queue.command()
@click.argument("name")
@_PROJECT
def redrive(name: str, directory: Path) -> None:
    """Move the messages of queue NAME's dead-letter queue back to it."""
    moved = RunningDev(directory).control("POST", f"queues/{name}/redrive")["moved"]
    click.echo(f"moved {moved} message(s) back to {name}")
