"""One execution environment on its own: init, an invocation over the Unix socket or TCP,
init failures, and Lambda's shutdown (SIGTERM only when an extension registered)."""

from __future__ import annotations

import asyncio
import json
import textwrap
import time
from pathlib import Path

import pytest

from faasport.local.environment import Environment, InitFailed
from faasport.local.outcome import Status
from faasport.local.runtime_api import Invocation
from faasport.local.spec import FunctionSpec

FUNCTION = textwrap.dedent(
    """
    import os, signal, sys

    if os.environ.get("REGISTER") == "1":
        from faasport.aws import extension
        extension.register()

    def on_term(signum, frame):
        open(os.path.join(os.environ["LAMBDA_TASK_ROOT"], "terminated"), "w").close()
        sys.exit(0)

    signal.signal(signal.SIGTERM, on_term)

    def handle(event, context):
        return {
            "api": os.environ["AWS_LAMBDA_RUNTIME_API"],
            "socket": os.environ.get("FAASPORT_RUNTIME_API_SOCKET"),
        }
    """
)


def run(root: Path, socket: Path | None, register: bool) -> tuple[Status, dict[str, str]]:
    spec = FunctionSpec("fn", "fn.handle", root, environment={"REGISTER": str(int(register))})

    async def main() -> tuple[Status, dict[str, str]]:
        env = Environment(spec, 0, lambda line: None, socket_path=socket, shutdown_grace=2.0)
        assert env.pid == 0 and not env.alive  # inert until started
        await env.start()
        assert env.alive and env.init_ms is not None
        deadline = int((time.time() + 5) * 1000)
        status, payload, _ = await env.invoke(Invocation(b"{}", deadline))
        assert bool(env.api.extensions) is register
        await env.close()
        assert not env.alive
        return status, json.loads(payload)

    return asyncio.run(main())


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "fn.py").write_text(FUNCTION)
    return tmp_path


def test_faasport_client_uses_the_unix_socket_and_tcp_stays_advertised(root: Path) -> None:
    socket = root / "api.sock"
    status, body = run(root, socket, register=False)
    assert status is Status.OK
    assert body["socket"] == str(socket)
    assert body["api"].startswith("127.0.0.1:")
    assert not socket.exists()  # removed with the environment


def test_without_an_extension_the_runtime_is_killed_without_sigterm(root: Path) -> None:
    run(root, None, register=False)
    assert not (root / "terminated").exists()


def test_with_an_extension_the_runtime_gets_sigterm(root: Path) -> None:
    status, body = run(root, None, register=True)
    assert status is Status.OK and body["socket"] is None
    assert (root / "terminated").exists()


@pytest.mark.parametrize(
    ("source", "error_type", "message"),
    [
        (
            "raise ImportError('no such thing')\n",
            "Runtime.ImportModuleError",
            "Unable to import module 'broken': no such thing",
        ),
        (
            "def handle(event, context)\n    return 1\n",
            "Runtime.UserCodeSyntaxError",
            "Syntax error in module 'broken': expected ':' (broken.py, line 1)",
        ),
        ("import os\n", "Runtime.HandlerNotFound", "Handler 'handle' missing on module 'broken'"),
    ],
)
def test_init_failure_carries_the_error(
    root: Path, source: str, error_type: str, message: str
) -> None:
    (root / "broken.py").write_text(source)
    spec = FunctionSpec("fn", "broken.handle", root)
    lines: list[str] = []

    async def main() -> bytes:
        env = Environment(spec, 0, lines.append)
        try:
            await env.start()
        except InitFailed as failed:
            return failed.payload
        finally:
            await env.close()
        raise AssertionError("init should fail")

    # As Lambda reports a handler module that does not import.
    assert json.loads(asyncio.run(main())) == {
        "errorMessage": message,
        "errorType": error_type,
        "requestId": "",
        "stackTrace": [],
    }
    if error_type.startswith("Runtime."):
        assert lines == [f"[ERROR] {error_type}: {message}"]
