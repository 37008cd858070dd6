"""SnapStart: the hooks faasport registers, run the way Lambda's Python runtime runs them
(awslambdaric's hooks runner over snapshot-restore-py's registry)."""

from __future__ import annotations

import json
import random
import socket
import sqlite3
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import snapshot_restore_py
from awslambdaric import lambda_runtime_hooks_runner as runtime_hooks
from moto.server import ThreadedMotoServer

from faasport import aws, db, secrets
from faasport.aws import snapstart
from faasport.aws.context import LambdaContext
from faasport.testing import event

APP = textwrap.dedent(
    """
    import json
    from faasport import aws

    events = []

    @aws.on_restore
    def restored():
        events.append("user hook")

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    events.append("startup")
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        body = json.dumps(events).encode()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
    """
)
MODULE = "snapstart_app"
SECRET = "shop/db/password"


@pytest.fixture(scope="module")
def secrets_manager() -> Iterator[str]:
    """Secrets Manager as moto's server serves it over HTTP on loopback."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def app_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secrets_manager: str
) -> Iterator[str]:
    (tmp_path / f"{MODULE}.py").write_text(APP)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "snap-start")
    for variable, value in {
        "AWS_LAMBDA_FUNCTION_NAME": "shop-api",
        "AWS_REGION": "us-east-1",
        "AWS_ENDPOINT_URL": secrets_manager,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_MAX_ATTEMPTS": "1",
    }.items():
        monkeypatch.setenv(variable, value)
    for variable in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "FAASPORT_SECRETS"):
        monkeypatch.delenv(variable, raising=False)
    client = boto3.client("secretsmanager", region_name="us-east-1")
    try:
        client.create_secret(Name=SECRET, SecretString="before-rotation")
    except client.exceptions.ResourceExistsException:
        client.put_secret_value(SecretId=SECRET, SecretString="before-rotation")
    secrets.clear()
    yield MODULE
    sys.modules.pop(MODULE, None)
    snapshot_restore_py.get_before_snapshot().clear()
    snapshot_restore_py.get_after_restore().clear()
    snapstart._restore_hooks.clear()
    db.dispose()
    secrets.clear()


def call(handler: Any, path: str) -> dict[str, Any]:
    context = LambdaContext("req-1", 4102444800000, "arn:aws:lambda:::function:api", "api")
    result: dict[str, Any] = handler(event("apigw-v2", "GET", path), context)
    return result


def test_the_app_starts_before_the_snapshot_and_restore_resets_what_is_shared(
    app_module: str, tmp_path: Path
) -> None:
    handler = aws.handler(f"{app_module}:app")  # Lambda's init phase imports the handler
    assert app_module not in sys.modules  # nothing runs until the runtime calls the hooks

    runtime_hooks.run_before_snapshot()
    app = sys.modules[app_module]
    assert app.events == ["startup"]  # imported and started: that state is in the snapshot

    # State a snapshot would otherwise hand to every environment resumed from it:
    engine = db.engine(f"sqlite:///{tmp_path / 'shop.db'}")
    with engine.connect() as connection:
        pooled = connection.connection.dbapi_connection
        assert connection.exec_driver_sql("select 1").scalar() == 1
    assert engine.pool.checkedin() == 1
    assert secrets.get(SECRET) == "before-rotation"
    boto3.client("secretsmanager", region_name="us-east-1").put_secret_value(
        SecretId=SECRET, SecretString="after-rotation"
    )
    assert secrets.get(SECRET) == "before-rotation"  # cached
    random.seed(1234)
    in_the_snapshot = [random.random() for _ in range(3)]
    random.seed(1234)

    runtime_hooks.run_after_restore()

    assert [random.random() for _ in range(3)] != in_the_snapshot
    with pytest.raises(sqlite3.ProgrammingError):  # the snapshot's connection is closed
        pooled.execute("select 1")  # type: ignore[union-attr]
    assert engine.pool.checkedin() == 0
    with engine.connect() as connection:  # and the engine connects again
        assert connection.exec_driver_sql("select 2").scalar() == 2
    assert secrets.get(SECRET) == "after-rotation"
    assert app.events == ["startup", "user hook"]

    response = call(handler, "/anything")
    assert response["statusCode"] == 200
    assert json.loads(response["body"]) == ["startup", "user hook"]  # started once, not again


def test_user_hooks_run_after_faasports_reset_in_registration_order(app_module: str) -> None:
    seen: list[str] = []
    aws.handler(f"{app_module}:app")
    client = boto3.client("secretsmanager", region_name="us-east-1")
    first = aws.on_restore(lambda: seen.append(f"first sees {secrets.get(SECRET)}"))
    assert callable(first)
    aws.on_restore(lambda: seen.append("second"))
    assert secrets.get(SECRET) == "before-rotation"
    client.put_secret_value(SecretId=SECRET, SecretString="rotated")
    runtime_hooks.run_before_snapshot()
    runtime_hooks.run_after_restore()
    assert seen == ["first sees rotated", "second"]


def test_without_snapstart_nothing_is_registered(
    app_module: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
    handler = aws.handler(f"{app_module}:app")
    assert snapshot_restore_py.get_before_snapshot() == []
    assert snapshot_restore_py.get_after_restore() == []
    assert call(handler, "/x")["statusCode"] == 200
    assert sys.modules[app_module].events == ["startup"]


def test_a_failing_user_hook_fails_the_restore(app_module: str) -> None:
    # Lambda reports a failed after-restore hook as a failed restore: never a silent start.
    aws.handler(f"{app_module}:app")

    def broken() -> None:
        raise RuntimeError("cannot reconnect")

    aws.on_restore(broken)
    runtime_hooks.run_before_snapshot()
    with pytest.raises(RuntimeError, match="cannot reconnect"):
        runtime_hooks.run_after_restore()
