"""One table of requests through every path an app can be served on: AWS REST API (v1),
HTTP API (v2), ALB (multi- and single-value), Function URL, Google Cloud Functions and
Azure Functions, for a Starlette, a FastAPI and a Flask app.

Each row asserts what the app sees and what the client gets back. Where a platform cannot
carry something, the row says so explicitly, next to the expectation it changes.
"""

from __future__ import annotations

import functools
from typing import Any

import pytest

from apps import APPS, CHUNKS, GZIP_JSON, PNG
from faasport import aws, azure, gcp
from faasport.testing import SOURCES, AzureClient, GcpClient, HttpClient, HttpResult, LambdaClient
from loop_paths import loop_path  # noqa: F401

#: Every row runs on both paths of the environment loop.
pytestmark = pytest.mark.usefixtures("loop_path")

AWS = list(SOURCES)
PATHS = [*AWS, "gcp", "azure"]

#: What each path puts in front of the app's own paths, as root_path: the REST API's
#: stage ("prod" in these events), and host.json's routePrefix on Azure ("/api" unless
#: changed). The others use the URL as it is.
PREFIX = {"apigw-v1": "/prod", "azure": "/api"}

MULTIPART = (
    b"--XX\r\n"
    b'Content-Disposition: form-data; name="file"; filename="photo.bin"\r\n'
    b"Content-Type: application/octet-stream\r\n\r\n" + bytes(range(256)) + b"\r\n"
    b'--XX\r\nContent-Disposition: form-data; name="note"\r\n\r\nhello \xc3\xa9\r\n--XX--\r\n'
)


@functools.cache
def client(app_name: str, path: str, base_path: str = "") -> HttpClient:
    app = APPS[app_name]()
    if path == "gcp":
        return GcpClient(gcp.handler(app, base_path=base_path))
    if path == "azure":
        return AzureClient(azure.function_app(app, base_path=base_path))
    return LambdaClient(aws.handler(app, base_path=base_path), source=path)


@pytest.fixture(params=list(APPS))
def app_name(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=PATHS)
def path(request: pytest.FixtureRequest) -> str:
    return str(request.param)


#: Sources that carry one value per query key (the last one wins).
SINGLE_VALUE_QUERY = ("alb-single", "lattice")


def base64_flag(result: HttpResult, path: str) -> bool:
    """Whether the Lambda result carried its body base64-encoded."""
    if path == "edge":  # a Lambda@Edge generated response says it with bodyEncoding
        return bool(result.raw.get("bodyEncoding") == "base64")
    return bool(result.raw["isBase64Encoded"])


def seen(result: HttpResult) -> dict[str, Any]:
    assert result.status == 200, result.body
    data: dict[str, Any] = result.json()
    return data


# -- what the app sees -----------------------------------------------------------------------


def test_repeated_query_keys(app_name: str, path: str) -> None:
    got = seen(client(app_name, path).get("/echo/q", query="a=1&a=2&b=x%20y&empty="))
    expected = [["a", "1"], ["a", "2"], ["b", "x y"], ["empty", ""]]
    if path in SINGLE_VALUE_QUERY:
        # ALB without multi-value headers keeps only the last value of a repeated key.
        expected = [["a", "2"], ["b", "x y"], ["empty", ""]]
    assert got["query"] == expected


def test_percent_encoded_path(app_name: str, path: str) -> None:
    got = seen(client(app_name, path).get("/echo/hello world/50%"))
    assert got["route_path"] == "/echo/hello world/50%"
    assert got["root_path"] == PREFIX.get(path, "")


def test_trailing_slash_is_kept(app_name: str, path: str) -> None:
    got = seen(client(app_name, path).get("/echo/dir/"))
    assert got["route_path"] == "/echo/dir/"


@pytest.mark.parametrize("path", ["apigw-v1", "apigw-v2"])
def test_stage_prefix_becomes_root_path(app_name: str, path: str) -> None:
    # Only API Gateway has stages in the URL.
    got = seen(client(app_name, path).get("/echo/items", stage="prod"))
    assert got["root_path"] == "/prod"
    assert got["route_path"] == "/echo/items"
    assert got["path"] == "/prod/echo/items"


def test_custom_domain_base_path(app_name: str, path: str) -> None:
    stage = {"stage": "$default"} if path in AWS and path != "edge" else {}
    got = seen(client(app_name, path, "/api").get("/api/echo/items", **stage))
    # On Azure the base path follows the route prefix.
    assert got["root_path"] == ("/api/api" if path == "azure" else "/api")
    assert got["route_path"] == "/echo/items"


def test_post_json(app_name: str, path: str) -> None:
    got = seen(client(app_name, path).post("/echo/items", json_body={"name": "ü", "n": 1}))
    assert got["method"] == "POST"
    assert bytes.fromhex(got["body"]) == b'{"name": "\\u00fc", "n": 1}'
    assert ["content-type", "application/json"] in got["headers"]


def test_binary_upload(app_name: str, path: str) -> None:
    payload = bytes(range(256)) * 4
    result = client(app_name, path).post(
        "/echo/upload", body=payload, headers={"content-type": "application/octet-stream"}
    )
    assert bytes.fromhex(seen(result)["body"]) == payload


def test_multipart_upload(app_name: str, path: str) -> None:
    result = client(app_name, path).post(
        "/upload", body=MULTIPART, headers={"content-type": "multipart/form-data; boundary=XX"}
    )
    assert seen(result) == {
        "filename": "photo.bin",
        "size": 256,
        "sha": bytes(range(8)).hex(),
        "note": "hello é",
    }


def test_multiple_request_cookies(app_name: str, path: str) -> None:
    got = seen(client(app_name, path).get("/echo/c", cookies={"a": "1", "b": "two", "c": "3"}))
    assert got["cookies"] == {"a": "1", "b": "two", "c": "3"}


def test_unicode_path_and_query(app_name: str, path: str) -> None:
    got = seen(client(app_name, path).get("/echo/café/☃", query={"q": "naïve ☃", "e": "é"}))
    assert got["route_path"] == "/echo/café/☃"
    assert got["query"] == [["q", "naïve ☃"], ["e", "é"]]


def test_client_scheme_and_server(app_name: str, path: str) -> None:
    got = seen(
        client(app_name, path).get(
            "/echo/who",
            headers={
                "x-forwarded-proto": "https",
                "x-forwarded-port": "443",
                "x-forwarded-for": "198.51.100.1, 203.0.113.7",
            },
        )
    )
    # The address the platform's front end saw (AWS: sourceIp; GCP and Azure: the entry
    # their front end appended to X-Forwarded-For, without Azure's port).
    assert got["client"][0] == "203.0.113.7"
    assert got["scheme"] == "https"


def test_the_app_sees_the_same_request_everywhere(app_name: str, path: str) -> None:
    def request(path: str) -> dict[str, Any]:
        got = seen(
            client(app_name, path).post(
                "/echo/a b/ü",
                query="x=1&x=2&y=%2F",
                headers={
                    "x-custom": "v",
                    "content-type": "text/plain; charset=utf-8",
                    # What an ALB adds; the test events of the other sources carry the
                    # client's address in their own fields.
                    "x-forwarded-for": "203.0.113.7",
                    "x-forwarded-proto": "https",
                },
                cookies={"session": "s1", "theme": "dark"},
                body="body ü",
            )
        )
        headers = {k: v for k, v in got["headers"] if k in ("x-custom", "content-type")}
        return {**got, "headers": headers, "raw_path": None, "path": None, "root_path": None}

    expected = request("apigw-v2")
    if path in SINGLE_VALUE_QUERY:
        # ALB without multi-value headers keeps only the last value of a repeated key.
        expected["query"] = [["x", "2"], ["y", "/"]]

    assert request(path) == expected


# -- what the client gets --------------------------------------------------------------------


def test_three_set_cookie_headers_survive(app_name: str, path: str) -> None:
    result = client(app_name, path).get("/cookies")
    assert result.status == 200
    assert result.text == "cookies"
    assert sorted(c.split(";")[0] for c in result.cookies) == ["a=aaa", "b=bbb", "c=ccc"]


def test_repeated_response_header(app_name: str, path: str) -> None:
    values = client(app_name, path).get("/tags").header_list("x-tag")
    if path in ("apigw-v2", "function-url", "alb-single", "lattice", "lattice-v2", "azure"):
        # These carry one value per header name; list-valued headers are joined (RFC 9110).
        assert values == ["one, two"]
    else:
        assert values == ["one", "two"]


def test_streamed_response_arrives_whole(app_name: str, path: str) -> None:
    result = client(app_name, path).get("/stream")
    assert result.status == 200
    assert result.body == b"".join(CHUNKS)


def test_binary_png_response(app_name: str, path: str) -> None:
    result = client(app_name, path).get("/png")
    assert result.status == 200
    assert result.body == PNG
    assert result.header("content-type") == "image/png"
    if path in AWS:
        assert base64_flag(result, path) is True


def test_gzip_encoded_json_response(app_name: str, path: str) -> None:
    result = client(app_name, path).get("/gzip")
    assert result.body == GZIP_JSON
    assert result.header("content-encoding") == "gzip"
    # Content-Encoding is no charset: the content type stays what the app said.
    assert result.header("content-type") == "application/json"
    if path in AWS:
        assert base64_flag(result, path) is True


def test_no_content(app_name: str, path: str) -> None:
    result = client(app_name, path).request("DELETE", "/empty")
    assert result.status == 204
    assert result.body == b""
    if path in AWS:
        assert base64_flag(result, path) is False


def test_head_has_headers_but_no_body(app_name: str, path: str) -> None:
    get = client(app_name, path).get("/echo/h")
    head = client(app_name, path).head("/echo/h")
    assert head.status == 200
    assert head.body == b""
    assert head.header("content-type") == "application/json"
    assert get.body


def test_app_error_is_a_500_without_details(app_name: str, path: str) -> None:
    result = client(app_name, path).get("/boom")
    assert result.status == 500
    assert b"secret detail" not in result.body
    # Every framework answers its own exceptions with its own error page (Starlette's
    # ServerErrorMiddleware sends it, then re-raises for the server to log): it stands.
    if app_name != "flask":
        assert result.body == b"Internal Server Error"


async def _custom_page(request: Any, exc: Exception) -> Any:
    from starlette.responses import JSONResponse

    return JSONResponse({"error": "custom page"}, status_code=503)


async def _boom(request: Any) -> None:
    raise RuntimeError("secret detail")


def test_custom_error_page_is_delivered_everywhere(path: str) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Route

    app = Starlette(routes=[Route("/boom", _boom)], exception_handlers={Exception: _custom_page})
    if path == "gcp":
        served: HttpClient = GcpClient(gcp.handler(app))
    elif path == "azure":
        served = AzureClient(azure.function_app(app))
    else:
        served = LambdaClient(aws.handler(app), source=path)
    result = served.get("/boom")
    assert (result.status, result.json()) == (503, {"error": "custom page"})


def test_the_client_gets_the_same_response_everywhere(app_name: str, path: str) -> None:
    def response(path: str) -> tuple[Any, ...]:
        result = client(app_name, path).get("/cookies")
        cookies = sorted(c.split(";")[0] for c in result.cookies)
        return result.status, result.header("content-type"), cookies, result.body

    assert response(path) == response("apigw-v2")
