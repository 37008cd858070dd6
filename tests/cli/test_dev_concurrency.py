"""``max_concurrency = N`` under ``faasport dev``: one environment takes N invocations at once
(Lambda Managed Instances), through the gateway, over real sockets.

Proved by counts and ordering, never by timing: every request waits inside the app (up to a
generous limit) until all eight are inside, and reports how many it saw.
"""

from __future__ import annotations

import asyncio
import json
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from dev_process import Dev

APP = textwrap.dedent(
    """
    import asyncio, json, logging, os
    from faasport.core.jsonlog import configure

    log = configure(logging.getLogger("slow"))
    state = {"inside": 0, "peak": 0}

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        context = scope["aws.context"]
        rid = context.aws_request_id
        state["inside"] += 1
        state["peak"] = max(state["peak"], state["inside"])
        for step in range(3):
            log.info("before %s %s", step, rid)
            await asyncio.sleep(0.01)
        loop = asyncio.get_running_loop()
        until = loop.time() + 20
        while state["peak"] < 8 and loop.time() < until:
            await asyncio.sleep(0.005)
        peak = state["peak"]
        for step in range(3):
            log.info("after %s %s", step, rid)
            await asyncio.sleep(0.01)
        state["inside"] -= 1
        body = json.dumps({
            "rid": rid,
            "peak": peak,
            "pid": os.getpid(),
            "remaining": context.get_remaining_time_in_millis(),
            "slots": os.environ.get("AWS_LAMBDA_MAX_CONCURRENCY"),
        }).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": body})

    streams = {"inside": 0, "peak": 0}

    async def feed(scope, receive, send):
        # Streams its first chunk, waits until four streams are open at once, then the rest.
        if scope["type"] != "http":
            return
        rid = scope["aws.context"].aws_request_id
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"text/plain")]})
        streams["inside"] += 1
        streams["peak"] = max(streams["peak"], streams["inside"])
        await send({"type": "http.response.body", "body": f"{rid}\\n".encode(),
                    "more_body": True})
        loop = asyncio.get_running_loop()
        until = loop.time() + 20
        while streams["peak"] < 4 and loop.time() < until:
            await asyncio.sleep(0.005)
        for n in range(3):
            await send({"type": "http.response.body", "body": f"{n}:{streams['peak']}\\n".encode(),
                        "more_body": True})
            await asyncio.sleep(0.01)
        streams["inside"] -= 1
        await send({"type": "http.response.body", "body": b""})
    """
)

CONFIG = textwrap.dedent(
    """
    name = "slots"

    [functions.web]
    app = "slow:app"
    max_concurrency = 8
    routes = ["ANY /{proxy+}"]

    [functions.feed]
    app = "slow:feed"
    stream = true
    max_concurrency = 4
    routes = ["GET /feed"]
    """
)


@pytest.fixture
def dev(tmp_path: Path) -> Iterator[Dev]:
    (tmp_path / "faasport.toml").write_text(CONFIG)
    (tmp_path / "slow.py").write_text(APP)
    server = Dev(tmp_path)
    yield server
    server.close()


async def eight(url: str) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        return list(await asyncio.gather(*(client.get(f"/slow/{n}") for n in range(8))))


def test_eight_slow_requests_run_at_once_in_one_environment(dev: Dev) -> None:
    responses = asyncio.run(eight(dev.url))
    assert [r.status_code for r in responses] == [200] * 8, dev.lines[-12:]
    found: list[dict[str, Any]] = [r.json() for r in responses]
    # All eight were inside the app together: none waited for another to finish.
    assert [f["peak"] for f in found] == [8] * 8
    assert len({f["pid"] for f in found}) == 1
    assert {f["slots"] for f in found} == {"8"}
    assert all(0 < f["remaining"] <= 30_000 for f in found)
    rids = {f["rid"] for f in found}
    assert len(rids) == 8
    dev.settled(8)
    # One cold start: the requests that arrived while it started waited for its free slots.
    reports = [line for line in dev.lines if line.startswith("REPORT")]
    assert len(reports) == 8
    assert sum("Init Duration" in line for line in reports) == 1
    # Each log line carries the id of the invocation that wrote it; they interleave.
    logged = []
    for line in dev.lines:
        found_json = re.search(r"(\{\"timestamp\".*\})\s*$", line)
        if found_json:
            entry = json.loads(found_json.group(1))
            if entry["logger"] == "slow":
                logged.append(entry)
    assert len(logged) == 8 * 6
    assert {entry["request_id"] for entry in logged} == rids
    for entry in logged:
        assert entry["request_id"] == entry["message"].rsplit(" ", 1)[1]
    first_after = next(i for i, e in enumerate(logged) if e["message"].startswith("after"))
    assert {e["request_id"] for e in logged[:first_after]} == rids


async def four_streams(url: str) -> list[list[str]]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:

        async def read() -> list[str]:
            async with client.stream("GET", "/feed") as response:
                assert response.status_code == 200
                return [line async for line in response.aiter_lines()]

        return list(await asyncio.gather(*(read() for _ in range(4))))


def test_streamed_responses_run_at_once_too(dev: Dev) -> None:
    bodies = asyncio.run(four_streams(dev.url))
    # Each stream: its own request id first, then three chunks written once all four were
    # open together, in order.
    assert [body[1:] for body in bodies] == [["0:4", "1:4", "2:4"]] * 4
    assert len({body[0] for body in bodies}) == 4
    dev.settled(4)
    reports = [line for line in dev.lines if line.startswith("REPORT")]
    assert sum("Init Duration" in line for line in reports) == 1
