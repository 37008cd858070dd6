"""WebSocketEvent against recorded API Gateway WebSocket events (tests/fixtures/events)."""

from __future__ import annotations

import base64

import pytest

from faasport.core.errors import MalformedEventError
from faasport.websocket import CONNECT, DISCONNECT, MESSAGE, WebSocketEvent, is_websocket_event
from recorded import recorded


def test_connect_event_recorded_by_powertools() -> None:
    event = WebSocketEvent.parse(recorded("apiGatewayWebSocketApiConnect"))
    assert event.route_key == "$connect"
    assert event.event_type == CONNECT
    assert event.connection_id == "BFHPhfCWIAMCKlQ="
    assert event.body is None and event.is_base64 is False
    assert event.domain_name == "asasasas.execute-api.us-east-1.amazonaws.com"
    assert (event.stage, event.api_id) == ("prod", "asasasas")
    assert event.request_id == "BFHPhFe3IAMF95g="
    assert event.connected_at == 1731324924553
    assert event.source_ip == "166.90.225.1"
    assert event.header("sec-websocket-key") == "+W5xw47OHh3OTFsWKjGu9Q=="
    assert event.multi_value_headers["X-Forwarded-Port"] == ["443"]
    assert event.query == {} and event.authorizer == {}
    assert event.endpoint == "https://asasasas.execute-api.us-east-1.amazonaws.com/prod"


def test_connect_with_query_string_and_authorizer_context() -> None:
    event = WebSocketEvent.parse(recorded("websocketConnectAuthorizerEvent"))
    assert event.query == {"room": "lobby", "tag": "b"}
    assert event.multi_value_query == {"room": ["lobby"], "tag": ["a", "b"]}
    assert event.authorizer["principalId"] == "user-42"
    assert event.authorizer["plan"] == "pro"
    assert event.stage == "production"


def test_disconnect_carries_close_code_and_reason() -> None:
    event = WebSocketEvent.parse(recorded("apiGatewayWebSocketApiDisconnect"))
    assert event.event_type == DISCONNECT
    assert event.route_key == "$disconnect"
    assert event.disconnect_status_code == 1005
    assert event.disconnect_reason == "Client-side close frame status not set"


def test_message_on_a_custom_route() -> None:
    event = WebSocketEvent.parse(recorded("apiGatewayWebSocketApiMessage"))
    assert event.event_type == MESSAGE
    assert event.route_key == "chat"
    assert event.json() == {"action": "chat", "message": "Hello from client"}
    assert event.headers == {}  # messages carry no headers


def test_binary_frame_is_decoded() -> None:
    raw = recorded("apiGatewayWebSocketApiMessage")
    raw["body"] = base64.b64encode(b"\x00\xffbin").decode()
    raw["isBase64Encoded"] = True
    event = WebSocketEvent.parse(raw)
    assert event.body == b"\x00\xffbin" and event.is_base64


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda e: e.update(body=12), "body"),
        (lambda e: e.update(body="not base64!", isBase64Encoded=True), "body"),
        (lambda e: e.update(isBase64Encoded="yes"), "isBase64Encoded"),
        (lambda e: e["requestContext"].update(eventType="OPEN"), "requestContext.eventType"),
        (lambda e: e["requestContext"].update(connectionId=5), "requestContext.connectionId"),
        (lambda e: e["requestContext"].update(authorizer="x"), "requestContext.authorizer"),
        (lambda e: e.update(headers={"a": 1}), "headers"),
        (lambda e: e.update(multiValueHeaders={"a": "b"}), "multiValueHeaders"),
    ],
)
def test_malformed_fields_are_named(change: object, field: str) -> None:
    raw = recorded("apiGatewayWebSocketApiMessage")
    change(raw)  # type: ignore[operator]
    with pytest.raises(MalformedEventError) as caught:
        WebSocketEvent.parse(raw)
    assert caught.value.field == field


def test_http_events_are_not_websocket_events() -> None:
    assert is_websocket_event(recorded("apiGatewayWebSocketApiDisconnect"))
    assert not is_websocket_event(recorded("apiGatewayProxyV2Event"))
    assert not is_websocket_event(recorded("apiGatewayProxyEvent"))
    assert not is_websocket_event([])
    with pytest.raises(MalformedEventError):
        WebSocketEvent.parse(recorded("apiGatewayProxyEvent"))
