"""Early, precise errors of a real ``faasport dev``: an app that does not import is reported
in one line and answered as the init error it is, while the other functions are served."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dev_process import Dev, wait_for
from faasport.testing.events import event

GOOD = textwrap.dedent(
    """
    import json

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"path": environ["PATH_INFO"]}).encode()]
    """
)
# Imports anywhere but in an execution environment: only the runtime path can catch it.
ENV_ONLY = textwrap.dedent(
    """
    import os

    if "AWS_LAMBDA_RUNTIME_API" in os.environ:
        raise RuntimeError("DATABASE_URL is not set")

    def handle(event, context):
        return {"ok": True}
    """
)
OTHER_PYTHON = f"3.{sys.version_info[1] + 1}"
CONFIG = textwrap.dedent(
    f"""
    name = "errs"
    python = "{OTHER_PYTHON}"

    [functions.api]
    app = "goodapp:app"
    routes = ["GET /ok/{{proxy+}}"]

    [functions.broken]
    app = "badapp:ap"
    health = "/broken/health"
    routes = ["GET /broken/{{proxy+}}"]

    [functions.late]
    handler = "lateapp:handle"
    """
)
MISSING = "module 'badapp' has no attribute 'ap'"
ONE_LINE = f'error: functions.broken: cannot import "badapp:ap": {MISSING}'


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "faasport.toml").write_text(CONFIG)
    (tmp_path / "goodapp.py").write_text(GOOD)
    (tmp_path / "badapp.py").write_text(GOOD)  # defines app, not ap
    (tmp_path / "lateapp.py").write_text(ENV_ONLY)
    return tmp_path


@pytest.fixture
def dev(project: Path) -> Iterator[Dev]:
    server = Dev(project)
    try:
        yield server
    finally:
        server.close()


def _count(dev: Dev, text: str) -> int:
    return sum(text in line for line in dev.lines)


def test_a_broken_function_is_one_line_and_a_502_while_the_others_serve(
    dev: Dev, project: Path
) -> None:
    wait_for(lambda: ONE_LINE in dev.lines, 30, "the check's error line")
    assert dev.lines.count(ONE_LINE) == 1
    with httpx.Client(base_url=dev.url, timeout=30) as client:
        assert client.get("/ok/x").json() == {"path": "/ok/x"}
        for path in ("/broken/x", "/broken/health"):
            answer = client.get(path)
            assert answer.status_code == 502
            assert answer.json() == {"message": "Internal Server Error"}
        assert client.get("/ok/y").status_code == 200
    # The reason is in dev's log, as Lambda's init error; never as an error of the app.
    reason = f"Runtime.ImportModuleError: Unable to import module 'badapp': {MISSING}"
    wait_for(lambda: _count(dev, f"[broken] [ERROR] {reason}") == 2, 10, "the init errors")
    assert not any("Traceback" in line or "unhandled exception" in line for line in dev.lines)

    # Fixed, the next reload serves it.
    (project / "badapp.py").write_text(GOOD + "\nap = app\n")
    wait_for(lambda: _count(dev, "functions.broken imports again") == 1, 30, "the fix")
    with httpx.Client(base_url=dev.url, timeout=30) as client:
        assert client.get("/broken/z").json() == {"path": "/broken/z"}
    # Python's version is told once, not at every reload.
    assert _count(dev, f'python = "{OTHER_PYTHON}" but faasport runs Python') == 1
    warning = next(line for line in dev.lines if "but faasport runs Python" in line)
    assert warning.startswith("warning: faasport.toml: ")


def test_invoke_api_reports_init_errors_with_request_id_and_log_tail(dev: Dev) -> None:
    wait_for(lambda: ONE_LINE in dev.lines, 30, "the check's error line")
    lam = dev.client("lambda")
    for name, module, reason in [
        ("broken", "badapp", MISSING),  # found by the check: no environment is started
        ("late", "lateapp", "RuntimeError: DATABASE_URL is not set"),  # in the environment
    ]:
        answer = lam.invoke(FunctionName=name, LogType="Tail")
        request_id = answer["ResponseMetadata"]["RequestId"]
        assert answer["FunctionError"] == "Unhandled"
        assert json.loads(answer["Payload"].read()) == {
            "errorMessage": f"Unable to import module '{module}': {reason}",
            "errorType": "Runtime.ImportModuleError",
            "requestId": request_id,
            "stackTrace": [],
        }
        log = base64.b64decode(answer["LogResult"]).decode().splitlines()
        assert log[0] == f"START RequestId: {request_id} Version: $LATEST"
        assert f"[ERROR] Runtime.ImportModuleError: Unable to import module '{module}'" in (
            "\n".join(log)
        )
        assert log[-2] == f"END RequestId: {request_id}"
        assert log[-1].startswith(f"REPORT RequestId: {request_id}\t")
    assert not any("Traceback" in line for line in dev.lines)


def test_log_tail_is_the_last_4_kb_of_the_invocation_log(project: Path) -> None:
    (project / "lateapp.py").write_text(
        textwrap.dedent(
            """
            def handle(event, context):
                for n in range(event["lines"]):
                    print(f"line {n:04d} " + "x" * 90)
                if event.get("fail"):
                    raise ValueError("bad input")
                return {"lines": event["lines"]}
            """
        )
    )
    server = Dev(project)
    try:
        lam = server.client("lambda")
        small = lam.invoke(FunctionName="errs-late", Payload=b'{"lines": 2}', LogType="Tail")
        log = base64.b64decode(small["LogResult"]).decode()
        assert "line 0000" in log and "line 0001" in log
        assert log.startswith("START RequestId: ")
        plain = lam.invoke(FunctionName="late", Payload=b'{"lines": 1}')
        assert "LogResult" not in plain and plain["Payload"].read()

        big = lam.invoke(
            FunctionName="late", Payload=b'{"lines": 200, "fail": true}', LogType="Tail"
        )
        request_id = big["ResponseMetadata"]["RequestId"]
        tail = base64.b64decode(big["LogResult"])
        assert len(tail) == 4096
        assert (
            tail.decode()
            .rstrip("\n")
            .splitlines()[-1]
            .startswith(f"REPORT RequestId: {request_id}")
        )
        assert b"ValueError: bad input" in tail
        error = json.loads(big["Payload"].read())
        assert (error["errorType"], error["requestId"]) == ("ValueError", request_id)
    finally:
        server.close()


@pytest.mark.parametrize("option", ["--port", "--lambda-port", "--services-port"])
def test_a_port_in_use_names_the_option_and_the_port(project: Path, option: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        ports = {"--port": "0", "--lambda-port": "0", "--services-port": "0", option: str(port)}
        process = subprocess.run(
            [
                *(sys.executable, "-m", "faasport.cli.main", "dev", str(project)),
                *(part for pair in ports.items() for part in pair),
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert process.returncode == 1
    errors = [line for line in process.stderr.splitlines() if line.startswith("error:")]
    assert errors == [
        f"error: cannot listen on 127.0.0.1:{port} ({option}): Address already in use; "
        f"choose another {option}"
    ]
    assert "Traceback" not in process.stderr


def _invoke(project: Path, name: str, event: str = "{}") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "faasport.cli.main",
            "invoke",
            name,
            "-p",
            str(project),
            "--event",
            "-",
        ],
        input=event,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_invoke_exits_1_with_one_line_when_the_function_cannot_start(project: Path) -> None:
    ok = _invoke(project, "api", json.dumps(event("apigw-v2", "GET", "/ok/x")))
    assert ok.returncode == 0
    assert json.loads(json.loads(ok.stdout)["body"]) == {"path": "/ok/x"}
    failed = _invoke(project, "broken")
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["errorType"] == "Runtime.ImportModuleError"
    assert failed.stderr.splitlines()[-1] == (
        'error: function "broken" failed: Runtime.ImportModuleError: '
        f"Unable to import module 'badapp': {MISSING}"
    )
    assert "Traceback" not in failed.stderr
    assert "unhandled exception" not in failed.stderr
    late = _invoke(project, "errs-late")
    assert late.returncode == 1
    assert late.stderr.splitlines()[-1] == (
        'error: function "late" failed: Runtime.ImportModuleError: '
        "Unable to import module 'lateapp': RuntimeError: DATABASE_URL is not set"
    )


def test_an_edited_configuration_is_checked_and_a_restart_asked_for(
    dev: Dev, project: Path
) -> None:
    """The configuration is read at start: an edit is told, never silently ignored; a typo
    in it is one line naming the key. secrets.local.toml applies to new environments."""
    wait_for(lambda: ONE_LINE in dev.lines, 30, "the first check")  # the watch is on
    config = project / "faasport.toml"
    original = config.read_text()
    config.write_text(original.replace("[functions.api]", "[functions.api]\nmemroy = 256", 1))
    typo = 'functions.api.memroy: unknown key; did you mean "memory"?'
    wait_for(lambda: any(typo in line for line in dev.lines), 10, "the typo's line")
    config.write_text(original.replace("[functions.api]", "[functions.api]\nmemory = 256", 1))
    restart = "faasport dev: faasport.toml changed; restart faasport dev to apply it"
    wait_for(lambda: restart in dev.lines, 10, "the restart line")
    (project / "secrets.local.toml").write_text('"db" = "x"\n')
    wait_for(
        lambda: any("secrets.local.toml changed; new environments" in x for x in dev.lines),
        10,
        "the secrets file's line",
    )
