"""Local secrets: ``secrets.local.toml`` and ``FAASPORT_SECRET_*`` variables reach the
function environments the local runtime starts, and ``faasport.secrets.get`` reads them
there without asking any cloud."""

from __future__ import annotations

import json
import subprocess
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from faasport.core.errors import ConfigError
from faasport.local.emulator import Emulator
from faasport.local.outcome import Status
from faasport.local.spec import FunctionSpec
from faasport.secrets.local import local_environment, read_local_file

FUNCTION = textwrap.dedent(
    """
    import os
    from faasport import secrets

    def handle(event, context):
        if "json" in event:
            return secrets.get_json(event["json"])
        if "variables" in event:
            return sorted(k for k in os.environ if k.startswith("FAASPORT_SECRET_"))
        return {"value": secrets.get(event["name"]), "store": os.environ["FAASPORT_SECRETS"]}
    """
)

SECRETS = textwrap.dedent(
    """
    "phoney/prod/jwt" = "local-signing-key"
    "ssm:/phoney/prod/api-key" = "k-local"

    ["phoney/prod/db"]
    engine = "postgres"
    host = "127.0.0.1"
    port = 5432
    """
)


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_entries_become_environment_variables(tmp_path: Path) -> None:
    variables = read_local_file(write(tmp_path / "secrets.local.toml", SECRETS))
    assert variables == {
        "FAASPORT_SECRET_PHONEY_PROD_JWT": "local-signing-key",
        "FAASPORT_SECRET_PHONEY_PROD_API_KEY": "k-local",
        "FAASPORT_SECRET_PHONEY_PROD_DB": '{"engine":"postgres","host":"127.0.0.1","port":5432}',
    }


def test_no_file_no_variables(tmp_path: Path) -> None:
    assert read_local_file(tmp_path / "secrets.local.toml") == {}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('"jwt" = ', "invalid TOML"),
        ('"jwt" = 5', '"jwt": must be a string, or a table for a JSON secret; got int'),
        ('"a/b" = "1"\n"a-b" = "2"', '"a/b" and "a-b" both become FAASPORT_SECRET_A_B'),
        ("[db]\ncreated = 2024-01-01", '"db": a table must hold only'),
    ],
)
def test_bad_file(tmp_path: Path, text: str, error: str) -> None:
    path = write(tmp_path / "secrets.local.toml", text)
    with pytest.raises(ConfigError, match=error) as caught:
        read_local_file(path)
    assert str(caught.value).startswith(str(path))


def test_shell_variables_win_and_env_store_is_chosen(tmp_path: Path) -> None:
    write(tmp_path / "secrets.local.toml", SECRETS)
    shell = {"FAASPORT_SECRET_PHONEY_PROD_JWT": "from-shell", "HOME": "/root"}
    variables = local_environment(tmp_path, shell, ["phoney/prod/jwt"])
    assert variables["FAASPORT_SECRET_PHONEY_PROD_JWT"] == "from-shell"
    assert variables["FAASPORT_SECRETS"] == "env"
    assert "HOME" not in variables
    chosen = local_environment(tmp_path, {"FAASPORT_SECRETS": "aws"}, [])
    assert chosen["FAASPORT_SECRETS"] == "aws"


def test_only_declared_secrets_are_passed_on(tmp_path: Path) -> None:
    write(tmp_path / "secrets.local.toml", SECRETS)
    shell = {"FAASPORT_SECRET_OTHER": "x", "FAASPORT_SECRET_PHONEY_PROD_DB": "from-shell"}
    variables = local_environment(tmp_path, shell, ["phoney/prod/jwt", "phoney/prod/db"])
    assert variables == {
        "FAASPORT_SECRET_PHONEY_PROD_JWT": "local-signing-key",
        "FAASPORT_SECRET_PHONEY_PROD_DB": "from-shell",
        "FAASPORT_SECRETS": "env",
        "FAASPORT_DECLARED_SECRETS": '["phoney/prod/jwt", "phoney/prod/db"]',
    }


@pytest.fixture
def project(tmp_path: Path) -> Path:
    write(tmp_path / "fn.py", FUNCTION)
    write(tmp_path / "secrets.local.toml", SECRETS)
    return tmp_path


@pytest.fixture
def runtime(project: Path) -> Iterator[Emulator]:
    declared = (
        "phoney/prod/jwt",
        "ssm:/phoney/prod/api-key",
        "phoney/prod/db",
        "phoney/prod/other",
    )
    runtime = Emulator(
        [FunctionSpec("fn", "fn.handle", project, secrets=declared)], log=lambda line: None
    )
    runtime.start()
    yield runtime
    runtime.stop()


def invoke(runtime: Emulator, **event: Any) -> tuple[Status, Any]:
    outcome = runtime.invoke("fn", json.dumps(event).encode())
    return outcome.status, json.loads(outcome.payload)


def test_function_reads_local_secrets(runtime: Emulator, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAASPORT_SECRET_PHONEY_PROD_API_KEY", "from-shell")
    status, body = invoke(runtime, name="phoney/prod/jwt")
    assert (status, body) == (Status.OK, {"value": "local-signing-key", "store": "env"})
    assert invoke(runtime, name="ssm:/phoney/prod/api-key")[1]["value"] == "from-shell"
    status, body = invoke(runtime, json="phoney/prod/db")
    assert body == {"engine": "postgres", "host": "127.0.0.1", "port": 5432}


def test_missing_secret_fails_the_invocation_without_asking_aws(runtime: Emulator) -> None:
    # The environment has AWS_LAMBDA_FUNCTION_NAME, as on Lambda; FAASPORT_SECRETS=env keeps
    # the lookup local.
    status, body = invoke(runtime, name="phoney/prod/other")
    assert status is Status.FUNCTION_ERROR
    assert body["errorType"] == "SecretNotFoundError"
    assert "FAASPORT_SECRETS=env" in body["errorMessage"]
    assert "secrets.local.toml" in body["errorMessage"]


def test_undeclared_secret_is_absent_and_says_to_declare_it(project: Path) -> None:
    spec = FunctionSpec("fn", "fn.handle", project, secrets=("phoney/prod/db",))
    emulator = Emulator([spec], log=lambda line: None)
    emulator.start()
    try:
        assert invoke(emulator, variables=True) == (Status.OK, ["FAASPORT_SECRET_PHONEY_PROD_DB"])
        status, body = invoke(emulator, name="phoney/prod/jwt")
    finally:
        emulator.stop()
    assert status is Status.FUNCTION_ERROR
    assert body["errorType"] == "SecretError"
    assert body["errorMessage"].startswith('secret "phoney/prod/jwt" is not declared by fn:')
    assert "secrets = [...] in faasport.toml" in body["errorMessage"]


def test_broken_file_fails_init_with_one_line(project: Path, runtime: Emulator) -> None:
    write(project / "secrets.local.toml", '"jwt" = 5')  # read when an environment starts
    outcome = runtime.invoke("fn", b'{"name": "jwt"}')
    body = json.loads(outcome.payload)
    assert outcome.status is Status.CRASH
    assert body["errorType"] == "ConfigError"
    assert body["errorMessage"] == (
        f'{project / "secrets.local.toml"}: "jwt": must be a string, or a table for a JSON '
        "secret; got int"
    )


def test_local_file_is_git_ignored() -> None:
    root = Path(__file__).resolve().parents[2]
    ignored = subprocess.run(
        ["git", "check-ignore", "--quiet", "examples/phoney/secrets.local.toml"], cwd=root
    )
    assert ignored.returncode == 0
