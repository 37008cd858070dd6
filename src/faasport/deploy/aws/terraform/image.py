"""The Terraform of a container deployment (``--package container``): the ECR repository,
the ``image_uri`` variable that ``push-image.sh`` fills in (``image.auto.tfvars.json``), and
each function's inputs for an image instead of the zip."""

from __future__ import annotations

from faasport.config.model import Function
from faasport.deploy.aws import image
from faasport.deploy.aws.terraform.tf import output, resource
from faasport.deploy.hcl import Block, Ref, Value

REPOSITORY = "aws_ecr_repository.image"


def blocks(name: str) -> list[Block]:
    variable = Block(
        "variable",
        (image.VARIABLE,),
        {
            "type": Ref("string"),
            "description": "The functions' image, pinned by digest: REPOSITORY@sha256:DIGEST "
            f"({image.SCRIPT} writes it to {image.TF_VARS}); null only while the repository "
            "alone is applied",
            "default": None,
            "validation": Block(
                "validation",
                (),
                {
                    "condition": Ref(
                        f"var.{image.VARIABLE} == null || "
                        f'can(regex("{_hcl_regex(image.PATTERN)}", var.{image.VARIABLE}))'
                    ),
                    "error_message": "image_uri must be an ECR image pinned by digest: "
                    "ACCOUNT.dkr.ecr.REGION.amazonaws.com/REPOSITORY@sha256:DIGEST.",
                },
            ),
        },
    )
    repository = resource(
        "aws_ecr_repository",
        "image",
        {
            "name": name,
            # A tag always names the same image; functions are pinned by digest anyway.
            "image_tag_mutability": "IMMUTABLE",
            "image_scanning_configuration": Block(
                "image_scanning_configuration", (), {"scan_on_push": True}
            ),
            "encryption_configuration": Block(
                "encryption_configuration", (), {"encryption_type": "KMS"}
            ),
        },
    )
    lifecycle = resource(
        "aws_ecr_lifecycle_policy",
        "image",
        {"repository": Ref(f"{REPOSITORY}.name"), "policy": image.lifecycle_policy()},
    )
    return [variable, repository, lifecycle]


def _hcl_regex(pattern: str) -> str:
    """A regular expression inside an HCL string: backslashes doubled."""
    return pattern.replace("\\", "\\\\")


def outputs() -> list[Block]:
    return [
        output(
            "image_repository_url",
            Ref(f"{REPOSITORY}.repository_url"),
            f"Where {image.SCRIPT} pushes the functions' image",
        )
    ]


def function_inputs(function: Function) -> dict[str, Value]:
    """A function's module inputs that differ from the zip's: no code file or runtime, the
    image and its command (``faasport_handler.NAME``) instead."""
    return {
        "handler": image.command(function),
        "runtime": None,
        "filename": None,
        "source_code_hash": None,
        "image_uri": Ref(f"var.{image.VARIABLE}"),
    }
