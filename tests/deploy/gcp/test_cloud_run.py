"""``faasport deploy gcp --package container``: HTTP functions as Cloud Run services running
the image of ``faasport package --target container``, pinned by digest; parsed by
python-hcl2 and scanned by checkov; push-image.sh run with stand-ins for docker, gcloud and
terraform (no Docker engine runs here); event functions refused."""

from __future__ import annotations

import json
import re
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from faasport.config import load_project
from faasport.core.errors import ConfigError
from faasport.deploy.gcp import plan
from faasport.deploy.options import Options
from faasport.deploy.plan import Plan
from iac import resources, run_checkov, unquote, write_files
from projects import write_project

CONFIG = """
name = "shop"

[functions.api]
app = "shop.main:app"
routes = ["ANY /{proxy+}"]
memory = 1024
warm = 1
concurrency = 4
environment = { LOG_LEVEL = "INFO" }
secrets = ["shop/session"]

[functions.admin]
app = "shop.admin:app"
routes = ["GET /admin/{page}"]
auth = "staff"

[auth.staff]
issuer = "https://issuer.example.com/"
audience = ["shop"]
"""
PINNED = "us-central1-docker.pkg.dev/p/shop/shop@sha256:" + "cd" * 32


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Plan:
    project = load_project(write_project(tmp_path_factory.mktemp("shop"), CONFIG))
    return plan(project, Options(package="container"))


def terraform(deployment: Plan) -> dict[str, dict[str, Any]]:
    return resources({k: v for k, v in deployment.files.items() if k.endswith(".tf")})


def test_each_http_function_is_a_service_of_the_image(deployment: Plan) -> None:
    services = terraform(deployment)["google_cloud_run_v2_service"]
    assert list(services) == ["api", "admin"]
    (template,) = services["api"]["template"]
    (container,) = template["containers"]
    assert container["image"] == "${var.image}"
    assert container["args"] == ["faasport_handler.api"]
    (limits,) = container["resources"]
    assert limits["limits"] == {"memory": "1024Mi", "cpu": "1"}
    (scaling,) = template["scaling"]
    assert (scaling["min_instance_count"], scaling["max_instance_count"]) == (1, 4)
    env = {entry["name"]: entry for entry in container["env"]}
    assert env["LOG_LEVEL"]["value"] == "INFO"
    secret = env["FAASPORT_SECRET_SHOP_SESSION"]["value_source"][0]["secret_key_ref"][0]
    assert secret == {"secret": "shop-session", "version": "latest"}


def test_who_may_call_each_service(deployment: Plan) -> None:
    members = terraform(deployment)["google_cloud_run_v2_service_iam_member"]
    assert members["api_public"]["member"] == "allUsers"
    assert members["admin_invokers"]["member"] == "${each.value}"


def test_the_image_variable_takes_a_pinned_image_only(deployment: Plan) -> None:
    variables = resources({"main.tf": deployment.files["main.tf"]}, kind="variable")
    (validation,) = unquote(variables["image"]["validation"])
    pattern = re.search(r'regex\("(.+)", var\.image\)', validation["condition"])
    assert pattern
    regex = pattern[1].replace("\\\\", "\\")
    assert re.fullmatch(regex, PINNED)
    assert not re.fullmatch(regex, PINNED.replace("@sha256:", ":"))


def test_repository_first_then_the_push_then_the_services(deployment: Plan) -> None:
    assert deployment.commands == (
        ("faasport", "package", "--target", "container", "--project", "../.."),
        ("terraform", "init", "-input=false"),
        ("terraform", "apply", "-target=google_artifact_registry_repository.images"),
        ("sh", "push-image.sh"),
        ("terraform", "apply"),
    )


def test_event_functions_are_refused(tmp_path: Path) -> None:
    config = CONFIG + '\n[functions.worker]\nhandler = "shop.jobs:handle"\n'
    config += 'events = [{ queue = "jobs" }]\n\n[queues.jobs]\n'
    with pytest.raises(ConfigError) as refused:
        plan(load_project(write_project(tmp_path, config)), Options(package="container"))
    assert str(refused.value).endswith(
        "functions.worker: deploy gcp --package container serves HTTP functions as Cloud Run "
        "services; deploy event functions with --package zip"
    )


def test_checkov_finds_no_failed_check(deployment: Plan, tmp_path: Path) -> None:
    write_files(deployment.files, tmp_path)
    report = run_checkov(tmp_path, "--framework", "terraform")
    failed = [(c["check_id"], c["resource"]) for c in report["results"]["failed_checks"]]
    assert failed == []
    assert report["summary"]["parsing_errors"] == 0


def test_push_script_pins_the_digest(deployment: Plan, tmp_path: Path) -> None:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls"
    scripts = {
        "terraform": "echo us-central1-docker.pkg.dev/p/shop",
        "gcloud": "true",
        "docker": 'if [ "$1" = inspect ]; then echo "x@sha256:' + "cd" * 32 + '"; fi',
    }
    for tool, body in scripts.items():
        path = bin_dir / tool
        path.write_text(f'#!/bin/sh\necho "{tool} $*" >> {calls}\n{body}\n')
        path.chmod(path.stat().st_mode | stat.S_IXUSR)
    write_files(deployment.files, tmp_path / "deploy")
    done = subprocess.run(
        ["/bin/sh", "push-image.sh"],
        cwd=tmp_path / "deploy",
        env={"PATH": f"{bin_dir}:/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    pinned = json.loads((tmp_path / "deploy" / "image.auto.tfvars.json").read_text())
    assert pinned == {"image": PINNED}
    logged = calls.read_text()
    assert "gcloud auth configure-docker us-central1-docker.pkg.dev --quiet" in logged
    assert "../../dist/container" in logged
