"""``faasport cost``: monthly cost per function on AWS, Google Cloud and Azure."""

from __future__ import annotations

import json
import statistics
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import click

from faasport.cli.project import project_option, resolve_project_dir
from faasport.core.errors import FaasportError

CENT = Decimal("0.01")


def _pairs(values: tuple[str, ...], option: str, number: type) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for value in values:
        name, sep, amount = value.partition("=")
        try:
            parsed = number(amount.replace("_", ""))
        except ValueError:
            parsed = None
        if not sep or not name or parsed is None or parsed < 0:
            raise click.BadParameter(
                f"{value!r}: expected FUNCTION=NUMBER, like api=3000000", param_hint=option
            )
        found[name] = parsed
    return found


def _usages(project: Any, requests: dict[str, int], durations: dict[str, float], dev: bool) -> Any:
    from faasport.deploy.cost import Usage
    from faasport.local import durations as measured

    for name in (*requests, *durations):
        if name not in project.functions:
            known = ", ".join(project.functions)
            raise FaasportError(f'unknown function "{name}"; the functions are: {known}')
    usages, sources = [], {}
    for name, function in project.functions.items():
        traffic = project.traffic.get(name)
        count = requests.get(name, traffic.requests if traffic else 0)
        duration = durations.get(name, traffic.duration_ms if traffic else None)
        source = "given"
        if duration is None and dev:
            recorded = measured.read(project.root, name)
            if recorded:
                duration, source = (
                    statistics.median(recorded),
                    f"median of {len(recorded)} runs under faasport dev",
                )
        if duration is None:
            raise FaasportError(
                f"no duration for function {name}: give --duration-ms {name}=MS, set "
                f"duration_ms in [traffic], or run it under faasport dev and add --from-dev"
            )
        usages.append(Usage(function, count, duration))
        sources[name] = source
    return usages, sources


def _money(amount: Decimal) -> str:
    rounded = amount.quantize(CENT, rounding=ROUND_HALF_UP)
    return f"-${-rounded:,}" if rounded < 0 else f"${abs(rounded):,}"  # never $-0.00


@click.command()
@project_option
@click.option(
    "--requests",
    "requests_given",
    multiple=True,
    metavar="FUNCTION=N",
    help="Requests (or events) a month for a function; overrides [traffic]. Repeatable.",
)
@click.option(
    "--duration-ms",
    "durations_given",
    multiple=True,
    metavar="FUNCTION=MS",
    help="Milliseconds per invocation for a function; overrides [traffic]. Repeatable.",
)
@click.option(
    "--from-dev",
    is_flag=True,
    help="Use the durations faasport dev measured (.faasport/durations/) where none is given.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the estimate as JSON.")
def cost(
    project_dir: Path | None,
    requests_given: tuple[str, ...],
    durations_given: tuple[str, ...],
    from_dev: bool,
    as_json: bool,
) -> None:
    """Estimate the monthly cost of every function on AWS, Google Cloud and Azure.

    Traffic comes from --requests or the [traffic] table; durations from --duration-ms,
    [traffic] or, with --from-dev, what faasport dev measured. Prices (list prices, free
    tiers applied once) come from one price file whose date is printed. See docs/cost.md.
    """
    from faasport.config import load_project
    from faasport.deploy.cost import break_even, container_month, estimate, load
    from faasport.deploy.cost.model import NAMES, NOT_INCLUDED

    project = load_project(resolve_project_dir(None, project_dir))
    requests = _pairs(requests_given, "--requests", int)
    durations = _pairs(durations_given, "--duration-ms", float)
    usages, sources = _usages(project, requests, durations, from_dev)
    prices = load()
    providers = {p: estimate(prices, project, p, usages) for p in NAMES}
    containers = {u.function.name: container_month(prices, u.function.memory) for u in usages}
    crossing = {
        u.function.name: {
            p: break_even(prices, project, p, u, containers[u.function.name][2]) for p in NAMES
        }
        for u in usages
    }
    dates = {p: prices.date(p) for p in NAMES}
    if as_json:
        click.echo(json.dumps(_as_json(usages, sources, providers, containers, crossing, dates)))
        return
    click.echo(f"{project.name}: monthly cost, list prices read {min(dates.values())}")
    header = f"{'function':<12}{'requests':>14}{'duration':>12}{'memory':>9}"
    header += "".join(f"{NAMES[p]:>15}" for p in NAMES)
    click.echo(header)
    for index, usage in enumerate(usages):
        row = f"{usage.function.name:<12}{usage.requests:>14,}{usage.duration_ms:>9.1f} ms"
        row += f"{usage.function.memory:>6} MB"
        row += "".join(f"{_money(providers[p].functions[index].total):>15}" for p in NAMES)
        click.echo(row)
    click.echo(
        f"{'free tier':<47}" + "".join(f"{_money(c.free_tier):>15}" for c in providers.values())
    )
    if any(c.volume_discount for c in providers.values()):
        volume = "".join(f"{_money(c.volume_discount):>15}" for c in providers.values())
        click.echo(f"{'volume tiers':<47}" + volume)
    click.echo(f"{'total':<47}" + "".join(f"{_money(c.total):>15}" for c in providers.values()))
    click.echo("")
    for usage in usages:
        vcpu, gb, month = containers[usage.function.name]
        where = ", ".join(
            f"{NAMES[p]} above {n:,}" if n is not None else f"{NAMES[p]} never"
            for p, n in crossing[usage.function.name].items()
        )
        click.echo(
            f"{usage.function.name}: an always-on container (AWS Fargate {vcpu:g} vCPU, "
            f"{gb:g} GB: {_money(month)} a month) costs less at requests a month: {where}"
        )
    measured = [f"{n} ({s})" for n, s in sources.items() if s != "given"]
    if measured:
        click.echo("durations measured by faasport dev: " + ", ".join(measured))
    click.echo("not included: " + "; ".join(NOT_INCLUDED))


def _as_json(
    usages: Any, sources: Any, providers: Any, containers: Any, crossing: Any, dates: Any
) -> dict[str, Any]:
    return {
        "prices_date": dates,
        "functions": [
            {
                "name": u.function.name,
                "requests": u.requests,
                "invocations": u.invocations,
                "duration_ms": u.duration_ms,
                "duration_source": sources[u.function.name],
                "memory_mb": u.function.memory,
                "container": {
                    "vcpu": containers[u.function.name][0],
                    "gb": containers[u.function.name][1],
                    "monthly": str(_round(containers[u.function.name][2])),
                },
                "container_cheaper_above": crossing[u.function.name],
            }
            for u in usages
        ],
        "providers": {
            p: {
                "total": str(_round(c.total)),
                "free_tier": str(_round(c.free_tier)),
                "volume_discount": str(_round(c.volume_discount)),
                "functions": {
                    f.name: {
                        "total": str(_round(f.total)),
                        "charges": {ch.item: str(_round(ch.amount)) for ch in f.charges},
                    }
                    for f in c.functions
                },
            }
            for p, c in providers.items()
        },
    }


def _round(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)
