"""``faasport cost``: what the project's functions cost a month on each provider."""

from faasport.deploy.cost.model import (
    FunctionCost,
    ProviderCost,
    Usage,
    break_even,
    container_month,
    estimate,
)
from faasport.deploy.cost.prices import Prices, load

__all__ = [
    "FunctionCost",
    "Prices",
    "ProviderCost",
    "Usage",
    "break_even",
    "container_month",
    "estimate",
    "load",
]
