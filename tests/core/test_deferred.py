"""Work after the response: Starlette/FastAPI background tasks and tasks a request starts
run after the response is complete, before the next invocation."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import BackgroundTasks, FastAPI

from faasport import aws, gateway
from faasport.core import deferred
from faasport.core.loop import environment_loop
from faasport.testing import LambdaClient
from loop_paths import loop_path  # noqa: F401

pytestmark = pytest.mark.usefixtures("loop_path")

TASK_SECONDS = 0.5


def background_app(out: Path) -> FastAPI:
    app = FastAPI()

    async def write_later(name: str) -> None:
        await asyncio.sleep(TASK_SECONDS)
        (out / name).write_text("written")

    def write_later_sync(name: str) -> None:  # runs in anyio's thread pool
        time.sleep(TASK_SECONDS)
        (out / name).write_text("written")

    @app.get("/async/{name}")
    async def with_async_task(name: str, tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(write_later, name)
        return {"queued": name}

    @app.get("/sync/{name}")
    def with_sync_task(name: str, tasks: BackgroundTasks) -> dict[str, str]:
        tasks.add_task(write_later_sync, name)
        return {"queued": name}

    @app.get("/fails")
    async def with_failing_task(tasks: BackgroundTasks) -> dict[str, str]:
        async def fail() -> None:
            await asyncio.sleep(0.01)
            raise RuntimeError("background failure")

        tasks.add_task(fail)
        return {"queued": "fail"}

    @app.get("/spawn/{name}")
    async def spawn(name: str) -> dict[str, str]:
        asyncio.create_task(write_later(name))  # noqa: RUF006 - fire and forget
        return {"spawned": name}

    @app.get("/forever")
    async def forever() -> dict[str, str]:
        async def loop_forever() -> None:
            while True:
                await asyncio.sleep(0.01)
                (out / "ticks").write_text(str(time.monotonic()))

        asyncio.create_task(loop_forever(), name="ticker")  # noqa: RUF006
        return {"spawned": "forever"}

    return app


@pytest.fixture
def deferring() -> Iterator[None]:
    """As under faasport's runtime client: deferred work waits for deferred.run()."""
    deferred.enable()
    try:
        yield
    finally:
        deferred.run()
        deferred.enable(False)


@pytest.mark.parametrize("kind", ["async", "sync"])
def test_without_deferral_the_task_finishes_before_the_handler_returns(
    tmp_path: Path, kind: str
) -> None:
    client = LambdaClient(aws.handler(background_app(tmp_path)))
    started = time.monotonic()
    result = client.get(f"/{kind}/done")
    assert result.status == 200
    assert time.monotonic() - started >= TASK_SECONDS
    assert (tmp_path / "done").read_text() == "written"


@pytest.mark.usefixtures("deferring")
@pytest.mark.parametrize("kind", ["async", "sync"])
@pytest.mark.parametrize("policies", [False, True], ids=["bare", "behind-policies"])
def test_with_deferral_the_response_comes_first(tmp_path: Path, kind: str, policies: bool) -> None:
    """Also behind the policies as ASGI middleware: they finish the response when the app
    has sent it, not when the app's call returns after its background tasks."""
    app: Any = background_app(tmp_path)
    if policies:
        app = gateway.asgi(app, gateway.Cors(origins=["https://app.example.com"]))
    client = LambdaClient(aws.handler(app))
    started = time.monotonic()
    result = client.get(f"/{kind}/later")
    answered = time.monotonic() - started
    assert result.status == 200
    assert result.json() == {"queued": "later"}
    assert answered < TASK_SECONDS / 2
    assert not (tmp_path / "later").exists()
    assert deferred.pending()
    deferred.run()
    assert (tmp_path / "later").read_text() == "written"
    assert not deferred.pending()


@pytest.mark.usefixtures("deferring")
def test_a_failing_background_task_is_logged_and_the_response_stands(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client = LambdaClient(aws.handler(background_app(tmp_path)))
    assert client.get("/fails").status == 200
    deferred.run()
    out = capsys.readouterr().out
    assert "after its response to GET /fails was sent" in out
    assert "background failure" in out
    assert client.get("/async/next").status == 200  # the environment carries on


def test_a_task_the_request_started_runs_before_the_invocation_ends(tmp_path: Path) -> None:
    client = LambdaClient(aws.handler(background_app(tmp_path)))
    assert client.get("/spawn/spawned").status == 200
    assert (tmp_path / "spawned").read_text() == "written"


def test_a_task_still_running_after_the_grace_is_cancelled_with_a_log_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = environment_loop()
    saved, env.task_grace = env.task_grace, 0.1
    try:
        client = LambdaClient(aws.handler(background_app(tmp_path)))
        assert client.get("/forever").status == 200
    finally:
        env.task_grace = saved
    ticks = tmp_path / "ticks"
    last = ticks.read_text()
    assert "'ticker'" in capsys.readouterr().out
    # Cancelled: it does not run on in the next invocation.
    assert client.get("/spawn/after").status == 200
    assert ticks.read_text() == last


def test_deferred_run_logs_a_failure_and_runs_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    done: list[str] = []

    def boom() -> None:
        raise ValueError("deferred boom")

    deferred.enable()
    try:
        assert deferred.defer(boom)
        assert deferred.defer(lambda: done.append("second"))
        deferred.run()
    finally:
        deferred.enable(False)
    assert done == ["second"]
    assert "deferred boom" in capsys.readouterr().out
    assert not deferred.defer(lambda: done.append("refused"))
    assert not deferred.pending()


FIRST_REQUEST = """
import time
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from faasport import aws, gateway
from faasport.testing import LambdaClient

async def hello(request):
    return PlainTextResponse("hi")

client = LambdaClient(aws.handler(Starlette(routes=[Route("/", hello)]), lifespan="off"))
for _ in range(3):
    started = time.monotonic()
    assert client.get("/").text == "hi"
    print(round(time.monotonic() - started, 3))
"""


def test_a_fresh_environment_tracks_no_task_of_its_own() -> None:
    import os
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", FIRST_REQUEST],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")},
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert len(lines) == 3, out.stdout  # no warning about a task left running
    assert all(float(seconds) < 0.5 for seconds in lines), lines
