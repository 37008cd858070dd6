"""The SAM template (``template.yaml``) of a project."""

from __future__ import annotations

from faasport.deploy.aws import image, naming
from faasport.deploy.aws.model import Infrastructure
from faasport.deploy.aws.sam import access, api, cfn, functions, resources, websocket
from faasport.deploy.aws.yaml_text import Data, dump

REPOSITORY = "ImageRepository"


def template(infrastructure: Infrastructure) -> str:
    all_resources: cfn.Resources = {}
    parts = (
        functions.resources,
        api.resources,
        access.resources,
        resources.resources,
        websocket.resources,
    )
    for part in parts:
        cfn.add(all_resources, part(infrastructure))
    document: dict[str, Data] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": naming.header(infrastructure.project),
    }
    if infrastructure.container:
        document["Parameters"] = {
            image.PARAMETER: {
                "Type": "String",
                "Description": "The functions' image in the ECR repository of the "
                f"{image.image_stack(infrastructure.project)} stack, pinned by digest "
                f"(REPOSITORY@sha256:DIGEST; {image.SCRIPT} records it)",
                "AllowedPattern": image.PATTERN,
            }
        }
    document["Resources"] = all_resources
    document["Outputs"] = {
        **api.outputs(infrastructure),
        **resources.outputs(infrastructure),
        **websocket.outputs(infrastructure),
    }
    return dump(document)


def image_template(infrastructure: Infrastructure) -> str:
    """``image.yaml``: the ECR repository, a stack of its own deployed before the image is
    pushed and the functions are created from it."""
    project = infrastructure.project
    repository = cfn.resource(
        "AWS::ECR::Repository",
        {
            "RepositoryName": image.repository_name(project),
            # A tag always names the same image; functions are pinned by digest anyway.
            "ImageTagMutability": "IMMUTABLE",
            "ImageScanningConfiguration": {"ScanOnPush": True},
            "EncryptionConfiguration": {"EncryptionType": "KMS"},
            "LifecyclePolicy": {"LifecyclePolicyText": image.lifecycle_policy()},
        },
        on_delete="Retain",
    )
    document: dict[str, Data] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": naming.header(project),
        "Resources": {REPOSITORY: repository},
        "Outputs": {
            "RepositoryUri": {
                "Description": "Where push-image.sh pushes the functions' image",
                "Value": {"Fn::GetAtt": [REPOSITORY, "RepositoryUri"]},
            }
        },
    }
    return dump(document)
