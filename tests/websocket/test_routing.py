"""The WebSocket router, alone and inside aws.handler(app, events=...)."""

from __future__ import annotations

from typing import Any

import pytest

from faasport import aws, websocket
from faasport.core.errors import ConfigError, UnsupportedEventError
from faasport.websocket import WebSocketEvent, connections
from recorded import recorded


def make_router() -> tuple[websocket.Router, list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []
    ws = aws.websocket()

    @ws.route("$connect")
    def connect(event: WebSocketEvent, context: Any) -> Any:
        seen.append(("connect", event.query.get("room")))
        return 401 if event.query.get("room") == "closed" else None

    @ws.route("chat")
    def chat(event: WebSocketEvent, context: Any) -> Any:
        seen.append(("chat", connections.current_endpoint.get()))
        return event.json()["message"]

    @ws.route("$default")
    def default(event: WebSocketEvent, context: Any) -> Any:
        seen.append(("default", event.route_key))
        return {"statusCode": 200, "body": "?"}

    return ws, seen


def test_routes_by_route_key_and_shapes_results() -> None:
    ws, seen = make_router()
    connect = recorded("websocketConnectAuthorizerEvent")
    assert ws(connect, None) == {"statusCode": 200}
    connect["queryStringParameters"]["room"] = "closed"
    assert ws(connect, None) == {"statusCode": 401}
    assert ws(recorded("apiGatewayWebSocketApiMessage"), None) == {
        "statusCode": 200,
        "body": "Hello from client",
    }
    other = recorded("apiGatewayWebSocketApiMessage")
    other["requestContext"]["routeKey"] = "typing"
    assert ws(other, None) == {"statusCode": 200, "body": "?"}
    assert seen == [
        ("connect", "lobby"),
        ("connect", "closed"),
        ("chat", "https://asasasas.execute-api.us-east-1.amazonaws.com/prod"),
        ("default", "typing"),
    ]
    assert connections.current_endpoint.get() is None  # reset after the handler


def test_disconnect_without_handler_is_accepted() -> None:
    ws, _ = make_router()
    assert ws(recorded("apiGatewayWebSocketApiDisconnect"), None) == {"statusCode": 200}


def test_unrouted_message_without_default_names_the_route() -> None:
    ws = websocket.router()
    ws.route("join")(lambda event, context: None)
    with pytest.raises(UnsupportedEventError, match=r"'chat'.*registered: join"):
        ws(recorded("apiGatewayWebSocketApiMessage"), None)


def test_bad_route_keys_and_results() -> None:
    ws = websocket.router()
    with pytest.raises(ConfigError, match=r"\$connect, \$disconnect and \$default"):
        ws.route("$open")
    ws.route("chat")(lambda event, context: 3.5)
    with pytest.raises(ConfigError, match="twice"):
        ws.route("chat")(lambda event, context: None)
    with pytest.raises(TypeError, match="got float"):
        ws(recorded("apiGatewayWebSocketApiMessage"), None)
    with pytest.raises(UnsupportedEventError):
        ws(recorded("apiGatewayProxyV2Event"), None)


def test_http_app_and_websocket_api_share_one_function() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/plain")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"http"})

    ws, seen = make_router()
    handler = aws.handler(app, events={"websocket": ws}, lifespan="off")
    answer = handler(recorded("apiGatewayProxyV2Event"), None)
    assert answer["statusCode"] == 200 and answer["body"] == "http"
    assert handler(recorded("apiGatewayWebSocketApiMessage"), None)["body"] == "Hello from client"
    assert seen[0][0] == "chat"


def test_websocket_event_without_registered_kind_is_refused() -> None:
    handler = aws.handler("echo_app:echo", events={"sqs": lambda e, c: None})
    with pytest.raises(UnsupportedEventError, match="a websocket event"):
        handler(recorded("apiGatewayWebSocketApiMessage"), None)
