"""The gateway deployed as a container image: ``faasport deploy aws|gcp --dry-run --package
container`` on the example (SAM and Terraform through cfn-lint and checkov), its zip
deployments too, and the image's build context run without Docker: its Dockerfile read,
its entrypoint started as Cloud Run starts it, and its command run as Lambda's runtime
client runs it, against a recording Runtime API."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cfnlint.api import ManualArgs, lint
from gateway_support import AUDIENCE, ISSUER, Token, Upstream

from faasport.testing import event
from iac import checkov_passes
from recording_runtime import Recorder
from servers import free_port

EXAMPLE = Path(__file__).resolve().parents[1]


def faasport(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "faasport.cli.main", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    copy = tmp_path_factory.mktemp("example") / "gateway"
    shutil.copytree(
        EXAMPLE, copy, ignore=shutil.ignore_patterns("tests", ".faasport", "deploy", "dist")
    )
    return copy


@pytest.fixture(scope="module")
def deployed(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Every dry run's files, one folder each (deploy/ is replaced by each run)."""
    out = tmp_path_factory.mktemp("deployed")
    runs = {
        "aws-sam-container": ("aws", "--package", "container"),
        "aws-terraform-container": ("aws", "--iac", "terraform", "--package", "container"),
        "aws-sam-zip": ("aws",),
        "gcp-container": ("gcp", "--package", "container"),
    }
    for name, args in runs.items():
        done = faasport("deploy", *args, "--dry-run", cwd=project)
        assert done.returncode == 0, done.stderr
        provider = args[0]
        shutil.copytree(project / "deploy" / provider, out / name)
        shutil.rmtree(project / "deploy")
    return out


@pytest.mark.parametrize("name", ["aws-sam-container", "aws-sam-zip"])
def test_sam_templates_pass_cfn_lint(deployed: Path, name: str) -> None:
    for template in sorted((deployed / name).glob("*.yaml")):
        matches = lint(template.read_text(), config=ManualArgs(regions=["us-east-1"]))
        assert [str(match) for match in matches] == [], template.name


def test_checkov_passes_every_deployment(deployed: Path) -> None:
    assert checkov_passes(deployed, skipped=True) == {
        "aws-sam-container",
        "aws-terraform-container",
        "aws-sam-zip",
        "gcp-container",
    }


def test_the_image_is_pinned_by_digest(deployed: Path) -> None:
    template = (deployed / "aws-sam-container" / "template.yaml").read_text()
    assert "PackageType: Image" in template and "CodeUri" not in template
    assert (deployed / "aws-sam-container" / "push-image.sh").is_file()
    main = (deployed / "aws-terraform-container" / "main.tf").read_text()
    assert 'resource "aws_ecr_repository" "image"' in main
    assert re.search(r"image_uri +?= var\.image_uri", main)


def test_azure_deploys_the_zip_and_refuses_the_container_option(project: Path) -> None:
    done = faasport("deploy", "azure", "--dry-run", cwd=project)
    assert done.returncode == 0, done.stderr
    refused = faasport("deploy", "azure", "--dry-run", "--package", "container", cwd=project)
    assert refused.returncode == 2
    assert "--package applies to aws, gcp only, not azure" in refused.stderr
    shutil.rmtree(project / "deploy")


@pytest.fixture(scope="module")
def context(project: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    done = faasport("package", "--target", "container", cwd=project)
    assert done.returncode == 0, done.stderr
    # As docker build sends it: the directory alone, elsewhere.
    return Path(
        shutil.copytree(project / "dist" / "container", tmp_path_factory.mktemp("c") / "task")
    )


def instructions(dockerfile: str) -> list[tuple[str, str]]:
    found = []
    for line in dockerfile.splitlines():
        if line.strip() and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword, rest))
    return found


def test_the_build_context_holds_what_the_dockerfile_copies(context: Path) -> None:
    steps = instructions((context / "Dockerfile").read_text())
    assert steps[0] == ("FROM", "public.ecr.aws/lambda/python:3.12")
    for keyword, rest in steps:
        if keyword == "COPY":
            *sources, _ = rest.split()
            assert all((context / source).exists() for source in sources), rest
    assert json.loads(dict(steps)["CMD"]) == ["faasport_handler.api"]
    requirements = (context / "requirements.txt").read_text()
    for needed in ("starlette", "httpx", "PyJWT", "redis", "psycopg", "functions-framework"):
        assert needed in requirements
    assert (context / "api_gateway" / "jwks.json").is_file()
    for private in ("dev_token.py", "keys", "secrets.local.toml", "secrets.local.example.toml"):
        assert not (context / private).exists(), private


def _environment(context: Path, upstreams: dict[str, Upstream], jwks: Path) -> dict[str, str]:
    return {
        # python3 is this environment's, with what the image's pip install puts there.
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "LAMBDA_TASK_ROOT": str(context),
        "FAASPORT_STATE_URL": f"sqlite:///{context.parent}/state.db",
        "FAASPORT_SECRET_GATEWAY_SESSION": "c" * 40,
        "JWT_ISSUER": ISSUER,
        "JWT_AUDIENCE": AUDIENCE,
        "JWT_JWKS": str(jwks),
        **{f"UPSTREAM_{name.upper()}": u.url for name, u in upstreams.items()},
    }


@pytest.fixture
def cloud_run(context: Path, fresh: dict[str, Upstream], jwks_file: Path) -> Iterator[str]:
    port = free_port()
    env = {**_environment(context, fresh, jwks_file), "PORT": str(port)}
    server = subprocess.Popen(
        ["/bin/sh", str(context / "faasport-entrypoint.sh"), "faasport_handler.api"],
        env=env,
        cwd=context,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                httpx.get(f"{url}/health/live", timeout=1)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.stderr.read() if server.stderr else ""
                assert time.monotonic() < deadline, "the entrypoint did not start serving"
                time.sleep(0.1)
        yield url
    finally:
        server.terminate()
        server.communicate(timeout=15)


def test_as_cloud_run_runs_it(cloud_run: str, fresh: dict[str, Upstream], token: Token) -> None:
    ready = httpx.get(f"{cloud_run}/health/ready", timeout=10)
    assert ready.json()["status"] == "ready", ready.text
    answer = httpx.get(
        f"{cloud_run}/products/3", headers={"authorization": f"Bearer {token('run')}"}, timeout=10
    )
    assert answer.status_code == 200
    assert fresh["products"].seen[0]["headers"]["x-authenticated-subject"] == "run"
    assert httpx.get(f"{cloud_run}/products/3", timeout=10).status_code == 401


def test_as_lambda_runs_it(
    context: Path, fresh: dict[str, Upstream], jwks_file: Path, token: Token
) -> None:
    request = event(
        "apigw-v2", "GET", "/users/8", headers={"authorization": f"Bearer {token('lambda')}"}
    )
    runtime = Recorder(request)
    env = {
        **_environment(context, fresh, jwks_file),
        "AWS_LAMBDA_RUNTIME_API": f"127.0.0.1:{runtime.port}",
        "PYTHONPATH": str(context),
        "LAMBDA_TASK_ROOT": str(context),
        "_HANDLER": "faasport_handler.api",
    }
    # The image's command, faasport_handler.api, run by a Lambda runtime client from the
    # context alone. The base image runs its own client (awslambdaric's); faasport's speaks
    # the same Runtime API and answers this recording server, whose framing awslambdaric's
    # native client does not finish with.
    process = subprocess.Popen(
        [sys.executable, "-m", "faasport.aws.runtime_client"],
        cwd=context,
        env={**env, "HOME": os.environ.get("HOME", "/root")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        done = runtime.done.wait(30)
    finally:
        process.kill()
        _, errors = process.communicate(timeout=10)
    assert done, errors.decode()
    body = runtime.recorded.partition(b"\r\n\r\n")[2]
    answer: dict[str, Any] = json.loads(body)
    assert answer["statusCode"] == 200
    assert json.loads(answer["body"])["target"] == "/8"
    assert fresh["users"].seen[0]["headers"]["x-authenticated-subject"] == "lambda"
