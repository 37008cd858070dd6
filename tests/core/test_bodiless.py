"""A 204 or 304 has no body (RFC 9110), whatever the app wrote: on every platform, as HTTP
servers answer (uvicorn, gunicorn), and the Azure host refuses a body on a 204."""

from __future__ import annotations

from typing import Any

import pytest

from faasport import aws, azure, gcp
from faasport.testing import AzureClient, GcpClient, HttpClient, LambdaClient


async def asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    status = int(scope["path"].rsplit("/", 1)[1])
    await send({"type": "http.response.start", "status": status, "headers": []})
    await send({"type": "http.response.body", "body": b"should not be here"})


def wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    status = environ["PATH_INFO"].strip("/")
    start_response(f"{status} X", [("Content-Type", "text/plain")])
    return [b"should not be here"]


CLIENTS = {
    "lambda-asgi": lambda: LambdaClient(aws.handler(asgi, lifespan="off")),
    "lambda-wsgi": lambda: LambdaClient(aws.handler(wsgi)),
    "lambda-rest": lambda: LambdaClient(aws.handler(asgi, lifespan="off"), source="apigw-v1"),
    "gcp": lambda: GcpClient(gcp.handler(asgi, lifespan="off")),
    "azure": lambda: AzureClient(azure.function_app(asgi, lifespan="off")),
}


@pytest.mark.parametrize("status", [204, 304])
@pytest.mark.parametrize("name", list(CLIENTS))
def test_no_body(name: str, status: int) -> None:
    client: HttpClient = CLIENTS[name]()
    answer = client.get(f"/{status}")
    assert (answer.status, answer.body) == (status, b"")
    assert client.get("/200").body == b"should not be here"
