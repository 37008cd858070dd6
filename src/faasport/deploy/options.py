"""The options of ``faasport deploy``, declared once: the command line offers them, the
provider registry refuses those a provider does not take, the providers read them typed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Iac = Literal["sam", "terraform"]
#: ``--iac`` values, the default first.
IAC: tuple[Iac, ...] = ("sam", "terraform")
Package = Literal["zip", "container"]
#: ``--package`` values, the default first.
PACKAGES: tuple[Package, ...] = ("zip", "container")


@dataclass(frozen=True)
class Options:
    #: AWS: the infrastructure as a SAM template or as Terraform.
    iac: Iac = "sam"
    #: The functions' code as a zip (the provider's Python runtime) or as a container image
    #: (``faasport package --target container``): Lambda ``PackageType: Image`` from ECR,
    #: a Cloud Run service on Google Cloud.
    package: Package = "zip"
