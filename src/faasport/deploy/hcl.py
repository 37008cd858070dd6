"""A small, deterministic writer of Terraform's HCL from Python values.

Attributes are written in the order given; strings are quoted and escaped, except
:class:`Ref` values, which are written as they are (``aws_sqs_queue.jobs.arn``,
``var.region``), and :class:`Call` values (``jsonencode({...})``). :func:`template` builds
an interpolated string. Nested blocks are :class:`Block` values in a block's body.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Ref:
    """An HCL expression written verbatim: a reference, a function call, an interpolation."""

    expression: str


@dataclass(frozen=True)
class Call:
    """A function call with value arguments: ``Call("jsonencode", ({"a": Ref("var.b")},))``."""

    function: str
    args: tuple[Value, ...]


Value = str | int | float | bool | None | Ref | Call | Sequence["Value"] | Mapping[str, "Value"]


def template(*parts: str | Ref) -> Ref:
    """A string template: literal parts escaped, Ref parts interpolated as ``${...}``."""
    text = "".join(
        f"${{{part.expression}}}" if isinstance(part, Ref) else _string(part)[1:-1]
        for part in parts
    )
    return Ref(f'"{text}"')


@dataclass(frozen=True)
class Block:
    """``type "label" "label" { body }``; body values that are Blocks become nested blocks."""

    type: str
    labels: tuple[str, ...] = ()
    body: Mapping[str, Value | Block | Sequence[Block]] = field(default_factory=dict)
    #: Lines written as ``# ...`` comments first inside the block, e.g. checkov skip
    #: annotations with their reason: ``"checkov:skip=CKV_AWS_117:no VPC to reach"``.
    comments: tuple[str, ...] = ()


def _string(text: str) -> str:
    # JSON escaping is valid HCL escaping; "${" and "%{" start templates in HCL.
    return json.dumps(text).replace("${", "$${").replace("%{", "%%{")


def _value(value: Value, indent: str) -> str:
    if isinstance(value, Ref):
        return value.expression
    if isinstance(value, Call):
        return f"{value.function}({', '.join(_value(arg, indent) for arg in value.args)})"
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int | float):
        return json.dumps(value)
    if isinstance(value, str):
        return _string(value)
    inner = indent + "  "
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        width = max(len(_key(k)) for k in value)
        lines = [f"{inner}{_key(k).ljust(width)} = {_value(v, inner)}" for k, v in value.items()]
        return "{\n" + "\n".join(lines) + f"\n{indent}}}"
    items = [_value(item, inner) for item in value]
    if not items:
        return "[]"
    if sum(len(item) for item in items) < 60 and all("\n" not in item for item in items):
        return "[" + ", ".join(items) + "]"
    return "[\n" + "".join(f"{inner}{item},\n" for item in items) + f"{indent}]"


def _key(key: str) -> str:
    return key if key.replace("_", "a").replace("-", "a").isalnum() else _string(key)


def _is_blocks(value: object) -> bool:
    return isinstance(value, Block) or (
        isinstance(value, list | tuple) and bool(value) and isinstance(value[0], Block)
    )


def _block(block: Block, indent: str) -> str:
    head = " ".join([block.type, *(_string(label) for label in block.labels)])
    inner = indent + "  "
    attributes = [(k, v) for k, v in block.body.items() if not _is_blocks(v)]
    nested: list[Block] = []
    for value in block.body.values():
        if isinstance(value, Block):
            nested.append(value)
        elif _is_blocks(value):
            nested.extend(value)  # type: ignore[arg-type]
    if not attributes and not nested and not block.comments:
        return f"{indent}{head} {{}}"
    lines = [f"{indent}{head} {{"]
    lines.extend(f"{inner}#{text}" for text in block.comments)
    if attributes:
        width = max(len(key) for key, _ in attributes)
        for key, value in attributes:
            lines.append(f"{inner}{key.ljust(width)} = {_value(value, inner)}")  # type: ignore[arg-type]
    for child in nested:
        if attributes or child is not nested[0]:
            lines.append("")
        lines.append(_block(child, inner))
    lines.append(f"{indent}}}")
    return "\n".join(lines)


def render(blocks: Sequence[Block], header: str = "") -> str:
    """The text of one ``.tf`` file: ``header`` as ``#`` comments, then the blocks."""
    out = [f"# {line}".rstrip() for line in header.splitlines()]
    out.extend(_block(block, "") + "\n" for block in blocks)
    return "\n".join(out)
