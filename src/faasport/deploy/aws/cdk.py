"""The project as an AWS CDK construct, for a CDK app of the user's own: the resources of
``faasport deploy aws`` (the SAM template, included as it is written, logical ids kept) with
the artifact of ``faasport package`` as a CDK asset.

Imported by ``faasport.cdk`` only: it needs ``aws-cdk-lib`` (the ``cdk`` extra) and Node.js,
which nothing else in faasport does.
"""

from __future__ import annotations

import os
from pathlib import Path

from aws_cdk import aws_s3_assets, aws_sam
from aws_cdk import cloudformation_include as cfn_include
from constructs import Construct

from faasport.config import Project, load_project
from faasport.deploy.aws import model
from faasport.deploy.aws.sam import cfn, template

#: Where the included template is written, below the project root.
TEMPLATE_DIR = Path(".faasport") / "cdk"


class Faasport(Construct):  # type: ignore[misc]  # aws_cdk is not type-checked
    """Every resource ``faasport deploy aws`` creates for the project at ``project`` (with
    ``stage``'s overrides), in the stack the construct is added to.

    ``artifact`` is the zip of ``faasport package --target aws``; by default it is built
    while the app synthesizes. The SAM transform is added to the stack, and the logical ids
    are the template's (``ApiFunction``, ``JobsQueue``...): one per stack.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        project: str | os.PathLike[str] = ".",
        stage: str | None = None,
        artifact: str | os.PathLike[str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.project: Project = load_project(project, stage=stage)
        infrastructure = model.build(self.project)
        path = self.project.root / TEMPLATE_DIR / f"{self.project.name}.template.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template(infrastructure), encoding="utf-8")
        self.template = cfn_include.CfnInclude(self, "Template", template_file=str(path))
        if artifact is None:
            from faasport.deploy.package import build

            artifact = build(self.project, "aws").path
        self.artifact = aws_s3_assets.Asset(self, "Artifact", path=str(artifact))
        code = aws_sam.CfnFunction.S3LocationProperty(
            bucket=self.artifact.s3_bucket_name, key=self.artifact.s3_object_key
        )
        for name in self.project.functions:
            self.function(name).code_uri = code

    def function(self, name: str) -> aws_sam.CfnFunction:
        """The SAM function of the project's function ``name`` (to grant it more, to read
        its attributes...)."""
        resource: aws_sam.CfnFunction = self.template.get_resource(cfn.function_id(name))
        return resource
