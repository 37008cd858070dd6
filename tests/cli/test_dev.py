"""``faasport dev`` end to end: a real process, real sockets, real child environments."""

from __future__ import annotations

import json
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


def test_timeout_is_504_and_crash_is_502_then_service_resumes(dev: Dev) -> None:
    with httpx.Client(base_url=dev.url, timeout=30) as client:
        first = client.get("/hello").json()
        assert first["version"] == "one"
        timed_out = client.get("/sleep")
        assert timed_out.status_code == 504
        assert timed_out.json() == {"message": "Endpoint request timed out"}
        wait_for(lambda: any("Task timed out after 1.00 seconds" in line for line in dev.lines))
        crashed = client.get("/crash")
        assert crashed.status_code == 502
        wait_for(lambda: any("exited with error: exit status 7" in line for line in dev.lines))
        again = client.get("/hello").json()
        assert again["pid"] != first["pid"]


def test_body_over_10_mb_is_413(dev: Dev) -> None:
    with httpx.Client(base_url=dev.url, timeout=30) as client:
        response = client.post("/upload", content=b"x" * (11 * 1024 * 1024))
        assert response.status_code == 413
        assert client.get("/hello").status_code == 200


def test_boto3_invokes_through_the_lambda_port(dev: Dev) -> None:
    client = dev.client("lambda")
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
        wait_for(lambda: client.get("/hello").json()["version"] == "two")
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
        wait_for(lambda pid=pid: not Path(f"/proc/{pid}").exists() or _zombie(pid))


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"
    except OSError:
        return True
