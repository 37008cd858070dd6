from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from apps import APPS
from faasport import aws
from faasport.core.errors import AppError, ConfigError, ImportModuleError, UnsupportedEventError
from faasport.testing import LambdaClient, LambdaContext, event


@pytest.mark.parametrize("app_name", list(APPS))
@pytest.mark.parametrize("source", ["apigw-v1", "apigw-v2", "alb", "function-url"])
def test_unhandled_exception_is_500_logged_with_request_id_and_no_detail(
    app_name: str, source: str, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = aws.handler(APPS[app_name]())
    context = LambdaContext(aws_request_id="req-123")
    client = LambdaClient(handler, source)
    result = client.codec.parse_result(handler(event(source, "GET", "/boom"), context))
    assert result.status == 500
    assert b"secret detail" not in result.body
    if app_name == "flask":
        # Flask catches the exception and answers with its own 500 page: the app's answer
        # stands, faasport never sees an exception to report.
        return
    # Starlette's ServerErrorMiddleware sends its own 500 page and then re-raises: the page
    # is delivered, the exception logged.
    assert result.body == b"Internal Server Error"
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    errors = [entry for entry in logged if entry["level"] == "ERROR"]
    assert errors and errors[-1]["request_id"] == "req-123"
    assert "secret detail" in errors[-1]["exception"]
    assert "Traceback" in errors[-1]["exception"]


async def _raises_before_responding(scope: Any, receive: Any, send: Any) -> None:
    raise RuntimeError("secret detail")


async def _raises_midway(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"half", "more_body": True})
    raise RuntimeError("secret detail")


@pytest.mark.parametrize("app", [_raises_before_responding, _raises_midway])
@pytest.mark.parametrize("source", ["apigw-v1", "apigw-v2", "alb", "function-url"])
def test_exception_before_the_response_is_complete_is_faasports_500(
    app: Any, source: str, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = aws.handler(app, lifespan="off")
    client = LambdaClient(handler, source)
    context = LambdaContext(aws_request_id="req-9")
    result = client.codec.parse_result(handler(event(source, "GET", "/x"), context))
    assert result.status == 500
    assert json.loads(result.body) == {"message": "Internal Server Error", "requestId": "req-9"}
    assert "secret detail" in capsys.readouterr().out


async def _fastapi_boom() -> None:
    raise RuntimeError("secret detail")


def _custom_error_page_apps() -> dict[str, Any]:
    from fastapi import FastAPI
    from fastapi.responses import JSONResponse
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.routing import Route

    async def page(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse({"error": "custom page"}, status_code=503)

    async def boom(request: Request) -> None:
        raise RuntimeError("secret detail")

    starlette = Starlette(routes=[Route("/boom", boom)], exception_handlers={Exception: page})
    fastapi = FastAPI()
    fastapi.add_exception_handler(Exception, page)
    fastapi.add_api_route("/boom", _fastapi_boom)
    return {"starlette": starlette, "fastapi": fastapi}


@pytest.mark.parametrize("app_name", ["starlette", "fastapi"])
@pytest.mark.parametrize("source", ["apigw-v1", "apigw-v2", "alb", "function-url"])
def test_custom_error_page_is_delivered_and_the_exception_logged(
    app_name: str, source: str, capsys: pytest.CaptureFixture[str]
) -> None:
    handler = aws.handler(_custom_error_page_apps()[app_name])
    client = LambdaClient(handler, source)
    context = LambdaContext(aws_request_id="req-7")
    result = client.codec.parse_result(handler(event(source, "GET", "/boom"), context))
    assert (result.status, json.loads(result.body)) == (503, {"error": "custom page"})
    logged = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    errors = [entry for entry in logged if entry["level"] == "ERROR"]
    assert errors and errors[-1]["request_id"] == "req-7"
    assert "secret detail" in errors[-1]["exception"]


@pytest.mark.parametrize(
    "payload",
    [
        {"Records": [{"eventSource": "aws:sqs", "body": "hi"}]},
        {"detail-type": "Scheduled Event", "source": "aws.events"},
        {},
        "just a string",
        None,
    ],
)
def test_unrecognised_event_raises_a_clear_error(payload: Any) -> None:
    handler = aws.handler(APPS["starlette"]())
    with pytest.raises(UnsupportedEventError) as info:
        handler(payload, LambdaContext())
    message = str(info.value)
    assert "not an HTTP event" in message
    if isinstance(payload, dict) and payload:
        assert sorted(payload)[0] in message


def test_plain_handler_receives_any_event() -> None:
    seen: list[Any] = []

    def handle(event: Any, context: Any) -> dict[str, str]:
        seen.append(event)
        return {"ok": "yes"}

    handler = aws.handler(handle)
    sqs = {"Records": [{"eventSource": "aws:sqs", "body": "hi"}]}
    assert handler(sqs, LambdaContext()) == {"ok": "yes"}
    http = event("apigw-v2", "GET", "/x")
    assert handler(http, LambdaContext()) == {"ok": "yes"}
    assert seen == [sqs, http]


def test_a_plain_handler_gets_an_http_event_faasport_would_refuse_as_it_is() -> None:
    """faasport's codecs answer 400 to an event API Gateway could not have sent; a plain
    handler reads its event itself, so it gets any such event untouched, on the first
    invocation (the app not imported yet) as on every later one."""
    seen: list[Any] = []

    def handle(event: Any, context: Any) -> dict[str, Any]:
        seen.append(event)
        return {"statusCode": 200, "body": "mine"}

    handler = aws.handler(handle)
    odd = {"httpMethod": "GET", "path": "/x", "requestContext": {}, "headers": {"a": 5}}
    for _ in range(2):
        assert handler(odd, LambdaContext()) == {"statusCode": 200, "body": "mine"}
    assert seen == [odd, odd]


@pytest.mark.parametrize("source", ["apigw-v1", "apigw-v2", "alb", "function-url"])
def test_invalid_base64_body_is_400(source: str) -> None:
    payload = event(source, "POST", "/echo/x", body=b"\xff\x00binary")
    payload["isBase64Encoded"] = True
    payload["body"] = "not base64!!"
    handler = aws.handler(APPS["starlette"]())
    client = LambdaClient(handler, source)
    result = client.codec.parse_result(handler(payload, LambdaContext()))
    assert result.status == 400
    assert b"base64" in result.body


@pytest.mark.parametrize(
    ("target", "source", "reason"),
    [
        ("no_such_module_here:app", None, "No module named 'no_such_module_here'"),
        ("broken_app_attr:ap", "app = 1\n", "module 'broken_app_attr' has no attribute 'ap'"),
        ("broken_app_raises:app", "raise RuntimeError('no DATABASE_URL')\n", "RuntimeError: "),
    ],
)
def test_an_app_that_does_not_import_is_an_init_error(
    target: str,
    source: str | None,
    reason: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    module = target.partition(":")[0]
    if source is not None:
        (tmp_path / f"{module}.py").write_text(source)
        monkeypatch.syspath_prepend(str(tmp_path))
    handler = aws.handler(target, health_path="/health")
    client = LambdaClient(handler)
    # A health check never imports the app.
    assert client.get("/health").status == 200
    with pytest.raises(ImportModuleError) as raised:
        client.get("/")
    assert type(raised.value).__name__ == "Runtime.ImportModuleError"
    assert str(raised.value).startswith(f"Unable to import module '{module}': {reason}")
    assert "unhandled exception in app" not in capsys.readouterr().out


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"lifespan": "sometimes"}, "lifespan must be"),
        ({"health_path": "health"}, "health_path must start with '/'"),
        ({"base_path": "/api/"}, "base_path must start with '/' and not end with '/'"),
    ],
)
def test_bad_options_are_config_errors(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        aws.handler(APPS["starlette"](), **kwargs)


def test_app_string_must_name_an_attribute() -> None:
    from faasport.core.loader import import_from_string

    with pytest.raises(AppError, match="module:attribute"):
        import_from_string("justamodule")
    with pytest.raises(AppError, match="has no attribute 'nope'"):
        import_from_string("json:nope")


def test_app_that_sends_no_response_is_500() -> None:
    async def silent(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("no lifespan")

    assert LambdaClient(aws.handler(silent)).get("/").status == 500


def test_plain_handler_by_import_string_gets_http_events(tmp_path: Any) -> None:
    import sys

    (tmp_path / "plainfn.py").write_text(
        "def handle(event, context):\n    return {'statusCode': 201, 'body': event['rawPath']}\n"
    )
    sys.path.insert(0, str(tmp_path))
    try:
        handler = aws.handler("plainfn:handle")
        assert handler(event("apigw-v2", "GET", "/x"), LambdaContext())["statusCode"] == 201
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("plainfn", None)


@pytest.mark.parametrize("app_name", ["starlette", "flask"])
def test_websocket_event_to_an_http_app_names_websocket_and_what_to_do(app_name: str) -> None:
    from recorded import recorded

    handler = aws.handler(APPS[app_name]())
    with pytest.raises(UnsupportedEventError) as info:
        handler(recorded("websocketConnectEvent"), LambdaContext())
    message = str(info.value)
    kind = "ASGI" if app_name == "starlette" else "WSGI"
    assert f"API Gateway WebSocket event (route $connect), which an {kind} app" in message
    assert "plain handler(event, context)" in message
    assert "faasport.websocket.send" in message


def test_non_http_event_message_says_an_asgi_app() -> None:
    handler = aws.handler(APPS["starlette"]())
    with pytest.raises(UnsupportedEventError) as info:
        handler({"Records": []}, LambdaContext())
    assert "an ASGI app can only answer HTTP events" in str(info.value)
