"""The project as Terraform: a root module (``versions.tf``, ``main.tf``, ``outputs.tf``) that
calls local modules under ``modules/`` (function, queue, topic, bucket, table, http_api or
rest_api), only those the project uses."""

from __future__ import annotations

from faasport.deploy.aws import naming
from faasport.deploy.aws.model import Infrastructure
from faasport.deploy.aws.terraform import image, root
from faasport.deploy.hcl import render

REPOSITORY_RESOURCE = image.REPOSITORY


def files(infrastructure: Infrastructure) -> dict[str, str]:
    blocks, modules = root.main(infrastructure)
    header = naming.header(infrastructure.project)
    out = {
        "versions.tf": render(root.terraform_block(infrastructure.project), header),
        "main.tf": render(blocks, header),
        "outputs.tf": render(
            root.outputs(infrastructure) + (image.outputs() if infrastructure.container else []),
            header,
        ),
    }
    for module in sorted(modules, key=lambda module: module.name):
        out.update(module.files(header))
    return out
