"""``faasport topic publish``, ``faasport bus put`` and ``faasport stream put``: feed the
local topics, event bus and streams of a running ``faasport dev``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from faasport.cli.queue import Attributes, attribute_option
from faasport.cli.running import PROJECT, RunningDev
from faasport.core.errors import FaasportError


@click.group()
def topic() -> None:
    """The local topics of a running faasport dev."""


@topic.command()
@click.argument("name")
@click.argument("message")
@click.option(
    "--attr",
    "attributes",
    multiple=True,
    callback=attribute_option,
    help="NAME=VALUE (repeatable).",
)
@PROJECT
def publish(name: str, message: str, attributes: Attributes, directory: Path) -> None:
    """Publish MESSAGE to topic NAME; prints the message id."""
    sent = RunningDev(directory).control(
        "POST", f"topics/{name}/publish", {"message": message, "attributes": attributes}
    )
    click.echo(sent["MessageId"])


@click.group()
def bus() -> None:
    """The local event bus of a running faasport dev."""


@bus.command()
@click.argument("source")
@click.argument("detail_type")
@click.argument("detail")
@click.option("--bus", "bus_name", default="default", show_default=True, help="The event bus.")
@PROJECT
def put(source: str, detail_type: str, detail: str, bus_name: str, directory: Path) -> None:
    """Put an event (DETAIL is a JSON object) on the bus; prints the event id."""
    try:
        if not isinstance(json.loads(detail), dict):
            raise ValueError
    except ValueError:
        raise click.BadParameter(f"{detail!r} is not a JSON object", param_hint="DETAIL") from None
    entry = {
        "Source": source,
        "DetailType": detail_type,
        "Detail": detail,
        "EventBusName": bus_name,
    }
    result = RunningDev(directory).control("POST", "bus/put", entry)
    if "ErrorCode" in result:
        raise FaasportError(f"{result['ErrorCode']}: {result.get('ErrorMessage', '')}")
    click.echo(result["EventId"])


@click.group()
def stream() -> None:
    """The local streams of a running faasport dev."""


@stream.command(name="put")
@click.argument("name")
@click.argument("data")
@click.option("--key", default="1", show_default=True, help="The partition key.")
@PROJECT
def stream_put(name: str, data: str, key: str, directory: Path) -> None:
    """Append a record with DATA to stream NAME; prints its sequence number."""
    found = RunningDev(directory).control("POST", f"streams/{name}/put", {"data": data, "key": key})
    click.echo(found["SequenceNumber"])
