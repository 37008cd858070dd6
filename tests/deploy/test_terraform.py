"""faasport deploy gcp|azure: the generated Terraform, checked by the real tools (python-hcl2,
checkov) for the example project and a configuration using every key: it parses, every
reference is declared, checkov fails nothing and every skip says why, and the same project
gives the same bytes."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import hcl2
import pytest

from faasport.config import load_project
from faasport.deploy import azure, gcp
from faasport.deploy.plan import Plan
from iac import run_checkov, same_output_in_two_processes, unquote, write_files
from projects import GCP_AZURE_EVERY_KEY, project_dir

PROVIDERS = {"gcp": gcp.plan, "azure": azure.plan}
PROJECTS = ("phoney", "every-key", "no-push")

#: No push subscription (bucket events only) and a queue nobody consumes: the blocks that
#: only some projects need are left out together with what they refer to.
NO_PUSH = """
name = "thumbs"

[functions.resize]
handler = "thumbs.resize:handle"
events = [{ bucket = "thumbs-in", on = "created", suffix = ".png" }]

[queues.later]
"""

CONFIGS = {"every-key": GCP_AZURE_EVERY_KEY, "no-push": NO_PUSH}

_SKIP = re.compile(r"checkov:skip=(CKV2?_[A-Z]+_\d+):(.*)")
_RESOURCE_REF = re.compile(
    r"(?<![\w.-])(data\.)?((?:google|azurerm)_[a-z0-9_]+)\.([A-Za-z_][\w-]*)"
)


@pytest.fixture(scope="module")
def plans(tmp_path_factory: pytest.TempPathFactory) -> dict[tuple[str, str], Plan]:
    tmp = tmp_path_factory.mktemp("projects")
    return {
        (provider, name): make(load_project(project_dir(name, CONFIGS, tmp)))
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
        write_files(plan.files, out / f"{provider}-{name}")
    # --quiet: of the checks, only the failed ones are reported.
    report: dict[str, Any] = run_checkov(out, "--framework", "terraform", "--quiet")
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
    output = same_output_in_two_processes(_DUMP, project_dir("every-key", CONFIGS, tmp_path))
    assert output.count("\n") == 8


@pytest.mark.parametrize("provider", PROVIDERS)
def test_the_same_project_gives_the_same_bytes(
    plans: dict[tuple[str, str], Plan], provider: str, tmp_path: Path
) -> None:
    again = PROVIDERS[provider](load_project(project_dir("every-key", CONFIGS, tmp_path)))
    assert dict(again.files) == dict(plans[provider, "every-key"].files)
