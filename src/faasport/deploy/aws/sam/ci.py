"""``[ci]`` in the SAM template: GitHub's OIDC provider (unless the account's is given) and
the role a workflow of the repository assumes to deploy (:mod:`faasport.deploy.aws.ci`)."""

from __future__ import annotations

from faasport.deploy.aws import ci
from faasport.deploy.aws.model import Infrastructure
from faasport.deploy.aws.sam import cfn
from faasport.deploy.aws.yaml_text import Data

PROVIDER = "GitHubOidcProvider"
ROLE = "GitHubDeployRole"


def resources(infrastructure: Infrastructure) -> cfn.Resources:
    settings = infrastructure.project.ci
    if settings is None:
        return {}
    found: cfn.Resources = {}
    provider: Data
    if settings.oidc_provider is not None:
        provider = settings.oidc_provider
    else:
        found[PROVIDER] = cfn.resource(
            "AWS::IAM::OIDCProvider",
            {
                "Url": ci.ISSUER_URL,
                "ClientIdList": [ci.AUDIENCE],
                "ThumbprintList": list(ci.THUMBPRINTS),
            },
        )
        provider = cfn.ref(PROVIDER)
    found[ROLE] = cfn.resource(
        "AWS::IAM::Role",
        {
            "RoleName": ci.role_name(infrastructure.project),
            "Description": f"Assumed by GitHub Actions of {settings.github_repo} to deploy",
            "MaxSessionDuration": 3600,
            "AssumeRolePolicyDocument": ci.trust_policy(settings, provider),
            "Policies": [
                {"PolicyName": "deploy", "PolicyDocument": ci.permissions(infrastructure)}
            ],
        },
    )
    return found


def outputs(infrastructure: Infrastructure) -> dict[str, Data]:
    if infrastructure.project.ci is None:
        return {}
    return {
        "GitHubDeployRoleArn": {
            "Description": "role-to-assume of the GitHub Actions workflow",
            "Value": cfn.arn(ROLE),
        }
    }
