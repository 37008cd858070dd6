"""REST API events from the testing helpers match what the REST API ``faasport deploy aws``
writes sends: its binary media types are ``*/*``, so every request body arrives base64."""

from __future__ import annotations

import base64
import gzip

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from faasport import aws
from faasport.deploy.aws.model import BINARY_MEDIA_TYPES
from faasport.testing import LambdaClient, event


async def echo(request: Request) -> Response:
    body = await request.body()
    return Response(
        gzip.compress(body), media_type="application/json", headers={"content-encoding": "gzip"}
    )


APP = Starlette(routes=[Route("/echo", echo, methods=["POST"])])


def test_the_deployed_rest_api_treats_every_body_as_binary() -> None:
    assert BINARY_MEDIA_TYPES == ("*/*",)


def test_rest_api_request_bodies_are_base64_text_ones_too() -> None:
    for body in ('{"name": "héllo"}', b"\x89PNG\r\n\x1a\n\x00"):
        built = event("apigw-v1", "POST", "/echo", body=body)
        raw = body.encode() if isinstance(body, str) else body
        assert built["isBase64Encoded"] is True
        assert base64.b64decode(built["body"]) == raw
    assert event("apigw-v1", "GET", "/")["body"] is None
    # The HTTP API has no binary media types: it sends text as text.
    text = event("apigw-v2", "POST", "/", body="plain", headers={"content-type": "text/plain"})
    assert text["isBase64Encoded"] is False


def test_binary_bodies_reach_the_app_and_come_back() -> None:
    client = LambdaClient(aws.handler(APP), source="apigw-v1")
    upload = bytes(range(256))
    result = client.post("/echo", body=upload, headers={"content-type": "image/png"})
    assert result.status == 200
    assert result.raw["isBase64Encoded"] is True  # gzip: API Gateway decodes it (*/*)
    assert gzip.decompress(result.body) == upload
