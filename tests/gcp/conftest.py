"""The real functions-framework server (its CLI, gunicorn behind it) on loopback ports."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from servers import free_port

TESTS = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).with_name("functions-framework")

MAIN = """
import json, os
from apps import fastapi_app, flask_app
from faasport import gcp

fastapi = gcp.handler(fastapi_app())
flask = gcp.handler(flask_app())


def record(records, context):
    if any(r.attributes.get("fail") for r in records if hasattr(r, "attributes")):
        raise RuntimeError("handler failed")
    with open(os.environ["RECORDS_FILE"], "a") as out:
        for r in records:
            out.write(json.dumps({"type": type(r).__name__, "context": context.type,
                                  **{k: getattr(r, k) for k in r.__slots__ if k != "raw"
                                     and not isinstance(getattr(r, k), bytes)},
                                  "body": getattr(r, "body", b"").decode()}) + "\\n")


events = gcp.event_handler(record)
"""


class Server:
    def __init__(self, url: str, records: Path) -> None:
        self.url = url
        self.records = records


@pytest.fixture(scope="session")
def source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("gcp")
    (directory / "main.py").write_text(MAIN)
    return directory


def start(source: Path, target: str, *extra: str) -> Iterator[Server]:
    port = free_port()
    records = source / f"{target}-{port}.jsonl"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(TESTS), str(source)]),
        "RECORDS_FILE": str(records),
        "WORKERS": "1",
        "THREADS": "4",
    }
    process = subprocess.Popen(
        [
            str(CLI),
            "--target",
            target,
            "--source",
            str(source / "main.py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *extra,
        ],
        env=env,
        cwd=source,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"functions-framework exited: {process.stderr.read()!r}")  # type: ignore[union-attr]
            try:
                httpx.get(url + "/", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)
        yield Server(url, records)
    finally:
        process.terminate()
        process.wait(10)
        assert process.stderr is not None
        process.stderr.close()


@pytest.fixture(scope="session")
def fastapi_server(source: Path) -> Iterator[Server]:
    yield from start(source, "fastapi")


@pytest.fixture(scope="session")
def flask_server(source: Path) -> Iterator[Server]:
    yield from start(source, "flask")


@pytest.fixture(scope="session", params=["http", "cloudevent"])
def event_server(source: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    yield from start(source, "events", "--signature-type", str(request.param))
