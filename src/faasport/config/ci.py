"""``[ci]``: the continuous-integration system allowed to deploy the project. With
``github_repo = "owner/name"``, ``faasport deploy aws`` also writes the IAM role that a GitHub
Actions workflow of that repository assumes through OpenID Connect (``faasport init --ci
github`` writes such a workflow)."""

from __future__ import annotations

import re

from faasport.config.fields import Table
from faasport.config.model import Ci

_REPO = re.compile(r"[A-Za-z0-9-]{1,39}/[A-Za-z0-9._-]{1,100}")
_BRANCH = re.compile(r"[A-Za-z0-9._/-]{1,255}")
_PROVIDER = re.compile(
    r"arn:aws[a-z-]*:iam::\d{12}:oidc-provider/token\.actions\.githubusercontent\.com"
)


def parse_ci(top: Table) -> Ci | None:
    table = top.table("ci")
    if table is None:
        return None
    repo = table.string("github_repo", None, pattern=_REPO, expected='"owner/name" on GitHub')
    if repo is None:
        table.fail("github_repo", 'is required: the GitHub repository, as "owner/name"')
    branches = table.strings("branches", "branch names") or ("main",)
    for index, branch in enumerate(branches):
        if not _BRANCH.fullmatch(branch) or "*" in branch:
            table.source.fail(
                f"{table.key('branches')}[{index}]",
                f'must be a branch name like "main" (no wildcards), got "{branch}"',
            )
    provider = table.string(
        "oidc_provider",
        None,
        pattern=_PROVIDER,
        expected="the ARN of the account's existing GitHub OIDC provider "
        '("arn:aws:iam::ACCOUNT:oidc-provider/token.actions.githubusercontent.com")',
    )
    table.finish()
    return Ci(github_repo=repo, branches=branches, oidc_provider=provider)
