"""Faker's own data for one locale: the word lists, weights and formats its providers hold.

The bulk generators draw from these tuples directly instead of calling a Faker method per
value; the values are the ones Faker would produce, with the same weights.
"""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from faker import Faker
from faker.config import AVAILABLE_LOCALES


class UnknownLocaleError(ValueError):
    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.suggestions = difflib.get_close_matches(locale, AVAILABLE_LOCALES, n=3, cutoff=0.5)
        super().__init__(locale)


@dataclass(frozen=True)
class Elements:
    """Values to choose from, with cumulative weights when the provider weighs them."""

    values: tuple[Any, ...]
    cum_weights: tuple[float, ...] | None = None


class LocaleData:
    def __init__(self, locale: str) -> None:
        self.locale = locale
        self.faker = Faker(locale)
        # Faker puts the most specific provider first, as its own attribute lookup does.
        self._providers: dict[str, Any] = {}
        for provider in self.faker.factories[0].providers:
            kind = str(getattr(provider, "__provider__", "")).rsplit(".", 1)[-1]
            self._providers.setdefault(kind, provider)

    def provider(self, kind: str) -> Any:
        return self._providers[kind]

    @functools.cache  # noqa: B019 - one LocaleData per locale, kept for the process
    def elements(self, kind: str, attribute: str) -> Elements:
        data: Sequence[Any] | Mapping[Any, float] = getattr(self.provider(kind), attribute)
        if isinstance(data, Mapping):
            total = 0.0
            cumulative = []
            for weight in data.values():
                total += float(weight)
                cumulative.append(total)
            return Elements(tuple(data), tuple(cumulative))
        return Elements(tuple(data))

    def has(self, kind: str, attribute: str) -> bool:
        return kind in self._providers and hasattr(self._providers[kind], attribute)

    def overrides(self, kind: str, method: str, attribute: str) -> bool:
        """Whether the locale's provider defines ``method`` in a class more specific than
        the one holding ``attribute``: then the method may not draw from that attribute
        (ja_JP's ``city()`` picks from its ``cities``, not the inherited ``city_formats``)."""
        mro = type(self._providers[kind]).__mro__
        method_at = next((i for i, c in enumerate(mro) if method in vars(c)), None)
        data_at = next((i for i, c in enumerate(mro) if attribute in vars(c)), None)
        return method_at is not None and data_at is not None and method_at < data_at


@functools.cache
def locale_data(locale: str) -> LocaleData:
    """The data of ``locale`` (``en_US``), loaded once per process."""
    if locale not in AVAILABLE_LOCALES:
        raise UnknownLocaleError(locale)
    return LocaleData(locale)
