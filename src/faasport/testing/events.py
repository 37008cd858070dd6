"""Realistic events for every AWS source, built through the same code that reads them: the
HTTP codecs, and :func:`faasport.aws.event_builder.build_event` for queues, topics, buckets and
schedules."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from faasport.aws.alb import Alb
from faasport.aws.apigw_v1 import ApiGatewayV1
from faasport.aws.apigw_v2 import ApiGatewayV2
from faasport.aws.edge import Edge
from faasport.aws.function_url import FunctionUrl
from faasport.aws.lattice import Lattice, LatticeV2
from faasport.core.http import HttpRequest

if TYPE_CHECKING:
    from faasport.aws.codec import Codec


#: source name -> (codec, its ``stage`` argument)
SOURCES: dict[str, tuple[Codec, str]] = {
    "apigw-v1": (ApiGatewayV1(), "prod"),
    "apigw-v2": (ApiGatewayV2(), "$default"),
    "alb": (Alb(), "multi"),
    "alb-single": (Alb(), "single"),
    "function-url": (FunctionUrl(), "$default"),
    "lattice": (Lattice(), ""),
    "lattice-v2": (LatticeV2(), ""),
    "edge": (Edge(), "viewer-request"),
}

Query = str | dict[str, str | list[str]] | list[tuple[str, str]] | None
HeaderInput = dict[str, str] | list[tuple[str, str]] | None


def _query_string(query: Query) -> bytes:
    if query is None:
        return b""
    if isinstance(query, str):
        return query.encode("utf-8")
    return urlencode(query, doseq=True, quote_via=quote).encode("ascii")


def http_request(
    method: str = "GET",
    path: str = "/",
    *,
    query: Query = None,
    headers: HeaderInput = None,
    cookies: dict[str, str] | None = None,
    body: bytes | str | None = None,
    json_body: Any = None,
    host: str = "example.com",
    source_ip: str = "203.0.113.7",
) -> HttpRequest:
    """A canonical request as a client would send it. ``path`` may hold any characters:
    it is percent-encoded for the wire."""
    pairs = list(headers.items()) if isinstance(headers, dict) else list(headers or [])
    if json_body is not None:
        body = json.dumps(json_body)
        pairs.append(("content-type", "application/json"))
    raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
    names = {name.lower() for name, _ in pairs}
    if "host" not in names:
        pairs.insert(0, ("host", host))
    if cookies:
        pairs.append(("cookie", "; ".join(f"{k}={v}" for k, v in cookies.items())))
    if raw and "content-length" not in names:
        pairs.append(("content-length", str(len(raw))))
    return HttpRequest(
        method=method.upper(),
        path=path,
        query_string=_query_string(query),
        headers=[(k.lower().encode("latin-1"), v.encode("utf-8")) for k, v in pairs],
        body=raw,
        client=(source_ip, 0),
        raw_path=quote(path, safe="/:@!$&'()*+,;=~").encode("ascii"),
    )


def event(source: str, method: str = "GET", path: str = "/", **request: Any) -> dict[str, Any]:
    """The event ``source`` sends for this request, e.g. ``event("apigw-v2", "GET", "/items")``.

    ``source`` is one of ``apigw-v1`` (REST API, stage ``prod``), ``apigw-v2`` (HTTP API),
    ``alb`` (multi-value headers on), ``alb-single``, ``function-url``, ``lattice`` (VPC
    Lattice payload version 1), ``lattice-v2`` or ``edge`` (Lambda@Edge; ``stage`` is the
    trigger, ``viewer-request`` unless given). Keyword arguments are those of
    :func:`http_request` plus ``stage``.
    """
    codec, stage = codec_for(source)
    stage = request.pop("stage", stage)
    return codec.build_event(http_request(method, path, **request), stage)


def codec_for(source: str) -> tuple[Codec, str]:
    try:
        return SOURCES[source]
    except KeyError:
        raise ValueError(
            f"unknown event source {source!r}; choose one of {', '.join(SOURCES)}"
        ) from None


# -- non-HTTP sources --------------------------------------------------------------------------

#: The non-HTTP sources ``faasport events generate`` knows, with what each carries.
RECORD_SOURCES = {
    "sqs": "SQS messages (--body, repeatable; --name is the queue)",
    "sns": "SNS notifications (--body, repeatable; --name is the topic)",
    "s3": "S3 object changes (--key, repeatable; --name is the bucket; --removed)",
    "schedule": "an EventBridge scheduled event (--name is the rule)",
    "kinesis": "Kinesis records (--body, repeatable: the data; --name is the stream)",
    "dynamodb": "DynamoDB Streams INSERT records (--body, repeatable: a JSON item; --name is the "
    "table)",
    "eventbridge": "an EventBridge custom event (--body: the JSON detail; --name is the source)",
}

#: What ``faasport events generate`` puts in a record when no --body is given.
SAMPLE_BODIES = {
    "sqs": '{"job": "resize", "item": 42}',
    "sns": '{"alert": "disk full", "host": "web-1"}',
    "kinesis": '{"page": "/home", "user": "u-17"}',
    "dynamodb": '{"id": "order-1", "total": 42.5}',
    "eventbridge": '{"order": "o-1", "status": "paid"}',
}


def _ids(prefix: str, count: int) -> list[str]:
    return [f"{prefix}-{uuid.uuid4()}" for _ in range(count)]


def sqs_event(*bodies: str, queue: str = "jobs", deliveries: int = 1) -> dict[str, Any]:
    """The event SQS sends a function for a batch of messages with these bodies."""
    from faasport.aws.event_builder import build_event
    from faasport.core.records import Message

    ids = _ids("msg", len(bodies))
    return build_event(
        [
            Message(id, body.encode(), source="aws.sqs", channel=queue, deliveries=deliveries)
            for id, body in zip(ids, bodies, strict=True)
        ]
    )


def sns_event(*messages: str, topic: str = "alerts") -> dict[str, Any]:
    """The event SNS sends a subscribed function for these notifications."""
    from faasport.aws.event_builder import build_event
    from faasport.core.records import Message

    ids = _ids("sns", len(messages))
    return build_event(
        [
            Message(id, text.encode(), source="aws.sns", channel=topic)
            for id, text in zip(ids, messages, strict=True)
        ]
    )


def s3_event(
    *keys: str, bucket: str = "uploads", removed: bool = False, size: int = 1024
) -> dict[str, Any]:
    """The S3 notification for objects created (or removed) under these keys."""
    from faasport.aws.event_builder import build_event
    from faasport.core.records import ObjectChange

    return build_event(
        [
            ObjectChange(bucket, key, "removed", source="aws.s3")
            if removed
            else ObjectChange(bucket, key, "created", source="aws.s3", size=size)
            for key in keys
        ]
    )


def schedule_event(rule: str = "schedule") -> dict[str, Any]:
    """The event an EventBridge schedule rule sends when it fires."""
    from faasport.aws.event_builder import build_event
    from faasport.core.records import Tick

    return build_event([Tick("", source="aws.events", name=rule)])


def kinesis_event(*data: str, stream: str = "clicks", partition_key: str = "1") -> dict[str, Any]:
    """The event Kinesis sends a function for records with this data, in order."""
    from faasport.aws.event_builder import build_event
    from faasport.core.records import StreamRecord

    return build_event(
        [
            StreamRecord(
                f"4959033827149025660855969253836157109592157598913658{8800 + i}",
                text.encode(),
                source="aws.kinesis",
                channel=stream,
                partition_key=partition_key,
                shard="shardId-000000000000",
            )
            for i, text in enumerate(data)
        ]
    )


def dynamodb_event(*items: dict[str, Any], table: str = "orders") -> dict[str, Any]:
    """The DynamoDB Streams event for these items inserted (keys: the first attribute)."""
    from faasport.aws.event_builder import build_event
    from faasport.core.records import ChangeRecord, Record

    records: list[Record] = []
    for i, item in enumerate(items):
        key = next(iter(item), None)
        records.append(
            ChangeRecord(
                uuid.uuid4().hex,
                f"{111 + i}00000000000000000{i}",
                "INSERT",
                source="aws.dynamodb",
                table=table,
                keys={key: item[key]} if key is not None else {},
                new=item,
            )
        )
    return build_event(records)


def eventbridge_event(
    detail: Any, *, source: str = "app.orders", detail_type: str = "Order Paid"
) -> dict[str, Any]:
    """The event an EventBridge rule delivers for a custom event (``put_events``)."""
    from faasport.aws.event_builder import build_event
    from faasport.core.records import BusEvent

    event = BusEvent(
        str(uuid.uuid4()), detail_type, detail, event_source=source, source="aws.events"
    )
    return build_event([event])
