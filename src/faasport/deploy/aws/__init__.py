"""``faasport deploy aws``: the project as a SAM template (default) or as Terraform modules.

Both describe the same infrastructure, decided in :mod:`.model` and :mod:`.policy`: the
functions with their limits, roles, log groups and alarms; an HTTP or REST API; queues with
dead-letter queues; topics, buckets, schedules; the DynamoDB state table.
"""

from __future__ import annotations

from faasport.config.model import Project
from faasport.deploy.aws import model
from faasport.deploy.options import Options
from faasport.deploy.plan import Plan, deploy_folder, package_command

#: What each IaC leaves in deploy/aws: the other one refuses to deploy beside it.
SAM_FILES = ("template.yaml", "samconfig.toml", ".aws-sam")
TERRAFORM_FILES = ("main.tf", "terraform.tfstate", ".terraform")


def plan(project: Project, options: Options | None = None) -> Plan:
    """The files and commands that deploy ``project``: a SAM template, or Terraform with
    ``options.iac == "terraform"``."""
    infrastructure = model.build(project)
    if options is not None and options.iac == "terraform":
        return _terraform(infrastructure)
    return _sam(infrastructure)


def _sam(infrastructure: model.Infrastructure) -> Plan:
    from faasport.deploy.aws.sam import template

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
    return Plan(
        provider="aws",
        files={"template.yaml": template(infrastructure)},
        commands=(package_command("aws", project), deploy),
        install_hint="install the AWS SAM CLI: pip install aws-sam-cli",
        foreign=TERRAFORM_FILES,
        foreign_hint=f"{deploy_folder('aws', project)} holds the Terraform deployment; run "
        "`terraform destroy` there "
        "if it was applied and delete its files to switch to SAM, or deploy with --iac "
        "terraform",
    )


def _terraform(infrastructure: model.Infrastructure) -> Plan:
    from faasport.deploy.aws.terraform import files

    project = infrastructure.project
    folder = deploy_folder("aws", project)
    return Plan(
        provider="aws",
        files=files(infrastructure),
        commands=(
            package_command("aws", project),
            ("terraform", "init", "-input=false"),
            ("terraform", "apply", "-input=false"),
        ),
        install_hint="install Terraform: https://developer.hashicorp.com/terraform/install",
        foreign=SAM_FILES,
        foreign_hint=f"{folder} holds the SAM deployment; run `sam delete --stack-name "
        f"{project.name}` if it was deployed and delete {folder}/template.yaml to switch "
        "to Terraform, or deploy with --iac sam",
    )
