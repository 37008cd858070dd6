"""``faasport deploy gcp``: Terraform for Google Cloud, from the parsed configuration.

Each function is a Cloud Functions (2nd gen) function built from the source bundle that
``faasport package --target gcp`` writes. Cloud Functions rather than Cloud Run services,
because the artifact is a source bundle (Cloud Functions builds it; Cloud Run needs an
image) and a 2nd gen function is a Cloud Run service underneath, with the same scaling,
IAM and Eventarc. See docs/deploy.md for what each setting becomes.
"""

from __future__ import annotations

from faasport.config.model import Project
from faasport.deploy.gcp import base, events, functions
from faasport.deploy.gcp.model import build, is_http
from faasport.deploy.hcl import Block, Ref
from faasport.deploy.options import Options
from faasport.deploy.plan import Plan
from faasport.deploy.terraform import terraform_plan

INSTALL_HINT = (
    "install Terraform (https://developer.hashicorp.com/terraform/install) and sign in with "
    "`gcloud auth application-default login`"
)


def plan(project: Project, options: Options | None = None) -> Plan:
    """The Terraform for ``project``: Cloud Functions from the source bundle, or with
    ``options.package == "container"`` Cloud Run services from one image."""
    if options is not None and options.package == "container":
        from faasport.deploy.gcp import cloud_run

        return cloud_run.plan(project, INSTALL_HINT)
    model = build(project)
    files = {
        "main.tf": base.blocks(model),
        "functions.tf": functions.blocks(model),
        "events.tf": events.blocks(model),
        "outputs.tf": _outputs(project),
    }
    return terraform_plan("gcp", project, files, INSTALL_HINT)


def _outputs(project: Project) -> list[Block]:
    return [
        Block(
            "output",
            (f"{function.name}_url",),
            {
                "description": f"The URL of function {function.name}.",
                "value": functions.ref(function, "url"),
            },
        )
        for function in project.functions.values()
        if is_http(function)
    ] or [
        Block(
            "output",
            ("source_bucket",),
            {"value": Ref("google_storage_bucket.source.name")},
        )
    ]
