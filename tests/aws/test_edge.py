from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from click.testing import CliRunner

from echo_app import echo, fixture
from faasport import aws
from faasport.aws.edge import EVENT_TYPES, ORIGIN_LIMIT, VIEWER_LIMIT, Edge
from faasport.aws.handler import infer_codec
from faasport.cli.main import main as cli
from faasport.testing import LambdaClient, LambdaContext, http_request

FIXTURES = [
    "edgeViewerRequest.json",
    "edgeOriginRequest.json",
    "edgeViewerResponse.json",
    "edgeOriginResponse.json",
    "edgeViewerRequestWithBody.json",
]


def call(payload: dict[str, Any], app: Any = echo) -> dict[str, Any]:
    result: dict[str, Any] = aws.handler(app)(payload, LambdaContext())
    return result


def seen(payload: dict[str, Any]) -> dict[str, Any]:
    result = call(payload)
    assert result["status"] == "200", result
    data: dict[str, Any] = json.loads(result["body"])
    return data


def app_answering(status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


@pytest.mark.parametrize("name", FIXTURES)
def test_recorded_events_are_recognised(name: str) -> None:
    found = infer_codec(fixture(name))
    assert found is not None and found.name == "edge"


def test_viewer_request() -> None:
    got = seen(fixture("edgeViewerRequest.json"))
    assert got["method"] == "GET"
    assert got["path"] == "/"
    assert got["query"] == ""
    assert got["client"] == "203.0.113.178"
    assert got["server"] == ["d111111abcdef8.cloudfront.net", 443]
    assert got["scheme"] == "https"
    assert ["user-agent", "curl/7.66.0"] in got["headers"]
    assert ["accept", "*/*"] in got["headers"]


def test_request_body_query_and_encoded_uri() -> None:
    got = seen(fixture("edgeViewerRequestWithBody.json"))
    assert got["method"] == "POST"
    assert got["path"] == "/orders/new item"
    assert got["raw_path"] == "/orders/new%20item"
    assert got["query"] == "size=LARGE&color=red"
    assert got["body"] == "name=caf%C3%A9"


def test_origin_request_headers() -> None:
    got = seen(fixture("edgeOriginRequest.json"))
    assert got["server"] == ["example.org", 443]
    assert ["cache-control", "no-cache"] in got["headers"]


def test_generated_response_has_the_documented_shape() -> None:
    app = app_answering(
        404,
        [
            (b"content-type", b"text/plain"),
            (b"x-tag", b"one"),
            (b"x-tag", b"two"),
            (b"set-cookie", b"a=1"),
            (b"set-cookie", b"b=2"),
        ],
        b"not here",
    )
    result = call(fixture("edgeViewerRequest.json"), app)
    assert result["status"] == "404"
    assert result["statusDescription"] == "Not Found"
    assert result["bodyEncoding"] == "text"
    assert result["body"] == "not here"
    assert result["headers"]["content-type"] == [{"key": "Content-Type", "value": "text/plain"}]
    assert result["headers"]["x-tag"] == [
        {"key": "X-Tag", "value": "one"},
        {"key": "X-Tag", "value": "two"},
    ]
    assert [c["value"] for c in result["headers"]["set-cookie"]] == ["a=1", "b=2"]
    assert "isBase64Encoded" not in result and "statusCode" not in result


def test_binary_body_is_base64_and_empty_body_is_left_out() -> None:
    png = bytes(range(256))
    result = call(
        fixture("edgeOriginRequest.json"),
        app_answering(200, [(b"content-type", b"image/png")], png),
    )
    assert result["bodyEncoding"] == "base64"
    assert Edge().parse_result(result).body == png
    empty = call(fixture("edgeOriginRequest.json"), app_answering(204, [], b""))
    assert empty["status"] == "204"
    assert "body" not in empty and "bodyEncoding" not in empty


def test_headers_cloudfront_refuses_are_left_out() -> None:
    app = app_answering(
        200,
        [
            (b"content-type", b"text/plain"),
            (b"content-length", b"2"),
            (b"transfer-encoding", b"chunked"),
            (b"connection", b"keep-alive"),
            (b"via", b"1.1 app"),
            (b"x-amz-cf-id", b"x"),
            (b"x-edge-location", b"y"),
            (b"x-kept", b"z"),
        ],
        b"ok",
    )
    result = call(fixture("edgeViewerRequest.json"), app)
    assert sorted(result["headers"]) == ["content-type", "x-kept"]


@pytest.mark.parametrize(
    ("name", "limit"),
    [("edgeViewerRequest.json", VIEWER_LIMIT), ("edgeOriginRequest.json", ORIGIN_LIMIT)],
)
def test_response_over_the_size_limit_is_a_logged_502(
    name: str, limit: int, capsys: pytest.CaptureFixture[str]
) -> None:
    fits = call(fixture(name), app_answering(200, [(b"content-type", b"text/plain")], b"x" * 100))
    assert fits["status"] == "200"
    big = call(fixture(name), app_answering(200, [(b"content-type", b"text/plain")], b"x" * limit))
    assert big["status"] == "502"
    assert big["body"] == "Bad Gateway"
    assert "exceeds Lambda@Edge" in capsys.readouterr().out


def test_viewer_limit_is_not_applied_to_origin_triggers() -> None:
    body = b"x" * (VIEWER_LIMIT + 10)
    app = app_answering(200, [(b"content-type", b"text/plain")], body)
    assert call(fixture("edgeOriginResponse.json"), app)["status"] == "200"
    assert call(fixture("edgeViewerResponse.json"), app)["status"] == "502"


def test_response_event_is_answered_with_the_apps_response() -> None:
    result = call(fixture("edgeOriginResponse.json"))
    assert result["status"] == "200"
    got = json.loads(result["body"])
    assert got["path"] == "/"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"method": None}, "'request.method'"),
        ({"uri": 5}, "'request.uri'"),
        ({"headers": {"host": "example.org"}}, "'request.headers.host'"),
        ({"headers": {"host": [{"key": "Host", "value": 1}]}}, "'request.headers.host'"),
        ({"headers": []}, "'request.headers'"),
        ({"body": {"inputTruncated": True, "data": "", "encoding": "text"}}, "truncated"),
        ({"body": {"encoding": "base64", "data": "%%%"}}, "'request.body.data'"),
        ({"body": "raw"}, "'request.body'"),
    ],
)
def test_malformed_event_is_a_400_naming_the_field(change: dict[str, Any], field: str) -> None:
    payload = fixture("edgeViewerRequest.json")
    payload["Records"][0]["cf"]["request"].update(change)
    result = call(payload)
    assert result["status"] == "400"
    message = json.loads(result["body"])["message"]
    assert field in message
    assert "Traceback" not in message


@pytest.mark.parametrize("trigger", EVENT_TYPES)
def test_build_event_round_trips(trigger: str) -> None:
    codec = Edge()
    request = http_request("POST", "/a b", query="x=1&x=2", headers={"x-one": "1"}, body=b"\xff")
    payload = codec.build_event(request, trigger)
    assert payload["Records"][0]["cf"]["config"]["eventType"] == trigger
    assert ("response" in payload["Records"][0]["cf"]) is trigger.endswith("response")
    decoded = codec.decode(payload, None, aws.handler(echo).options)
    assert (decoded.method, decoded.path, decoded.query_string) == ("POST", "/a b", b"x=1&x=2")
    assert decoded.body == b"\xff"
    assert (b"x-one", b"1") in decoded.headers


def test_test_client_speaks_edge() -> None:
    result = LambdaClient(aws.handler(echo), source="edge").get("/hello", query="a=1")
    assert result.status == 200
    assert result.json()["path"] == "/hello"
    assert result.header("content-type") == "application/json"


def test_events_generate_with_a_trigger() -> None:
    out = CliRunner().invoke(
        cli, ["events", "generate", "edge", "--trigger", "origin-response", "--path", "/x"]
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert payload["Records"][0]["cf"]["config"]["eventType"] == "origin-response"
    assert seen(payload)["path"] == "/x"
    bad = CliRunner().invoke(cli, ["events", "generate", "edge", "--trigger", "sideways"])
    assert bad.exit_code == 2


def test_differences_from_mangums_edge_handler() -> None:
    """docs/differences.md, "Lambda@Edge": the same event and app through both."""
    from mangum import Mangum

    app = app_answering(
        200,
        [(b"content-type", b"image/png"), (b"x-tag", b"one"), (b"x-tag", b"two")],
        bytes(range(256)),
    )
    payload = fixture("edgeViewerRequest.json")
    ours = call(payload, app)
    # Mangum runs on asyncio.get_event_loop(): give it a loop of its own, then close it.
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        theirs = Mangum(app, lifespan="off")(fixture("edgeViewerRequest.json"), LambdaContext())
    finally:
        asyncio.set_event_loop(None)
        loop.close()
    # The status as the string CloudFront's examples use.
    assert (ours["status"], theirs["status"]) == ("200", 200)
    # Every value of a repeated header.
    assert [h["value"] for h in ours["headers"]["x-tag"]] == ["one", "two"]
    assert [h["value"] for h in theirs["headers"]["x-tag"]] == ["two"]
    # Binary bodies flagged with bodyEncoding, the field CloudFront reads.
    assert ours["bodyEncoding"] == "base64"
    assert "bodyEncoding" not in theirs and theirs["isBase64Encoded"] is True
    # Header keys in their usual spelling.
    assert ours["headers"]["content-type"][0]["key"] == "Content-Type"
    assert theirs["headers"]["content-type"][0]["key"] == "content-type"
