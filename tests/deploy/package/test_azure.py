"""``faasport package --target azure``: function_app.py, host.json and requirements.txt
that the azure-functions library loads as the Functions host would index them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from faasport.config.load import parse_project
from faasport.core.errors import ConfigError
from faasport.deploy.package import Artifact
from faasport.deploy.package.azure import function_app_source, host_json
from faasport.deploy.package.ncrontab import ncrontab
from projects import unpacked_bundle

PROJECT = Path(__file__).parent / "project"

LOAD = """
import asyncio, inspect, json, runpy, sys, types
root = sys.argv[1]
sys.path.insert(0, root)
import azure.functions as func

app = runpy.run_path(root + "/function_app.py")["app"]
indexed = app.get_functions()  # what the worker does on load; once, it is not idempotent
functions = {f.get_function_name(): [json.loads(b) for b in f.get_raw_bindings()] for f in indexed}
by_name = {f.get_function_name(): f.get_user_function() for f in indexed}
context = types.SimpleNamespace(invocation_id="inv-1")
request = func.HttpRequest("GET", "https://shop.example/items/7", headers={}, body=b"")


def call(name, *args):
    result = by_name[name](*args)
    return asyncio.run(result) if inspect.isawaitable(result) else result  # as the worker does


response = call("api", request, context)
call("worker", func.QueueMessage(id="m-1", body=b"hi"), context)
print(json.dumps({
    "functions": functions,
    "status": response.status_code,
    "body": json.loads(response.get_body()),
}))
"""


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> tuple[Artifact, Path]:
    return unpacked_bundle(PROJECT, "azure", tmp_path_factory)


def test_azure_functions_indexes_every_function_with_its_bindings(
    bundle: tuple[Artifact, Path], tmp_path: Path
) -> None:
    artifact, unpacked = bundle
    assert artifact.path.parts[-3:] == ("dist", "azure", "shop.zip")
    done = subprocess.run(
        [sys.executable, "-I", "-c", LOAD, str(unpacked)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout.splitlines()[-1])
    functions = report["functions"]
    assert sorted(functions) == ["api", "worker", "worker_2", "worker_3"]
    http_in, http_out = functions["api"]
    assert http_in["type"] == "httpTrigger"
    assert http_in["route"] == "{*route}"
    assert http_in["authLevel"] == "ANONYMOUS"
    assert set(http_in["methods"]) >= {"GET", "POST", "DELETE"}
    assert http_out["type"] == "http"
    assert functions["worker"] == [
        {
            "direction": "IN",
            "type": "queueTrigger",
            "name": "msg",
            "queueName": "jobs",
            "connection": "AzureWebJobsStorage",
        }
    ]
    assert functions["worker_2"][0]["type"] == "timerTrigger"
    assert functions["worker_2"][0]["schedule"] == "0 */5 * * * *"
    # Bucket events come through Event Grid into a queue of their own.
    assert functions["worker_3"][0]["type"] == "queueTrigger"
    assert functions["worker_3"][0]["queueName"] == "worker-bucket2"
    # The HTTP function serves the app from the bundle, with no route prefix.
    assert report["status"] == 200
    assert report["body"]["path"] == "/items/7"
    assert report["body"]["files"]["faasport"] == str(unpacked / "faasport" / "__init__.py")


def test_host_json_and_requirements(bundle: tuple[Artifact, Path]) -> None:
    _, unpacked = bundle
    host = json.loads((unpacked / "host.json").read_text())
    assert host["version"] == "2.0"
    assert host["extensionBundle"] == {
        "id": "Microsoft.Azure.Functions.ExtensionBundle",
        "version": "[4.*, 5.0.0)",
    }
    assert host["functionTimeout"] == "00:02:00"  # the largest timeout, worker's 120 s
    assert host["extensions"]["queues"] == {"maxDequeueCount": 4}
    assert host["extensions"]["http"] == {"routePrefix": ""}
    assert host["logging"]["logLevel"]["default"] == "Information"
    requirements = (unpacked / "requirements.txt").read_text().splitlines()
    assert requirements[:2] == ["markupsafe>=3", "idna>=3"]
    assert requirements[2].startswith("azure-functions")


def project(text: str, tmp_path: Path) -> Any:
    import tomllib

    return parse_project(tomllib.loads(text), root=tmp_path, source=tmp_path / "faasport.toml")


HANDLER = '[functions.worker]\nhandler = "shop.jobs:handle"\n'


def test_more_http_functions_and_routes_become_http_triggers(tmp_path: Path) -> None:
    source, left_out = function_app_source(
        project(
            '[functions.api]\napp = "shop.web:app"\n'
            '[functions.admin]\napp = "shop.admin:app"\n'
            'routes = ["GET /admin/{page}", "POST /admin/{page}", "ANY /admin/files/{path+}"]\n'
            '[functions.cron]\nhandler = "shop.jobs:handle"\n',
            tmp_path,
        )
    )
    assert source.splitlines()[2:] == [
        "from faasport import azure",
        "",
        "app = azure.function_app('shop.web:app', name='api', route_prefix='')",
        "azure.http_trigger(app, 'shop.admin:app', name='admin', route='admin/{page}', "
        "route_prefix='')",
        "azure.http_trigger(app, 'shop.admin:app', name='admin_2', "
        "route='admin/files/{*path}', route_prefix='')",
    ]
    assert left_out == ["cron"]  # no events: nothing would trigger it on Azure


def test_without_http_functions_the_app_is_a_bare_function_app(tmp_path: Path) -> None:
    source, _ = function_app_source(
        project(HANDLER + 'events = [{ schedule = "cron(0 12 ? * MON-FRI *)" }]\n', tmp_path)
    )
    assert "app = func.FunctionApp()" in source
    assert (
        "azure.timer_trigger(app, 'shop.jobs:handle', name='worker', schedule='0 0 12 * * 1-5')"
        in source
    )


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (
            HANDLER
            + 'events = [{ schedule = "rate(1 hour)" }, { schedule = "cron(0 8 L * ? *)" }]',
            "faasport.toml: functions.worker.events[1].schedule: cannot run on Azure: "
            "cron(0 8 L * ? *) uses L (last), which cron does not have",
        ),
        (
            '[functions.api]\napp = "shop.web:app"\nroutes = ["GET /"]',
            "faasport.toml: functions.api.routes[0]: Azure Functions cannot route the bare path /",
        ),
        (
            '[functions.a]\napp = "shop.a:app"\nroutes = ["GET /items"]\n'
            '[functions.b]\napp = "shop.b:app"\nroutes = ["POST /items"]',
            "faasport.toml: functions.b.routes[0]: Azure routes by path, not method",
        ),
    ],
)
def test_what_azure_cannot_run_is_one_line_naming_the_key(
    config: str, message: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as raised:
        function_app_source(project(config, tmp_path))
    assert str(raised.value).startswith(message)
    assert "\n" not in str(raised.value)


def test_queues_with_different_max_receive_cannot_share_host_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = project(
        HANDLER + 'events = [{ queue = "jobs" }, { queue = "mail" }]\n'
        "[queues.jobs]\nmax_receive = 3\n[queues.mail]\nmax_receive = 5\n",
        tmp_path,
    )
    with pytest.raises(ConfigError, match=r"^faasport.toml: queues.mail.max_receive: is 5 but"):
        host_json(config)


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("rate(1 minute)", "0 * * * * *"),
        ("rate(5 minutes)", "0 */5 * * * *"),
        ("rate(120 minutes)", "0 0 */2 * * *"),
        ("rate(6 hours)", "0 0 */6 * * *"),
        ("rate(24 hours)", "0 0 0 * * *"),
        ("rate(1 day)", "0 0 0 * * *"),
        ("cron(0 12 * * ? *)", "0 0 12 * * *"),
        ("cron(0/15 8-17 ? * MON-FRI *)", "0 0-59/15 8-17 * * 1-5"),
        ("cron(30 6 1 JAN,JUL ? *)", "0 30 6 1 1,7 *"),
        ("cron(0 9 ? * 1,7 *)", "0 0 9 * * 0,6"),
        ("cron(0 9 ? * 2/2 *)", "0 0 9 * * 1-6/2"),
    ],
)
def test_schedules_become_ncrontab(expression: str, expected: str) -> None:
    assert ncrontab(expression) == expected


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("rate(7 minutes)", "does not divide an hour or a day"),
        ("rate(2 days)", "does not divide an hour or a day"),
        ("cron(0 8 15W * ? *)", "W (nearest weekday)"),
        ("cron(0 8 ? * 6#3 *)", "# (nth weekday)"),
        ("cron(0 8 * * ? 2030)", "names a year"),
        ("cron(0 8 ? * SAT-SUN *)", "backwards range"),
    ],
)
def test_schedules_ncrontab_cannot_say_are_refused(expression: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        ncrontab(expression)


def test_bucket_and_topic_events_read_their_event_grid_queues(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    config = HANDLER + 'events = [{ bucket = "uploads", on = "removed" }, { topic = "alerts" }]'
    source, _ = function_app_source(project(config, tmp_path))
    trigger = "azure.event_grid_trigger(app, 'shop.jobs:handle', "
    assert trigger + "name='worker', queue='worker-bucket0')" in source
    assert trigger + "name='worker_2', queue='worker-topic1')" in source
