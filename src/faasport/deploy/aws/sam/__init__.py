"""The SAM template (``template.yaml``) of a project."""

from __future__ import annotations

from faasport.deploy.aws import naming
from faasport.deploy.aws.model import Infrastructure
from faasport.deploy.aws.sam import access, api, cfn, ci, functions, resources
from faasport.deploy.aws.yaml_text import Data, dump


def template(infrastructure: Infrastructure) -> str:
    all_resources: cfn.Resources = {}
    parts = (functions.resources, api.resources, access.resources, resources.resources)
    for part in (*parts, ci.resources):
        cfn.add(all_resources, part(infrastructure))
    document: dict[str, Data] = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": "AWS::Serverless-2016-10-31",
        "Description": naming.header(infrastructure.project),
        "Resources": all_resources,
        "Outputs": {
            **api.outputs(infrastructure),
            **resources.outputs(infrastructure),
            **ci.outputs(infrastructure),
        },
    }
    return dump(document)
