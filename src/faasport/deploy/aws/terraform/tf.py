"""Terraform building blocks: resources with scanner skips, variables, outputs, modules."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from faasport.deploy.aws.skip_reasons import REASONS
from faasport.deploy.hcl import Block, Call, Ref, Value, render

Body = Mapping[str, Value | Block | Sequence[Block]]


def resource(kind: str, name: str, body: Body, *, skip: tuple[str, ...] = ()) -> Block:
    """``resource "kind" "name"``; ``skip`` names the checkov checks that do not apply, each
    with its reason from :data:`faasport.deploy.aws.skip_reasons.REASONS`."""
    comments = tuple(f"checkov:skip={check}:{REASONS[check]}" for check in skip)
    return Block("resource", (kind, name), body, comments=comments)


def variable(name: str, type_: str, description: str) -> Block:
    """A module input. None has a default: the root module passes every one explicitly."""
    return Block("variable", (name,), {"type": Ref(type_), "description": description})


def output(name: str, value: Value, description: str) -> Block:
    return Block("output", (name,), {"description": description, "value": value})


def jsonencode(value: Value) -> Value:
    return Call("jsonencode", (value,))


@dataclass(frozen=True)
class Module:
    """A local module, written as ``modules/NAME/{variables,main,outputs}.tf``."""

    name: str
    variables: tuple[Block, ...]
    main: tuple[Block, ...]
    outputs: tuple[Block, ...]

    @property
    def source(self) -> str:
        return f"./modules/{self.name}"

    def files(self, header: str) -> dict[str, str]:
        folder = f"modules/{self.name}"
        return {
            f"{folder}/variables.tf": render(self.variables, header),
            f"{folder}/main.tf": render(self.main, header),
            f"{folder}/outputs.tf": render(self.outputs, header),
        }
