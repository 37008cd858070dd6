"""The price list of ``prices.toml``: every figure with its source page and the date it was
read, as exact decimals (money is never a float here)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

PRICES = Path(__file__).with_name("prices.toml")
PROVIDERS = ("aws", "gcp", "azure")


@dataclass(frozen=True)
class Figure:
    value: Decimal
    unit: str
    #: The provider page's title and what on it the figure is.
    source: str
    #: The provider page's address.
    page: str
    date: str
    #: Why the figure could not be checked on that page; empty when it was.
    unconfirmed: str = ""


@dataclass(frozen=True)
class Prices:
    #: ``"aws.lambda_request"`` -> its figure.
    figures: dict[str, Figure]

    def __getitem__(self, key: str) -> Decimal:
        return self.figures[key].value

    def date(self, provider: str) -> str:
        """The oldest date among ``provider``'s figures: how current its estimate is."""
        return min(f.date for k, f in self.figures.items() if k.startswith(f"{provider}."))


def load(path: Path = PRICES) -> Prices:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    figures = {}
    for provider, entries in data.items():
        for name, entry in entries.items():
            figures[f"{provider}.{name}"] = Figure(
                value=Decimal(str(entry["value"])),
                unit=str(entry["unit"]),
                source=str(entry["source"]),
                page=str(entry["page"]),
                date=str(entry["date"]),
                unconfirmed=str(entry.get("unconfirmed", "")),
            )
    return Prices(figures)
