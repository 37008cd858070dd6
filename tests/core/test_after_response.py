"""Through ``faasport dev`` (its Runtime API and faasport's runtime client in a real child
process): a FastAPI background task of 2 s does not delay the response."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import httpx

APP = textwrap.dedent(
    """
    import asyncio, os
    from pathlib import Path
    from fastapi import BackgroundTasks, FastAPI

    app = FastAPI()
    OUT = Path(os.environ["OUT_DIR"])

    async def write_later(name: str) -> None:
        await asyncio.sleep(2)
        (OUT / name).write_text("written")

    @app.get("/queue/{name}")
    async def queue(name: str, tasks: BackgroundTasks) -> dict:
        tasks.add_task(write_later, name)
        return {"queued": name}
    """
)

CONFIG = textwrap.dedent(
    """
    name = "aftertest"

    [functions.web]
    app = "bgapp:app"
    timeout = 10
    routes = ["ANY /{{proxy+}}"]
    environment = {{ OUT_DIR = "{out}" }}
    """
)


def wait_for(path: Path) -> None:
    deadline = time.monotonic() + 10
    while not path.exists():
        assert time.monotonic() < deadline, f"the background task never wrote {path.name}"
        time.sleep(0.05)


def test_background_task_runs_after_the_response_is_sent(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (tmp_path / "faasport.toml").write_text(CONFIG.format(out=out))
    (tmp_path / "bgapp.py").write_text(APP)
    lines: list[str] = []
    ready = threading.Event()
    command = ["dev", str(tmp_path), "--port", "0", "--lambda-port", "0", "--no-reload"]
    with subprocess.Popen(
        [sys.executable, "-m", "faasport.cli.main", *command],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    ) as dev:

        def read() -> None:
            assert dev.stderr is not None
            for line in dev.stderr:
                lines.append(line.rstrip("\n"))
                if line.startswith("Lambda Invoke API on"):
                    ready.set()

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        try:
            assert ready.wait(30), lines
            url = next(m.group(1) for line in lines if (m := re.match(r"Listening on (\S+)", line)))
            with httpx.Client(base_url=url, timeout=30) as client:
                # A cold start first; the environment takes the next invocation once that
                # one's task is done.
                assert client.get("/queue/warmup").status_code == 200
                wait_for(out / "warmup")
                started = time.monotonic()
                response = client.get("/queue/first")
                answered = time.monotonic() - started
                assert response.status_code == 200
                assert response.json() == {"queued": "first"}
                assert answered < 1.0, f"answered after {answered:.2f} s"
                assert not (out / "first").exists()
                wait_for(out / "first")
                assert (out / "first").read_text() == "written"
        finally:
            dev.kill()
            dev.wait(timeout=10)
            reader.join(timeout=10)
