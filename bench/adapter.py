"""Per-invocation cost of faasport's AWS adapter against calling the app directly and against
Mangum (ASGI) and apig-wsgi (WSGI).

Run it with ``make bench`` (or ``.venv/bin/python bench/adapter.py``); ``--quick`` is a smoke
run that finishes in a few seconds. It prints the machine, then one markdown table with the
median time per call of every case, its overhead over calling the app directly, and
faasport's overhead as a fraction of each peer's, then the targets with PASS/FAIL:

* ASGI: faasport's overhead <= 1/3 of Mangum's (judged against ``lifespan="off"``, Mangum's
  cheapest mode; with its default ``lifespan="auto"`` Mangum runs lifespan startup and
  shutdown on every invocation, faasport once per execution environment).
* WSGI: faasport's overhead <= apig-wsgi's.

Every case answers the same request: ``GET /hello?a=1`` as an API Gateway HTTP API (payload
2.0) event built by ``faasport.testing.event``, and for WSGI also as a REST API (v1) event.
The apps are a Starlette app with one async route returning a small ``JSONResponse`` and a
Flask app with one route returning a small JSON.

The "direct" baselines are the cheapest honest way to call each app in-process, with the same
request and a fresh scope/environ per call:

* ASGI: the scope is built once and copied per call (Starlette writes into it); ``receive``
  returns the request body once, ``send`` collects the messages. The app's coroutine is
  driven with ``coro.send(None)``: this app completes without ever suspending, so no event
  loop is involved at all. This is a lower bound: a real server (and faasport) runs the app
  as an ``asyncio.Task`` on a running loop so ``get_running_loop()``, ``current_task()`` and
  anyio work. The same call through ``loop.run_until_complete`` on one persistent loop is
  shown as a reference row. If the app ever suspended, the baseline would fall back to that.
* WSGI: the environ is built once and copied per call with a fresh ``wsgi.input``;
  ``start_response`` records the status; the body iterable is joined and closed.

Method: one Lambda context object and one event dict are reused by every case (the script
checks that no handler mutates the event). Each case first gets a warm-up, then is calibrated
so that one batch of N calls takes about ``--batch-ms``. A repeat times one batch of every case
in turn (round-robin, starting at a different case each repeat) with
``time.perf_counter_ns``, so machine noise spreads over all cases alike; the figure reported
is the median over repeats of (batch time / N). The garbage collector stays enabled, as in a
real function.
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
from typing import Any

Call = Callable[[], Any]


# -- apps ----------------------------------------------------------------------------------


def make_starlette_app() -> Any:
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def hello(request: Request) -> JSONResponse:
        return JSONResponse({"hello": "world", "a": request.query_params.get("a")})

    return Starlette(routes=[Route("/hello", hello)])


def make_flask_app() -> Any:
    from flask import Flask, request

    app = Flask("bench")

    @app.get("/hello")
    def hello() -> dict[str, Any]:
        return {"hello": "world", "a": request.args.get("a")}

    return app


# -- the request, as an event and as a direct scope/environ ----------------------------------

PATH = "/hello"
QUERY = {"a": "1"}
HEADERS = {"accept": "application/json", "user-agent": "faasport-bench"}


def make_events() -> dict[str, dict[str, Any]]:
    from faasport.testing import event

    return {
        source: event(source, "GET", PATH, query=QUERY, headers=HEADERS)
        for source in ("apigw-v2", "apigw-v1")
    }


def base_scope() -> dict[str, Any]:
    headers = [(b"host", b"example.com")] + [
        (k.encode("latin-1"), v.encode("latin-1")) for k, v in HEADERS.items()
    ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.4"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"a=1",
        "root_path": "",
        "headers": headers,
        "client": ("203.0.113.7", 0),
        "server": ("example.com", 443),
    }


def base_environ() -> dict[str, Any]:
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": PATH,
        "QUERY_STRING": "a=1",
        "SERVER_NAME": "example.com",
        "SERVER_PORT": "443",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
        "HTTP_HOST": "example.com",
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


# -- direct callers: each returns (status, body) -------------------------------------------

Result = tuple[int, bytes]


def asgi_direct_send(app: Any, scope: dict[str, Any]) -> Callable[[], Result | None]:
    """Drive the app's coroutine by hand; None when it suspended (it needs a real loop)."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    def call() -> Result | None:
        messages: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        coro = app(dict(scope), receive, send)
        try:
            coro.send(None)
        except StopIteration:
            return messages[0]["status"], b"".join(m.get("body", b"") for m in messages[1:])
        coro.close()
        return None

    return call


def asgi_direct_loop(
    app: Any, scope: dict[str, Any], loop: asyncio.AbstractEventLoop
) -> Callable[[], Result]:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    def call() -> Result:
        messages: list[dict[str, Any]] = []

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        loop.run_until_complete(app(dict(scope), receive, send))
        return messages[0]["status"], b"".join(m.get("body", b"") for m in messages[1:])

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


def lambda_call(handler: Callable[[Any, Any], Any], event: Any, context: Any) -> Call:
    return lambda: handler(event, context)


def lambda_result(result: Any) -> Result:
    assert isinstance(result, dict), result
    body = result.get("body", "")
    if result.get("isBase64Encoded"):
        import base64

        return result["statusCode"], base64.b64decode(body)
    return result["statusCode"], body.encode("utf-8")


# -- cases ---------------------------------------------------------------------------------


@dataclass
class Case:
    group: str  # "ASGI" or "WSGI"
    name: str
    call: Call
    check: Callable[[], Result]
    baseline: str | None = None  # the case this one's overhead is measured against
    peer_of: str | None = None  # a peer row: faasport's overhead is compared to this one's
    samples: list[float] = field(default_factory=list)
    n: int = 1

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def build_cases() -> tuple[list[Case], dict[str, Any]]:
    from apig_wsgi import make_lambda_handler
    from mangum import Mangum

    from faasport import aws
    from faasport.testing import LambdaContext

    events = make_events()
    v2, v1 = events["apigw-v2"], events["apigw-v1"]
    context = LambdaContext()
    starlette_app = make_starlette_app()
    flask_app = make_flask_app()

    send_direct = asgi_direct_send(starlette_app, base_scope())
    loop = asyncio.new_event_loop()
    loop_direct = asgi_direct_loop(starlette_app, base_scope(), loop)
    suspends = send_direct() is None
    asgi_base = "ASGI direct, run_until_complete" if suspends else "ASGI direct, coro.send(None)"

    faas_asgi = aws.handler(starlette_app)
    mangum_off = Mangum(starlette_app, lifespan="off")
    mangum_auto = Mangum(starlette_app, lifespan="auto")
    faas_wsgi = aws.handler(flask_app)
    apig = make_lambda_handler(flask_app)
    flask_direct = wsgi_direct(flask_app, base_environ())

    def via(handler: Callable[[Any, Any], Any], event: Any) -> tuple[Call, Callable[[], Result]]:
        call = lambda_call(handler, event, context)
        return call, lambda: lambda_result(call())

    cases: list[Case] = []
    if not suspends:
        cases.append(Case("ASGI", "ASGI direct, coro.send(None)", send_direct, send_direct))  # type: ignore[arg-type]
    cases.append(
        Case(
            "ASGI",
            "ASGI direct, run_until_complete",
            loop_direct,
            loop_direct,
            baseline=None if suspends else asgi_base,
        )
    )
    cases.append(Case("ASGI", "faasport aws.handler (v2)", *via(faas_asgi, v2), baseline=asgi_base))
    cases.append(
        Case(
            "ASGI",
            'Mangum lifespan="off" (v2)',
            *via(mangum_off, v2),
            baseline=asgi_base,
            peer_of="faasport aws.handler (v2)",
        )
    )
    cases.append(
        Case(
            "ASGI",
            'Mangum lifespan="auto" (v2)',
            *via(mangum_auto, v2),
            baseline=asgi_base,
            peer_of="faasport aws.handler (v2)",
        )
    )
    wsgi_base = "WSGI direct"
    cases.append(Case("WSGI", wsgi_base, flask_direct, flask_direct))
    for label, ev in (("v2", v2), ("v1", v1)):
        faas_name = f"faasport aws.handler ({label})"
        cases.append(Case("WSGI", faas_name, *via(faas_wsgi, ev), baseline=wsgi_base))
        cases.append(
            Case(
                "WSGI",
                f"apig-wsgi ({label})",
                *via(apig, ev),
                baseline=wsgi_base,
                peer_of=faas_name,
            )
        )
    meta = {"asgi_base": asgi_base, "suspends": suspends, "events": events}
    return cases, meta


# -- checking and timing -------------------------------------------------------------------


def check(cases: list[Case], events: dict[str, dict[str, Any]]) -> None:
    before = copy.deepcopy(events)
    bodies: dict[str, bytes] = {}
    for case in cases:
        status, body = case.check()
        if status != 200:
            raise SystemExit(f"{case.name}: status {status}, body {body!r}")
        expected = bodies.setdefault(case.group, body)
        if json.loads(body) != json.loads(expected):
            raise SystemExit(f"{case.name}: body {body!r} differs from {expected!r}")
        if json.loads(body) != {"hello": "world", "a": "1"}:
            raise SystemExit(f"{case.name}: unexpected body {body!r}")
        # a second call: the steady state is what gets timed (lifespan started, app loaded)
        if case.check() != (status, body):
            raise SystemExit(f"{case.name}: second call answered differently")
    if events != before:
        raise SystemExit("a handler mutated the event; the cases cannot share one event dict")


def time_batch(call: Call, n: int) -> float:
    """Nanoseconds per call over one batch of ``n`` calls."""
    clock = time.perf_counter_ns
    start = clock()
    for _ in range(n):
        call()
    return (clock() - start) / n


def calibrate(case: Case, batch_ns: float) -> None:
    n = 1
    while True:
        per_call = time_batch(case.call, n)
        if per_call * n >= batch_ns / 10 or n >= 1 << 20:
            break
        n *= 2
    case.n = max(1, round(batch_ns / per_call))


def measure(cases: list[Case], repeats: int, batch_ms: float, warmup: int) -> None:
    for case in cases:
        for _ in range(warmup):
            case.call()
        calibrate(case, batch_ms * 1e6)
    gc.collect()
    for r in range(repeats):
        k = r % len(cases)
        for case in cases[k:] + cases[:k]:
            case.samples.append(time_batch(case.call, case.n) / 1000)


# -- report --------------------------------------------------------------------------------


def machine() -> str:
    cpus = os.cpu_count()
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = cpus
    return (
        f"- machine: {platform.platform()} ({platform.machine()}), "
        f"{platform.processor() or 'unknown cpu'}\n"
        f"- python: {platform.python_implementation()} {platform.python_version()} "
        f"({sys.executable})\n"
        f"- cpus: {cpus} ({usable} usable by this process)"
    )


def versions() -> str:
    from importlib.metadata import version

    names = ("faasport", "starlette", "flask", "werkzeug", "mangum", "apig-wsgi")
    return "- versions: " + ", ".join(f"{n} {version(n)}" for n in names)


def report(cases: list[Case], meta: dict[str, Any]) -> tuple[dict[str, float], list[str]]:
    by_name = {c.name: c for c in cases}

    def overhead(case: Case) -> float | None:
        if case.baseline is None:
            return None
        return case.median - by_name[case.baseline].median

    lines = [
        "| case | µs/call | overhead over direct (µs) | faasport overhead ÷ this overhead |",
        "|---|---:|---:|---:|",
    ]
    ratios: dict[str, float] = {}
    for case in cases:
        over = overhead(case)
        ratio = ""
        if case.peer_of is not None and over is not None:
            ours = overhead(by_name[case.peer_of])
            assert ours is not None
            ratios[case.name] = ours / over if over > 0 else float("inf")
            ratio = f"{ratios[case.name]:.2f}"
        spread = statistics.quantiles(case.samples, n=4) if len(case.samples) > 1 else [0, 0, 0]
        timing = f"{case.median:.1f} (IQR {spread[0]:.1f}–{spread[2]:.1f})"
        lines.append(
            f"| {case.group}: {case.name} | {timing} | "
            f"{'baseline' if over is None else f'{over:+.1f}'} | {ratio} |"
        )
    return ratios, lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run, a few seconds")
    parser.add_argument("--repeats", type=int, help="timed repeats per case")
    parser.add_argument("--batch-ms", type=float, help="target duration of one batch")
    args = parser.parse_args()
    repeats = args.repeats or (7 if args.quick else 41)
    batch_ms = args.batch_ms or (10.0 if args.quick else 120.0)
    warmup = 20 if args.quick else 300

    started = time.perf_counter()
    print("# faasport adapter overhead per invocation\n")
    print(machine())
    print(versions())
    cases, meta = build_cases()
    check(cases, meta["events"])
    print(
        f"- method: {repeats} repeats, round-robin over {len(cases)} cases, batches of "
        f"~{batch_ms:g} ms (N = {', '.join(str(c.n) for c in cases) if False else 'calibrated'})"
        f", median µs/call; ASGI baseline: {meta['asgi_base']}\n"
    )
    measure(cases, repeats, batch_ms, warmup)
    ratios, lines = report(cases, meta)
    print("\n".join(lines))
    print(f"\nN per batch: {', '.join(f'{c.name}={c.n}' for c in cases)}")

    off = ratios['Mangum lifespan="off" (v2)']
    auto = ratios['Mangum lifespan="auto" (v2)']
    wsgi_v2 = ratios["apig-wsgi (v2)"]
    wsgi_v1 = ratios["apig-wsgi (v1)"]
    verdict = {True: "PASS", False: "FAIL"}
    print("\n## targets\n")
    print(
        f"- ASGI: faasport overhead <= 1/3 of Mangum's: {off:.2f} of Mangum lifespan=\"off\" "
        f"({auto:.2f} of lifespan=\"auto\") -> {verdict[off <= 1 / 3]}"
    )
    print(
        f"- WSGI: faasport overhead <= apig-wsgi's: {wsgi_v2:.2f} with HTTP API v2 events "
        f"-> {verdict[wsgi_v2 <= 1]}; {wsgi_v1:.2f} with REST v1 events "
        f"-> {verdict[wsgi_v1 <= 1]}"
    )
    print(f"\n(total {time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
