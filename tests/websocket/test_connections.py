"""send / close / info against a recording server shaped like the @connections API."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import pytest

from faasport import websocket
from faasport.core.errors import ConfigError
from faasport.websocket import connections
from management_api import ACCESS_KEY, SECRET_KEY, ManagementApi, management_api
from recorded import recorded


@pytest.fixture
def api(monkeypatch: pytest.MonkeyPatch) -> Iterator[ManagementApi]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    with management_api() as server:
        monkeypatch.setenv(connections.ENDPOINT_VARIABLE, server.url)
        yield server


def test_send_posts_the_bytes_signed_for_execute_api(api: ManagementApi) -> None:
    api.connected.add("BFaT_fALIAMCKug=")
    websocket.send("BFaT_fALIAMCKug=", "héllo")
    websocket.send("BFaT_fALIAMCKug=", b"\x00\x01")
    first, second = api.calls
    assert (first.method, first.path) == ("POST", "/prod/@connections/BFaT_fALIAMCKug%3D")
    assert first.body == "héllo".encode() and second.body == b"\x00\x01"
    assert first.signature_ok and second.signature_ok
    assert (first.region, first.service) == ("eu-west-1", "execute-api")
    assert "x-amz-date" in first.headers


def test_close_and_info(api: ManagementApi) -> None:
    api.connected.add("abc")
    assert websocket.info("abc")["Identity"]["SourceIp"] == "203.0.113.7"
    websocket.close("abc")
    assert [(c.method, c.path, c.body) for c in api.calls] == [
        ("GET", "/prod/@connections/abc", b""),
        ("DELETE", "/prod/@connections/abc", b""),
    ]
    assert all(c.signature_ok for c in api.calls)


def test_info_reads_what_boto3_reads(api: ManagementApi) -> None:
    """The recording server answers with API Gateway's wire names, as botocore's model of
    the API says; ``info`` gives the same names boto3 gives."""
    import boto3

    api.connected.add("abc")
    client = boto3.session.Session().client(  # not a default session another test set up
        "apigatewaymanagementapi",
        endpoint_url=api.url,
        region_name="eu-west-1",
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
    )
    with contextlib.closing(client):
        by_boto3 = client.get_connection(ConnectionId="abc")
    ours = websocket.info("abc")
    expected = {"SourceIp": "203.0.113.7", "UserAgent": "test"}
    assert by_boto3["Identity"] == ours["Identity"] == expected
    assert by_boto3["ConnectedAt"].isoformat().startswith(ours["ConnectedAt"][:19])


def test_session_token_is_sent_and_signed(
    api: ManagementApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SESSION_TOKEN", "token-1")
    api.connected.add("abc")
    websocket.send("abc", "x")
    assert api.calls[0].headers["x-amz-security-token"] == "token-1"
    assert "x-amz-security-token" in api.calls[0].headers["authorization"]
    assert api.calls[0].signature_ok


@pytest.mark.parametrize(
    ("status", "kind", "words"),
    [
        (410, websocket.ConnectionGone, "is gone"),
        (403, websocket.Forbidden, "execute-api:ManageConnections"),
        (429, websocket.Throttled, "throttled"),
    ],
)
def test_error_answers_become_typed_errors(
    api: ManagementApi, status: int, kind: type[Exception], words: str
) -> None:
    api.replies["abc"] = status
    for call in (lambda: websocket.send("abc", "x"), lambda: websocket.close("abc")):
        with pytest.raises(kind, match=words) as caught:
            call()
        assert isinstance(caught.value, websocket.WebSocketError)
        assert caught.value.status == status and caught.value.connection_id == "abc"


def test_a_wrong_secret_is_refused_by_the_server(
    api: ManagementApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-the-secret")
    api.connected.add("abc")
    with pytest.raises(websocket.Forbidden):
        websocket.send("abc", "x")
    assert api.calls[0].signature_ok is False


def test_message_over_128_kb_is_refused_before_sending(api: ManagementApi) -> None:
    api.connected.add("abc")
    websocket.send("abc", b"x" * connections.MAX_MESSAGE)
    with pytest.raises(websocket.PayloadTooLarge):
        websocket.send("abc", b"x" * (connections.MAX_MESSAGE + 1))
    assert len(api.calls) == 1


def test_endpoint_comes_from_the_event_inside_a_route(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    monkeypatch.delenv(connections.ENDPOINT_VARIABLE, raising=False)
    with management_api(stage="/prod") as api:
        api.connected.add("BFaT_fALIAMCKug=")
        host = api.url.removeprefix("http://").removesuffix("/prod")
        event = recorded("apiGatewayWebSocketApiMessage")
        event["requestContext"]["domainName"] = host
        ws = websocket.router()

        @ws.route("chat")
        def chat(event: websocket.WebSocketEvent, context: Any) -> None:
            assert event.endpoint == f"https://{host}/prod"
            # The event's endpoint is https; this test server speaks http.
            websocket.send(
                event.connection_id, "hi", endpoint=event.endpoint.replace("https", "http")
            )

        ws(event, None)
        assert api.calls[0].path == "/prod/@connections/BFaT_fALIAMCKug%3D"
        assert api.calls[0].region == "us-east-1"  # a loopback host names no region


def test_no_endpoint_and_no_credentials_are_config_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(connections.ENDPOINT_VARIABLE, raising=False)
    with pytest.raises(ConfigError, match=connections.ENDPOINT_VARIABLE):
        websocket.send("abc", "x")
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    with pytest.raises(ConfigError, match="AWS_ACCESS_KEY_ID"):
        websocket.send("abc", "x", endpoint="http://127.0.0.1:9/prod")
    with pytest.raises(ValueError, match="non-empty"):
        websocket.send("", "x", endpoint="http://127.0.0.1:9/prod")


def test_unreachable_endpoint_is_a_websocket_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from servers import free_port

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", ACCESS_KEY)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    with pytest.raises(websocket.WebSocketError, match="ConnectionRefusedError"):
        websocket.send("abc", "x", endpoint=f"http://127.0.0.1:{free_port()}/prod")
