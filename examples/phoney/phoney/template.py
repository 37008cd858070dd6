"""A template compiled once per request, then filled column by column.

``{"user": {"name": "{{name}}", "tags": ["{{word}}", "vip"]}, "note": "Hi {{first_name}}!"}``:
objects and lists keep their shape, a string that is exactly one placeholder takes the
generator's value (an integer stays an integer), a string with text around placeholders is
formatted, anything else is copied. Records are generated in batches of :data:`BATCH`, always
the same way, so a seed gives the same records whatever the format or the count's batching.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from random import Random
from typing import Any

from phoney import bulk
from phoney.bulk import Column
from phoney.generators import GENERATORS, ArgumentError
from phoney.locale_data import LocaleData

BATCH = 1000
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?::([^{}]*))?\}\}")


class TemplateError(ValueError):
    """A template that cannot be filled; ``detail`` is the JSON the client gets."""

    def __init__(self, detail: dict[str, Any]) -> None:
        self.detail = detail
        super().__init__(detail["message"])


@dataclass(frozen=True)
class Template:
    fill: Column
    #: The CSV column of each leaf, as dotted paths (``user.tags.0``).
    fields: tuple[str, ...]
    generators: int

    def records(self, rng: Random, count: int) -> Iterator[list[Any]]:
        """The records, one batch (a list) at a time."""
        for start in range(0, count, BATCH):
            yield self.fill(rng, min(BATCH, count - start))


def compile_template(template: Any, data: LocaleData, *, max_fields: int) -> Template:
    fields: list[str] = []
    used = [0]

    def leaf(path: str) -> None:
        fields.append(path)
        if len(fields) > max_fields:
            raise TemplateError(
                {"message": f"the template has more than {max_fields} fields", "path": path}
            )

    def node(value: Any, path: str) -> Column:
        if isinstance(value, dict):
            keys = [str(key) for key in value]
            children = [
                node(child, _join(path, key))
                for key, child in zip(keys, value.values(), strict=True)
            ]
            return _object(keys, children)
        if isinstance(value, list):
            return _array([node(child, _join(path, str(i))) for i, child in enumerate(value)])
        leaf(path)
        if isinstance(value, str):
            return _text(value, path, data, used)
        return lambda rng, n: [value] * n

    fill = node(template, "")
    return Template(fill, tuple(fields), used[0])


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _object(keys: list[str], children: list[Column]) -> Column:
    def column(rng: Random, n: int) -> list[Any]:
        if not children:
            return [{} for _ in range(n)]
        columns = [child(rng, n) for child in children]
        return [dict(zip(keys, row, strict=True)) for row in zip(*columns, strict=True)]

    return column


def _array(children: list[Column]) -> Column:
    def column(rng: Random, n: int) -> list[Any]:
        if not children:
            return [[] for _ in range(n)]
        return list(map(list, zip(*(child(rng, n) for child in children), strict=True)))

    return column


def _text(text: str, path: str, data: LocaleData, used: list[int]) -> Column:
    parts: list[Column | str] = []
    position = 0
    for found in PLACEHOLDER.finditer(text):
        if found.start() > position:
            parts.append(text[position : found.start()])
        parts.append(_generator(found, path, data))
        used[0] += 1
        position = found.end()
    if not parts:
        return lambda rng, n: [text] * n
    if position < len(text):
        parts.append(text[position:])
    return bulk.join(parts)


def _generator(found: re.Match[str], path: str, data: LocaleData) -> Column:
    name, arguments = found.group(1), found.group(2)
    generator = GENERATORS.get(name)
    if generator is None:
        raise TemplateError(
            {
                "message": f'unknown generator "{name}"',
                "generator": name,
                "path": path,
                "suggestions": difflib.get_close_matches(name, GENERATORS, n=3, cutoff=0.6),
            }
        )
    args = tuple(arg.strip() for arg in arguments.split(",")) if arguments is not None else ()
    try:
        return generator.bind(data, args)
    except ArgumentError as exc:
        raise TemplateError(
            {
                "message": f'generator "{name}" {exc}',
                "generator": name,
                "path": path,
                "usage": generator.example,
            }
        ) from None
