"""A small, deterministic YAML writer for CloudFormation templates: block style, keys in the
order given, strings left plain only when YAML cannot read them as anything else."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence

Data = str | int | float | bool | Sequence["Data"] | Mapping[str, "Data"]

_PLAIN = re.compile(r"[A-Za-z_/][A-Za-z0-9_./:+=-]*")
# Words YAML 1.1 readers (PyYAML, cfn-lint) take for booleans or null.
_RESERVED = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _scalar(value: str | int | float | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        # YAML 1.1 readers take "1e+21" for a string: the mantissa needs a dot.
        mantissa, e, exponent = repr(value).partition("e")
        return f"{mantissa}.0{e}{exponent}" if e and "." not in mantissa else repr(value)
    plain = _PLAIN.fullmatch(value) and not value.endswith(":")
    if plain and value.lower() not in _RESERVED:
        return value
    return json.dumps(value, ensure_ascii=False)


def _empty(value: Data) -> str | None:
    if isinstance(value, Mapping) and not value:
        return "{}"
    if isinstance(value, list | tuple) and not value:
        return "[]"
    return None


def _lines(value: Data, indent: str) -> list[str]:
    """The lines of a non-empty mapping or sequence, each starting with ``indent``."""
    out: list[str] = []
    if isinstance(value, Mapping):
        for key, item in value.items():
            head = f"{indent}{_scalar(key)}:"
            if isinstance(item, str | int | float | bool):
                out.append(f"{head} {_scalar(item)}")
            elif (empty := _empty(item)) is not None:
                out.append(f"{head} {empty}")
            else:
                child = indent if isinstance(item, list | tuple) else indent + "  "
                out.append(head)
                out.extend(_lines(item, child))
        return out
    assert isinstance(value, list | tuple)
    for item in value:
        if isinstance(item, str | int | float | bool):
            out.append(f"{indent}- {_scalar(item)}")
        elif (empty := _empty(item)) is not None:
            out.append(f"{indent}- {empty}")
        else:
            nested = _lines(item, indent + "  ")
            out.append(f"{indent}- {nested[0][len(indent) + 2 :]}")
            out.extend(nested[1:])
    return out


def dump(document: Mapping[str, Data]) -> str:
    return "\n".join(_lines(document, "")) + "\n"
