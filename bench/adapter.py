"""Per-invocation cost of faasport's AWS adapter, against calling the app directly and against
Mangum (ASGI) and apig-wsgi (WSGI).

Run it with ``make bench`` (or ``.venv/bin/python bench/adapter.py``, about a minute);
``--quick`` is a smoke run of a few seconds; ``--profile`` also prints where faasport's own
time goes (cProfile, restricted to functions in ``faasport``).

It prints the machine, then one markdown table: the median time per call of every case, its
overhead over calling the app directly, and faasport's overhead divided by each peer's; then
the targets with PASS/FAIL:

* ASGI: faasport's overhead <= 0.25 of Mangum's, judged against Mangum ``lifespan="off"``,
  its cheapest mode. (With its default ``lifespan="auto"`` Mangum runs lifespan startup and
  shutdown on every invocation; faasport runs startup once per execution environment.)
* WSGI: faasport's overhead <= apig-wsgi's.

Every case answers the same request, ``GET /hello?a=1&...``, as realistic events: AWS's
documented examples from ``tests/fixtures/events`` (``httpApiDocsExample.json`` for the HTTP
API payload 2.0, ``restApiDocsExample.json`` for the REST API, with their full browser and
CloudFront header sets, cookies and query strings), pointed at ``/hello`` with ``a=1`` added
to their query. The ASGI cases get the HTTP API event, the WSGI cases both. The direct
baselines, Google Cloud and Azure cases get the same headers. The apps are a Starlette app
with one async route returning a small ``JSONResponse``, and a Flask app with one route
returning a small JSON.

The "direct" baselines are the cheapest honest way to call each app in-process, with the same
request and a fresh scope or environ per call:

* ASGI: the scope is built once and copied per call (Starlette writes into it); ``receive``
  returns the request body once, ``send`` collects the messages. The app's coroutine is
  driven with ``coro.send(None)``: this app completes without ever suspending, so no event
  loop is involved. That is a lower bound: faasport (like any server) runs the app as an
  ``asyncio.Task`` on a running loop, so ``get_running_loop()``, ``current_task()`` and anyio
  work. The same call through ``loop.run_until_complete`` on one persistent loop is shown as
  a reference row; it becomes the baseline if the app ever suspends.
* WSGI: the environ is built once and copied per call with a fresh ``wsgi.input``;
  ``start_response`` records the status; the body iterable is joined and closed.

The AWS cases run again with trivial apps (an ASGI callable and a WSGI function that each
answer the same JSON at once, no framework): there the app costs almost nothing, so the
overhead of each adapter stands out from the framework's own variation. The targets are
judged on both.

Method: one Lambda context and one event dict per source are shared by every case (the
script checks that no handler mutates them). Each case is checked once (status 200, the
expected body), warmed up, and calibrated so that one batch of N calls takes about
``--batch-ms``. Each round times one batch of every case, round-robin, starting from a
different case each time, with the process's CPU time (``time.process_time_ns``, which
counts the Azure worker's pool threads too): on a shared machine, time spent waiting for a
CPU is not charged to any case. Reported: the median over rounds of batch time / N, with
its interquartile range, and each case's overhead: the median over rounds of its time minus
the direct call's time in the same round (so a slow moment weighs on both alike); the
ratios divide those overheads. The garbage collector stays on, as in a real function.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import gc
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any

Result = tuple[int, bytes]  # status, body
Handler = Callable[[Any, Any], Any]

PATH = "/hello"
EXPECTED = {"hello": "world", "a": "1"}
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "events"


def fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return data


#: The HTTP API example's request headers and cookies: what the direct baselines, Google
#: Cloud and Azure get too.
_HTTP_API = fixture("httpApiDocsExample")
HEADERS: dict[str, str] = {
    **{k: v for k, v in _HTTP_API["headers"].items() if k != "host"},
    "cookie": "; ".join(_HTTP_API["cookies"]),
}
HOST = _HTTP_API["headers"]["host"]
QUERY_STRING = "a=1&" + _HTTP_API["rawQueryString"]


# -- apps ----------------------------------------------------------------------------------


def make_starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def hello(request: Request) -> JSONResponse:
        return JSONResponse({"hello": "world", "a": request.query_params.get("a")})

    return Starlette(routes=[Route(PATH, hello)])


def make_flask_app() -> Any:
    from flask import Flask, request

    app = Flask("bench")

    @app.get(PATH)
    def hello() -> dict[str, Any]:
        return {"hello": "world", "a": request.args.get("a")}

    return app


TRIVIAL_BODY = b'{"hello":"world","a":"1"}'
TRIVIAL_HEADERS = [(b"content-type", b"application/json"), (b"content-length", b"25")]


async def trivial_asgi(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The least an ASGI app can do: no framework, so the adapter's cost stands out."""
    await send({"type": "http.response.start", "status": 200, "headers": TRIVIAL_HEADERS})
    await send({"type": "http.response.body", "body": TRIVIAL_BODY})


def trivial_wsgi(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "25")])
    return [TRIVIAL_BODY]


# -- the request as events, and as a direct scope / environ --------------------------------


def make_events() -> dict[str, dict[str, Any]]:
    """AWS's documented example events, asking for ``GET /hello`` with ``a=1``."""
    http = fixture("httpApiDocsExample")
    http["rawPath"] = http["requestContext"]["http"]["path"] = PATH
    http["rawQueryString"] = QUERY_STRING
    http["queryStringParameters"] = {"a": "1", **http["queryStringParameters"]}
    rest = fixture("restApiDocsExample")
    rest.update(
        httpMethod="GET",
        path=PATH,
        body=None,
        pathParameters={"proxy": PATH[1:]},
        queryStringParameters={"a": "1", **rest["queryStringParameters"]},
        multiValueQueryStringParameters={"a": ["1"], **rest["multiValueQueryStringParameters"]},
    )
    rest["requestContext"].update(
        httpMethod="GET", path=f"/{rest['requestContext']['stage']}{PATH}"
    )
    return {"apigw-v2": http, "apigw-v1": rest}


def base_scope() -> dict[str, Any]:
    headers = [(b"host", HOST.encode())]
    headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in HEADERS.items()]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": QUERY_STRING.encode(),
        "root_path": "",
        "headers": headers,
        "client": ("203.0.113.7", 0),
        "server": (HOST, 443),
    }


def base_environ() -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": PATH,
        "QUERY_STRING": QUERY_STRING,
        "SERVER_NAME": HOST,
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_HOST": HOST,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "https",
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in HEADERS.items():
        environ["HTTP_" + name.upper().replace("-", "_")] = value
    return environ


# -- direct callers ------------------------------------------------------------------------


async def _receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


def _asgi_result(messages: list[dict[str, Any]]) -> Result:
    return messages[0]["status"], b"".join(m.get("body", b"") for m in messages[1:])


def asgi_suspends(app: Any, scope: dict[str, Any]) -> bool:
    """True when the app's coroutine suspends (so it cannot be driven without a loop)."""

    async def send(message: dict[str, Any]) -> None:
        pass

    coro = app(dict(scope), _receive, send)
    try:
        coro.send(None)
    except StopIteration:
        return False
    coro.close()
    return True


def asgi_direct_send(app: Any, scope: dict[str, Any]) -> Callable[[], Result]:
    """Drive the app's coroutine by hand, with no event loop: valid only if it never
    suspends (see :func:`asgi_suspends`)."""

    def call() -> Result:
        messages: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        coro = app(dict(scope), _receive, send)
        try:
            coro.send(None)
        except StopIteration:
            return _asgi_result(messages)
        coro.close()
        raise RuntimeError("the ASGI app suspended; it needs an event loop")

    return call


def asgi_direct_loop(
    app: Any, scope: dict[str, Any], loop: asyncio.AbstractEventLoop
) -> Callable[[], Result]:
    def call() -> Result:
        messages: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        loop.run_until_complete(app(dict(scope), _receive, send))
        return _asgi_result(messages)

    return call


def wsgi_direct(app: Any, environ: dict[str, Any]) -> Callable[[], Result]:
    def call() -> Result:
        env = dict(environ)
        env["wsgi.input"] = BytesIO(b"")
        status: list[str] = []

        def start_response(
            s: str, headers: list[tuple[str, str]], exc_info: Any = None
        ) -> Callable[[bytes], object]:
            status.append(s)
            return lambda data: None

        result = app(env, start_response)
        try:
            body = b"".join(result)
        finally:
            close = getattr(result, "close", None)
            if close is not None:
                close()
        return int(status[0][:3]), body

    return call


def flask_result(response: Any) -> Result:
    return response.status_code, response.get_data()


def azure_result(response: Any) -> Result:
    return response.status_code, response.get_body()


def gcp_request(environ: dict[str, Any]) -> Callable[[], Any]:
    """A fresh ``flask.Request`` per call, as functions-framework makes one per request."""
    from flask import Request

    def make() -> Any:
        env = dict(environ)
        env["wsgi.input"] = BytesIO(b"")
        return Request(env)

    return make


def azure_request() -> Any:
    """The request as the worker builds it; one object serves every call (read-only)."""
    import azure.functions as func

    headers = {"host": HOST, **HEADERS}
    # routePrefix "" in host.json: AsgiMiddleware does not strip a prefix.
    url = f"https://{HOST}{PATH}?{QUERY_STRING}"
    return func.HttpRequest("GET", url, headers=headers, body=b"")


#: The Azure worker's loop: it lives as long as the worker, so it outlives every call.
WORKER_LOOP = asyncio.new_event_loop()


def worker_call(function: Any, loop: asyncio.AbstractEventLoop) -> Callable[[Any, Any], Any]:
    """Call ``function(req, context)`` the way the Azure Functions Python worker does: a
    coroutine function is awaited on the worker's loop, a plain one runs in its thread pool."""
    import inspect

    if inspect.iscoroutinefunction(function):
        return lambda req, ctx: loop.run_until_complete(function(req, ctx))
    return lambda req, ctx: loop.run_until_complete(loop.run_in_executor(None, function, req, ctx))


def lambda_result(result: Any) -> Result:
    if not isinstance(result, dict):
        raise SystemExit(f"handler returned {result!r}")
    body = result.get("body") or ""
    if result.get("isBase64Encoded"):
        import base64

        return result["statusCode"], base64.b64decode(body)
    return result["statusCode"], body.encode("utf-8")


# -- cases ---------------------------------------------------------------------------------


@dataclass
class Case:
    group: str  # "ASGI" or "WSGI"
    name: str
    call: Callable[[], object]
    check: Callable[[], Result]
    baseline: str | None = None  # the case of the same group this one's overhead is over
    peer_of: str | None = None  # a peer row: faasport's overhead is divided by this one's
    n: int = 1
    samples: list[float] = field(default_factory=list)  # µs per call, one per repeat

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def build_cases(events: dict[str, dict[str, Any]], context: Any) -> tuple[list[Case], str]:
    """The cases, and the name of the ASGI baseline."""
    import azure.functions as func
    from apig_wsgi import make_lambda_handler
    from mangum import Mangum
    from werkzeug.wrappers import Response

    from faasport import aws, gcp
    from faasport import azure as faasport_azure
    from faasport.testing.azure import FunctionContext, functions

    v2, v1 = events["apigw-v2"], events["apigw-v1"]
    starlette_app = make_starlette_app()
    flask_app = make_flask_app()

    def lambda_case(group: str, name: str, handler: Handler, event: Any, **kw: Any) -> Case:
        def call() -> object:
            return handler(event, context)

        return Case(group, name, call, lambda: lambda_result(call()), **kw)

    send_name, loop_name = "direct, coro.send(None)", "direct, loop.run_until_complete"
    suspends = asgi_suspends(starlette_app, base_scope())
    asgi_base = loop_name if suspends else send_name
    loop_direct = asgi_direct_loop(starlette_app, base_scope(), asyncio.new_event_loop())
    faas = "faasport aws.handler"
    cases: list[Case] = []
    if not suspends:
        send_direct = asgi_direct_send(starlette_app, base_scope())
        cases.append(Case("ASGI", send_name, send_direct, send_direct))
    cases += [
        Case(
            "ASGI",
            loop_name,
            loop_direct,
            loop_direct,
            baseline=None if suspends else asgi_base,
        ),
        lambda_case("ASGI", f"{faas} (v2)", aws.handler(starlette_app), v2, baseline=asgi_base),
        lambda_case(
            "ASGI",
            'Mangum lifespan="off" (v2)',
            Mangum(starlette_app, lifespan="off"),
            v2,
            baseline=asgi_base,
            peer_of=f"{faas} (v2)",
        ),
        lambda_case(
            "ASGI",
            'Mangum lifespan="auto" (v2)',
            Mangum(starlette_app, lifespan="auto"),
            v2,
            baseline=asgi_base,
            peer_of=f"{faas} (v2)",
        ),
    ]
    # Google Cloud: functions-framework hands each request to the function as a new
    # flask.Request. Azure: the worker awaits coroutine functions on its loop and runs
    # plain ones in its thread pool (see worker_call); both sides get the same request.
    loop = WORKER_LOOP
    new_flask_request = gcp_request(base_environ())
    req = azure_request()

    def gcp_case(group: str, name: str, function: Callable[[Any], Any], **kw: Any) -> Case:
        def call() -> object:
            return function(new_flask_request())

        return Case(group, name, call, lambda: flask_result(call()), **kw)

    def azure_case(group: str, name: str, function: Any, **kw: Any) -> Case:
        invoke = worker_call(function, loop)
        context = FunctionContext(indexed)

        def call() -> object:
            return invoke(req, context)

        return Case(group, name, call, lambda: azure_result(call()), **kw)

    def azure_function(app: Any) -> Any:
        [found] = functions(faasport_azure.function_app(app, route_prefix=""))
        return found.get_user_function()

    [indexed] = functions(faasport_azure.function_app(starlette_app, route_prefix=""))
    middleware = func.AsgiMiddleware(starlette_app)

    async def asgi_middleware(req: Any, context: Any) -> Any:
        return await middleware.handle_async(req, context)

    faas_gcp, faas_azure = "faasport gcp.handler", "faasport azure.function_app"
    cases += [
        gcp_case("ASGI", faas_gcp, gcp.handler(starlette_app), baseline=asgi_base),
        azure_case("ASGI", faas_azure, indexed.get_user_function(), baseline=loop_name),
        azure_case(
            "ASGI",
            "azure-functions AsgiMiddleware.handle_async",
            asgi_middleware,
            baseline=loop_name,
            peer_of=faas_azure,
        ),
    ]
    flask_direct = wsgi_direct(flask_app, base_environ())
    cases.append(Case("WSGI", "direct", flask_direct, flask_direct))
    faas_wsgi = aws.handler(flask_app)
    apig = make_lambda_handler(flask_app)
    for label, event in (("v2", v2), ("v1", v1)):
        ours = f"{faas} ({label})"
        cases.append(lambda_case("WSGI", ours, faas_wsgi, event, baseline="direct"))
        cases.append(
            lambda_case(
                "WSGI", f"apig-wsgi ({label})", apig, event, baseline="direct", peer_of=ours
            )
        )
    wsgi_middleware = func.WsgiMiddleware(flask_app.wsgi_app)
    cases += [
        gcp_case("WSGI", faas_gcp, gcp.handler(flask_app), baseline="direct"),
        gcp_case(
            "WSGI",
            "werkzeug Response.from_app (GCP)",
            lambda request: Response.from_app(flask_app, request.environ),
            baseline="direct",
            peer_of=faas_gcp,
        ),
        azure_case("WSGI", faas_azure, azure_function(flask_app), baseline="direct"),
        azure_case(
            "WSGI",
            "azure-functions WsgiMiddleware.handle",
            wsgi_middleware.handle,
            baseline="direct",
            peer_of=faas_azure,
        ),
    ]
    return cases, asgi_base


def build_trivial_cases(events: dict[str, dict[str, Any]], context: Any) -> list[Case]:
    """Direct, faasport and the AWS peers again, with the trivial apps."""
    from apig_wsgi import make_lambda_handler
    from mangum import Mangum

    from faasport import aws

    v2, v1 = events["apigw-v2"], events["apigw-v1"]
    asgi, wsgi = "ASGI, trivial app", "WSGI, trivial app"

    def lambda_case(group: str, name: str, handler: Handler, event: Any, **kw: Any) -> Case:
        def call() -> object:
            return handler(event, context)

        return Case(group, name, call, lambda: lambda_result(call()), **kw)

    send_direct = asgi_direct_send(trivial_asgi, base_scope())
    wsgi_plain = wsgi_direct(trivial_wsgi, base_environ())
    faas = "faasport aws.handler"
    faas_wsgi = aws.handler(trivial_wsgi)
    apig = make_lambda_handler(trivial_wsgi)
    cases = [
        Case(asgi, "direct, coro.send(None)", send_direct, send_direct),
        lambda_case(
            asgi, f"{faas} (v2)", aws.handler(trivial_asgi), v2, baseline="direct, coro.send(None)"
        ),
        lambda_case(
            asgi,
            'Mangum lifespan="off" (v2)',
            Mangum(trivial_asgi, lifespan="off"),
            v2,
            baseline="direct, coro.send(None)",
            peer_of=f"{faas} (v2)",
        ),
        Case(wsgi, "direct", wsgi_plain, wsgi_plain),
    ]
    for label, event in (("v2", v2), ("v1", v1)):
        ours = f"{faas} ({label})"
        cases.append(lambda_case(wsgi, ours, faas_wsgi, event, baseline="direct"))
        cases.append(
            lambda_case(wsgi, f"apig-wsgi ({label})", apig, event, baseline="direct", peer_of=ours)
        )
    return cases


# -- checking and timing -------------------------------------------------------------------


def check(cases: list[Case], events: dict[str, dict[str, Any]]) -> None:
    before = copy.deepcopy(events)
    for case in cases:
        for attempt in ("first", "second"):  # the second call is the warm path timed below
            status, body = case.check()
            if status != 200 or json.loads(body) != EXPECTED:
                raise SystemExit(
                    f"{case.group} {case.name}: {attempt} call answered {status} {body!r}"
                )
    if events != before:
        raise SystemExit("a handler mutated the event; the cases cannot share one event dict")


def time_batch(call: Callable[[], object], n: int) -> float:
    """Microseconds of process CPU time per call over one batch of ``n`` calls."""
    clock = time.process_time_ns
    start = clock()
    for _ in range(n):
        call()
    return (clock() - start) / n / 1000


def calibrate(case: Case, batch_ms: float) -> None:
    n = 1
    while (per_call := time_batch(case.call, n)) * n < batch_ms * 100 and n < 1 << 20:
        n *= 2  # until one trial batch takes a tenth of the target
    case.n = max(1, round(batch_ms * 1000 / per_call))


def measure(cases: list[Case], repeats: int, batch_ms: float, warmup: int) -> None:
    for case in cases:
        for _ in range(warmup):
            case.call()
        calibrate(case, batch_ms)
    gc.collect()
    for r in range(repeats):
        k = r % len(cases)
        for case in cases[k:] + cases[:k]:
            case.samples.append(time_batch(case.call, case.n))


# -- report --------------------------------------------------------------------------------


def machine() -> str:
    cpus = os.cpu_count()
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else cpus
    return (
        f"- machine: {platform.platform()}, {platform.machine()}\n"
        f"- python: {platform.python_implementation()} {platform.python_version()} "
        f"({sys.executable})\n"
        f"- cpus: {cpus} ({usable} usable by this process)"
    )


def load_average() -> str:
    if not hasattr(os, "getloadavg"):
        return "n/a"
    return " / ".join(f"{x:.2f}" for x in os.getloadavg())


def versions() -> str:
    from importlib.metadata import version

    names = (
        "faasport",
        "starlette",
        "flask",
        "werkzeug",
        "mangum",
        "apig-wsgi",
        "functions-framework",
        "azure-functions",
    )
    return "- versions: " + ", ".join(f"{n} {version(n)}" for n in names)


Ratios = dict[tuple[str, str], float]


def table(cases: list[Case]) -> tuple[list[str], Ratios]:
    """The markdown table, and faasport's overhead ÷ each peer's, by the peer's
    (group, name). A case's overhead is the median over rounds of its time minus its
    baseline's time in the same round."""
    by_name = {(c.group, c.name): c for c in cases}

    def per_round(case: Case) -> list[float] | None:
        if case.baseline is None:
            return None
        base = by_name[case.group, case.baseline].samples
        return [t - b for t, b in zip(case.samples, base, strict=True)]

    lines = [
        "| case | µs/call (IQR) | overhead over direct, µs (IQR) "
        "| faasport overhead ÷ this one's |",
        "|---|---:|---:|---:|",
    ]
    ratios: Ratios = {}
    for case in cases:
        over = per_round(case)
        ratio = ""
        if case.peer_of is not None and over is not None:
            ours = per_round(by_name[case.group, case.peer_of])
            assert ours is not None
            theirs = statistics.median(over)
            found = statistics.median(ours) / theirs if theirs > 0 else float("inf")
            ratios[case.group, case.name] = found
            ratio = f"{found:.2f}"
        q1, _, q3 = statistics.quantiles(case.samples, n=4)
        if over is None:
            overhead = "baseline"
        else:
            o1, _, o3 = statistics.quantiles(over, n=4)
            overhead = f"{statistics.median(over):+.1f} ({o1:+.1f}..{o3:+.1f})"
        lines.append(
            f"| {case.group} {case.name} | {case.median:.1f} ({q1:.1f}..{q3:.1f}) | "
            f"{overhead} | {ratio} |"
        )
    return lines, ratios


def targets(ratios: Ratios) -> list[str]:
    verdict = {True: "PASS", False: "FAIL"}

    def ratio(group: str, name: str) -> float:
        return ratios[group, name]

    off, auto = (
        ratio("ASGI", 'Mangum lifespan="off" (v2)'),
        ratio("ASGI", 'Mangum lifespan="auto" (v2)'),
    )
    v2, v1 = ratio("WSGI", "apig-wsgi (v2)"), ratio("WSGI", "apig-wsgi (v1)")
    asgi_az = ratio("ASGI", "azure-functions AsgiMiddleware.handle_async")
    wsgi_az = ratio("WSGI", "azure-functions WsgiMiddleware.handle")
    gcp_wsgi = ratio("WSGI", "werkzeug Response.from_app (GCP)")
    lines = [
        f"- Azure, faasport overhead ÷ the azure-functions middleware's: ASGI {asgi_az:.2f} "
        f"(AsgiMiddleware.handle_async), WSGI {wsgi_az:.2f} (WsgiMiddleware) -> "
        f"{verdict[asgi_az <= 1 and wsgi_az <= 1]}",
        f"- GCP WSGI, faasport overhead ÷ werkzeug Response.from_app's: {gcp_wsgi:.2f} "
        f"(no ASGI peer exists for functions-framework; its ASGI row is against direct)",
        f"- ASGI (Starlette), faasport overhead <= 0.25 of Mangum's: {off:.2f} of Mangum "
        f'lifespan="off" -> {verdict[off <= 0.25]} '
        f'(for reference: {auto:.2f} of lifespan="auto", {verdict[auto <= 0.25]})',
        f"- WSGI (Flask), faasport overhead <= apig-wsgi's: {v2:.2f} with HTTP API v2 "
        f"events -> {verdict[v2 <= 1]}; {v1:.2f} with REST API v1 events -> {verdict[v1 <= 1]}",
    ]
    if ("ASGI, trivial app", 'Mangum lifespan="off" (v2)') in ratios:
        t_off = ratio("ASGI, trivial app", 'Mangum lifespan="off" (v2)')
        t_v2 = ratio("WSGI, trivial app", "apig-wsgi (v2)")
        t_v1 = ratio("WSGI, trivial app", "apig-wsgi (v1)")
        lines += [
            f"- ASGI (trivial app), faasport overhead <= 0.25 of Mangum's: {t_off:.2f} of "
            f'Mangum lifespan="off" -> {verdict[t_off <= 0.25]}',
            f"- WSGI (trivial app), faasport overhead <= apig-wsgi's: {t_v2:.2f} with HTTP "
            f"API v2 events -> {verdict[t_v2 <= 1]}; {t_v1:.2f} with REST API v1 events -> "
            f"{verdict[t_v1 <= 1]}",
        ]
    return lines


def profile(cases: list[Case], seconds: float) -> None:
    """cProfile the faasport cases; print the costliest functions inside faasport.
    (cProfile inflates small functions: read it for ranking, not for absolute cost.)"""
    import cProfile
    import pstats

    for case in cases:
        if not case.name.startswith("faasport") or case.name.endswith("(v1)"):
            continue
        n = max(1, round(seconds * 1e6 / case.median))
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(n):
            case.call()
        profiler.disable()
        print(f"\n### cProfile: {case.group} {case.name}, {n} calls, functions in faasport\n")
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("tottime").print_stats(r"faasport[/\\](aws|gcp|azure|core)[/\\]", 15)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run, a few seconds")
    parser.add_argument("--repeats", type=int, help="timed rounds over every case")
    parser.add_argument("--batch-ms", type=float, help="duration of one timed batch")
    parser.add_argument("--profile", action="store_true", help="also cProfile faasport")
    parser.add_argument("--no-trivial", action="store_true", help="leave out the trivial-app cases")
    args = parser.parse_args()
    repeats = args.repeats or (7 if args.quick else 101)
    batch_ms = args.batch_ms or (5.0 if args.quick else 25.0)
    warmup = 20 if args.quick else 300

    started = time.perf_counter()
    from faasport.testing import LambdaContext
    from faasport.testing.azure import close_loop

    events = make_events()
    context = LambdaContext()
    cases, asgi_base = build_cases(events, context)
    trivial = [] if args.no_trivial else build_trivial_cases(events, context)
    cases += trivial
    check(cases, events)

    print("# faasport adapter overhead per invocation\n")
    print(machine())
    print(versions())
    print(f"- load average before: {load_average()}")
    measure(cases, repeats, batch_ms, warmup)
    print(f"- load average after: {load_average()}")
    print(
        f"- method: {repeats} rounds, round-robin over {len(cases)} cases, batches of "
        f"~{batch_ms:g} ms of process CPU time; median µs/call; ratios per round, their "
        f"median; ASGI baseline: {asgi_base}\n"
    )
    lines, ratios = table(cases)
    print("\n".join(lines))
    print(f"\nN per batch: {', '.join(f'{c.group} {c.name}: {c.n}' for c in cases)}")
    print("\n## targets\n")
    print("\n".join(targets(ratios)))
    if args.profile:
        profile(cases, 0.5 if args.quick else 3.0)
    close_loop(WORKER_LOOP)
    print(f"\n(took {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
