from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from faasport import aws
from faasport.testing import LambdaClient, LambdaContext, event
from recorded import names, recorded


@pytest.mark.parametrize(
    ("initialization", "imported_at_once"),
    [("provisioned-concurrency", True), ("on-demand", False), (None, False)],
)
def test_provisioned_environments_import_the_app_during_init(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    initialization: str | None,
    imported_at_once: bool,
) -> None:
    module = f"provisioned_{initialization or 'unset'}".replace("-", "_")
    (tmp_path / f"{module}.py").write_text(
        "from starlette.applications import Starlette\n"
        "from starlette.responses import PlainTextResponse\n"
        "from starlette.routing import Route\n"
        "async def hi(request):\n    return PlainTextResponse('hi')\n"
        "app = Starlette(routes=[Route('/', hi)])\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    if initialization is None:
        monkeypatch.delenv("AWS_LAMBDA_INITIALIZATION_TYPE", raising=False)
    else:
        monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", initialization)
    try:
        handler = aws.handler(f"{module}:app")
        assert (module in sys.modules) is imported_at_once
        assert LambdaClient(handler).get("/").text == "hi"
    finally:
        sys.modules.pop(module, None)


#: Every recorded event a codec with ``wsgi_environ`` reads (REST API, HTTP API, Function
#: URL), and variations of them the environ depends on.
WSGI_DIRECT = [
    *names("apiGatewayProxyEvent"),
    "apiGatewayProxyOtherEvent",
    "restApiDocsExample",
    *names("apiGatewayProxyV2"),
    "httpApiDocsExample",
    *names("lambdaFunctionUrl"),
]


def _variants(name: str) -> list[dict[str, Any]]:
    event = recorded(name)
    variants = [event]
    changed = copy.deepcopy(event)
    if "multiValueHeaders" in changed:
        changed["multiValueHeaders"] = {"Host": ["a.example.com"], "X-Two": ["1", "2"]}
        changed["headers"] = {"Host": "a.example.com", "X-Two": "2", "X-Only-Single": "é"}
    else:
        changed["headers"] = {"Host": "a.example.com", "host": "b.example.com", "X-É": "é"}
        changed["cookies"] = ["a=1", "b=é"]
        changed["rawQueryString"] = "q=é&r"
    changed["body"] = "aGk="
    changed["isBase64Encoded"] = True
    variants.append(changed)
    if "multiValueHeaders" not in event:
        # The usual shape, which the one-pass builders take: a stage in the path, an encoded
        # slash (Function URLs decode it), a Cookie header besides the cookies array.
        usual = copy.deepcopy(event)
        usual["requestContext"]["stage"] = "prod"
        usual["rawPath"] = "/prod/a%2Fb/c"
        usual["headers"] = {
            **{k.lower(): v for k, v in (event.get("headers") or {}).items()},
            "cookie": "z=0",
            "host": "a.example.com",
            "x-forwarded-port": "8443",
            "x-forwarded-proto": "https",
        }
        usual["cookies"] = ["a=1", "b=2"]
        usual["body"] = None
        usual["isBase64Encoded"] = False
        variants.append(usual)
    return variants


def _wsgi_seer(seen: list[dict[str, Any]]) -> Any:
    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        seen.append(
            {k: v for k, v in environ.items() if k != "wsgi.input"}
            | {"body": environ["wsgi.input"].read()}
        )
        start_response("200 OK", [("Content-Type", "text/plain"), ("X-A", "1")])
        return [b"ok"]

    return app


def test_health_checks_and_failures_after_the_first_request() -> None:
    calls: list[str] = []

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        calls.append(environ["PATH_INFO"])
        if environ["PATH_INFO"] == "/boom":
            raise RuntimeError("secret detail")
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    handler = aws.handler(app, health_path="/health")
    client = LambdaClient(handler, source="apigw-v2")
    assert client.get("/").status == 200
    health = client.get("/health")
    assert (health.status, json.loads(health.body)) == (200, {"status": "ok"})
    assert client.request("HEAD", "/").body == b""
    failed = client.get("/boom")
    assert failed.status == 500
    assert b"secret" not in failed.body
    assert calls == ["/", "/", "/boom"]
    bad = handler({**event("apigw-v2", "GET", "/"), "rawPath": 5}, LambdaContext())
    assert bad["statusCode"] == 400
    assert "rawPath" in bad["body"]


def _asgi_seer(seen: list[dict[str, Any]]) -> Any:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("no lifespan")
        message = await receive()
        seen.append({**scope, "body": message["body"]})
        if scope["path"].endswith("/boom"):
            raise RuntimeError("secret detail")
        await send({"type": "http.response.start", "status": 200, "headers": [(b"x-a", b"1")]})
        await send({"type": "http.response.body", "body": b"ok"})

    return app


@pytest.mark.parametrize("options", [{}, {"base_path": "/v1"}, {"health_path": "/health"}])
@pytest.mark.parametrize("name", WSGI_DIRECT)
@pytest.mark.parametrize("kind", ["wsgi", "asgi"])
def test_the_environ_or_scope_made_straight_from_the_event_is_the_canonical_one(
    kind: str, name: str, options: dict[str, Any]
) -> None:
    # The first request of an environment goes through the canonical request (the app is
    # imported then); later ones build the WSGI environ or ASGI scope from the event directly.
    seer = _wsgi_seer if kind == "wsgi" else _asgi_seer
    for payload in _variants(name):
        canonical: list[dict[str, Any]] = []
        direct: list[dict[str, Any]] = []
        fresh = aws.handler(seer(canonical), **options)
        warm = aws.handler(seer(direct), **options)
        warm(recorded("httpApiDocsExample"), LambdaContext())
        assert getattr(warm, f"_{kind}") is not None
        direct.clear()
        context = LambdaContext()
        assert warm(payload, context) == fresh(payload, context)
        assert direct == canonical
        if kind == "asgi":
            assert [list(scope) for scope in direct] == [list(scope) for scope in canonical]


def test_asgi_health_checks_head_and_failures_after_the_first_request() -> None:
    seen: list[dict[str, Any]] = []
    handler = aws.handler(_asgi_seer(seen), health_path="/health")
    client = LambdaClient(handler, source="apigw-v2")
    assert client.get("/").status == 200
    assert handler._asgi is not None
    health = client.get("/health")
    assert (health.status, json.loads(health.body)) == (200, {"status": "ok"})
    # Only the exact health path is answered without the app.
    assert client.get("/x/health").body == b"ok"
    head = client.request("HEAD", "/")
    assert (head.status, head.body) == (200, b"")
    failed = client.get("/boom")
    assert failed.status == 500
    assert b"secret" not in failed.body
    assert [scope["path"] for scope in seen] == ["/", "/x/health", "/", "/boom"]
    bad = handler({**event("apigw-v2", "GET", "/"), "rawPath": 5}, LambdaContext())
    assert bad["statusCode"] == 400
    assert "rawPath" in bad["body"]


def test_strip_root_path_keeps_the_canonical_request() -> None:
    seen: list[dict[str, Any]] = []
    handler = aws.handler(_asgi_seer(seen), strip_root_path=True)
    payload = {**recorded("httpApiDocsExample"), "rawPath": "/prod/a", "routeKey": "GET /a"}
    context = LambdaContext()
    for _ in range(2):
        handler(payload, context)
    assert handler._asgi is None
    assert [(scope["root_path"], scope["path"]) for scope in seen] == [("/prod", "/a")] * 2


@pytest.mark.parametrize(
    ("seer", "key"), [(_wsgi_seer, "faasport.tag"), (_asgi_seer, "aws.tag")], ids=["wsgi", "asgi"]
)
def test_a_codec_subclass_that_decodes_differently_is_not_bypassed(seer: Any, key: str) -> None:
    from faasport.aws.apigw_v2 import ApiGatewayV2

    class Tagged(ApiGatewayV2):
        def decode(self, event: Any, context: Any, options: Any) -> Any:
            request = super().decode(event, context, options)
            request.extras["aws.tag"] = "mine"
            return request

    seen: list[dict[str, Any]] = []
    handler = aws.handler(seer(seen), codecs=[Tagged()])
    for _ in range(3):
        handler(recorded("httpApiDocsExample"), LambdaContext())
    assert [found.get(key) for found in seen] == ["mine"] * 3
