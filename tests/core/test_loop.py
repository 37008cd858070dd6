from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest

from faasport import aws
from faasport.core.loop import DIRECT_VERSIONS, EnvironmentLoop
from faasport.testing import LambdaContext, event
from loop_cases import CASES, new_loop
from loop_paths import loop_path  # noqa: F401

HERE = Path(__file__).parent
SRC = HERE.parent.parent / "src"


@pytest.mark.parametrize("direct", [True, False], ids=["direct", "fallback"])
@pytest.mark.parametrize("name", list(CASES))
def test_cancellation_cases(name: str, direct: bool) -> None:
    env = new_loop(direct)
    try:
        CASES[name](env)
    finally:
        env.close()


def test_direct_path_only_where_tested() -> None:
    env = EnvironmentLoop()
    try:
        covered = sys.implementation.name == "cpython" and sys.version_info[:2] in DIRECT_VERSIONS
        assert env.direct is covered
    finally:
        env.close()


def _other_interpreters() -> list[str]:
    """CPythons of the versions the direct path is enabled on, other than this one."""
    import shutil

    found = []
    pyenv = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    for major, minor in DIRECT_VERSIONS:
        if (major, minor) == sys.version_info[:2]:
            continue
        candidates = [str(p) for p in sorted(pyenv.glob(f"{major}.{minor}.*/bin/python"))]
        candidates.append(shutil.which(f"python{major}.{minor}") or "")
        found += [c for c in candidates if c and _runs(c)][:1]
    return found


def _runs(python: str) -> bool:
    """False for a shim that names the interpreter without providing it."""
    probe = subprocess.run([python, "-c", "pass"], capture_output=True, timeout=30)
    return probe.returncode == 0


def test_cases_on_other_interpreters() -> None:
    interpreters = _other_interpreters()
    if not interpreters:
        pytest.skip("no other CPython of DIRECT_VERSIONS on this machine")
    for python in interpreters:
        out = subprocess.run(
            [python, str(HERE.parent / "loop_cases.py")],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "PYTHONPATH": str(SRC)},
        )
        assert out.returncode == 0, out.stdout + out.stderr
        assert "ok direct timeout_zero" in out.stdout


# -- through the handler ------------------------------------------------------------------


async def _respond(send: Any, body: bytes) -> None:
    headers = [(b"content-type", b"text/plain")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def self_cancelling_app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        raise RuntimeError("no lifespan")
    if scope["path"] == "/cancel":
        task = asyncio.current_task()
        assert task is not None
        task.cancel()
        try:
            await asyncio.sleep(0)
        except asyncio.CancelledError:
            await _respond(send, b"caught")
            return
        await _respond(send, b"not delivered")
    elif scope["path"] == "/timeout":
        try:
            async with asyncio.timeout(0):
                await asyncio.sleep(1)
        except TimeoutError:
            await _respond(send, b"timed out")
    else:
        await asyncio.sleep(0)
        await _respond(send, b"fine")


@pytest.mark.usefixtures("loop_path")
def test_a_request_that_cancels_itself_leaves_the_environment_working() -> None:
    handler = aws.handler(self_cancelling_app)

    def get(path: str) -> tuple[int, str]:
        result = handler(event("apigw-v2", "GET", path), LambdaContext())
        return result["statusCode"], result["body"]

    for _ in range(2):
        assert get("/cancel") == (200, "caught")
        assert get("/other") == (200, "fine")
        assert get("/timeout") == (200, "timed out")
        assert get("/other") == (200, "fine")


# -- SIGTERM ------------------------------------------------------------------------------

SCRIPT = """
import asyncio, sys, time
from pathlib import Path
from faasport import aws
from faasport.testing import LambdaContext, event

out = Path(sys.argv[1])
blocking = sys.argv[2] == "blocking"
deferring = sys.argv[3] == "deferring"
if deferring:  # as faasport's runtime client does
    from faasport.core import deferred
    deferred.enable()

async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        await receive()
        await send({"type": "lifespan.startup.complete"})
        await receive()
        (out / "shutdown").write_text("ran")
        await send({"type": "lifespan.shutdown.complete"})
        return
    print("serving", flush=True)
    if blocking:
        time.sleep(1.0)
    else:
        await asyncio.sleep(1.0)
    (out / "request").write_text("finished")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})

handler = aws.handler(app)
while True:
    result = handler(event("apigw-v2", "GET", "/"), LambdaContext())
    print("responded", result["statusCode"], flush=True)
    if deferring:
        deferred.run()
"""


@pytest.mark.parametrize(
    ("waiting", "deferring"),
    [("blocking", ""), ("awaiting", ""), ("awaiting", "deferring")],
)
def test_sigterm_during_a_request_finishes_it_then_shuts_down(
    tmp_path: Path, waiting: str, deferring: str
) -> None:
    script = tmp_path / "app.py"
    script.write_text(textwrap.dedent(SCRIPT))
    with subprocess.Popen(
        [sys.executable, str(script), str(tmp_path), waiting, deferring or "-"],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
    ) as process:
        try:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "serving"
            time.sleep(0.2)
            process.send_signal(signal.SIGTERM)
            code = process.wait(timeout=10)
            rest = process.stdout.read()
        finally:
            if process.poll() is None:
                process.kill()
    assert code == -signal.SIGTERM
    assert (tmp_path / "request").read_text() == "finished"
    # Where a response is still to be sent, the environment closes only after it is.
    assert ("responded 200" in rest) is bool(deferring)
    assert (tmp_path / "shutdown").read_text() == "ran"


def test_the_direct_path_leaves_async_generator_hooks_as_it_found_them() -> None:
    import sys

    async def answer() -> int:
        return 42

    def firstiter(agen: Any) -> None:
        pass

    def finalizer(agen: Any) -> None:
        pass

    before = sys.get_asyncgen_hooks()
    env = EnvironmentLoop()
    env.direct = True
    try:
        # Hooks of someone else's: put back after each invocation.
        sys.set_asyncgen_hooks(firstiter, finalizer)
        assert env.run(answer()) == 42
        assert tuple(sys.get_asyncgen_hooks()) == (firstiter, finalizer)
        # None: the loop's own stay in place for the next invocation, until it closes.
        sys.set_asyncgen_hooks(None, None)
        assert env.run(answer()) == 42
        assert tuple(sys.get_asyncgen_hooks()) == env._hooks
        assert env.run(answer()) == 42
        env.close()
        assert tuple(sys.get_asyncgen_hooks()) == (None, None)
    finally:
        env.close()
        sys.set_asyncgen_hooks(*before)
