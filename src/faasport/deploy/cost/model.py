"""Monthly cost of a project's functions on AWS, Google Cloud and Azure, from the config,
the traffic and the durations: list prices, free tiers and volume tiers applied once per
account, traffic spread evenly over the month.

What each provider bills, as modelled here (prices in ``prices.toml``):

* **AWS**: Lambda requests, and GB-seconds by architecture (duration rounded up to 1 ms);
  with ``warm = N``, N provisioned environments all month and every invocation billed at the
  provisioned duration price. HTTP functions add API Gateway requests (HTTP or REST API, at
  the volume tiers of the account's monthly total); queue events add SQS requests (a send
  per message, a receive and a delete per batch); topic events add SNS publishes. Free: 1M
  requests and 400,000 GB-s on demand, 1M SQS requests, 1M SNS publishes.
* **Google Cloud** (Cloud Run functions, request-based billing): vCPU-seconds and
  GiB-seconds at the function's memory and CPU while an instance serves requests (one
  request per instance), rounded up to 100 ms per busy period; requests; ``warm = N`` keeps
  N minimum instances, billed at the idle rates whenever they serve nothing. Free: 180,000
  vCPU-s, 360,000 GiB-s, 2M requests.
* **Azure** (Flex Consumption): one app whose instance memory fits the largest function; on
  demand GB-seconds while an instance executes (each activity period billed at least 1 s,
  then rounded up to 100 ms) and executions, free 100,000 GB-s and 250,000 executions; with
  ``warm = N`` (always ready) the baseline for N instances all month, and every execution at
  the always-ready rates, with no free grant.

Busy periods follow from the traffic spread evenly over the month: when invocations come
further apart than they last, each is a period of its own (billed at least the provider's
minimum, but never past the next invocation); when they come closer, instances are busy
without a break and billed for the time they run.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from faasport.config.model import Function, Project, QueueEvent, TopicEvent
from faasport.deploy.azure.model import INSTANCE_MEMORY
from faasport.deploy.cost.prices import Prices
from faasport.deploy.gcp.functions import cpu

#: The month these estimates mean: 730 hours, as the providers' calculators use.
MONTH_SECONDS = 730 * 3600
#: Fargate's smallest vCPU for a memory size (GB): (vCPU, most GB it allows).
FARGATE_SIZES = ((0.25, 2), (0.5, 4), (1, 8), (2, 16), (4, 30), (8, 60), (16, 120))
NAMES = {"aws": "AWS", "gcp": "Google Cloud", "azure": "Azure"}
NOT_INCLUDED = (
    "data transfer, logs and storage",
    "SQS and SNS messages over 64 KB (billed per 64 KB chunk)",
    "API Gateway's free tier (its first 12 months only)",
    "Pub/Sub, Eventarc and Azure Storage queue operations",
    "Lambda's billed init phase",
)
_LARGEST = 10**13


@dataclass(frozen=True)
class Usage:
    """One function's monthly traffic."""

    function: Function
    #: HTTP requests or events (queue and topic messages) a month.
    requests: int
    duration_ms: float

    @property
    def batch(self) -> int:
        queues = [e.batch for e in self.function.events if isinstance(e, QueueEvent)]
        return queues[0] if queues else 1

    @property
    def invocations(self) -> int:
        return math.ceil(self.requests / self.batch)


@dataclass(frozen=True)
class Charge:
    #: What is billed: ``"requests"``, ``"compute"``, ``"API Gateway"``...
    item: str
    amount: Decimal
    #: Units that the provider's monthly free tier covers: (free-tier key, quantity).
    free: tuple[tuple[str, Decimal], ...] = ()


@dataclass(frozen=True)
class FunctionCost:
    name: str
    charges: tuple[Charge, ...]

    @property
    def total(self) -> Decimal:
        return sum((c.amount for c in self.charges), Decimal(0))


@dataclass(frozen=True)
class ProviderCost:
    provider: str
    functions: tuple[FunctionCost, ...]
    #: What the free tier takes off (<= 0).
    free_tier: Decimal
    #: What volume tiers take off (<= 0).
    volume_discount: Decimal = Decimal(0)

    @property
    def total(self) -> Decimal:
        return sum((f.total for f in self.functions), self.free_tier + self.volume_discount)


def _gb(memory_mb: int) -> Decimal:
    return Decimal(memory_mb) / 1024


def _seconds(duration_ms: float, step_ms: int) -> Decimal:
    """Seconds billed for one run of ``duration_ms``: whole steps, one at least."""
    return Decimal(max(1, math.ceil(duration_ms / step_ms)) * step_ms) / 1000


def _busy_seconds(
    invocations: int, duration_ms: float, step_ms: int, minimum_ms: int = 0
) -> Decimal:
    """Instance seconds billed for ``invocations`` of ``duration_ms`` spread evenly over the
    month, where a provider bills each busy period at least ``minimum_ms`` and rounds it
    up to ``step_ms`` (see the module docstring)."""
    if invocations <= 0:
        return Decimal(0)
    duration = Decimal(str(duration_ms)) / 1000
    gap = Decimal(MONTH_SECONDS) / invocations
    if gap <= duration:
        return invocations * duration
    period = max(Decimal(minimum_ms) / 1000, _seconds(duration_ms, step_ms))
    return invocations * max(duration, min(gap, period))


# -- AWS ---------------------------------------------------------------------------------


def aws(prices: Prices, project: Project, usage: Usage) -> FunctionCost:
    function = usage.function
    arch = function.architecture
    invocations = Decimal(usage.invocations)
    gb_seconds = invocations * _gb(function.memory) * _seconds(usage.duration_ms, 1)
    requests = invocations * prices["aws.lambda_request"]
    charges = [Charge("Lambda requests", requests, (("aws.lambda_requests", invocations),))]
    if function.warm:
        provisioned = function.warm * _gb(function.memory) * MONTH_SECONDS
        charges.append(
            Charge(
                "provisioned concurrency",
                provisioned * prices[f"aws.provisioned_gb_second_{arch}"],
            )
        )
        duration = gb_seconds * prices[f"aws.provisioned_duration_gb_second_{arch}"]
        charges.append(Charge("Lambda compute (provisioned)", duration))
    else:
        price = prices[f"aws.lambda_gb_second_{arch}"]
        free = (("aws.lambda_gb_seconds", gb_seconds), ("price", price))
        charges.append(Charge("Lambda compute", gb_seconds * price, free))
    events = Decimal(usage.requests)
    if function.app is not None:
        kind = project.api.type
        api = events * prices[API_TIERS[kind][0][1]]
        charges.append(Charge(f"API Gateway {kind.upper()} API", api, ((f"aws.{kind}", events),)))
    if any(isinstance(e, QueueEvent) for e in function.events):
        sqs = events + 2 * invocations  # a send per message; a receive and a delete per batch
        charges.append(Charge("SQS", sqs * prices["aws.sqs_request"], (("aws.sqs", sqs),)))
    if any(isinstance(e, TopicEvent) for e in function.events):
        charges.append(Charge("SNS", events * prices["aws.sns_publish"], (("aws.sns", events),)))
    return FunctionCost(function.name, tuple(charges))


def _aws_free(prices: Prices, used: Mapping[str, list[tuple[Decimal, Decimal]]]) -> Decimal:
    credit = Decimal(0)
    for key, allowance, price in (
        ("aws.lambda_requests", prices["aws.lambda_free_requests"], prices["aws.lambda_request"]),
        ("aws.sqs", prices["aws.sqs_free_requests"], prices["aws.sqs_request"]),
        ("aws.sns", prices["aws.sns_free_publishes"], prices["aws.sns_publish"]),
    ):
        credit += min(sum(q for q, _ in used.get(key, [])), allowance) * price
    left = prices["aws.lambda_free_gb_seconds"]
    for quantity, price in used.get("aws.lambda_gb_seconds", []):
        taken = min(quantity, left)
        credit += taken * price
        left -= taken
    return credit


#: API Gateway's monthly volume tiers per account and region: (requests in the tier, price).
API_TIERS = {
    "http": ((300_000_000, "aws.http_api_request"), (None, "aws.http_api_request_over_300m")),
    "rest": (
        (333_000_000, "aws.rest_api_request"),
        (667_000_000, "aws.rest_api_request_next_667m"),
        (19_000_000_000, "aws.rest_api_request_next_19b"),
        (None, "aws.rest_api_request_over_20b"),
    ),
}


def _aws_volume(prices: Prices, used: Mapping[str, list[tuple[Decimal, Decimal]]]) -> Decimal:
    """What API Gateway's volume tiers take off the first-tier price every function was
    charged, the tiers being counted over all the account's requests."""
    discount = Decimal(0)
    for kind, tiers in API_TIERS.items():
        left = sum((q for q, _ in used.get(f"aws.{kind}", [])), Decimal(0))
        first = prices[tiers[0][1]]
        for size, key in tiers:
            taken = left if size is None else min(left, Decimal(size))
            discount += taken * (first - prices[key])
            left -= taken
    return discount


# -- Google Cloud ------------------------------------------------------------------------


def gcp(prices: Prices, project: Project, usage: Usage) -> FunctionCost:
    function = usage.function
    vcpu = Decimal(cpu(function.memory))
    gib = _gb(function.memory)
    seconds = _busy_seconds(usage.invocations, usage.duration_ms, 100)
    requests = Decimal(usage.invocations)
    charges = [
        Charge(
            "CPU",
            seconds * vcpu * prices["gcp.vcpu_second"],
            (("gcp.vcpu", seconds * vcpu),),
        ),
        Charge("memory", seconds * gib * prices["gcp.gib_second"], (("gcp.gib", seconds * gib),)),
        Charge("requests", requests * prices["gcp.request"], (("gcp.requests", requests),)),
    ]
    if function.warm:
        # A minimum instance serving a request is billed as busy (above), not as idle.
        kept = Decimal(function.warm * MONTH_SECONDS)
        idle = (kept - min(seconds, kept)) * (
            vcpu * prices["gcp.idle_vcpu_second"] + gib * prices["gcp.idle_gib_second"]
        )
        charges.append(Charge("idle minimum instances", idle))
    return FunctionCost(function.name, tuple(charges))


def _gcp_free(prices: Prices, used: Mapping[str, list[tuple[Decimal, Decimal]]]) -> Decimal:
    credit = Decimal(0)
    for key, allowance, price in (
        ("gcp.vcpu", prices["gcp.free_vcpu_seconds"], prices["gcp.vcpu_second"]),
        ("gcp.gib", prices["gcp.free_gib_seconds"], prices["gcp.gib_second"]),
        ("gcp.requests", prices["gcp.free_requests"], prices["gcp.request"]),
    ):
        credit += min(sum(q for q, _ in used.get(key, [])), allowance) * price
    return credit


# -- Azure -------------------------------------------------------------------------------


def instance_memory(project: Project) -> int:
    """The Flex Consumption instance size that fits the largest function (MB)."""
    need = max((f.memory for f in project.functions.values()), default=INSTANCE_MEMORY[0])
    return next((size for size in INSTANCE_MEMORY if need <= size), INSTANCE_MEMORY[-1])


def azure(prices: Prices, project: Project, usage: Usage) -> FunctionCost:
    function = usage.function
    gb = _gb(instance_memory(project))
    executions = Decimal(usage.invocations)
    gb_seconds = gb * _busy_seconds(usage.invocations, usage.duration_ms, 100, minimum_ms=1000)
    charges: tuple[Charge, ...]
    if function.warm:
        baseline = function.warm * gb * MONTH_SECONDS
        charges = (
            Charge(
                "always ready baseline", baseline * prices["azure.always_ready_baseline_gb_second"]
            ),
            Charge("execution time", gb_seconds * prices["azure.always_ready_gb_second"]),
            Charge("executions", executions * prices["azure.always_ready_execution"]),
        )
    else:
        charges = (
            Charge(
                "execution time",
                gb_seconds * prices["azure.on_demand_gb_second"],
                (("azure.gb_seconds", gb_seconds),),
            ),
            Charge(
                "executions",
                executions * prices["azure.on_demand_execution"],
                (("azure.executions", executions),),
            ),
        )
    return FunctionCost(function.name, charges)


def _azure_free(prices: Prices, used: Mapping[str, list[tuple[Decimal, Decimal]]]) -> Decimal:
    credit = Decimal(0)
    for key, allowance, price in (
        ("azure.gb_seconds", prices["azure.free_gb_seconds"], prices["azure.on_demand_gb_second"]),
        ("azure.executions", prices["azure.free_executions"], prices["azure.on_demand_execution"]),
    ):
        credit += min(sum(q for q, _ in used.get(key, [])), allowance) * price
    return credit


# -- all providers -----------------------------------------------------------------------

Costing = Callable[[Prices, Project, Usage], FunctionCost]
FreeTier = Callable[[Prices, Mapping[str, list[tuple[Decimal, Decimal]]]], Decimal]
PROVIDERS: dict[str, tuple[Costing, FreeTier]] = {
    "aws": (aws, _aws_free),
    "gcp": (gcp, _gcp_free),
    "azure": (azure, _azure_free),
}
#: Volume tiers applied over the account's total, like free tiers (<= what was charged).
VOLUME: dict[str, FreeTier] = {"aws": _aws_volume}


def estimate(prices: Prices, project: Project, provider: str, usages: list[Usage]) -> ProviderCost:
    costing, free_tier = PROVIDERS[provider]
    functions = tuple(costing(prices, project, usage) for usage in usages)
    used: dict[str, list[tuple[Decimal, Decimal]]] = {}
    for function in functions:
        for charge in function.charges:
            free = dict(charge.free)
            price = free.pop("price", Decimal(0))
            for key, quantity in free.items():
                used.setdefault(key, []).append((quantity, price))
    volume = -VOLUME[provider](prices, used) if provider in VOLUME else Decimal(0)
    return ProviderCost(provider, functions, -free_tier(prices, used), volume)


def container_month(prices: Prices, memory_mb: int) -> tuple[float, float, Decimal]:
    """An always-on AWS Fargate task of ``memory_mb``: (vCPU, GB, USD a month)."""
    gb = max(0.5, memory_mb / 1024)
    vcpu = next((v for v, most in FARGATE_SIZES if gb <= most), FARGATE_SIZES[-1][0])
    hourly = Decimal(str(vcpu)) * prices["aws.fargate_vcpu_hour"]
    hourly += Decimal(str(gb)) * prices["aws.fargate_gb_hour"]
    return vcpu, gb, hourly * 730


def break_even(
    prices: Prices, project: Project, provider: str, usage: Usage, container: Decimal
) -> int | None:
    """The monthly requests above which the container costs less than ``usage.function``
    alone on ``provider`` (free tier included); None when that never happens."""

    def cost(requests: int) -> Decimal:
        alone = Usage(usage.function, requests, usage.duration_ms)
        return estimate(prices, project, provider, [alone]).total

    if cost(_LARGEST) <= container:
        return None
    low, high = 0, _LARGEST
    while low < high:
        middle = (low + high) // 2
        if cost(middle) > container:
            high = middle
        else:
            low = middle + 1
    return low
