"""``writes = ["BUCKET"]`` on a function: the buckets its own code puts objects into get it
write access in every cloud's infrastructure (AWS ``s3:PutObject`` on ``BUCKET/*`` in SAM and
Terraform, Google Cloud ``roles/storage.objectCreator`` on the bucket); a bucket the project
does not create is refused with the key and the file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from cfnlint.api import ManualArgs, lint

from config_text import config_error
from faasport.config import load_project
from faasport.deploy import aws, gcp
from faasport.deploy.options import Options
from iac import resources
from projects import write_project

CONFIG = """
name = "audits"

[functions.scan]
handler = "audits.scan:handle"
events = [{ bucket = "audit-in", on = "created", suffix = ".sol" }]
writes = ["audit-out", "audit.archive"]

[functions.notify]
handler = "audits.notify:handle"
events = [{ bucket = "audit-out" }, { bucket = "audit.archive" }]
"""


def policy(template: dict[str, Any], role: str) -> list[dict[str, Any]]:
    [document] = template["Resources"][role]["Properties"]["Policies"]
    statements: list[dict[str, Any]] = document["PolicyDocument"]["Statement"]
    return statements


def test_writes_grants_put_object_in_the_sam_template(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path, CONFIG))
    assert project.functions["scan"].writes == ("audit-out", "audit.archive")
    assert project.functions["notify"].writes == ()
    text = aws.plan(project).files["template.yaml"]
    template = yaml.safe_load(text)
    [write] = [s for s in policy(template, "ScanRole") if s["Sid"] == "WriteObjects"]
    assert write["Action"] == ["s3:PutObject"]
    assert write["Resource"] == [
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::audit-out/*"},
        {"Fn::Sub": "arn:${AWS::Partition}:s3:::audit.archive/*"},
    ]
    assert all(s["Sid"] != "WriteObjects" for s in policy(template, "NotifyRole"))
    assert [str(m) for m in lint(text, config=ManualArgs(regions=["us-east-1"]))] == []


def test_writes_grants_put_object_in_the_terraform(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path, CONFIG))
    main = aws.plan(project, Options(iac="terraform")).files["main.tf"]
    assert main.count('Sid      = "WriteObjects"') == 1  # the scan function only
    write = main[main.index('Sid      = "WriteObjects"') :].split("\n      },", 1)[0]
    assert 'Action   = ["s3:PutObject"]' in write
    resources_ = [line.strip().rstrip(",") for line in write.splitlines() if "s3:::" in line]
    assert resources_ == [
        '"arn:${local.partition}:s3:::audit-out/*"',
        '"arn:${local.partition}:s3:::audit.archive/*"',
    ]


def test_writes_grants_object_creator_on_google_cloud(tmp_path: Path) -> None:
    project = load_project(write_project(tmp_path, CONFIG))
    grants = resources(gcp.plan(project).files)["google_storage_bucket_iam_member"]
    assert grants["scan-writes-audit-out"] == {
        "bucket": "${google_storage_bucket.bucket-audit-out.name}",
        "role": "roles/storage.objectCreator",
        "member": "serviceAccount:${google_service_account.scan.email}",
    }
    assert grants["scan-writes-audit_archive"]["bucket"] == (
        "${google_storage_bucket.bucket-audit_archive.name}"
    )
    assert not [label for label in grants if label.startswith("notify-")]


@pytest.mark.parametrize(
    ("writes", "message"),
    [
        (
            '["elsewhere"]',
            'faasport.toml: functions.scan.writes[0]: "elsewhere" is not a bucket of this '
            "project: writes names buckets that a function's events = [{ bucket = ... }] "
            "creates (buckets: audit-in, audit-out, audit.archive)",
        ),
        ("[1]", "faasport.toml: functions.scan.writes[0]: must be a non-empty string, got"),
        (
            '"audit-out"',
            "faasport.toml: functions.scan.writes: must be an array of bucket names, "
            'got "audit-out"',
        ),
    ],
)
def test_a_bucket_the_project_does_not_create_is_refused(
    tmp_path: Path, writes: str, message: str
) -> None:
    config = CONFIG.replace('writes = ["audit-out", "audit.archive"]', f"writes = {writes}")
    assert config_error(tmp_path, config).startswith(f"{tmp_path}/{message}")
