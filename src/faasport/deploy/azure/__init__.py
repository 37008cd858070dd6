"""``faasport deploy azure``: Terraform for Azure Functions, from the parsed configuration.

Every function runs in one Function App on the Flex Consumption plan, from the bundle that
``faasport package --target azure`` writes. Flex Consumption rather than Linux Consumption:
it keeps instances always ready (``warm``), sizes their memory, caps instances per app,
scales each function on its own, and it is the plan Linux Consumption's users are moved to.
See docs/deploy.md for what each setting becomes.
"""

from __future__ import annotations

from faasport.config.model import Project
from faasport.deploy.azure import base, events, function_app
from faasport.deploy.azure.model import build
from faasport.deploy.hcl import Block, Ref, template
from faasport.deploy.plan import Plan
from faasport.deploy.terraform import terraform_plan

INSTALL_HINT = (
    "install Terraform (https://developer.hashicorp.com/terraform/install) and the Azure CLI "
    "(https://learn.microsoft.com/cli/azure/install-azure-cli), then sign in with `az login`"
)


def plan(project: Project) -> Plan:
    """The Terraform for ``project``."""
    model = build(project)
    files = {
        "main.tf": base.blocks(model),
        "function_app.tf": function_app.blocks(model),
        "events.tf": events.blocks(model),
        "outputs.tf": _outputs(),
    }
    # terraform apply deploys the code with az: fail early when it is not signed in.
    signed_in = ("az", "account", "show", "--output", "none")
    return terraform_plan("azure", project, files, INSTALL_HINT, checks=(signed_in,))


def _outputs() -> list[Block]:
    return [
        Block(
            "output",
            ("url",),
            {
                "description": "The Function App's URL.",
                "value": template("https://", Ref(f"{function_app.APP}.default_hostname")),
            },
        ),
        Block(
            "output",
            ("key_vault",),
            {
                "description": "The Key Vault holding the secrets (az keyvault secret set).",
                "value": Ref(f"{base.VAULT}.name"),
            },
        ),
    ]
