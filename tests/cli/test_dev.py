"""``faasport dev`` end to end: a real process, real sockets, real child environments."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.config import Config

APP = textwrap.dedent(
    """
    import os, time, json

    VERSION = "one"

    def app(environ, start_response):
        path = environ["PATH_INFO"]
        if path == "/sleep":
            time.sleep(5)
        if path == "/crash":
            os._exit(7)
        body = json.dumps({"version": VERSION, "pid": os.getpid()}).encode()
        start_response("200 OK", [("Content-Type", "application/json")])
        return [body]
    """
)

CONFIG = textwrap.dedent(
    """
    name = "devtest"

    [functions.web]
    app = "webapp:app"
    timeout = 1
    concurrency = 2
    routes = ["ANY /{proxy+}"]
    """
)


class Dev:
    def __init__(self, project: Path) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "faasport.cli.main",
                "dev",
                str(project),
                "--port",
                "0",
                "--lambda-port",
                "0",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(30):
            raise AssertionError(f"faasport dev did not start: {self.lines}")
        self.url = self._find(r"Listening on (http://\S+)")
        self.lambda_url = self._find(r"Lambda Invoke API on (http://\S+)")

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("Lambda Invoke API on"):
                self._ready.set()

    def _find(self, pattern: str) -> str:
        for line in self.lines:
            found = re.match(pattern, line)
            if found:
                return found.group(1)
        raise AssertionError(f"no line matches {pattern}: {self.lines}")

    def children(self) -> set[int]:
        """Child processes of any of the server's threads (Linux /proc)."""
        found: set[int] = set()
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            children = task / "children"
            if children.exists():
                found.update(int(pid) for pid in children.read_text().split())
        return found

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._reader.join(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "faasport.toml").write_text(CONFIG)
    (tmp_path / "webapp.py").write_text(APP)
    return tmp_path


@pytest.fixture
def dev(project: Path) -> Iterator[Dev]:
    server = Dev(project)
    try:
        yield server
    finally:
        server.close()


def poll(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)


def test_timeout_is_504_and_crash_is_502_then_service_resumes(dev: Dev) -> None:
    with httpx.Client(base_url=dev.url, timeout=30) as client:
        first = client.get("/hello").json()
        assert first["version"] == "one"
        timed_out = client.get("/sleep")
        assert timed_out.status_code == 504
        assert timed_out.json() == {"message": "Endpoint request timed out"}
        poll(lambda: any("Task timed out after 1.00 seconds" in line for line in dev.lines))
        crashed = client.get("/crash")
        assert crashed.status_code == 502
        poll(lambda: any("exited with error: exit status 7" in line for line in dev.lines))
        again = client.get("/hello").json()
        assert again["pid"] != first["pid"]


def test_body_over_10_mb_is_413(dev: Dev) -> None:
    with httpx.Client(base_url=dev.url, timeout=30) as client:
        response = client.post("/upload", content=b"x" * (11 * 1024 * 1024))
        assert response.status_code == 413
        assert client.get("/hello").status_code == 200


def test_boto3_invokes_through_the_lambda_port(dev: Dev) -> None:
    client = boto3.client(
        "lambda",
        endpoint_url=dev.lambda_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        config=Config(retries={"max_attempts": 1}),
    )
    from faasport.testing import event

    payload = json.dumps(event("apigw-v2", "GET", "/hello")).encode()
    result = client.invoke(FunctionName="devtest-web", Payload=payload)
    answer = json.loads(result["Payload"].read())
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["version"] == "one"


def test_hot_reload_serves_new_code_on_fresh_environments(dev: Dev, project: Path) -> None:
    with httpx.Client(base_url=dev.url, timeout=30) as client:
        old = client.get("/hello").json()
        source = (project / "webapp.py").read_text().replace('"one"', '"two"')
        (project / "webapp.py").write_text(source)
        os.utime(project / "webapp.py", (time.time() + 1, time.time() + 1))
        poll(lambda: client.get("/hello").json()["version"] == "two")
        assert client.get("/hello").json()["pid"] != old["pid"]


def test_sigterm_stops_every_child_process(dev: Dev) -> None:
    with httpx.Client(base_url=dev.url, timeout=30) as client:
        assert client.get("/hello").status_code == 200
    children = dev.children()
    assert children, "the function should run in a child process"
    dev.process.send_signal(signal.SIGTERM)
    assert dev.process.wait(timeout=15) == 0
    dev.close()
    assert not [line for line in dev.lines if "Traceback" in line or "Exception ignored" in line]
    for pid in children:
        poll(lambda pid=pid: not Path(f"/proc/{pid}").exists() or _zombie(pid))


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True
