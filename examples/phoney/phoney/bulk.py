"""Columns of values drawn in bulk: one ``random.Random.choices`` call per column instead of
one Faker call per value.

A column function takes the request's ``Random`` and a count and returns that many values.
Every draw comes from the one ``Random`` in a fixed order, so a seed gives the same values.
"""

from __future__ import annotations

import functools
import itertools
import operator
import re
import string
from collections.abc import Callable, Iterable, Sequence
from random import Random
from typing import Any

from phoney.locale_data import Elements

Column = Callable[[Random, int], list[Any]]

#: What a Faker format holds: ``{{generator}}``, digit runs ``#`` and Faker's other digit
#: signs (``%`` 1-9, ``$`` 2-9, ``!`` a digit or nothing, ``@`` 1-9 or nothing), ``?`` a letter.
_FORMAT_TOKEN = re.compile(r"\{\{\s*(\w+)\s*\}\}|(#+)|([%$!@])|(\?)")
_DIGIT_SIGNS = {
    "%": tuple("123456789"),
    "$": tuple("23456789"),
    "!": (*"0123456789", ""),
    "@": (*"123456789", ""),
}
_DIGIT_CHUNK = 4


def choice(elements: Elements) -> Column:
    values, weights = elements.values, elements.cum_weights

    def column(rng: Random, n: int) -> list[Any]:
        return rng.choices(values, cum_weights=weights, k=n)

    return column


@functools.cache
def _zero_padded(width: int) -> tuple[str, ...]:
    return tuple(f"{i:0{width}d}" for i in range(10**width))


def digits(width: int) -> Column:
    """``width`` random digits per value (leading zeros kept), as Faker's ``#`` runs."""
    chunks = [_zero_padded(min(_DIGIT_CHUNK, width - start)) for start in range(0, width, 4)]
    if len(chunks) == 1:
        return lambda rng, n: rng.choices(chunks[0], k=n)

    def column(rng: Random, n: int) -> list[Any]:
        return list(map("".join, zip(*(rng.choices(chunk, k=n) for chunk in chunks), strict=True)))

    return column


def _one_of(characters: Sequence[str]) -> Column:
    return lambda rng, n: rng.choices(characters, k=n)


def join(parts: Sequence[Column | str]) -> Column:
    """Values made of literal text and columns, concatenated row by row."""
    if len(parts) == 1 and not isinstance(parts[0], str):
        return parts[0]

    def column(rng: Random, n: int) -> list[Any]:
        # Pairwise concatenation by map(operator.add) stays in C: several times faster than
        # "".join over zipped rows.
        joined: Iterable[str] | None = None
        for part in parts:
            values: Iterable[str]
            if isinstance(part, str):
                values = itertools.repeat(part, n)
            else:
                drawn = part(rng, n)
                values = drawn if not drawn or isinstance(drawn[0], str) else map(str, drawn)
            joined = values if joined is None else map(operator.add, joined, values)
        return list(joined or ())

    return column


def pattern(
    text: str,
    resolve: Callable[[str], Column],
    *,
    numerify: bool,
    letters: str = string.ascii_letters,
) -> Column:
    """A column for one Faker format string: ``{{name}}`` resolved to other columns and, with
    ``numerify``, ``#``/``%``/``?`` replaced by random digits and letters."""
    parts: list[Column | str] = []
    position = 0
    for found in _FORMAT_TOKEN.finditer(text):
        name, hashes, sign, question = found.groups()
        if name is None and not numerify:
            continue
        if found.start() > position:
            parts.append(text[position : found.start()])
        if name is not None:
            parts.append(resolve(name))
        elif hashes is not None:
            parts.append(digits(len(hashes)))
        elif sign is not None:
            parts.append(_one_of(_DIGIT_SIGNS[sign]))
        elif question is not None:
            parts.append(_one_of(letters))
        position = found.end()
    if position < len(text) or not parts:
        parts.append(text[position:])
    if all(isinstance(part, str) for part in parts):
        literal = "".join(str(part) for part in parts)
        return lambda rng, n: [literal] * n
    return join(parts)


def formats(
    elements: Elements,
    resolve: Callable[[str], Column],
    *,
    numerify: bool = False,
    letters: str = string.ascii_letters,
) -> Column:
    """Values of Faker's ``random_element(formats)`` then ``parse``: a format is picked per
    value (weighted as Faker weighs it), then each format fills its own rows in bulk."""
    compiled = [
        pattern(str(text), resolve, numerify=numerify, letters=letters) for text in elements.values
    ]
    if len(compiled) == 1:
        return compiled[0]
    indexes = range(len(compiled))
    weights = elements.cum_weights

    def column(rng: Random, n: int) -> list[Any]:
        picks = rng.choices(indexes, cum_weights=weights, k=n)
        rows: list[list[int]] = [[] for _ in compiled]
        for row, pick in enumerate(picks):
            rows[pick].append(row)
        values: list[Any] = [None] * n
        for fill, where in zip(compiled, rows, strict=True):
            if where:
                for row, value in zip(where, fill(rng, len(where)), strict=True):
                    values[row] = value
        return values

    return column


def mapped(column: Column, function: Callable[[Any], Any]) -> Column:
    return lambda rng, n: list(map(function, column(rng, n)))
