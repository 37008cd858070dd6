"""The IAM role a GitHub Actions workflow assumes to deploy the project (``[ci]``), decided once
for SAM and Terraform: its name, its trust policy (GitHub's OIDC tokens of one repository's
branches only) and its permissions (what ``sam deploy`` or ``terraform apply`` of this
project does, on resources named for it).

The trust policy follows GitHub's and AWS's guidance: the token's audience must be
``sts.amazonaws.com`` and its subject ``repo:OWNER/NAME:ref:refs/heads/BRANCH``, compared
exactly (``StringEquals``, no wildcard), so no other repository, branch, pull request or
environment can assume the role.
"""

from __future__ import annotations

from typing import Any

from faasport.config.model import Ci, Project
from faasport.deploy.aws import naming
from faasport.deploy.aws.model import Infrastructure

ISSUER = "token.actions.githubusercontent.com"
ISSUER_URL = f"https://{ISSUER}"
AUDIENCE = "sts.amazonaws.com"
#: The certificate thumbprints of GitHub's OIDC issuer. AWS no longer checks them for this
#: issuer, but CloudFormation and older providers still take a list.
THUMBPRINTS = (
    "6938fd4d98bab03faadb97b34396831e3780aea1",
    "1c58a3a8518e8759bf075b76b750d4f2df264fcd",
)
#: Where ``sam deploy --resolve-s3`` keeps the artifacts: its own stack and bucket.
SAM_MANAGED = "aws-sam-cli-managed-default"
#: The SAM transform the template uses, which CloudFormation runs as the caller.
SAM_TRANSFORM = "arn:*:cloudformation:*:aws:transform/Serverless-2016-10-31"


#: What deploying does to the functions' roles.
ROLE_ACTIONS = (
    "CreateRole",
    "DeleteRole",
    "GetRole",
    "UpdateRole",
    "UpdateRoleDescription",
    "UpdateAssumeRolePolicy",
    "PutRolePolicy",
    "GetRolePolicy",
    "DeleteRolePolicy",
    "AttachRolePolicy",
    "DetachRolePolicy",
    "ListRolePolicies",
    "ListAttachedRolePolicies",
    "TagRole",
    "UntagRole",
    "ListRoleTags",
    "PassRole",
)


def role_name(project: Project) -> str:
    return naming.physical(project.name, "github-deploy", limit=64)


def subjects(ci: Ci) -> list[str]:
    """The OIDC subjects allowed: a push (or a workflow run) on each branch."""
    return [f"repo:{ci.github_repo}:ref:refs/heads/{branch}" for branch in ci.branches]


def trust_policy(ci: Ci, provider_arn: Any) -> dict[str, Any]:
    """Who may assume the role; ``provider_arn`` as the IaC spells it (a reference)."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Federated": provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{ISSUER}:aud": AUDIENCE,
                        f"{ISSUER}:sub": subjects(ci),
                    }
                },
            }
        ],
    }


def permissions(infrastructure: Infrastructure) -> dict[str, Any]:
    """What deploying the project needs, on the resources whose names start with the
    project's name (functions, their roles, queues, topics, streams, tables, alarms, log
    groups), the configured buckets, the stack and SAM's artifact bucket. API Gateway ids are
    generated, so its resources cannot be named ahead."""
    project = infrastructure.project
    prefix = f"{project.name}-*"
    buckets = sorted({*infrastructure.notifications, *_configured_buckets(project)})
    bucket_arns = [f"arn:*:s3:::{SAM_MANAGED}-*"]
    bucket_arns += [f"arn:*:s3:::{bucket}" for bucket in buckets]
    named = {
        "lambda": [
            f"arn:*:lambda:*:*:function:{prefix}",
            "arn:*:lambda:*:*:event-source-mapping:*",
        ],
        "sqs": [f"arn:*:sqs:*:*:{prefix}"],
        "sns": [f"arn:*:sns:*:*:{prefix}"],
        "kinesis": [f"arn:*:kinesis:*:*:stream/{prefix}"],
        "events": [f"arn:*:events:*:*:rule/{prefix}", f"arn:*:events:*:*:event-bus/{prefix}"],
        "logs": [
            f"arn:*:logs:*:*:log-group:/aws/lambda/{prefix}",
            f"arn:*:logs:*:*:log-group:{naming.api_log_group(project)}",
            f"arn:*:logs:*:*:log-group:{naming.api_log_group(project)}:*",
        ],
        "cloudwatch": [f"arn:*:cloudwatch:*:*:alarm:{prefix}"],
        "s3": bucket_arns + [f"{arn}/*" for arn in bucket_arns],
        "apigateway": ["arn:*:apigateway:*::/*"],
        "cloudformation": [
            f"arn:*:cloudformation:*:*:stack/{project.name}/*",
            f"arn:*:cloudformation:*:*:stack/{SAM_MANAGED}/*",
            SAM_TRANSFORM,
        ],
    }
    if infrastructure.state_table:
        named["dynamodb"] = [f"arn:*:dynamodb:*:*:table/{infrastructure.state_table}"]
    statements: list[dict[str, Any]] = [
        {"Sid": service.capitalize(), "Effect": "Allow", "Action": f"{service}:*", "Resource": arns}
        for service, arns in named.items()
    ]
    statements.append(
        {
            # The functions' roles: managed and passed to Lambda, nothing else of IAM.
            "Sid": "FunctionRoles",
            "Effect": "Allow",
            "Action": [f"iam:{action}" for action in ROLE_ACTIONS],
            "Resource": f"arn:*:iam::*:role/{prefix}",
        }
    )
    statements.append(
        {
            # Reads that take no resource: listing, validating the template, what exists.
            "Sid": "Describe",
            "Effect": "Allow",
            "Action": [
                "cloudformation:ValidateTemplate",
                "cloudformation:ListStacks",
                "logs:DescribeLogGroups",
                "lambda:ListEventSourceMappings",
                "iam:ListRoles",
            ],
            "Resource": "*",
        }
    )
    statements.append(
        {
            # The role may not change itself, which would let a workflow widen its own rights.
            "Sid": "NotItself",
            "Effect": "Deny",
            "Action": "iam:*",
            "Resource": f"arn:*:iam::*:role/{role_name(project)}",
        }
    )
    return {"Version": "2012-10-17", "Statement": statements}


def _configured_buckets(project: Project) -> set[str]:
    from faasport.config.model import BucketEvent

    return {
        event.bucket
        for function in project.functions.values()
        for event in function.events
        if isinstance(event, BucketEvent)
    }
