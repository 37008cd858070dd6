"""One table of requests through every AWS event format, for ASGI and WSGI apps.

Each row is sent the way API Gateway (REST and HTTP API), an ALB or a Function URL would
send it, and the answer is read back the way that source reads it.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from apps import APPS, GZIP_JSON, PNG
from faasport import aws
from faasport.testing import SOURCES, LambdaClient

ALL_SOURCES = list(SOURCES)


@functools.cache
def client(app_name: str, source: str, base_path: str = "") -> LambdaClient:
    return LambdaClient(aws.handler(APPS[app_name](), base_path=base_path), source=source)


@pytest.fixture(params=list(APPS))
def app_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=ALL_SOURCES)
def source(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def seen(result: Any) -> dict[str, Any]:
    assert result.status == 200, result.body
    data: dict[str, Any] = result.json()
    return data


def test_repeated_query_keys(app_name: str, source: str) -> None:
    got = seen(client(app_name, source).get("/echo/q", query="a=1&a=2&b=x%20y&empty="))
    expected = [["a", "1"], ["a", "2"], ["b", "x y"], ["empty", ""]]
    if source == "alb-single":
        # ALB without multi-value headers keeps only the last value of a repeated key.
        expected = [["a", "2"], ["b", "x y"], ["empty", ""]]
    assert got["query"] == expected


def test_percent_encoded_path(app_name: str, source: str) -> None:
    got = seen(client(app_name, source).get("/echo/hello world/50%"))
    assert got["route_path"] == "/echo/hello world/50%"


def test_trailing_slash_is_kept(app_name: str, source: str) -> None:
    got = seen(client(app_name, source).get("/echo/dir/"))
    assert got["route_path"] == "/echo/dir/"


@pytest.mark.parametrize("source", ["apigw-v1", "apigw-v2"])
def test_stage_prefix_becomes_root_path(app_name: str, source: str) -> None:
    got = seen(client(app_name, source).get("/echo/items", stage="prod"))
    assert got["root_path"] == "/prod"
    assert got["route_path"] == "/echo/items"
    assert got["path"] == "/prod/echo/items"


def test_custom_domain_base_path(app_name: str, source: str) -> None:
    got = seen(client(app_name, source, "/api").get("/api/echo/items", stage="$default"))
    assert got["root_path"] == "/api"
    assert got["route_path"] == "/echo/items"


def test_post_json(app_name: str, source: str) -> None:
    got = seen(client(app_name, source).post("/echo/items", json_body={"name": "ü", "n": 1}))
    assert got["method"] == "POST"
    assert bytes.fromhex(got["body"]) == b'{"name": "\\u00fc", "n": 1}'
    assert ["content-type", "application/json"] in got["headers"]


def test_binary_upload(app_name: str, source: str) -> None:
    payload = bytes(range(256)) * 4
    result = client(app_name, source).post(
        "/echo/upload", body=payload, headers={"content-type": "application/octet-stream"}
    )
    assert bytes.fromhex(seen(result)["body"]) == payload


def test_multiple_request_cookies(app_name: str, source: str) -> None:
    got = seen(client(app_name, source).get("/echo/c", cookies={"a": "1", "b": "two", "c": "3"}))
    assert got["cookies"] == {"a": "1", "b": "two", "c": "3"}


def test_three_set_cookie_headers_survive(app_name: str, source: str) -> None:
    result = client(app_name, source).get("/cookies")
    assert result.status == 200
    assert result.text == "cookies"
    assert sorted(c.split(";")[0] for c in result.cookies) == ["a=aaa", "b=bbb", "c=ccc"]


def test_binary_png_response(app_name: str, source: str) -> None:
    result = client(app_name, source).get("/png")
    assert result.status == 200
    assert result.raw["isBase64Encoded"] is True
    assert result.body == PNG
    assert result.header("content-type") == "image/png"


def test_gzip_encoded_json_response_is_base64(app_name: str, source: str) -> None:
    result = client(app_name, source).get("/gzip")
    assert result.raw["isBase64Encoded"] is True
    assert result.body == GZIP_JSON
    assert result.header("content-encoding") == "gzip"


def test_no_content(app_name: str, source: str) -> None:
    result = client(app_name, source).request("DELETE", "/empty")
    assert result.status == 204
    assert result.body == b""
    assert result.raw["isBase64Encoded"] is False


def test_head_has_headers_but_no_body(app_name: str, source: str) -> None:
    get = client(app_name, source).get("/echo/h")
    head = client(app_name, source).head("/echo/h")
    assert head.status == 200
    assert head.body == b""
    assert head.header("content-type") == "application/json"
    assert get.body


def test_unicode_path_and_query(app_name: str, source: str) -> None:
    got = seen(client(app_name, source).get("/echo/café/☃", query={"q": "naïve ☃", "e": "é"}))
    assert got["route_path"] == "/echo/café/☃"
    assert got["query"] == [["q", "naïve ☃"], ["e", "é"]]


def test_client_scheme_and_server(app_name: str, source: str) -> None:
    got = seen(
        client(app_name, source).get(
            "/echo/who",
            headers={
                "x-forwarded-proto": "https",
                "x-forwarded-port": "443",
                "x-forwarded-for": "198.51.100.1, 203.0.113.7",
            },
        )
    )
    assert got["client"][0] == "203.0.113.7"
    assert got["scheme"] == "https"
