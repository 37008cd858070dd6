"""``azure.function_app`` and the trigger helpers, driven the way the Python worker drives a
v2-model app: indexed through ``get_functions()``, called with real ``azure.functions``
objects decoded by the library's own converters."""

from __future__ import annotations

import datetime
import json
from typing import Any

import azure.functions as func
import pytest
from azure.functions.queue import QueueMessage
from azure.functions.timer import TimerRequest

from apps import fastapi_app, flask_app, starlette_app
from faasport import azure, events
from faasport.core.errors import UnsupportedEventError
from faasport.testing import AzureClient
from faasport.testing.azure import functions, invoke


def lifespan_app() -> Any:
    """A Starlette app whose lifespan puts a counter in state."""
    from contextlib import asynccontextmanager

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    started: list[int] = []

    @asynccontextmanager
    async def lifespan(app: Any) -> Any:
        started.append(1)
        yield {"startups": len(started)}

    async def state(request: Request) -> JSONResponse:
        return JSONResponse(
            {
                "startups": request.state.startups,
                "invocation": request.scope["azure.context"].invocation_id,
            }
        )

    return Starlette(routes=[Route("/state", state)], lifespan=lifespan)


def by_name(app: Any) -> dict[str, Any]:
    return {f.get_function_name(): f for f in functions(app)}


def test_function_metadata() -> None:
    app = azure.function_app("apps:flask_app", name="api")
    azure.queue_trigger(app, "json:loads", name="worker", queue="jobs")
    azure.timer_trigger(app, "json:loads", name="nightly", schedule="0 0 3 * * *")
    azure.event_grid_trigger(app, "json:loads", name="ingest", queue="ingest-bucket0")
    azure.http_trigger(app, "apps:flask_app", name="admin", route="admin/{*route}")
    metadata = {name: json.loads(f.get_function_json()) for name, f in by_name(app).items()}
    assert set(metadata) == {"api", "worker", "nightly", "ingest", "admin"}
    [trigger, output] = metadata["api"]["bindings"]
    assert trigger == {
        "direction": "IN",
        "type": "httpTrigger",
        "name": "req",
        "methods": ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"],
        "authLevel": "ANONYMOUS",
        "route": "{*route}",
    }
    assert output == {"direction": "OUT", "type": "http", "name": "$return"}
    assert metadata["worker"]["bindings"] == [
        {
            "direction": "IN",
            "type": "queueTrigger",
            "name": "msg",
            "queueName": "jobs",
            "connection": "AzureWebJobsStorage",
        }
    ]
    assert metadata["nightly"]["bindings"][0]["schedule"] == "0 0 3 * * *"
    assert metadata["ingest"]["bindings"][0]["queueName"] == "ingest-bucket0"
    assert metadata["admin"]["bindings"][0]["route"] == "admin/{*route}"
    assert all(m["scriptFile"] == "function_app.py" for m in metadata.values())


def test_the_app_is_imported_on_the_first_request_not_at_indexing() -> None:
    import sys

    sys.modules.pop("apps_lazy_probe", None)
    app = azure.function_app("apps_lazy_probe:app", health_path="/health")
    client = AzureClient(app)
    # The health check is answered without importing the (missing) module.
    assert client.get("/health").status == 200
    assert "apps_lazy_probe" not in sys.modules
    assert client.get("/other").status == 500


def test_lifespan_runs_once_per_worker_with_state() -> None:
    client = AzureClient(azure.function_app(lifespan_app()))
    answers = [client.get("/state").json() for _ in range(5)]
    assert {a["startups"] for a in answers} == {1}
    assert len({a["invocation"] for a in answers}) == 5


def test_set_cookie_and_charset_reach_the_host_intact() -> None:
    from azure.functions.http import HttpResponseConverter

    app = azure.function_app(starlette_app())
    http = by_name(app)["http"]
    request = func.HttpRequest("GET", "https://fa.example.net/api/gzip", headers={}, body=b"")
    response = invoke(http, req=request)
    sent = HttpResponseConverter.encode(response, expected_type=None).value
    # The content type is the app's own: Content-Encoding is not mistaken for a charset.
    assert sent["headers"]["content-type"].value == "application/json"
    assert sent["headers"]["content-encoding"].value == "gzip"

    cookies = AzureClient(app).get("/cookies").cookies
    assert sorted(c.split(";")[0] for c in cookies) == ["a=aaa", "b=bbb", "c=ccc"]


def test_client_from_x_forwarded_for_without_the_port() -> None:
    client = AzureClient(azure.function_app(fastapi_app()))
    seen = client.get("/echo/who", headers={"x-forwarded-for": "198.51.100.1"}).json()
    assert seen["client"] == ["203.0.113.7", 0]


def test_azure_objects_reach_the_app() -> None:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def who(request: Request) -> JSONResponse:
        req = request.scope["azure.request"]
        ctx = request.scope["azure.context"]
        return JSONResponse({"url": req.url, "function": ctx.function_name})

    app = azure.function_app(Starlette(routes=[Route("/who", who)]), name="site")
    got = AzureClient(app).get("/who").json()
    assert got == {"url": "https://example.com/api/who", "function": "site"}


def test_unknown_http_function_name() -> None:
    with pytest.raises(ValueError, match="no HTTP function 'nope'"):
        AzureClient(azure.function_app("apps:flask_app"), name="nope")


# -- queue, timer and blob triggers ----------------------------------------------------------


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.calls: list[tuple[list[events.Record], Any]] = []

    def __call__(self, event: Any, context: Any) -> None:
        self.calls.append((events.records(event), context))
        if self.fail:
            raise RuntimeError("handler failed")


def call(app: Any, name: str, argument: str, value: Any) -> None:
    invoke(by_name(app)[name], **{argument: value})


def test_queue_message_becomes_a_message_record() -> None:
    recorder = Recorder()
    app = azure.function_app("apps:flask_app")
    azure.queue_trigger(app, recorder, name="worker", queue="jobs")
    inserted = datetime.datetime(2026, 11, 22, 10, 0, tzinfo=datetime.UTC)
    message = QueueMessage(id="q-1", body=b'{"job": 7}', dequeue_count=2, insertion_time=inserted)
    call(app, "worker", "msg", message)
    [(records, context)] = recorder.calls
    assert records == [
        events.Message(
            "q-1",
            b'{"job": 7}',
            source="azure.queue",
            channel="jobs",
            deliveries=2,
            time="2026-11-22T10:00:00+00:00",
        )
    ]
    assert context.function_name == "worker"


def test_a_failing_queue_handler_raises_so_the_host_retries() -> None:
    app = azure.function_app("apps:flask_app")
    azure.queue_trigger(app, Recorder(fail=True), name="worker", queue="jobs")
    with pytest.raises(RuntimeError, match="handler failed"):
        call(app, "worker", "msg", QueueMessage(id="q-2", body=b"x"))


def test_timer_fires_a_tick() -> None:
    recorder = Recorder()
    app = azure.function_app("apps:flask_app")
    azure.timer_trigger(app, recorder, name="nightly", schedule="0 0 3 * * *")
    call(app, "nightly", "timer", TimerRequest(past_due=True))
    [(records, _)] = recorder.calls
    [tick] = records
    assert isinstance(tick, events.Tick)
    assert (tick.source, tick.name, tick.late) == ("azure.timer", "nightly", True)
    assert tick.time.endswith("Z")


BLOB_CREATED = {
    "topic": "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Storage/storageAccounts/st",
    "subject": "/blobServices/default/containers/uploads/blobs/in/a b.txt",
    "eventType": "Microsoft.Storage.BlobCreated",
    "id": "831e1650-001e-001b-66ab-eeb76e069631",
    "data": {
        "api": "PutBlob",
        "contentType": "text/plain",
        "contentLength": 5,
        "blobType": "BlockBlob",
        "eTag": "0x8D4BCC2E4835CD0",
        "url": "https://st.blob.core.windows.net/uploads/in/a b.txt",
    },
    "dataVersion": "",
    "metadataVersion": "1",
    "eventTime": "2026-11-22T10:00:00.000Z",
}


def event_grid(app: Any, event: Any) -> None:
    body = json.dumps(event).encode()
    call(app, "ingest", "msg", QueueMessage(id="q-9", body=body))


def test_blob_events_from_event_grid_become_object_changes() -> None:
    recorder = Recorder()
    app = azure.function_app("apps:flask_app")
    azure.event_grid_trigger(app, recorder, name="ingest", queue="ingest-bucket0")
    event_grid(app, BLOB_CREATED)
    deleted = {**BLOB_CREATED, "eventType": "Microsoft.Storage.BlobDeleted", "data": {}}
    event_grid(app, [deleted])  # a one-event batch reads the same
    [(created, _), (removed, _)] = recorder.calls
    assert created == [
        events.ObjectChange(
            "uploads",
            "in/a b.txt",
            "created",
            source="azure.blob",
            size=5,
            etag="0x8D4BCC2E4835CD0",
            time="2026-11-22T10:00:00.000Z",
        )
    ]
    assert (removed[0].change, removed[0].key, removed[0].size) == ("removed", "in/a b.txt", None)


def test_custom_topic_events_become_messages() -> None:
    recorder = Recorder()
    app = azure.function_app("apps:flask_app")
    azure.event_grid_trigger(app, recorder, name="ingest", queue="ingest-topic0")
    event = {
        "topic": "/subscriptions/0/resourceGroups/rg/providers/Microsoft.EventGrid/topics/alerts",
        "subject": "disk",
        "eventType": "faasport.message",
        "id": "e-7",
        "data": {"level": "high"},
        "eventTime": "2026-11-22T10:00:00Z",
    }
    event_grid(app, event)
    [([message], _)] = recorder.calls
    assert isinstance(message, events.Message)
    assert (message.channel, message.json(), message.attributes) == (
        "alerts",
        {"level": "high"},
        {"type": "faasport.message", "subject": "disk"},
    )


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"id": "x"}',
        json.dumps({**BLOB_CREATED, "subject": "/elsewhere"}).encode(),
    ],
)
def test_a_message_that_is_not_an_event_grid_event_raises(body: bytes) -> None:
    # The host retries it, then moves it to the poison queue: it is never dropped.
    recorder = Recorder()
    app = azure.function_app("apps:flask_app")
    azure.event_grid_trigger(app, recorder, name="ingest", queue="ingest-bucket0")
    with pytest.raises(UnsupportedEventError, match="not an Event Grid event"):
        call(app, "ingest", "msg", QueueMessage(id="q-1", body=body))
    assert recorder.calls == []


def test_asgi_requests_share_the_worker_loop_concurrently() -> None:
    import asyncio

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from faasport.testing.azure import FunctionContext

    gate = asyncio.Event()

    async def wait(request: Request) -> PlainTextResponse:
        await asyncio.wait_for(gate.wait(), 5)  # served one at a time, this would time out
        return PlainTextResponse("waited")

    async def open_gate(request: Request) -> PlainTextResponse:
        gate.set()
        return PlainTextResponse("opened")

    app = azure.function_app(Starlette(routes=[Route("/wait", wait), Route("/open", open_gate)]))
    http = by_name(app)["http"]
    user = http.get_user_function()

    def request(path: str) -> Any:
        req = func.HttpRequest("GET", f"https://fa.example.net/api{path}", headers={}, body=b"")
        return user(req=req, context=FunctionContext(http))

    async def both() -> list[Any]:
        return list(await asyncio.gather(request("/wait"), request("/open")))

    waited, opened = asyncio.run(both())
    assert (waited.get_body(), opened.get_body()) == (b"waited", b"opened")


@pytest.mark.parametrize("factory", ["flask_app", "fastapi_app"])
def test_apps_given_as_import_strings(
    factory: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Imported on the first request: the function is a coroutine whatever the app's kind,
    # and a WSGI app then runs in the worker loop's thread pool.
    module = f"azure_lazy_{factory}"
    (tmp_path / f"{module}.py").write_text(f"from apps import {factory}\napp = {factory}()\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    client = AzureClient(azure.function_app(f"{module}:app"))
    result = client.get("/cookies")
    assert sorted(c.split(";")[0] for c in result.cookies) == ["a=aaa", "b=bbb", "c=ccc"]
    assert client.post("/echo/x", body=b"\x00\xff").json()["body"] == "00ff"


@pytest.mark.parametrize("make", [fastapi_app, flask_app], ids=["asgi", "wsgi"])
def test_a_chunked_body_and_a_path_that_is_not_utf8(make: Any) -> None:
    """The host read the chunks: the app (WSGI too) gets the body with its length. %FF%FE
    is U+FFFD for ASGI and the bytes as latin-1 for WSGI, as uvicorn and gunicorn give."""
    client = AzureClient(azure.function_app(make()))
    sent = client.post("/echo/up", body=b"hello world", headers={"transfer-encoding": "chunked"})
    assert bytes.fromhex(sent.json()["body"]) == b"hello world"
    (function,) = functions(azure.function_app(make()))
    request = func.HttpRequest("GET", "https://h.example/echo/bad%FF%FE", headers={}, body=b"")
    odd = invoke(function, req=request)
    assert odd.status_code == 200
    seen = json.loads(odd.get_body())
    assert seen["route_path"] in ("/echo/bad\ufffd\ufffd", "/echo/bad\xff\xfe")


def test_a_cookie_the_worker_cannot_carry_is_named_never_silently_lost(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The worker re-reads Set-Cookie with http.cookies: a cookie it would drop is a
    warning naming it; one it would fail the invocation on is left out, with an error."""
    sent = ["ok=1; Path=/; HttpOnly", 'j={"a":1}', "nm@x=1"]

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        headers = [(b"set-cookie", c.encode()) for c in sent]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"done"})

    answer = AzureClient(azure.function_app(app, lifespan="off")).get("/")
    assert (answer.status, answer.body) == (200, b"done")
    assert any(c.startswith("ok=1") for c in answer.cookies)
    logged = capsys.readouterr().out  # faasport's JSON log lines
    assert "Set-Cookie 'j' may not reach the client" in logged
    assert "Set-Cookie 'nm@x' left out" in logged


@pytest.mark.parametrize(
    ("status", "header"),
    [
        (42, (b"x-ok", b"v")),
        (600, (b"x-ok", b"v")),
        (200, (b"x-a", b"a\r\nset-cookie: injected=1")),
        (200, (b"x-a", b"a\x00b")),
        (200, (b"x a", b"v")),
    ],
    ids=["status-42", "status-600", "line-break", "nul", "space-in-name"],
)
@pytest.mark.parametrize("kind", ["asgi", "wsgi"])
def test_a_response_no_server_could_send_is_faasports_500(
    status: int, header: tuple[bytes, bytes], kind: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """The worker and the host would send it as it is or fail the invocation: the app's bug
    is faasport's 500 with the request id, never the app's words, and the log names it."""

    async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": [header]})
        await send({"type": "http.response.body", "body": b"what the app meant to say"})

    def wsgi_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        name, value = header
        start_response(f"{status} Whatever", [(name.decode(), value.decode("latin-1"))])
        return [b"what the app meant to say"]

    app = asgi_app if kind == "asgi" else wsgi_app
    answer = AzureClient(azure.function_app(app, lifespan="off")).get("/")
    assert answer.status == 500
    assert json.loads(answer.body)["message"] == "Internal Server Error"
    assert not any("injected" in c for c in answer.cookies)
    assert "not sent" in capsys.readouterr().out
