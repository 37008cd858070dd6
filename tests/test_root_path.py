"""``strip_root_path``: for frameworks that route on the ASGI ``path`` without removing
``root_path`` (Falcon's ASGI app, Sanic), on every entry point."""

from __future__ import annotations

from typing import Any

import pytest

from faasport import aws, azure, gcp
from faasport.testing import AzureClient, GcpClient, HttpClient, LambdaClient


def falcon_app() -> Any:
    import falcon.asgi

    class Item:
        async def on_get(self, req: Any, resp: Any, item_id: str) -> None:
            resp.media = {"item": item_id, "path": req.path, "root_path": req.root_path}

    app = falcon.asgi.App()
    app.add_route("/items/{item_id}", Item())
    return app


def served(path: str, **options: Any) -> HttpClient:
    app = falcon_app()
    if path == "gcp":
        return GcpClient(gcp.handler(app, base_path="/v1", **options))
    if path == "azure":
        return AzureClient(azure.function_app(app, **options))
    return LambdaClient(aws.handler(app, **options), source=path)


#: Each path with the prefix its app is mounted below: the REST API stage, a custom-domain
#: base path on Google Cloud, the Functions host's route prefix on Azure.
PREFIXED = {"apigw-v1": "", "gcp": "/v1", "azure": ""}


@pytest.mark.parametrize("path", list(PREFIXED))
def test_falcon_behind_a_prefix_needs_strip_root_path(path: str) -> None:
    url = PREFIXED[path] + "/items/7"
    assert served(path).get(url).status == 404
    result = served(path, strip_root_path=True).get(url)
    assert result.status == 200, result.body
    got = result.json()
    assert got["item"] == "7"
    assert got["root_path"] == {"apigw-v1": "/prod", "gcp": "/v1", "azure": "/api"}[path]


def test_without_a_prefix_the_option_changes_nothing() -> None:
    result = served("apigw-v2", strip_root_path=True).get("/items/7")
    assert (result.status, result.json()["item"]) == (200, "7")


def test_starlette_is_unaffected_by_the_convention() -> None:
    # Starlette removes root_path itself: with the option on it still routes correctly.
    from apps import APPS

    for strip in (False, True):
        client = LambdaClient(aws.handler(APPS["starlette"](), strip_root_path=strip), "apigw-v1")
        got = client.get("/echo/x").json()
        assert got["root_path"] == "/prod"
        assert got["path"] == ("/echo/x" if strip else "/prod/echo/x")
