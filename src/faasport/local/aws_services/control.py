"""What the ``faasport queue``, ``topic``, ``bucket``, ``stream``, ``bus`` and ``schedule``
commands need beyond the AWS APIs, under ``/_faasport/`` on the endpoint: JSON in, JSON out.
"""

from __future__ import annotations

import base64
import json
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

from faasport.local.sources.queues import QueueError
from faasport.local.sources.schedules import UnknownScheduleError

if TYPE_CHECKING:
    from faasport.local.aws_services.server import Services
    from faasport.local.sources.buckets import Buckets
    from faasport.local.sources.schedules import Scheduler

NOT_FOUND = {"message": "not found"}


def handle(services: Services, method: str, target: str, body: bytes) -> tuple[int, Any]:
    """``(status, JSON result)`` of one request."""
    path, _, query = target.partition("?")
    parts = path.strip("/").split("/")[1:]
    try:
        request = json.loads(body) if body else {}
        if not isinstance(request, dict):
            raise QueueError("InvalidParameterValue", "the request must be a JSON object")
        result = _route(services, method, parts, dict(parse_qsl(query)), request)
    except (QueueError, UnknownScheduleError, ValueError) as exc:
        return 400, {"message": str(exc)}
    return (404, NOT_FOUND) if result is None else (200, result)


def _route(
    services: Services,
    method: str,
    parts: list[str],
    query: dict[str, str],
    request: dict[str, Any],
) -> Any:
    queues = services.queues
    kind, name, action = [*parts, "", "", ""][:3]
    if method == "GET" and parts == ["queues"]:
        # Internal delivery queues (topics, rules, buckets) start with "_".
        return {n: queues.counts(n) for n in sorted(queues.specs) if not n.startswith("_")}
    if kind == "queues" and method == "GET" and action == "dlq":
        spec = queues.spec(name)
        if spec.dlq is None:
            raise QueueError("InvalidParameterValue", f'queue "{name}" has no dlq')
        return {
            "dlq": spec.dlq,
            "messages": [
                {"id": id, "body": text, "receives": receives}
                for id, text, receives in queues.peek(spec.dlq)
            ],
        }
    if kind == "queues" and method == "POST" and action == "redrive":
        return {"moved": queues.redrive(name)}
    if kind == "topics" and method == "POST" and action == "publish" and services.topics:
        topics = services.topics
        message = str(request.get("message", ""))
        attributes = request.get("attributes") or {}
        return {"MessageId": topics.publish(topics.known(name), message, attributes)}
    if kind == "buckets" and name and services.buckets is not None:
        return _bucket(method, name, parts[2:], query, request, services.buckets)
    if kind == "streams" and method == "POST" and action == "put" and services.streams:
        data = str(request.get("data", "")).encode()
        [number] = services.streams.put(name, [(str(request.get("key") or "1"), data)])
        return {"SequenceNumber": number}
    if parts == ["bus", "put"] and method == "POST" and services.bus is not None:
        return services.bus.put(request)
    if kind == "schedules" and services.scheduler is not None:
        return _schedules(method, parts[1:], services.scheduler)
    return None


def _bucket(
    method: str,
    bucket: str,
    action: list[str],
    query: dict[str, str],
    request: dict[str, Any],
    buckets: Buckets,
) -> Any:
    if method == "GET" and not action:
        return [
            {"key": key, "size": size, "etag": etag}
            for key, size, etag, _ in buckets.list(bucket, query.get("prefix", ""))
        ]
    if method == "POST" and action == ["put"]:
        data = base64.b64decode(str(request.get("data", "")), validate=True)
        return {"etag": buckets.put(bucket, str(request.get("key", "")), data)}
    if method == "POST" and action == ["rm"]:
        buckets.delete(bucket, str(request.get("key", "")))
        return {"removed": request.get("key")}
    return None


def _schedules(method: str, parts: list[str], scheduler: Scheduler) -> Any:
    if method == "GET" and not parts:
        return {
            name: {"function": s.function, "expression": s.expression}
            for name, s in sorted(scheduler.schedules.items())
        }
    if method == "POST" and len(parts) == 2 and parts[1] == "run":
        scheduler.fire(parts[0])
        return {"fired": parts[0]}
    return None
