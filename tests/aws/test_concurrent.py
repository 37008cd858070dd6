"""faasport's runtime client with ``AWS_LAMBDA_MAX_CONCURRENCY`` (Lambda Managed Instances):
several ``/next`` long-polls on one environment, ASGI invocations interleaved on its event
loop, WSGI apps and plain handlers on a bounded set of threads, and each invocation's request
id, trace and deadline kept apart. Driven through the local emulator: real processes, the
Runtime API over real sockets.

Concurrency is proved by counts, never by timing: the apps wait (up to a generous limit)
until the wanted number of invocations are inside them at once, and report how many were.
"""

from __future__ import annotations

import asyncio
import json
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from faasport.local.emulator import Emulator
from faasport.local.outcome import Outcome, Status
from faasport.local.spec import FunctionSpec
from faasport.testing.events import event

APPS = textwrap.dedent(
    """
    import asyncio, json, logging, os, threading, time
    from faasport import aws
    from faasport.core import logs, trace
    from faasport.core.jsonlog import configure

    log = configure(logging.getLogger("app"))
    state = {"inside": 0, "peak": 0, "startups": 0}
    lock = threading.Lock()

    def enter():
        with lock:
            state["inside"] += 1
            state["peak"] = max(state["peak"], state["inside"])

    def leave():
        with lock:
            state["inside"] -= 1

    def report(context, peak):
        return {
            "rid": context.aws_request_id,
            "logged_as": logs.get()["request_id"],
            "trace": trace.trace_id(),
            "remaining": context.get_remaining_time_in_millis(),
            "peak": peak,
            "startups": state["startups"],
            "pid": os.getpid(),
            "thread": threading.current_thread().name,
        }

    async def asgi(scope, receive, send):
        if scope["type"] == "lifespan":
            # A startup that takes a while: concurrent first requests must wait for it.
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await asyncio.sleep(0.1)
                    state["startups"] += 1
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        context = scope["aws.context"]
        rid = context.aws_request_id
        want = int(scope["query_string"].decode().partition("=")[2] or "1")
        enter()
        for step in range(3):
            log.info("before %s %s", step, rid)
            await asyncio.sleep(0.01)
        loop = asyncio.get_running_loop()
        until = loop.time() + 20
        while state["peak"] < want and loop.time() < until:
            await asyncio.sleep(0.005)
        peak = state["peak"]
        for step in range(3):
            log.info("after %s %s", step, rid)
            await asyncio.sleep(0.01)
        leave()
        body = json.dumps(report(context, peak)).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    def wsgi(environ, start_response):
        context = environ["faasport.context"]
        want = int(environ["QUERY_STRING"].partition("=")[2] or "1")
        enter()
        until = time.monotonic() + 20
        while state["peak"] < want and time.monotonic() < until:
            log.info("waiting %s", context.aws_request_id)
            time.sleep(0.005)
        peak = state["peak"]
        leave()
        start_response("200 OK", [("content-type", "application/json")])
        return [json.dumps(report(context, peak)).encode()]

    def plain(event, context):
        enter()
        until = time.monotonic() + event["patience"]
        while state["peak"] < event["want"] and time.monotonic() < until:
            time.sleep(0.005)
        peak = state["peak"]
        leave()
        return report(context, peak)

    def files(event, context):
        # A barrier that also holds across processes (awslambdaric forks one per slot).
        folder = event["folder"]
        open(os.path.join(folder, context.aws_request_id), "w").close()
        until = time.monotonic() + 20
        while len(os.listdir(folder)) < event["want"] and time.monotonic() < until:
            time.sleep(0.005)
        return report(context, len(os.listdir(folder)))

    asgi_handler = aws.handler(asgi)
    wsgi_handler = aws.handler(wsgi)
    """
)


@pytest.fixture
def make_runtime(tmp_path: Path) -> Iterator[Callable[..., Emulator]]:
    (tmp_path / "apps.py").write_text(APPS)
    runtimes: list[Emulator] = []

    def make(handler: str, **options: Any) -> Emulator:
        lines: list[str] = []
        spec = FunctionSpec(name="fn", handler=handler, task_root=tmp_path, **options)
        runtime = Emulator([spec], log=lines.append)
        runtime.lines = lines  # type: ignore[attr-defined]
        runtime.start()
        runtimes.append(runtime)
        return runtime

    yield make
    for runtime in runtimes:
        runtime.stop()


def invoke_all(runtime: Emulator, payloads: list[bytes], traces: list[str]) -> list[Outcome]:
    """Every payload at once, each with its own X-Ray trace header."""
    pool = runtime.pool("fn")

    async def every() -> list[Outcome]:
        return list(
            await asyncio.gather(
                *(pool.invoke(p, trace_id=t) for p, t in zip(payloads, traces, strict=True))
            )
        )

    return runtime.call(every(), timeout=60)


def xray(n: int) -> tuple[str, str]:
    """An X-Ray header and the W3C trace id it carries."""
    root = f"{0x5F000000 + n:08x}{n:024x}"
    return f"Root=1-{root[:8]}-{root[8:]};Parent={n + 1:016x};Sampled=1", root


def http(path: str) -> bytes:
    route, _, query = path.partition("?")
    return json.dumps(event("apigw-v2", "GET", route, query=query)).encode()


def answers(outcomes: list[Outcome]) -> list[dict[str, Any]]:
    found = []
    for outcome in outcomes:
        assert outcome.status is Status.OK, outcome.payload
        document = json.loads(outcome.payload)
        found.append(json.loads(document["body"]) if "body" in document else document)
    return found


def json_lines(lines: list[str]) -> list[dict[str, Any]]:
    """The JSON log lines the function wrote (the emulator prefixes its name), its metrics'
    EMF documents left out."""
    return [
        json.loads(line.partition(" ")[2])
        for line in lines
        if line.startswith("[fn] {") and not line.startswith('[fn] {"_aws"')
    ]


def check_apart(outcomes: list[Outcome], found: list[dict[str, Any]], roots: list[str]) -> None:
    """Each invocation saw its own request id (in its context and in its log context), its
    own trace and its own deadline."""
    for outcome, answer, root in zip(outcomes, found, roots, strict=True):
        assert answer["rid"] == answer["logged_as"] == outcome.request_id
        assert answer["trace"] == root
        assert 0 < answer["remaining"] <= 30_000


def test_asgi_invocations_share_one_environment_and_its_loop(
    make_runtime: Callable[..., Emulator],
) -> None:
    runtime = make_runtime("apps.asgi_handler", max_concurrency=8)
    headers, roots = zip(*(xray(n) for n in range(8)), strict=True)
    outcomes = invoke_all(runtime, [http("/slow?want=8")] * 8, list(headers))
    found = answers(outcomes)
    # All eight were inside the app at once, in one process, on its one event loop thread.
    assert [a["peak"] for a in found] == [8] * 8
    assert [a["startups"] for a in found] == [1] * 8
    assert len({a["pid"] for a in found}) == 1
    assert {a["thread"] for a in found} == {"faasport-loop"}
    assert len(runtime.pool("fn").environments) == 1
    assert sum(o.init_ms is not None for o in outcomes) == 1
    check_apart(outcomes, found, list(roots))
    # Every log line carries the id of the invocation that wrote it, though they interleave.
    lines: list[str] = runtime.lines  # type: ignore[attr-defined]
    mine = [entry for entry in json_lines(lines) if entry["logger"] == "app"]
    assert len(mine) == 8 * 6
    for entry in mine:
        assert entry["request_id"] == entry["message"].rsplit(" ", 1)[1]
    order = [entry["request_id"] for entry in mine]
    first_after = next(i for i, e in enumerate(mine) if e["message"].startswith("after"))
    # Interleaved: all eight had logged before any of them went on.
    assert len(set(order[:first_after])) == 8


def test_wsgi_invocations_run_on_as_many_threads(make_runtime: Callable[..., Emulator]) -> None:
    runtime = make_runtime("apps.wsgi_handler", max_concurrency=4)
    headers, roots = zip(*(xray(n) for n in range(4)), strict=True)
    outcomes = invoke_all(runtime, [http("/slow?want=4")] * 4, list(headers))
    found = answers(outcomes)
    assert [a["peak"] for a in found] == [4] * 4
    assert len({a["pid"] for a in found}) == 1
    assert len({a["thread"] for a in found}) == 4
    check_apart(outcomes, found, list(roots))
    lines: list[str] = runtime.lines  # type: ignore[attr-defined]
    waits = [e for e in json_lines(lines) if e["logger"] == "app"]
    assert waits and all(e["request_id"] == e["message"].split(" ")[1] for e in waits)


def test_plain_handlers_are_bounded_by_max_concurrency(
    make_runtime: Callable[..., Emulator],
) -> None:
    # Two slots, four invocations, one environment allowed: each waits (half a second at
    # most) for a third to join it, which never comes.
    runtime = make_runtime("apps.plain", max_concurrency=2, concurrency=1)
    payload = json.dumps({"want": 3, "patience": 0.5}).encode()
    pool = runtime.pool("fn")

    async def every() -> list[Outcome]:
        first = await pool.invoke(json.dumps({"want": 1, "patience": 0}).encode())
        rest = await asyncio.gather(*(pool.invoke(payload, wait=True) for _ in range(4)))
        return [first, *rest]

    outcomes = runtime.call(every(), timeout=120)
    found = answers(outcomes)
    assert max(a["peak"] for a in found) == 2
    assert len({a["pid"] for a in found}) == 1
    for outcome, answer in zip(outcomes, found, strict=True):
        assert answer["rid"] == answer["logged_as"] == outcome.request_id


def test_one_at_a_time_without_max_concurrency(make_runtime: Callable[..., Emulator]) -> None:
    runtime = make_runtime("apps.asgi_handler", concurrency=1)
    pool = runtime.pool("fn")

    async def every() -> list[Outcome]:
        return list(
            await asyncio.gather(*(pool.invoke(http("/slow?want=1"), wait=True) for _ in range(3)))
        )

    found = answers(runtime.call(every(), timeout=60))
    assert [a["peak"] for a in found] == [1, 1, 1]
    assert {a["thread"] for a in found} == {"MainThread"}


def test_awslambdaric_polls_concurrently_too(
    make_runtime: Callable[..., Emulator], tmp_path: Path
) -> None:
    # The official client (4.x) forks one process per slot, each with its own /next.
    runtime = make_runtime("apps.files", max_concurrency=4, runtime_client="awslambdaric")
    folder = tmp_path / "arrived"
    folder.mkdir()
    payload = json.dumps({"want": 4, "folder": str(folder)}).encode()
    outcomes = invoke_all(runtime, [payload] * 4, [xray(n)[0] for n in range(4)])
    found = answers(outcomes)
    assert [a["peak"] for a in found] == [4] * 4
    assert len({a["pid"] for a in found}) == 4
    assert len(runtime.pool("fn").environments) == 1
    assert [a["rid"] for a in found] == [o.request_id for o in outcomes]


LIFESPAN = textwrap.dedent(
    """
    import os
    from faasport import aws
    from faasport.aws import extension

    extension.register()  # so that the environment ends with SIGTERM, as on Lambda

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    root = os.environ["LAMBDA_TASK_ROOT"]
                    open(os.path.join(root, "shut down"), "w").close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"up"})

    handler = aws.handler(app)
    """
)


def test_lifespan_shutdown_runs_on_sigterm(tmp_path: Path) -> None:
    from faasport.local.environment import Environment
    from faasport.local.runtime_api import Invocation

    (tmp_path / "served.py").write_text(LIFESPAN)
    spec = FunctionSpec("fn", "served.handler", tmp_path, max_concurrency=4)

    async def main() -> Status:
        env = Environment(spec, 0, lambda line: None, shutdown_grace=5.0)
        await env.start()
        deadline = int((time.time() + 5) * 1000)
        status, _, _ = await env.invoke(Invocation(http("/"), deadline))
        await env.close()
        return status

    assert asyncio.run(main()) is Status.OK
    assert (tmp_path / "shut down").exists()
