"""API Gateway WebSocket API events, as one typed object: :class:`WebSocketEvent`.

API Gateway invokes the function once per connect (route ``$connect``, with the upgrade
request's query string, headers and the authorizer's context), once per message (the route
the selection expression chose, or ``$default``) and once per disconnect (``$disconnect``,
with the close code and reason). Every event carries the connection id, which is what the
``@connections`` API (:mod:`faasport.websocket.connections`) sends to.
"""

from __future__ import annotations

from faasport.core.errors import MalformedEventError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

CONNECT = "CONNECT"
MESSAGE = "MESSAGE"
DISCONNECT = "DISCONNECT"
_EVENT_TYPES = (CONNECT, MESSAGE, DISCONNECT)
_SOURCE = "API Gateway WebSocket"


def is_websocket_event(event: Any) -> bool:
    """Whether ``event`` comes from an API Gateway WebSocket API (any route)."""
    if type(event) is not dict:
        return False
    context = event.get("requestContext")
    return type(context) is dict and "connectionId" in context and "eventType" in context


def _text_map(event: dict[str, Any], key: str) -> dict[str, str]:
    found = event.get(key)
    if found is None:
        return {}
    if not isinstance(found, dict) or not all(isinstance(v, str) for v in found.values()):
        raise MalformedEventError(_SOURCE, key, "an object of strings")
    return {str(k): v for k, v in found.items()}


def _list_map(event: dict[str, Any], key: str) -> dict[str, list[str]]:
    found = event.get(key)
    if found is None:
        return {}
    if not isinstance(found, dict) or not all(
        isinstance(v, list) and all(isinstance(i, str) for i in v) for v in found.values()
    ):
        raise MalformedEventError(_SOURCE, key, "an object of string lists")
    return {str(k): list(v) for k, v in found.items()}


def _string(context: dict[str, Any], key: str, default: str | None = None) -> str:
    value = context.get(key, default)
    if not isinstance(value, str):
        raise MalformedEventError(_SOURCE, f"requestContext.{key}", "a string")
    return value


_FIELDS = (
    "route_key",
    "event_type",
    "connection_id",
    "body",
    "is_base64",
    "domain_name",
    "stage",
    "api_id",
    "request_id",
    "connected_at",
    "source_ip",
    "headers",
    "multi_value_headers",
    "query",
    "multi_value_query",
    "authorizer",
    "disconnect_status_code",
    "disconnect_reason",
    "raw",
)


class WebSocketEvent:
    """One invocation of a WebSocket API: what happened on which connection.

    (A plain class rather than a dataclass: ``dataclasses`` imports ``inspect``, which
    ``import faasport.aws`` must not pay for.)
    """

    __slots__ = _FIELDS

    #: ``$connect``, ``$disconnect``, ``$default`` or a custom route (``join``).
    route_key: str
    #: :data:`CONNECT`, :data:`MESSAGE` or :data:`DISCONNECT`.
    event_type: str
    connection_id: str
    #: The frame's payload: text as sent, binary frames as bytes; None on connect/disconnect.
    body: str | bytes | None
    #: Whether API Gateway base64-encoded the body (a binary frame); ``body`` is decoded.
    is_base64: bool
    #: ``{api-id}.execute-api.{region}.amazonaws.com`` (or the custom domain).
    domain_name: str
    stage: str
    api_id: str
    request_id: str
    #: Milliseconds since the epoch the connection was opened at.
    connected_at: int | None
    source_ip: str | None
    #: Headers of the upgrade request (``$connect`` only; names as the client sent them).
    headers: dict[str, str]
    multi_value_headers: dict[str, list[str]]
    #: The ``$connect`` URL's query string.
    query: dict[str, str]
    multi_value_query: dict[str, list[str]]
    #: What the Lambda authorizer returned as ``context`` (and its ``principalId``).
    authorizer: dict[str, Any]
    #: ``$disconnect``: the close code (1000, 1001, 1005, 1006...) and reason API Gateway saw.
    disconnect_status_code: int | None
    disconnect_reason: str | None
    #: The event as API Gateway sent it.
    raw: dict[str, Any]

    def __init__(self, **values: Any) -> None:
        for name in _FIELDS:
            object.__setattr__(self, name, values.pop(name))
        if values:
            raise TypeError(f"unknown WebSocketEvent fields: {', '.join(values)}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a WebSocketEvent is read-only")

    def __repr__(self) -> str:
        return (
            f"WebSocketEvent(route_key={self.route_key!r}, event_type={self.event_type!r}, "
            f"connection_id={self.connection_id!r})"
        )

    @classmethod
    def parse(cls, event: Any) -> WebSocketEvent:
        """The event's fields; :class:`~faasport.core.errors.MalformedEventError` (naming
        the field) when it is not a WebSocket API event."""
        if not is_websocket_event(event):
            raise MalformedEventError(_SOURCE, "requestContext", "an object with connectionId")
        context: dict[str, Any] = event["requestContext"]
        event_type = _string(context, "eventType")
        if event_type not in _EVENT_TYPES:
            raise MalformedEventError(
                _SOURCE, "requestContext.eventType", "CONNECT, MESSAGE or DISCONNECT"
            )
        is_base64 = event.get("isBase64Encoded", False)
        if not isinstance(is_base64, bool):
            raise MalformedEventError(_SOURCE, "isBase64Encoded", "a boolean")
        raw_body = event.get("body")
        body: str | bytes | None
        if raw_body is None:
            body = None
        elif not isinstance(raw_body, str):
            raise MalformedEventError(_SOURCE, "body", "a string")
        elif is_base64:
            import base64

            try:
                body = base64.b64decode(raw_body, validate=True)
            except ValueError:
                raise MalformedEventError(_SOURCE, "body", "base64 (isBase64Encoded)") from None
        else:
            body = raw_body
        identity = context.get("identity")
        source_ip = identity.get("sourceIp") if isinstance(identity, dict) else None
        authorizer = context.get("authorizer")
        if authorizer is not None and not isinstance(authorizer, dict):
            raise MalformedEventError(_SOURCE, "requestContext.authorizer", "an object")
        code = context.get("disconnectStatusCode")
        if code is not None and (not isinstance(code, int) or isinstance(code, bool)):
            raise MalformedEventError(_SOURCE, "requestContext.disconnectStatusCode", "a number")
        connected = context.get("connectedAt")
        reason = context.get("disconnectReason")
        return cls(
            route_key=_string(context, "routeKey", "$default"),
            event_type=event_type,
            connection_id=_string(context, "connectionId"),
            body=body,
            is_base64=is_base64,
            domain_name=_string(context, "domainName", ""),
            stage=_string(context, "stage", ""),
            api_id=_string(context, "apiId", ""),
            request_id=_string(context, "requestId", ""),
            connected_at=connected if isinstance(connected, int) else None,
            source_ip=source_ip if isinstance(source_ip, str) else None,
            headers=_text_map(event, "headers"),
            multi_value_headers=_list_map(event, "multiValueHeaders"),
            query=_text_map(event, "queryStringParameters"),
            multi_value_query=_list_map(event, "multiValueQueryStringParameters"),
            authorizer=dict(authorizer or {}),
            disconnect_status_code=code,
            disconnect_reason=reason if isinstance(reason, str) else None,
            raw=event,
        )

    def header(self, name: str) -> str | None:
        """A header of the upgrade request, by case-insensitive name."""
        wanted = name.lower()
        for key, value in self.headers.items():
            if key.lower() == wanted:
                return value
        return None

    @property
    def text(self) -> str:
        """The body as text (a binary frame decoded as UTF-8; empty without a body)."""
        body = self.body
        if body is None:
            return ""
        return body if isinstance(body, str) else body.decode("utf-8", "replace")

    def json(self) -> Any:
        """The body parsed as JSON; ValueError when it is not JSON."""
        import json

        return json.loads(self.text)

    @property
    def endpoint(self) -> str:
        """The ``@connections`` API's base URL for this API and stage."""
        return f"https://{self.domain_name}/{self.stage}"
