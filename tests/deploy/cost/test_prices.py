"""The price file: every figure names its provider page (title and address), the date it was
read there, and, when the page did not show it, why it is kept unconfirmed."""

from __future__ import annotations

from pathlib import Path

import pytest

from faasport.deploy.cost.prices import PRICES, load

#: Where each provider publishes its prices.
PROVIDER_SITES = {
    "aws": "https://aws.amazon.com/",
    "gcp": "https://cloud.google.com/",
    "azure": "https://azure.microsoft.com/",
}


def test_every_price_names_its_page_and_date() -> None:
    assert PRICES.is_file()
    prices = load()
    for key, figure in prices.figures.items():
        provider = key.split(".")[0]
        assert figure.value > 0, key
        assert "pricing" in figure.source.lower(), key
        assert figure.page.startswith(PROVIDER_SITES[provider]), key
        assert len(figure.date) == 10 and figure.date[4] == "-", key
    for provider in PROVIDER_SITES:
        assert prices.date(provider) == "2026-11-28"


def test_a_figure_without_its_page_fails_to_load(tmp_path: Path) -> None:
    path = tmp_path / "prices.toml"
    path.write_text('[aws.x]\nvalue = 1\nunit = "u"\nsource = "s pricing"\ndate = "2026-01-01"\n')
    with pytest.raises(KeyError, match="page"):
        load(path)


def test_unconfirmed_figures_say_why() -> None:
    prices = load()
    unconfirmed = {k: f.unconfirmed for k, f in prices.figures.items() if f.unconfirmed}
    # The published examples confirm these, so they are not among them.
    confirmed = {"aws.lambda_gb_second_arm64", "aws.http_api_request", "azure.on_demand_gb_second"}
    assert not confirmed & set(unconfirmed)
    assert all(len(why) > 40 for why in unconfirmed.values())
