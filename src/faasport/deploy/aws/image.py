"""AWS functions deployed as one container image (``faasport deploy aws --package
container``): the ECR repository, the image reference pinned by digest, and the script that
builds and pushes the image between the two deploy steps.

The functions cannot be created before their image is in the repository, and the
repository must exist before the image is pushed, so a deployment runs in three steps: the
repository alone (SAM: its own stack, ``image.yaml``; Terraform: ``-target``), then
``push-image.sh`` (docker build and push; it records ``REPOSITORY@sha256:DIGEST``), then the
functions, each with ``PackageType: Image``, that digest, and its command
``faasport_handler.NAME`` (the image of ``faasport package --target container``).
"""

from __future__ import annotations

from faasport.config.model import Function, Project
from faasport.deploy.errors import config_error
from faasport.deploy.package.container import DOCKERFILE
from faasport.local.entry import MODULE

#: The SAM template parameter and the Terraform variable holding the pinned image.
PARAMETER = "ImageUri"
VARIABLE = "image_uri"
#: An ECR image pinned by digest: what the parameter and the variable accept.
PATTERN = (
    r"^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?/[a-z0-9._/-]+@sha256:[0-9a-f]{64}$"
)
SCRIPT = "push-image.sh"
#: Where ``push-image.sh`` leaves the pinned image for the functions' deploy step: for
#: ``aws cloudformation deploy --parameter-overrides file://...`` (SAM CLI insists on
#: pushing images itself), and for Terraform, which reads ``*.auto.tfvars.json``.
SAM_PARAMETERS = "image-parameters.json"
TF_VARS = "image.auto.tfvars.json"
#: The image build context, from deploy/aws.
CONTEXT = "../../dist/container"
#: Images the repository keeps; older ones expire (a rollback needs a recent one).
KEEP_IMAGES = 20
PLATFORMS = {"x86_64": "linux/amd64", "arm64": "linux/arm64"}


def repository_name(project: Project) -> str:
    return project.name.lower()


def image_stack(project: Project) -> str:
    return f"{project.name}-image"


def command(function: Function) -> str:
    return f"{MODULE}.{function.name}"


def platform(project: Project) -> str:
    """The image's platform: every function runs the same image, so they share one
    architecture."""
    architectures = {function.architecture for function in project.functions.values()}
    if len(architectures) > 1:
        raise config_error(
            project,
            ("functions",),
            "all functions run the same container image, so they need the same architecture, "
            f"got {', '.join(sorted(architectures))}",
        )
    return PLATFORMS[architectures.pop()]


def check(project: Project) -> None:
    """What a container deployment cannot do, named by its key."""
    platform(project)
    for function in project.functions.values():
        if function.stream:
            raise config_error(
                project,
                ("functions", function.name, "stream"),
                "response streaming is deployed from the zip package only; deploy with "
                "--package zip",
            )
        if function.snapstart:
            raise config_error(
                project,
                ("functions", function.name, "snapstart"),
                "Lambda SnapStart does not apply to container images; deploy with --package zip",
            )


def lifecycle_policy() -> str:
    """Keep the newest :data:`KEEP_IMAGES` images."""
    return (
        '{"rules":[{"rulePriority":1,"description":"keep the newest images",'
        '"selection":{"tagStatus":"any","countType":"imageCountMoreThan",'
        f'"countNumber":{KEEP_IMAGES}}},"action":{{"type":"expire"}}}}]}}'
    )


def push_script(project: Project, iac: str) -> str:
    """Build the image from ``faasport package --target container``, push it with a fresh
    tag (the repository's tags are immutable), and record it pinned by its digest."""
    if iac == "terraform":
        find = "repository=$(terraform output -raw image_repository_url)"
        record = f"""printf '{{"{VARIABLE}": "%s"}}\\n' "$pinned" > {TF_VARS}"""
    else:
        find = (
            f"repository=$(aws cloudformation describe-stacks --region {project.region} "
            f"--stack-name {image_stack(project)} "
            "--query \"Stacks[0].Outputs[?OutputKey=='RepositoryUri'].OutputValue\" "
            "--output text)"
        )
        record = f"""printf '["{PARAMETER}=%s"]\\n' "$pinned" > {SAM_PARAMETERS}"""
    return f"""\
#!/bin/sh
# Written by `faasport deploy aws --package container` from {project.source.name}; edit the
# configuration, not this file. Builds {CONTEXT}/{DOCKERFILE}, pushes it to the ECR
# repository and records it pinned by digest for the functions' deploy step.
set -eu
if ! command -v docker >/dev/null 2>&1; then
  echo "{SCRIPT}: docker is needed to build the image: install Docker, or build and push" \\
    "{CONTEXT} yourself and set {PARAMETER} to REPOSITORY@sha256:DIGEST" >&2
  exit 1
fi
{find}
registry="${{repository%%/*}}"
tag="$(date -u +%Y%m%d%H%M%S)"
aws ecr get-login-password --region {project.region} |
  docker login --username AWS --password-stdin "$registry"
docker build --platform {platform(project)} --tag "$repository:$tag" {CONTEXT}
docker push "$repository:$tag"
digest="$(docker inspect --format '{{{{index .RepoDigests 0}}}}' "$repository:$tag")"
pinned="$repository@${{digest##*@}}"
{record}
echo "{SCRIPT}: $pinned"
"""
