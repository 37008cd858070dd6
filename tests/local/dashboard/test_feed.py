"""The dashboard's memory stays bounded whatever the traffic, and a slow live client is
dropped rather than slowing the runtime."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from faasport.local.dashboard.feed import BACKLOG, HISTORY, MAX_LOG_LINES, MAX_PAYLOAD, Feed
from faasport.local.environment import Environment
from faasport.local.outcome import Outcome, Status
from faasport.local.runtime_api import Invocation
from faasport.local.spec import FunctionSpec
from faasport.testing.events import event

EVENT = json.dumps(event("apigw-v2", "GET", "/items/1")).encode()


def _environment(tmp_path: Path) -> Environment:
    # Never started: the feed reads only what it is told and the process' memory (0).
    return Environment(FunctionSpec("api", "app.handler", tmp_path), 0, lambda line: None)


def _invoke(feed: Feed, env: Environment | None, payload: bytes = EVENT) -> Invocation:
    invocation = Invocation(payload, deadline_ms=0)
    feed.invocation_started("api", env, invocation)
    result = json.dumps({"statusCode": 404, "body": ""}).encode()
    outcome = Outcome(invocation.request_id, Status.OK, result, 1.5, None, 20, 512)
    feed.invocation_ended("api", env, invocation, outcome)
    return invocation


def test_history_is_a_ring_buffer(tmp_path: Path) -> None:
    feed = Feed()
    env = _environment(tmp_path)
    feed.environment_changed("api", env, "starting")
    first = _invoke(feed, env)
    last = [_invoke(feed, env) for _ in range(HISTORY + 50)][-1]
    assert len(feed.invocations) == HISTORY
    assert len(feed._by_id) == HISTORY
    assert feed.invocation(first.request_id) is None
    record = feed.invocation(last.request_id)
    assert record is not None
    assert record.summary()["trigger"] == "GET /items/1"
    assert record.summary()["http_status"] == 404
    assert [i["id"] for i in feed.snapshot()["invocations"]][-1] == last.request_id


def test_an_invocation_keeps_a_bounded_event_and_log(tmp_path: Path) -> None:
    feed = Feed()
    env = _environment(tmp_path)
    feed.environment_changed("api", env, "starting")
    big = json.dumps({"data": "x" * (2 * MAX_PAYLOAD)}).encode()
    invocation = _invoke(feed, env, big)
    for number in range(MAX_LOG_LINES + 10):
        feed.output("api", env, f"line {number}")
    record = feed.invocation(invocation.request_id)
    assert record is not None
    details = record.details()
    assert len(details["event"]) < MAX_PAYLOAD + 100
    assert details["event"].endswith(f"... ({len(big)} bytes in all)")
    assert details["trigger"] == "invoke"  # a cut event is not JSON any more
    assert len(details["logs"]) == MAX_LOG_LINES and details["logs"][0] == "line 0"


def _state(feed: Feed) -> str:
    return str(feed.snapshot()["environments"][-1]["state"])


def test_an_environment_is_busy_while_its_invocations_run(tmp_path: Path) -> None:
    feed = Feed()
    env = _environment(tmp_path)
    feed.environment_changed("api", env, "starting")
    feed.environment_changed("api", env, "warm")
    first, second = Invocation(EVENT, deadline_ms=0), Invocation(EVENT, deadline_ms=0)
    env.active = 1  # as the pool counts it while the invocation runs
    feed.invocation_started("api", env, first)
    assert _state(feed) == "busy"
    env.active = 2  # a second one in the same environment (max_concurrency)
    feed.invocation_started("api", env, second)
    outcome = Outcome(first.request_id, Status.OK, b"{}", 1.0, None, 20, 512)
    feed.invocation_ended("api", env, first, outcome)
    assert _state(feed) == "busy"
    env.active = 1
    feed.invocation_ended("api", env, second, outcome)
    assert _state(feed) == "idle"
    feed.environment_changed("api", env, "killed")
    assert _state(feed) == "killed"


def test_stopped_environments_are_remembered_a_while(tmp_path: Path) -> None:
    feed = Feed()
    envs = [_environment(tmp_path) for _ in range(30)]
    for env in envs:
        feed.environment_changed("api", env, "starting")
        feed.environment_changed("api", env, "warm")
        feed.environment_changed("api", env, "killed")
    shown = feed.snapshot()["environments"]
    assert len(shown) == 20 and feed.environments == {}
    assert shown[-1]["id"] == "api-30" and shown[-1]["state"] == "killed"


def test_a_client_that_falls_behind_is_dropped() -> None:
    async def run() -> None:
        feed = Feed()
        slow, fast = feed.subscribe(), feed.subscribe()
        for number in range(BACKLOG + 1):
            feed.publish("invocation", {"n": number})
            assert await fast.wait(0) == [b'event: invocation\ndata: {"n": %d}\n\n' % number]
        assert feed._clients == {fast}
        assert slow.ended and len(slow.messages) == BACKLOG
        assert await slow.wait(1) is None  # the end of its stream: it reconnects and reloads
        waiting = asyncio.ensure_future(fast.wait(10))
        await asyncio.sleep(0)
        feed.publish("environment", {"n": 0})
        assert await waiting == [b'event: environment\ndata: {"n": 0}\n\n']
        feed.close()
        assert await fast.wait(1) is None and feed._clients == set()

    asyncio.run(run())
