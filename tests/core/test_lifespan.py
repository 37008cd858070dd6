from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from faasport import aws
from faasport.testing import LambdaClient


def counting_app(counts: dict[str, int], fail: bool = False) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        counts["startup"] += 1
        if fail:
            raise RuntimeError("database unreachable")
        yield {"db": "connected"}
        counts["shutdown"] += 1

    async def state(request: Request) -> JSONResponse:
        return JSONResponse({"db": request.state.db})

    return Starlette(routes=[Route("/state", state)], lifespan=lifespan)


def test_startup_runs_once_across_100_invocations() -> None:
    counts = {"startup": 0, "shutdown": 0}
    handler = aws.handler(counting_app(counts))
    client = LambdaClient(handler)
    for _ in range(100):
        result = client.get("/state")
        assert result.json() == {"db": "connected"}
    assert counts == {"startup": 1, "shutdown": 0}
    handler.runner.shutdown()
    handler.runner.shutdown()
    assert counts == {"startup": 1, "shutdown": 1}


def test_lifespan_off_never_starts() -> None:
    counts = {"startup": 0, "shutdown": 0}
    client = LambdaClient(aws.handler(counting_app(counts), lifespan="off"))
    assert client.get("/state").status == 500  # request.state.db is missing
    assert counts["startup"] == 0


def test_failed_startup_answers_500_and_is_retried(capsys: pytest.CaptureFixture[str]) -> None:
    counts = {"startup": 0, "shutdown": 0}
    client = LambdaClient(aws.handler(counting_app(counts, fail=True)))
    assert client.get("/state").status == 500
    assert client.get("/state").status == 500
    assert counts["startup"] == 2
    assert "database unreachable" in capsys.readouterr().out


def test_lifespan_on_requires_support() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise ValueError("no lifespan here")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    assert LambdaClient(aws.handler(app, lifespan="auto")).get("/").body == b"ok"
    assert LambdaClient(aws.handler(app, lifespan="on")).get("/").status == 500


def test_shutdown_runs_on_sigterm(tmp_path: Path) -> None:
    marker = tmp_path / "events.txt"
    script = tmp_path / "fn.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            from contextlib import asynccontextmanager
            from starlette.applications import Starlette
            from starlette.responses import PlainTextResponse
            from starlette.routing import Route
            from faasport import aws
            from faasport.testing import LambdaClient

            @asynccontextmanager
            async def lifespan(app):
                open({str(marker)!r}, "a").write("startup\\n")
                yield
                open({str(marker)!r}, "a").write("shutdown\\n")

            async def hi(request):
                return PlainTextResponse("hi")

            app = Starlette(routes=[Route("/", hi)], lifespan=lifespan)
            client = LambdaClient(aws.handler(app))
            assert client.get("/").text == "hi"
            print("ready", flush=True)
            sys.stdin.read()
            """
        )
    )
    with subprocess.Popen(
        [sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    ) as proc:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(timeout=20) == -signal.SIGTERM
    assert marker.read_text().splitlines() == ["startup", "shutdown"]
