"""The ASGI and WSGI middleware themselves: the body reaches the app, policies' answers and
headers reach the client, and an app that raises leaves no policy half done."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from faasport import aws, gateway, state
from faasport.gateway.request import Policy, Request, Response
from faasport.testing import HttpClient, LambdaClient, LambdaContext, event


class Stamp(Policy):
    """Adds a header to every answer; refuses paths under /refused."""

    def check(self, request: Request) -> Response | None:
        if request.path.startswith("/refused"):
            return Response.message(418, "I'm a teapot")
        return None

    def finish(self, request: Request, response: Response) -> None:
        response.headers.append(("x-stamp", request.method))


def test_the_body_and_the_answer_pass_through(
    entry: str, make_client: Callable[..., HttpClient]
) -> None:
    client = make_client(entry, [Stamp()])
    result = client.post("/items", body="ünïcode body", query={"a": "1"})
    assert result.status == 200
    assert result.json()["body"] == "ünïcode body"
    assert result.json()["path"].endswith("/items")
    assert result.header("x-stamp") == "POST"
    refused = client.get("/refused/x")
    assert (refused.status, refused.json()) == (418, {"message": "I'm a teapot"})
    assert refused.header("x-stamp") == "GET"


def test_wsgi_write_callable_is_kept() -> None:
    def legacy(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        write = start_response("200 OK", [("Content-Type", "text/plain")])
        write(b"written ")
        return [b"returned"]

    client = LambdaClient(aws.handler(gateway.wsgi(legacy, Stamp())))
    result = client.get("/")
    assert (result.status, result.text, result.header("x-stamp")) == (
        200,
        "written returned",
        "GET",
    )


def test_an_app_that_raises_releases_its_idempotency_key(tmp_path: Path) -> None:
    store = state.open(f"sqlite:///{tmp_path}/state.db")
    calls: list[int] = []

    def broken(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        calls.append(1)
        raise RuntimeError("bug")

    policy = gateway.Idempotency(store)
    app = gateway.wsgi(broken, policy)
    client = LambdaClient(aws.handler(app))
    for _ in range(2):
        assert client.post("/pay", headers={"idempotency-key": "k"}).status == 500
    assert len(calls) == 2  # the key was released after each failure


@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_claims_from_api_gateway_itself_are_read_too(kind: str) -> None:
    """Behind API Gateway's own authorizer the app reads the same shape from the event."""
    found: list[Any] = []

    async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        found.append(gateway.authorizer(scope))
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    def wsgi_app(environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        found.append(gateway.authorizer(environ))
        start_response("204 No Content", [])
        return []

    handler = aws.handler(asgi_app if kind == "asgi" else wsgi_app, lifespan="off")
    payload = event("apigw-v2", "GET", "/")
    payload["requestContext"]["authorizer"] = {"jwt": {"claims": {"sub": "ada"}, "scopes": None}}
    assert handler(payload, LambdaContext())["statusCode"] == 204
    assert found == [{"jwt": {"claims": {"sub": "ada"}, "scopes": None}}]
