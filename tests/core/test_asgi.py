from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, StreamingResponse
from starlette.routing import Route

from faasport import aws
from faasport.testing import LambdaClient, LambdaContext, event


def recording_app(seen: list[dict[str, Any]]) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("no lifespan")
        message = await receive()
        seen.append({"scope": scope, "message": message})
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"X-A", b"1"), (b"content-type", b"text/plain")],
            }
        )
        await send({"type": "http.response.body", "body": b"part1,", "more_body": True})
        await send({"type": "http.response.body", "body": b"part2"})

    return app


def test_scope_follows_the_asgi_spec() -> None:
    seen: list[dict[str, Any]] = []
    handler = aws.handler(recording_app(seen))
    payload = event(
        "apigw-v2", "POST", "/a b", query="x=1", body="hi", headers={"X-Custom": "v"}, stage="prod"
    )
    context = LambdaContext()
    result = handler(payload, context)
    assert result["body"] == "part1,part2"
    assert result["headers"]["x-a"] == "1"
    scope = seen[0]["scope"]
    assert scope["type"] == "http"
    assert scope["asgi"] == {"version": "3.0", "spec_version": "2.4"}
    assert scope["http_version"] == "1.1"
    assert scope["method"] == "POST"
    assert scope["scheme"] == "https"
    assert scope["path"] == "/prod/a b"
    assert scope["root_path"] == "/prod"
    assert scope["raw_path"] == b"/prod/a%20b"
    assert scope["query_string"] == b"x=1"
    assert (b"x-custom", b"v") in scope["headers"]
    assert all(isinstance(k, bytes) and k == k.lower() for k, _ in scope["headers"])
    assert scope["server"] == ("example.com", 443)
    assert scope["client"] == ("203.0.113.7", 0)
    assert scope["aws.event"] is payload
    assert scope["aws.context"] is context
    assert seen[0]["message"] == {"type": "http.request", "body": b"hi", "more_body": False}


def test_streaming_and_real_awaits() -> None:
    async def numbers() -> AsyncIterator[bytes]:
        for n in range(3):
            await asyncio.sleep(0.001)  # a real timer: the loop has to take over
            yield f"{n}\n".encode()

    async def stream(request: Request) -> StreamingResponse:
        return StreamingResponse(numbers(), media_type="text/plain")

    async def waits(request: Request) -> PlainTextResponse:
        await asyncio.sleep(0.01)
        return PlainTextResponse(type(asyncio.current_task()).__name__)

    app = Starlette(routes=[Route("/stream", stream), Route("/waits", waits)])
    client = LambdaClient(aws.handler(app))
    for _ in range(3):
        assert client.get("/stream").text == "0\n1\n2\n"
        assert client.get("/waits").text == "Task"


def test_receive_after_body_waits_for_the_response() -> None:
    order: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("no lifespan")
        await receive()

        async def watch() -> None:
            message = await receive()
            order.append(message["type"])

        task = asyncio.get_running_loop().create_task(watch())
        await asyncio.sleep(0)
        order.append("respond")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})
        await task

    assert LambdaClient(aws.handler(app)).get("/").text == "done"
    assert order == ["respond", "http.disconnect"]


def test_a_handler_can_be_called_from_inside_a_running_loop() -> None:
    seen: list[dict[str, Any]] = []
    handler = aws.handler(recording_app(seen))

    async def main() -> Any:
        return handler(event("apigw-v2", "GET", "/"), LambdaContext())

    assert asyncio.run(main())["body"] == "part1,part2"
