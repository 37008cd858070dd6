"""phoney under a real ``faasport dev``: the gateway's JWT authorizer in front, tokens from
``python -m phoney.devtoken`` (its signing key read through ``faasport.secrets``), and large
NDJSON counts streamed by the ``export`` function."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dev_process import Dev, wait_for

EXAMPLE = Path(__file__).resolve().parents[1]
TEMPLATE = {"name": "{{name}}", "email": "{{email}}", "joined": "{{date_between:-30d,today}}"}


def devtoken(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FAASPORT_SECRET")}
    return subprocess.run(
        [sys.executable, "-m", "phoney.devtoken", *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("phoney") / "phoney"
    ignored = shutil.ignore_patterns("tests", "__pycache__", ".faasport", "keys", "secrets.*")
    shutil.copytree(EXAMPLE, root, ignore=ignored)
    return root


@pytest.fixture(scope="module")
def token(project: Path) -> str:
    before = devtoken(project)
    assert before.returncode == 1
    assert "run `python -m phoney.devtoken --init` first" in before.stderr
    made = devtoken(project, "--init", "--sub", "ada")
    assert made.returncode == 0, made.stderr
    assert (project / "keys" / "jwks.json").is_file()
    assert '"phoney/dev/signing-key" = """' in (project / "secrets.local.toml").read_text()
    again = devtoken(project, "--init")  # keeps the key: the first token stays valid
    assert again.returncode == 0 and "wrote the secret" not in again.stderr
    return made.stdout.strip()


@pytest.fixture(scope="module")
def dev(project: Path, token: str) -> Iterator[Dev]:
    server = Dev(project, "--no-reload")
    try:
        yield server
    finally:
        server.close()


def test_no_token_is_401_and_a_token_is_200(dev: Dev, token: str) -> None:
    with httpx.Client(base_url=dev.url, timeout=60) as client:
        assert client.get("/generators").status_code == 401
        assert client.post("/template", json={"template": TEMPLATE}).status_code == 401
        wrong = client.get("/generators", headers={"authorization": "Bearer not.a.token"})
        assert wrong.status_code == 401
        auth = {"authorization": f"Bearer {token}"}
        listed = client.get("/generators", headers=auth)
        assert listed.status_code == 200
        assert "first_name" in {g["name"] for g in listed.json()["generators"]}
        response = client.post(
            "/template", json={"template": TEMPLATE, "count": 3, "seed": 42}, headers=auth
        )
        assert response.status_code == 200
        assert len(response.json()) == 3
        unknown = client.post("/template", json={"template": {"x": "{{emial}}"}}, headers=auth)
        assert unknown.status_code == 422
        assert unknown.json()["detail"]["suggestions"][0] == "email"
    # The function's log line: stderr is read on another thread, a little behind responses.
    wait_for(
        lambda: any('"generated 3 records as json' in x and "for ada" in x for x in dev.lines),
        10,
        "the function's log line",
    )


def test_a_large_ndjson_count_streams(dev: Dev, token: str) -> None:
    auth = {"authorization": f"Bearer {token}"}
    count = 100_000
    body = {"template": TEMPLATE, "count": count, "seed": 9, "format": "ndjson"}
    with httpx.Client(base_url=dev.url, timeout=120) as client:
        first_batch = client.post("/template", json={**body, "count": 1000}, headers=auth)
        assert first_batch.status_code == 200
        warm = client.post("/stream/template", json={**body, "count": 10}, headers=auth)
        assert len(warm.text.splitlines()) == 10
        reports = dev.settled(at_least=2)
        with client.stream("POST", "/stream/template", json=body, headers=auth) as response:
            assert response.status_code == 200
            assert response.headers["content-type"] == "application/x-ndjson"
            assert response.headers["transfer-encoding"] == "chunked"
            chunks = response.iter_bytes()
            first = next(chunks)
            # The function has not finished: its REPORT line is still to come.
            running = sum(line.startswith("REPORT") for line in dev.lines) == reports
            received = first + b"".join(chunks)
    assert running
    lines = received.decode().splitlines()
    assert len(lines) == count
    assert len(received) > 6 * 1024 * 1024  # past what a buffered response may hold
    # Batches are drawn the same way whatever the count: the first thousand records match.
    assert lines[:1000] == first_batch.text.splitlines()
    assert json.loads(lines[-1]).keys() == TEMPLATE.keys()
