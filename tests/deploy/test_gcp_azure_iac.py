"""faasport deploy gcp|azure: the generated Terraform, checked by the real tools (python-hcl2,
checkov) for the example project and a configuration using every key: it parses, every
reference is declared, checkov fails nothing and every skip says why, and the same project
gives the same bytes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hcl2
import pytest

from faasport.config import load_project
from faasport.deploy import azure, gcp
from faasport.deploy.plan import Plan

REPO = Path(__file__).resolve().parents[2]
PROVIDERS = {"gcp": gcp.plan, "azure": azure.plan}
PROJECTS = ("phoney", "every-key", "no-push")

#: Every configuration key both clouds take (Azure instances have at most 4096 MB).
EVERY_KEY = """
name = "Shop-API"
python = "3.13"
region = "eu-west-1"

[functions.api]
app = "shop.main:app"
memory = 1536
timeout = 60
architecture = "arm64"
concurrency = 20
warm = 2
health = "/health"
routes = ["ANY /{proxy+}"]
auth = "users"
throttle = { rate = 100, burst = 200 }
environment = { LOG_LEVEL = "DEBUG", FEATURE = "on" }
secrets = ["shop/prod/jwt", "ssm:/shop/prod/db"]

[functions.admin]
app = "shop.admin:app"
memory = 3072
routes = ["ANY /admin/{proxy+}"]
warm = 1
secrets = ["shop/prod/db-url"]

[functions.worker]
handler = "shop.jobs:handle"
memory = 256
timeout = 120
concurrency = 5
warm = 1
secrets = ["shop/prod/jwt"]
events = [
  { queue = "jobs", batch = 5 },
  { schedule = "rate(5 minutes)" },
  { schedule = "cron(0 12 ? * MON-FRI *)" },
  { bucket = "shop-uploads", on = "created", prefix = "in/", suffix = ".csv" },
  { bucket = "shop-uploads", on = "removed", prefix = "in/" },
  { topic = "alerts" },
]

[functions.mailer]
handler = "shop.mail:send"
events = [{ queue = "mail" }, { topic = "alerts" }]

[queues.jobs]
visibility_timeout = 180
max_receive = 12
dlq = "jobs-dlq"

[queues.mail]
visibility_timeout = 60
max_receive = 3

[queues.audit]

[auth.users]
issuer = "https://issuer.example.com/"
audience = ["shop"]
jwks = "https://issuer.example.com/.well-known/jwks.json"

[state]
url = "sqlite:///.faasport/state.db"
"""

#: No push subscription (bucket events only) and a queue nobody consumes: the blocks that
#: only some projects need are left out together with what they refer to.
NO_PUSH = """
name = "thumbs"

[functions.resize]
handler = "thumbs.resize:handle"
events = [{ bucket = "thumbs-in", on = "created", suffix = ".png" }]

[queues.later]
"""

_SKIP = re.compile(r"checkov:skip=(CKV2?_[A-Z]+_\d+):(.*)")
_RESOURCE_REF = re.compile(
    r"(?<![\w.-])(data\.)?((?:google|azurerm)_[a-z0-9_]+)\.([A-Za-z_][\w-]*)"
)


def project_dir(name: str, tmp: Path) -> Path:
    if name == "phoney":
        return REPO / "examples" / "phoney"
    directory = tmp / name
    directory.mkdir(exist_ok=True)
    text = EVERY_KEY if name == "every-key" else NO_PUSH
    (directory / "faasport.toml").write_text(textwrap.dedent(text))
    return directory


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Plan]:
    tmp = tmp_path_factory.mktemp("projects")
    return {
        (provider, name): make(load_project(project_dir(name, tmp)))
        for provider, make in PROVIDERS.items()
        for name in PROJECTS
    }


@pytest.fixture(scope="module")
def checkov(
    plans: dict[tuple[str, str], Plan], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    """One offline checkov run over every generated folder (``gcp-phoney``, ...)."""
    out = tmp_path_factory.mktemp("terraform")
    for (provider, name), plan in plans.items():
        for file, text in plan.files.items():
            path = out / f"{provider}-{name}" / file
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
    executable = os.environ.get("FAASPORT_CHECKOV") or str(REPO / ".venv-tools/bin/checkov")
    assert Path(executable).is_file(), f"checkov not found at {executable}: run make install"
    # Offline: no platform API key, no policy download, no check for a newer checkov.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BC_", "CKV_", "PRISMA_"))}
    env.update(BC_SKIP_MAPPING="TRUE", CKV_SKIP_PACKAGE_UPDATE_CHECK="true")
    flags = ["--framework", "terraform", "--quiet", "--compact", "-o", "json", "--skip-download"]
    started = time.monotonic()
    result = subprocess.run(
        [executable, "-d", str(out), *flags],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )
    print(f"checkov: {time.monotonic() - started:.1f} s")
    assert result.stdout, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def skips(plan: Plan) -> list[tuple[str, str]]:
    """The ``checkov:skip`` annotations of the plan's files, as (check id, reason)."""
    found = []
    for text in plan.files.values():
        for line in text.splitlines():
            if "checkov:skip" in line:
                match = _SKIP.fullmatch(line.strip().lstrip("#"))
                assert match, line
                found.append((match[1], match[2]))
    return found


def unquote(value: Any) -> Any:
    """python-hcl2 keeps quotes on strings and labels; drop them, and its markers."""
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return json.loads(value).replace("$${", "${")
    if isinstance(value, dict):
        return {unquote(k): unquote(v) for k, v in value.items() if not k.startswith("__")}
    if isinstance(value, list):
        return [unquote(item) for item in value]
    return value


def declared(files: Mapping[str, str]) -> dict[str, set[str]]:
    """What the files declare: ``resource`` and ``data`` as ``type.name``, variables, locals."""
    found: dict[str, set[str]] = {"resource": set(), "data": set(), "variable": set()}
    found["locals"] = set()
    for text in files.values():
        for kind, blocks in unquote(hcl2.loads(text)).items():
            for block in blocks:
                if kind in ("resource", "data"):
                    found[kind] |= {f"{t}.{n}" for t, named in block.items() for n in named}
                elif kind in ("variable", "locals"):
                    found[kind] |= set(block)
    return found


def undeclared(files: Mapping[str, str]) -> list[str]:
    """Every reference (``google_x.name``, ``data.azurerm_x.name``, ``var.x``, ``local.x``)
    that no block declares."""
    known = declared(files)
    missing = []
    for text in files.values():
        code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
        for data, kind, name in _RESOURCE_REF.findall(code):
            if f"{kind}.{name}" not in known["data" if data else "resource"]:
                missing.append(f"{data}{kind}.{name}")
        missing += [
            f"var.{n}" for n in re.findall(r"\bvar\.(\w+)", code) if n not in known["variable"]
        ]
        missing += [
            f"local.{n}" for n in re.findall(r"\blocal\.(\w+)", code) if n not in known["locals"]
        ]
    return sorted(set(missing))


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("name", PROJECTS)
def test_every_file_parses_as_terraform(
    plans: dict[tuple[str, str], Plan], provider: str, name: str
) -> None:
    plan = plans[provider, name]
    assert set(plan.files) >= {"main.tf", "outputs.tf"}
    for file, text in plan.files.items():
        parsed = hcl2.loads(text)
        assert parsed, file


@pytest.mark.parametrize("provider", PROVIDERS)
@pytest.mark.parametrize("name", PROJECTS)
def test_every_reference_is_declared(
    plans: dict[tuple[str, str], Plan], provider: str, name: str
) -> None:
    files = plans[provider, name].files
    assert undeclared(files) == []
    texts = "\n".join(files.values())
    known = declared(files)
    # Every local is used, and the checker saw references of each kind.
    assert all(f"local.{local}" in texts for local in known["locals"])
    assert len(_RESOURCE_REF.findall(texts)) > 20
    assert "var." in texts


def test_a_dangling_reference_is_caught(plans: dict[tuple[str, str], Plan]) -> None:
    files = dict(plans["gcp", "phoney"].files)
    files["functions.tf"] = files["functions.tf"].replace(
        "google_service_account.api.email", "google_service_account.apj.email", 1
    )
    files["main.tf"] = files["main.tf"].replace("var.region", "var.regoin", 1)
    assert undeclared(files) == ["google_service_account.apj", "var.regoin"]


def test_checkov_fails_nothing(checkov: dict[str, Any]) -> None:
    failed = [
        (check["file_path"], check["check_id"], check["resource"], check["check_name"])
        for check in checkov["results"].get("failed_checks", [])
    ]
    assert failed == []
    summary = checkov["summary"]
    assert summary["parsing_errors"] == 0
    assert summary["resource_count"] > 100
    assert summary["passed"] > 50


def test_every_skip_says_why_and_suppresses_a_check(
    plans: dict[tuple[str, str], Plan], checkov: dict[str, Any]
) -> None:
    annotations = [skip for plan in plans.values() for skip in skips(plan)]
    assert {check for check, _ in annotations} >= {"CKV_GCP_83", "CKV2_AZURE_40"}
    for check, reason in annotations:
        assert len(reason.split()) >= 8, f"{check} needs a reason that stands alone: {reason!r}"
    # Each annotation suppresses a check that applies: none is stale.
    assert checkov["summary"]["skipped"] == len(annotations)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_commands_package_then_apply(plans: dict[tuple[str, str], Plan], provider: str) -> None:
    plan = plans[provider, "phoney"]
    assert plan.provider == provider
    assert plan.commands[0][:4] == ("faasport", "package", "--target", provider)
    assert plan.commands[0][4:] == ("--project", "../..")
    tools = [command[:2] for command in plan.commands[1:]]
    # Azure's apply deploys the code with az, signed in: checked first.
    signed_in = [("az", "account")] if provider == "azure" else []
    assert tools == [*signed_in, ("terraform", "init"), ("terraform", "apply")]
    assert "Terraform" in plan.install_hint


_DUMP = """
import hashlib, sys
from faasport.config import load_project
from faasport.deploy import azure, gcp
for module in (gcp, azure):
    files = module.plan(load_project(sys.argv[1])).files
    for name in sorted(files):
        print(module.__name__, name, hashlib.sha256(files[name].encode()).hexdigest())
"""


def test_generation_is_deterministic_across_processes(tmp_path: Path) -> None:
    directory = project_dir("every-key", tmp_path)
    outputs = set()
    for seed in ("1", "2"):
        result = subprocess.run(
            [sys.executable, "-c", _DUMP, str(directory)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONHASHSEED": seed},
            check=True,
        )
        outputs.add(result.stdout)
    assert len(outputs) == 1
    assert outputs.pop().count("\n") == 8


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_same_project_gives_the_same_bytes(
    plans: dict[tuple[str, str], Plan], provider: str, tmp_path: Path
) -> None:
    again = PROVIDERS[provider](load_project(project_dir("every-key", tmp_path)))
    assert dict(again.files) == dict(plans[provider, "every-key"].files)
