"""The events API Gateway sends a WebSocket API's function, built for the local gateway:
``$connect`` from the upgrade request, a message from a frame (its route chosen by the
selection expression), ``$disconnect`` from the close. Shapes as recorded in
tests/fixtures/events (``apiGatewayWebSocketApi*.json``)."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

#: The stage the deployed WebSocket API has (``deploy.aws.model.WEBSOCKET_STAGE``).
STAGE = "prod"


def api_id(function: str) -> str:
    """A stable, API-Gateway-like id for a function's local WebSocket API."""
    return hashlib.sha256(function.encode()).hexdigest()[:10]


def connection_id() -> str:
    """16 characters, like API Gateway's (``BFaT_fALIAMCKug=``)."""
    return base64.urlsafe_b64encode(os.urandom(11)).decode()


def _request_id() -> str:
    return base64.b64encode(uuid.uuid4().bytes[:12]).decode()


def _request_time(now: float) -> str:
    return time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now))


@dataclass
class Connection:
    """What the events of one connection share."""

    function: str
    id: str
    domain: str
    source_ip: str
    user_agent: str
    connected_at: int = field(default_factory=lambda: int(time.time() * 1000))
    last_active: int = 0

    def context(self, route: str, event_type: str) -> dict[str, Any]:
        now = time.time()
        request_id = _request_id()
        return {
            "routeKey": route,
            "eventType": event_type,
            "extendedRequestId": request_id,
            "requestTime": _request_time(now),
            "messageDirection": "IN",
            "stage": STAGE,
            "connectedAt": self.connected_at,
            "requestTimeEpoch": int(now * 1000),
            "identity": {"sourceIp": self.source_ip, "userAgent": self.user_agent},
            "requestId": request_id,
            "domainName": self.domain,
            "connectionId": self.id,
            "apiId": api_id(self.function),
        }


def connect_event(
    connection: Connection, headers: list[tuple[str, str]], query: str
) -> dict[str, Any]:
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name, value in headers:
        single[name] = value
        multi.setdefault(name, []).append(value)
    event: dict[str, Any] = {"headers": single, "multiValueHeaders": multi}
    pairs = parse_qsl(query, keep_blank_values=True)
    if pairs:
        event["queryStringParameters"] = dict(pairs)
        grouped: dict[str, list[str]] = {}
        for k, v in pairs:
            grouped.setdefault(k, []).append(v)
        event["multiValueQueryStringParameters"] = grouped
    event["requestContext"] = connection.context("$connect", "CONNECT")
    event["isBase64Encoded"] = False
    return event


def select_route(selection: str, routes: tuple[str, ...], data: str | bytes) -> str | None:
    """The route a message goes to: the value the selection expression
    (``$request.body.a.b``) finds in the JSON message, when a route has that key; else
    ``$default`` when configured; else None (API Gateway answers the client itself)."""
    if isinstance(data, str):
        try:
            document: Any = json.loads(data)
        except ValueError:
            document = None
        for part in selection.removeprefix("$request.body.").split("."):
            document = document.get(part) if isinstance(document, dict) else None
        if isinstance(document, str) and document in routes and not document.startswith("$"):
            return document
    return "$default" if "$default" in routes else None


def message_event(connection: Connection, route: str, data: str | bytes) -> dict[str, Any]:
    context = connection.context(route, "MESSAGE")
    context["messageId"] = _request_id()
    if isinstance(data, bytes):
        body, encoded = base64.b64encode(data).decode(), True
    else:
        body, encoded = data, False
    return {"requestContext": context, "body": body, "isBase64Encoded": encoded}


def disconnect_event(connection: Connection, code: int, reason: str) -> dict[str, Any]:
    context = connection.context("$disconnect", "DISCONNECT")
    context["disconnectStatusCode"] = code
    context["disconnectReason"] = reason
    headers = {"Host": connection.domain}
    return {
        "headers": headers,
        "multiValueHeaders": {k: [v] for k, v in headers.items()},
        "requestContext": context,
        "isBase64Encoded": False,
    }
