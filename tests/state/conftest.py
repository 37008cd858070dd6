"""Every store the state tests run against, as one parametrised fixture (``store_url``):
memory, SQLite, and a real Redis, PostgreSQL and DynamoDB (moto's standalone server, the
only DynamoDB-compatible endpoint that runs here) started once on loopback. A test marked
with a service's marker runs only against that store's parameter."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from postgres import PostgresServer
from servers import free_port

TABLE = "faasport-state-test"
# moto's standalone server, one request at a time. DynamoDB applies each conditional write
# to an item atomically; moto's threaded server checks and writes without a lock, so under
# concurrent writers it would admit what DynamoDB refuses.
SERIAL_MOTO = """
import sys, threading
from moto.moto_server.threaded_moto_server import MotoRequestHandler
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple

moto = DomainDispatcherApplication(create_backend_app)
lock = threading.Lock()

def serial(environ, start_response):
    with lock:
        return list(moto(environ, start_response))

run_simple("127.0.0.1", int(sys.argv[1]), serial, threaded=True,
           request_handler=MotoRequestHandler)
"""
STORES = [
    pytest.param("memory", id="memory"),
    pytest.param("sqlite", id="sqlite"),
    pytest.param("redis", marks=pytest.mark.redis, id="redis"),
    pytest.param("postgres", marks=pytest.mark.postgres, id="postgres"),
    pytest.param("dynamodb", marks=pytest.mark.dynamodb, id="dynamodb"),
]


def _start(command: list[str], log: Path) -> subprocess.Popen[bytes]:
    """A server whose output goes to ``log`` (a pipe nobody reads would fill and block it)."""
    with log.open("wb") as output:
        return subprocess.Popen(command, stdout=output, stderr=subprocess.STDOUT)


def _wait(ready: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 30
    while not ready():
        assert process.poll() is None, f"{process.args[0]} exited: {log.read_text()}"
        assert time.monotonic() < deadline, f"{process.args[0]} did not start: {log.read_text()}"
        time.sleep(0.05)


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    binary = shutil.which("redis-server")
    assert binary, "redis-server is not installed: run `make redis`"
    port = free_port()
    directory = tempfile.mkdtemp(prefix="faasport-redis-")
    options = ["--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"]
    server = _start([binary, *options, "--dir", directory], Path(directory) / "server.log")
    import redis

    client = redis.Redis(host="127.0.0.1", port=port)

    def ready() -> bool:
        try:
            return bool(client.ping())
        except redis.ConnectionError:
            return False

    try:
        _wait(ready, server, Path(directory) / "server.log")
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    server = PostgresServer.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres_server: PostgresServer) -> str:
    return postgres_server.url(driver="postgresql")


@pytest.fixture(scope="session")
def dynamodb_url() -> Iterator[str]:
    import boto3
    import botocore.exceptions

    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    credentials = {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    saved = {k: os.environ.get(k) for k in credentials}
    os.environ.update(credentials)
    log = Path(tempfile.mkdtemp(prefix="faasport-moto-")) / "server.log"
    server = _start([sys.executable, "-c", SERIAL_MOTO, str(port)], log)
    client = boto3.client("dynamodb", endpoint_url=endpoint, region_name="us-east-1")

    def ready() -> bool:
        try:
            client.list_tables()
            return True
        except botocore.exceptions.EndpointConnectionError:
            return False

    try:
        _wait(ready, server, log)
        # As faasport deploy creates it: a string partition key and a TTL attribute.
        client.create_table(
            TableName=TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        client.update_time_to_live(
            TableName=TABLE,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"},
        )
        yield f"dynamodb://{TABLE}?region=us-east-1&endpoint_url={endpoint}"
    finally:
        client.close()
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(log.parent, ignore_errors=True)
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    return f"sqlite:///{tmp_path_factory.mktemp('state')}/state.db"


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest) -> str:
    if request.param == "memory":
        return "memory://"
    url: str = request.getfixturevalue(f"{request.param}_url")
    return url
