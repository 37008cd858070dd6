"""The options of ``faasport deploy``, declared once: the command line offers them, the
provider registry refuses those a provider does not take, the providers read them typed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Iac = Literal["sam", "terraform"]
#: ``--iac`` values, the default first.
IAC: tuple[Iac, ...] = ("sam", "terraform")


@dataclass(frozen=True)
class Options:
    #: AWS: the infrastructure as a SAM template or as Terraform.
    iac: Iac = "sam"
