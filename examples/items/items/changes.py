"""Telling the rest of the system about item changes, with plain boto3.

A creation is published to the ``item-created`` topic (the audit queue is subscribed to it);
every change is put on the ``item-changes`` Kinesis stream (the analytics consumer reads it),
keyed by item id so one item's changes stay in order. ``sends`` in faasport.toml gives this
function the topic's ARN and the stream's name (``FAASPORT_TOPIC_ITEM_CREATED``,
``FAASPORT_STREAM_ITEM_CHANGES``) and the permission to use them, the same under
``faasport dev`` (whose local services the clients reach through the ``AWS_ENDPOINT_URL_*``
variables it sets) and on AWS.
"""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Callable
from typing import Any

from items.models import Item

#: The environment variables ``sends`` sets, and the entries of ``sends`` that set them.
TOPIC = ("FAASPORT_TOPIC_ITEM_CREATED", "topic:item-created")
STREAM = ("FAASPORT_STREAM_ITEM_CHANGES", "stream:item-changes")


class Unavailable(Exception):
    """The topic or the stream did not take a change (the reason is logged, not returned)."""

    def __init__(self) -> None:
        super().__init__("the change could not be recorded; nothing was changed, try again")


@functools.cache
def _client(service: str) -> Any:
    import boto3
    from botocore.config import Config

    # Fail fast: the caller is an HTTP request that rolls back and answers 503.
    config = Config(connect_timeout=2, read_timeout=5, retries={"max_attempts": 2})
    return boto3.client(service, config=config)


def _address(target: tuple[str, str]) -> str:
    variable, entry = target
    found = os.environ.get(variable)
    if not found:
        raise RuntimeError(f'{variable} is not set: add "{entry}" to this function\'s sends')
    return found


def _send(call: Callable[[], object]) -> None:
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        call()
    except (BotoCoreError, ClientError) as exc:
        print(json.dumps({"level": "ERROR", "message": "change not sent", "error": str(exc)}))
        raise Unavailable from None


def _record(kind: str, item: Item) -> None:
    data = {
        "kind": kind,
        "id": item.id,
        "price_cents": item.price_cents,
        "at": item.updated_at.isoformat(),
    }
    _send(
        lambda: _client("kinesis").put_record(
            StreamName=_address(STREAM), Data=json.dumps(data).encode(), PartitionKey=str(item.id)
        )
    )


def created(item: Item) -> None:
    message = json.dumps({"action": "created", "item": item.model_dump(mode="json")})
    _send(
        lambda: _client("sns").publish(
            TopicArn=_address(TOPIC),
            Message=message,
            MessageAttributes={"action": {"DataType": "String", "StringValue": "created"}},
        )
    )
    _record("created", item)


def updated(item: Item) -> None:
    _record("updated", item)


def deleted(item: Item) -> None:
    _record("deleted", item)
