"""A REST API project through a real ``faasport dev``: served under its stage (``/prod``, as
deployed) with payload format 1.0; exactly the deployed routes reach the function."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from dev_process import Dev
from rawhttp import write_project

CONFIG = """
name = "shop"

[api]
type = "rest"

[functions.items]
handler = "{module}:handle"
routes = ["GET /items/{{id}}", "POST /items"]
"""


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Dev]:
    root: Path = tmp_path_factory.mktemp("rest")
    write_project(root, CONFIG)
    server = Dev(root, "--no-reload")
    try:
        yield server
    finally:
        server.close()


def test_listening_url_has_the_stage(dev: Dev) -> None:
    assert urlsplit(dev.url).path == "/prod"
    assert any(line.strip().startswith(f"GET     {dev.url}/items/{{id}}") for line in dev.lines)


def test_routes_get_1_0_events(dev: Dev) -> None:
    response = httpx.get(f"{dev.url}/items/7", params={"color": "blue"})
    assert "x-amzn-requestid" in response.headers and "apigw-requestid" not in response.headers
    seen = response.json()
    assert seen["version"] == "1.0"
    assert (seen["stage"], seen["path"], seen["resource"]) == ("prod", "/items/7", "/items/{id}")
    assert seen["pathParameters"] == {"id": "7"}
    assert seen["params"] == {"color": "blue"}
    posted = httpx.post(f"{dev.url}/items", content=b"{}").json()
    assert (posted["resource"], posted["pathParameters"]) == ("/items", None)


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/nothing"), ("DELETE", "/items/7"), ("GET", "/items")]
)
def test_unrouted_requests_never_reach_the_function(dev: Dev, method: str, path: str) -> None:
    before = dev.invocation_ids()
    response = httpx.request(method, dev.url + path)
    # What a REST API answers for a resource or method it does not have.
    assert response.status_code == 403
    assert response.json() == {"message": "Missing Authentication Token"}
    assert "x-amzn-requestid" in response.headers
    assert response.headers["x-amzn-errortype"] == "MissingAuthenticationTokenException"
    # A routed request after it: the only invocation started since.
    assert httpx.get(f"{dev.url}/items/1").status_code == 200
    assert len(dev.invocation_ids() - before) == 1


def test_paths_outside_the_stage_are_forbidden(dev: Dev) -> None:
    parts = urlsplit(dev.url)
    response = httpx.get(f"http://{parts.netloc}/items/7")
    assert response.status_code == 403
    assert response.json() == {"message": "Forbidden"}
