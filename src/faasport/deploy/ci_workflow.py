"""The GitHub Actions workflow ``faasport init --ci github`` writes: on every push and pull
request it checks the project and runs its tests; on a push to a deploying branch it then
deploys with short-lived credentials from GitHub's OIDC token (no stored cloud keys):

- AWS: ``aws-actions/configure-aws-credentials`` assumes the role ``faasport deploy aws``
  writes for ``[ci]`` (:mod:`faasport.deploy.aws.ci`);
- Google Cloud: ``google-github-actions/auth`` through a workload identity provider to a
  service account;
- Azure: ``azure/login`` with a federated identity credential of an app registration.

Only the deploy job may request the token (``id-token: write``); the workflow's default is
read-only. The values that name the account are repository variables (``vars.*``), not
secrets: none of them is a credential.
"""

from __future__ import annotations

import json
from typing import Literal

from faasport.config.model import Project

Cloud = Literal["aws", "gcp", "azure"]
CLOUDS: tuple[Cloud, ...] = ("aws", "gcp", "azure")
#: Where the workflow goes, relative to the repository root.
PATH = ".github/workflows/faasport.yml"

CHECKOUT = "actions/checkout@v4"
SETUP_PYTHON = "actions/setup-python@v5"
AWS_CREDENTIALS = "aws-actions/configure-aws-credentials@v4"
SETUP_SAM = "aws-actions/setup-sam@v2"
GCP_AUTH = "google-github-actions/auth@v2"
AZURE_LOGIN = "azure/login@v2"
SETUP_TERRAFORM = "hashicorp/setup-terraform@v3"


def _q(text: str) -> str:
    """A YAML scalar that stays a string (JSON's quoting is YAML's)."""
    return json.dumps(text)


def workflow(project: Project, cloud: Cloud, *, stage: str | None = None) -> str:
    """The workflow's text for ``project`` deployed to ``cloud`` (``--stage`` ``stage``)."""
    from faasport.deploy.aws.ci import role_name

    branches = project.ci.branches if project.ci is not None else ("main",)
    on_branches = ", ".join(_q(branch) for branch in branches)
    deploy_if = " || ".join(f"github.ref == 'refs/heads/{branch}'" for branch in branches)
    stage_flag = f" --stage {stage}" if stage else ""
    install = _q(
        "python -m pip install --upgrade pip && "
        "if [ -f requirements.txt ]; then pip install -r requirements.txt; fi && "
        "pip install 'faasport[cli]' pytest"
    )
    setup = f"""      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - uses: {SETUP_PYTHON}
        with:
          python-version: {_q(project.python)}
      - name: Install
        run: {install}
"""
    if cloud == "aws":
        role = role_name(project)
        login = f"""      - name: AWS credentials (OIDC, role {role})
        uses: {AWS_CREDENTIALS}
        with:
          role-to-assume: {_q(f"arn:aws:iam::${{{{ vars.AWS_ACCOUNT_ID }}}}:role/{role}")}
          role-session-name: {_q(f"github-{project.name}")}
          aws-region: {_q(project.region)}
      - uses: {SETUP_SAM}
        with:
          use-installer: true
"""
        env = ""
    elif cloud == "gcp":
        login = f"""      - name: Google Cloud credentials (workload identity federation)
        uses: {GCP_AUTH}
        with:
          workload_identity_provider: ${{{{ vars.GCP_WORKLOAD_IDENTITY_PROVIDER }}}}
          service_account: ${{{{ vars.GCP_SERVICE_ACCOUNT }}}}
      - uses: {SETUP_TERRAFORM}
"""
        env = """        env:
          TF_VAR_project: ${{ vars.GCP_PROJECT }}
"""
    else:
        login = f"""      - name: Azure credentials (federated identity)
        uses: {AZURE_LOGIN}
        with:
          client-id: ${{{{ vars.AZURE_CLIENT_ID }}}}
          tenant-id: ${{{{ vars.AZURE_TENANT_ID }}}}
          subscription-id: ${{{{ vars.AZURE_SUBSCRIPTION_ID }}}}
      - uses: {SETUP_TERRAFORM}
"""
        env = """        env:
          ARM_USE_OIDC: "true"
          ARM_CLIENT_ID: ${{ vars.AZURE_CLIENT_ID }}
          ARM_TENANT_ID: ${{ vars.AZURE_TENANT_ID }}
          ARM_SUBSCRIPTION_ID: ${{ vars.AZURE_SUBSCRIPTION_ID }}
"""
    state_note = ""
    if cloud != "aws":
        state_note = (
            "# Terraform keeps its state in deploy/: give it a remote backend (a bucket) before\n"
            "# deploying from CI, where each run starts from a fresh checkout.\n"
        )
    target = {"aws": "AWS", "gcp": "Google Cloud", "azure": "Azure"}[cloud]
    return f"""# Written by `faasport init --ci github`: tests every push and pull request; deploys
# {project.name} to {target} from {", ".join(branches)} with short-lived credentials (OIDC).
{state_note}name: faasport

on:
  push:
    branches: [{on_branches}]
  pull_request:

permissions:
  contents: read

concurrency:
  group: faasport-${{{{ github.ref }}}}
  cancel-in-progress: false

jobs:
  test:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    steps:
{setup}      - name: Check the configuration and imports
        run: faasport check
      - name: Tests
        run: python -m pytest -q

  deploy:
    needs: test
    if: github.event_name == 'push' && ({deploy_if})
    runs-on: ubuntu-latest
    timeout-minutes: 60
    permissions:
      contents: read
      id-token: write
    steps:
{setup}{login}      - name: Deploy
        run: faasport deploy {cloud}{stage_flag}
{env}"""
