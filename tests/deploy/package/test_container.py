"""``faasport package --target container``: a Docker build context for the AWS Lambda base
image that also serves HTTP on Cloud Run. Docker is not needed: the Cloud Run mode of the
entrypoint runs here as the image would run it, with this machine's Python as ``python3``."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from faasport.config import load_project
from faasport.deploy.package import Artifact, build
from servers import free_port

PROJECT = Path(__file__).parent / "project"


@pytest.fixture(scope="module")
def context(tmp_path_factory: pytest.TempPathFactory) -> tuple[Artifact, Path]:
    """The built context, copied as ``docker build`` would send it."""
    root = Path(shutil.copytree(PROJECT, tmp_path_factory.mktemp("shop") / "shop"))
    artifact = build(load_project(root), "container")
    copy = Path(shutil.copytree(artifact.path, tmp_path_factory.mktemp("context") / "task"))
    return artifact, copy


def entrypoint_env(task_root: Path, **extra: str) -> dict[str, str]:
    # python3 on PATH is this environment's, which has functions-framework installed like
    # the image does after `pip install -r requirements.txt`.
    path = f"{Path(sys.executable).parent}:/usr/bin:/bin"
    return {"PATH": path, "LAMBDA_TASK_ROOT": str(task_root), **extra}


def test_the_context_is_a_lambda_base_image_build(context: tuple[Artifact, Path]) -> None:
    artifact, task = context
    assert artifact.path.parts[-2:] == ("dist", "container")
    assert artifact.zipped is None
    dockerfile = (task / "Dockerfile").read_text().splitlines()
    instructions = [line for line in dockerfile if line and not line.startswith("#")]
    assert instructions == [
        "FROM public.ecr.aws/lambda/python:3.11",
        "COPY requirements.txt /var/task/",
        "RUN pip install --no-cache-dir --requirement /var/task/requirements.txt",
        "COPY . /var/task/",
        'ENTRYPOINT ["/bin/sh", "/var/task/faasport-entrypoint.sh"]',
        'CMD ["faasport_handler.api"]',
    ]
    requirements = (task / "requirements.txt").read_text().splitlines()
    assert requirements[:2] == ["markupsafe>=3", "idna>=3"]
    assert requirements[2].startswith("functions-framework")
    for name in ("faasport_handler.py", "main.py", "shop/web.py", "faasport/aws/handler.py"):
        assert (task / name).is_file(), name
    assert not (task / "markupsafe").exists()  # installed by the image build
    assert oct((task / "shop" / "web.py").stat().st_mode & 0o777) == oct(0o644)


def test_on_cloud_run_the_entrypoint_serves_the_function_over_http(
    context: tuple[Artifact, Path],
) -> None:
    _, task = context
    port = free_port()
    server = subprocess.Popen(
        ["/bin/sh", str(task / "faasport-entrypoint.sh"), "faasport_handler.api"],
        env=entrypoint_env(task, PORT=str(port)),
        cwd="/",
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/items/7", timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None, server.communicate()[1]
                assert time.monotonic() < deadline, "the entrypoint did not start serving"
                time.sleep(0.1)
        health = httpx.get(f"http://127.0.0.1:{port}/health", timeout=5)
    finally:
        server.terminate()
        server.communicate(timeout=10)
    assert response.status_code == 200
    answer = response.json()
    assert answer["path"] == "/items/7"
    assert answer["files"]["faasport"] == str(task / "faasport" / "__init__.py")
    assert health.status_code == 200


@pytest.mark.parametrize(
    "env",
    [{"AWS_LAMBDA_RUNTIME_API": "127.0.0.1:9001", "PORT": "8080"}, {}],
    ids=["on-lambda", "no-port"],
)
def test_elsewhere_the_entrypoint_hands_over_to_the_lambda_base_image(
    context: tuple[Artifact, Path], env: dict[str, str]
) -> None:
    _, task = context
    done = subprocess.run(
        ["/bin/sh", str(task / "faasport-entrypoint.sh"), "faasport_handler.api"],
        env=entrypoint_env(task, **env),
        capture_output=True,
        text=True,
        timeout=30,
    )
    # Outside the image the base image's entrypoint is missing: that it was the one run
    # is what this shows.
    assert done.returncode == 127
    assert "/lambda-entrypoint.sh" in done.stderr


def test_a_rebuild_replaces_the_context_exactly(
    context: tuple[Artifact, Path], tmp_path: Path
) -> None:
    root = Path(shutil.copytree(PROJECT, tmp_path / "shop"))
    first = build(load_project(root), "container")
    (first.path / "stale.txt").write_text("left from an older build")
    (root / "shop" / "extra.py").write_text("EXTRA = 1\n")
    again = build(load_project(root), "container")
    assert not (again.path / "stale.txt").exists()
    assert (again.path / "shop" / "extra.py").read_text() == "EXTRA = 1\n"
    assert [p.name for p in again.path.parent.iterdir()] == ["container"]
