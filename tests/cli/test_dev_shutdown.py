"""Lambda's shutdown phase in ``faasport dev``: the generated entry module registers an
internal extension, so an environment that ends gets SIGTERM and a grace period, and ASGI
lifespan shutdown runs: when dev stops, when an idle environment scales to zero, on reload."""

from __future__ import annotations

import os
import signal
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dev_process import Dev, wait_for

APP = textwrap.dedent(
    """
    import json, os

    ROOT = os.path.dirname(os.path.abspath(__file__))
    VERSION = 1


    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    with open(os.path.join(ROOT, f"shutdown-{os.getpid()}"), "w") as file:
                        file.write("done")
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = json.dumps({"pid": os.getpid()}).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    """
)

CONFIG = textwrap.dedent(
    """
    name = "life"

    [functions.web]
    app = "lifeapp:app"
    """
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "faasport.toml").write_text(CONFIG)
    (tmp_path / "lifeapp.py").write_text(APP)
    return tmp_path


@pytest.fixture
def start(project: Path) -> Iterator[type[Dev]]:
    started: list[Dev] = []

    class Started(Dev):
        def __init__(self, *options: str) -> None:
            super().__init__(project, *options)
            started.append(self)

    yield Started  # type: ignore[misc]
    for server in started:
        server.close()


def pid_of_one_request(dev: Dev) -> int:
    with httpx.Client(base_url=dev.url, timeout=30) as client:
        pid: int = client.get("/").json()["pid"]
    return pid


@pytest.mark.parametrize("runtime_client", ["faasport", "awslambdaric"])
def test_stopping_dev_runs_lifespan_shutdown(
    start: type[Dev], project: Path, runtime_client: str
) -> None:
    dev = start("--no-reload", "--runtime-client", runtime_client)
    pid = pid_of_one_request(dev)
    dev.process.send_signal(signal.SIGTERM)
    assert dev.process.wait(timeout=30) == 0  # a loaded CI machine has taken over 15 s
    assert (project / f"shutdown-{pid}").read_text() == "done"


def test_scale_to_zero_runs_lifespan_shutdown(start: type[Dev], project: Path) -> None:
    dev = start("--no-reload", "--idle-timeout", "0.3")
    pid = pid_of_one_request(dev)
    wait_for(lambda: (project / f"shutdown-{pid}").exists())
    wait_for(lambda: not Path(f"/proc/{pid}").exists() or _zombie(pid))


def test_reload_runs_lifespan_shutdown_of_the_old_environment(
    start: type[Dev], project: Path
) -> None:
    dev = start()
    pid = pid_of_one_request(dev)
    source = project / "lifeapp.py"
    source.write_text(source.read_text().replace("VERSION = 1", "VERSION = 2"))
    os.utime(source, (time.time() + 1, time.time() + 1))
    wait_for(lambda: (project / f"shutdown-{pid}").exists())
    assert pid_of_one_request(dev) != pid


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True
