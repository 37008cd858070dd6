"""``faasport deploy aws``: the project as a SAM template (default) or as Terraform modules.

Both describe the same infrastructure, decided in :mod:`.model` and :mod:`.policy`: the
functions with their limits, roles, log groups and alarms; an HTTP or REST API; queues with
dead-letter queues; topics, buckets, schedules; the DynamoDB state table.
"""

from __future__ import annotations

from dataclasses import replace

from faasport.config.model import Project
from faasport.deploy.aws import image, model
from faasport.deploy.options import Options
from faasport.deploy.plan import Plan

PACKAGE = ("faasport", "package", "--target", "aws", "--project", "../..")
PACKAGE_CONTAINER = ("faasport", "package", "--target", "container", "--project", "../..")
PUSH_IMAGE = ("sh", image.SCRIPT)
#: What each IaC leaves in deploy/aws: the other one refuses to deploy beside it.
SAM_FILES = ("template.yaml", "samconfig.toml", ".aws-sam")
IMAGE_TEMPLATE = "image.yaml"
CONTAINER_HINT = "install the AWS CLI (version 2) and Docker"
TERRAFORM_FILES = ("main.tf", "terraform.tfstate", ".terraform")


def plan(project: Project, options: Options | None = None) -> Plan:
    """The files and commands that deploy ``project``: a SAM template, or Terraform with
    ``options.iac == "terraform"``; the functions from the zip, or with ``options.package ==
    "container"`` from one container image (:mod:`.image`)."""
    infrastructure = model.build(project)
    if options is not None and options.package == "container":
        image.check(project)
        infrastructure = replace(infrastructure, container=True)
    if options is not None and options.iac == "terraform":
        return _terraform(infrastructure)
    return _sam(infrastructure)


def _sam(infrastructure: model.Infrastructure) -> Plan:
    from faasport.deploy.aws.sam import image_template, template

    project = infrastructure.project
    deploy = (
        "sam",
        "deploy",
        "--template-file",
        "template.yaml",
        "--stack-name",
        project.name,
        "--region",
        project.region,
        "--resolve-s3",
        "--capabilities",
        "CAPABILITY_IAM",
        "--no-fail-on-empty-changeset",
    )
    files = {"template.yaml": template(infrastructure)}
    commands: tuple[tuple[str, ...], ...] = (PACKAGE, deploy)
    if infrastructure.container:
        files[IMAGE_TEMPLATE] = image_template(infrastructure)
        files[image.SCRIPT] = image.push_script(project, "sam")
        cloudformation = ("aws", "cloudformation", "deploy", "--region", project.region)
        repository = (
            *cloudformation,
            *("--template-file", IMAGE_TEMPLATE, "--stack-name", image.image_stack(project)),
            "--no-fail-on-empty-changeset",
        )
        # CloudFormation runs the SAM transform itself; the SAM CLI would want to push the
        # image again. The pinned image comes from the file push-image.sh writes.
        functions = (
            *cloudformation,
            *("--template-file", "template.yaml", "--stack-name", project.name),
            *("--capabilities", "CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"),
            "--no-fail-on-empty-changeset",
            *("--parameter-overrides", f"file://{image.SAM_PARAMETERS}"),
        )
        commands = (PACKAGE_CONTAINER, repository, PUSH_IMAGE, functions)
    return Plan(
        provider="aws",
        files=files,
        commands=commands,
        install_hint=CONTAINER_HINT
        if infrastructure.container
        else "install the AWS SAM CLI: pip install aws-sam-cli",
        foreign=TERRAFORM_FILES,
        foreign_hint="deploy/aws holds the Terraform deployment; run `terraform destroy` there "
        "if it was applied and delete its files to switch to SAM, or deploy with --iac "
        "terraform",
    )


def _terraform(infrastructure: model.Infrastructure) -> Plan:
    from faasport.deploy.aws.terraform import REPOSITORY_RESOURCE, files

    project = infrastructure.project
    written = files(infrastructure)
    init = ("terraform", "init", "-input=false")
    apply = ("terraform", "apply", "-input=false")
    commands: tuple[tuple[str, ...], ...] = (PACKAGE, init, apply)
    if infrastructure.container:
        written[image.SCRIPT] = image.push_script(project, "terraform")
        # The repository first; push-image.sh writes image.auto.tfvars.json for the rest.
        repository = (*apply, f"-target={REPOSITORY_RESOURCE}")
        commands = (PACKAGE_CONTAINER, init, repository, PUSH_IMAGE, apply)
    return Plan(
        provider="aws",
        files=written,
        commands=commands,
        install_hint="install Terraform: https://developer.hashicorp.com/terraform/install",
        foreign=SAM_FILES,
        foreign_hint="deploy/aws holds the SAM deployment; run `sam delete --stack-name "
        f"{project.name}` if it was deployed and delete deploy/aws/template.yaml to switch "
        "to Terraform, or deploy with --iac sam",
    )
