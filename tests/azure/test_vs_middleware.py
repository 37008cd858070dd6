"""Where ``azure.function_app`` and the azure-functions ``AsgiMiddleware`` differ, on one
app and one request each; docs/differences.md lists the reasons."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import azure.functions as func
import pytest
from azure.functions.http import HttpResponseConverter

from faasport import azure
from faasport.testing.azure import functions, invoke


def app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    async def who(request: Request) -> JSONResponse:
        return JSONResponse({"client": request.scope["client"]})

    async def untyped(request: Request) -> Response:
        # A compressed body with no Content-Type: the host has to fill one in.
        return Response(b"\x1f\x8b\x08\x00", headers={"content-encoding": "gzip"})

    return Starlette(routes=[Route("/who", who), Route("/untyped", untyped)])


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def request(path: str) -> Any:
    headers = {"x-forwarded-for": "203.0.113.7:49152"}
    return func.HttpRequest("GET", f"https://fa.example.net/api{path}", headers=headers, body=b"")


def ours(path: str) -> Any:
    [function] = functions(azure.function_app(app()))
    return invoke(function, req=request(path))


def middleware(loop: asyncio.AbstractEventLoop, path: str) -> Any:
    handler = func.AsgiMiddleware(app())
    # Apps behind the middleware are mounted below the route prefix themselves.
    req = request(path)
    req = func.HttpRequest("GET", req.url.replace("/api", ""), headers=dict(req.headers), body=b"")
    return loop.run_until_complete(handler.handle_async(req, None))


def sent_content_type(response: Any) -> str:
    return str(
        HttpResponseConverter.encode(response, expected_type=None)
        .value["headers"]["content-type"]
        .value
    )


def test_client_address(loop: asyncio.AbstractEventLoop) -> None:
    assert json.loads(ours("/who").get_body())["client"] == ["203.0.113.7", 0]
    assert json.loads(middleware(loop, "/who").get_body())["client"] is None


def test_content_encoding_is_not_a_charset(loop: asyncio.AbstractEventLoop) -> None:
    assert sent_content_type(ours("/untyped")) == "text/plain; charset=utf-8"
    assert sent_content_type(middleware(loop, "/untyped")) == "text/plain; charset=gzip"
