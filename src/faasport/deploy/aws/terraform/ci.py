"""``[ci]`` in the Terraform root module: GitHub's OIDC provider (unless the account's is
given) and the role a workflow of the repository assumes to deploy
(:mod:`faasport.deploy.aws.ci`)."""

from __future__ import annotations

from faasport.deploy.aws import ci
from faasport.deploy.aws.model import Infrastructure
from faasport.deploy.aws.terraform.tf import jsonencode, output, resource
from faasport.deploy.hcl import Block, Ref, Value

PROVIDER = "aws_iam_openid_connect_provider.github"
ROLE = "aws_iam_role.github_deploy"


def blocks(infrastructure: Infrastructure) -> list[Block]:
    settings = infrastructure.project.ci
    if settings is None:
        return []
    found: list[Block] = []
    provider: Value
    if settings.oidc_provider is not None:
        provider = settings.oidc_provider
    else:
        found.append(
            resource(
                "aws_iam_openid_connect_provider",
                "github",
                {
                    "url": ci.ISSUER_URL,
                    "client_id_list": [ci.AUDIENCE],
                    "thumbprint_list": list(ci.THUMBPRINTS),
                },
            )
        )
        provider = Ref(f"{PROVIDER}.arn")
    found.append(
        resource(
            "aws_iam_role",
            "github_deploy",
            {
                "name": ci.role_name(infrastructure.project),
                "description": f"Assumed by GitHub Actions of {settings.github_repo} to deploy",
                "max_session_duration": 3600,
                "assume_role_policy": jsonencode(ci.trust_policy(settings, provider)),
            },
        )
    )
    found.append(
        resource(
            "aws_iam_role_policy",
            "github_deploy",
            {
                "name": "deploy",
                "role": Ref(f"{ROLE}.id"),
                "policy": jsonencode(ci.permissions(infrastructure)),
            },
        )
    )
    return found


def outputs(infrastructure: Infrastructure) -> list[Block]:
    if infrastructure.project.ci is None:
        return []
    return [
        output(
            "github_deploy_role_arn",
            Ref(f"{ROLE}.arn"),
            "role-to-assume of the GitHub Actions workflow",
        )
    ]
