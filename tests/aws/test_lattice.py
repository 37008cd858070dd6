from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from echo_app import echo, fixture
from faasport import aws
from faasport.aws.handler import infer_codec
from faasport.aws.lattice import Lattice, LatticeV2
from faasport.cli.main import main as cli
from faasport.testing import LambdaClient, LambdaContext, http_request


def call(payload: dict[str, Any], app: Any = echo) -> dict[str, Any]:
    result: dict[str, Any] = aws.handler(app)(payload, LambdaContext())
    return result


def seen(payload: dict[str, Any]) -> dict[str, Any]:
    result = call(payload)
    assert result["statusCode"] == 200, result
    data: dict[str, Any] = json.loads(result["body"])
    return data


def headers_of(got: dict[str, Any], name: str) -> list[str]:
    return [v for k, v in got["headers"] if k == name]


@pytest.mark.parametrize(
    ("name", "codec"),
    [
        ("vpcLatticeEvent.json", "lattice"),
        ("vpcLatticeEventPathTrailingSlash.json", "lattice"),
        ("vpcLatticeV2Event.json", "lattice-v2"),
        ("vpcLatticeV2EventWithHeaders.json", "lattice-v2"),
        ("vpcLatticeEventV2PathTrailingSlash.json", "lattice-v2"),
    ],
)
def test_recorded_events_are_recognised(name: str, codec: str) -> None:
    found = infer_codec(fixture(name))
    assert found is not None and found.name == codec


def test_version_1_event() -> None:
    got = seen(fixture("vpcLatticeEvent.json"))
    assert got["method"] == "GET"
    assert got["path"] == "/testpath"
    assert got["query"] == "order-id=1"
    assert got["body"] == '{"test": "event"}'  # base64 in the event
    assert headers_of(got, "header2") == ["value1,value2"]
    assert headers_of(got, "accept") == ["*/*"]
    assert got["client"] == "10.213.229.10"
    host = "test-lambda-service-3908sdf9u3u.dkfjd93.vpc-lattice-svcs.us-east-2.on.aws"
    assert got["server"] == [host, 443]
    assert got["scheme"] == "https"


def test_version_1_trailing_slash_is_kept() -> None:
    assert seen(fixture("vpcLatticeEventPathTrailingSlash.json"))["path"] == "/testpath/"


def test_version_2_event_with_plain_string_values() -> None:
    got = seen(fixture("vpcLatticeV2Event.json"))
    assert got["path"] == "/newpath"
    assert got["query"] == "order-id=1"
    assert got["body"] == '{"message": "Hello from Lambda!"}'
    assert got["client"] == "10.213.229.10"


def test_version_2_event_with_list_values() -> None:
    got = seen(fixture("vpcLatticeV2EventWithHeaders.json"))
    # Capitalised names (as in this recording) reach the app lower-cased.
    assert headers_of(got, "header1") == ["value1"]
    assert headers_of(got, "header2") == ["value1", "value2"]
    assert headers_of(got, "powertools") == ["a", "b"]
    assert got["query"] == "parameter1=value1&parameter1=value2&parameter2=value"
    assert got["client"] == "172.31.40.143"


def test_version_2_request_context_reaches_the_app() -> None:
    payload = fixture("vpcLatticeV2Event.json")
    seen_events: list[Any] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen_events.append(scope["aws.event"])
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    assert call(payload, app)["statusCode"] == 204
    assert seen_events[0]["requestContext"]["identity"]["type"] == "AWS_IAM"


def test_result_has_the_lattice_shape() -> None:
    result = call(fixture("vpcLatticeV2Event.json"))
    assert result["statusCode"] == 200
    assert result["statusDescription"] == "200 OK"
    assert result["isBase64Encoded"] is False
    assert result["headers"]["content-type"] == "application/json"
    assert "multiValueHeaders" not in result


@pytest.mark.parametrize("source", ["lattice", "lattice-v2"])
def test_every_set_cookie_survives_and_binary_is_base64(source: str) -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"set-cookie", f"c{i}=v".encode()) for i in range(3)]
        headers.append((b"content-type", b"application/octet-stream"))
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": bytes(range(256))})

    result = LambdaClient(aws.handler(app), source=source).post("/x", body=b"\xff\x00")
    assert result.status == 201
    assert result.raw["isBase64Encoded"] is True
    assert result.body == bytes(range(256))
    assert sorted(result.cookies) == ["c0=v", "c1=v", "c2=v"]


@pytest.mark.parametrize("codec", [Lattice(), LatticeV2()])
def test_build_event_round_trips(codec: Any) -> None:
    request = http_request(
        "PUT",
        "/a b/é",
        query=[("k", "1"), ("q", "x y")],
        headers={"x-one": "1"},
        body=b"\x00\xff",
    )
    decoded = codec.decode(codec.build_event(request), None, aws.handler(echo).options)
    assert decoded.method == "PUT"
    assert decoded.path == "/a b/é"
    assert decoded.raw_path == b"/a%20b/%C3%A9"
    assert decoded.query_string == b"k=1&q=x+y"
    assert (b"x-one", b"1") in decoded.headers
    assert decoded.body == b"\x00\xff"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"method": None}, "'method'"),
        ({"method": ["GET"]}, "'method'"),
        ({"headers": ["a"]}, "'headers'"),
        ({"headers": {"a": 1}}, "'headers.a'"),
        ({"query_string_parameters": {"a": None}}, "'query_string_parameters.a'"),
        ({"raw_path": 5}, "'raw_path'"),
        ({"is_base64_encoded": True, "body": "%%%"}, "base64"),
    ],
)
def test_malformed_version_1_event_is_a_400_naming_the_field(
    change: dict[str, Any], field: str
) -> None:
    payload = {**fixture("vpcLatticeEvent.json"), **change}
    result = call(payload)
    assert result["statusCode"] == 400
    message = json.loads(result["body"])["message"]
    assert field in message
    assert "Error:" not in message and "Traceback" not in message


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"headers": {"a": [1]}}, "'headers.a'"),
        ({"queryStringParameters": {"a": {"b": 1}}}, "'queryStringParameters.a'"),
        ({"path": ["/"]}, "'path'"),
        ({"method": 7}, "'method'"),
    ],
)
def test_malformed_version_2_event_is_a_400_naming_the_field(
    change: dict[str, Any], field: str
) -> None:
    payload = {**fixture("vpcLatticeV2EventWithHeaders.json"), **change}
    result = call(payload)
    assert result["statusCode"] == 400
    assert field in json.loads(result["body"])["message"]


@pytest.mark.parametrize("source", ["lattice", "lattice-v2"])
def test_events_generate(source: str) -> None:
    out = CliRunner().invoke(
        cli, ["events", "generate", source, "--path", "/items/7", "--query", "a=1"]
    )
    assert out.exit_code == 0, out.output
    payload = json.loads(out.output)
    assert infer_codec(payload) is not None
    got = seen(payload)
    assert got["path"] == "/items/7"
    assert got["query"] == "a=1"
