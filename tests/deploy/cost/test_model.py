"""The cost model against each provider's pricing: the provider's own published examples
reproduced to the cent (AWS Lambda, API Gateway, Azure Flex Consumption), and examples
worked by hand from the rates, each step written out, where no example is published
(Google Cloud Run, SQS, SNS, provisioned concurrency, always ready, Fargate)."""

from __future__ import annotations

import textwrap
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from faasport.config import Project, load_project
from faasport.deploy.cost import Usage, break_even, container_month, estimate, load
from faasport.deploy.cost.model import MONTH_SECONDS

PRICES_ = load()


def cents(amount: Decimal) -> Decimal:
    return amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def project(tmp_path: Path, text: str) -> Project:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "faasport.toml").write_text(textwrap.dedent(text))
    return load_project(tmp_path)


def one(tmp_path: Path, provider: str, text: str, requests: int, ms: float) -> Decimal:
    loaded = project(tmp_path, text)
    usages = [Usage(f, requests, ms) for f in loaded.functions.values()]
    return cents(estimate(PRICES_, loaded, provider, usages).total)


def test_aws_lambda_pricing_page_example_mobile_backend(tmp_path: Path) -> None:
    # AWS Lambda pricing, example 1 (US East): 3 million requests a month, 120 ms each,
    # 1536 MB on Arm. Compute: 3M x 0.12 s x 1.5 GB = 540,000 GB-s - 400,000 free =
    # 140,000 x $0.0000133334 = $1.87; requests: 2M billable x $0.20/M = $0.40; $2.27.
    text = '[functions.app]\nhandler = "a:h"\nmemory = 1536\narchitecture = "arm64"\n'
    assert one(tmp_path, "aws", text, 3_000_000, 120) == Decimal("2.27")


def test_aws_x86_http_api_and_provisioned_concurrency(tmp_path: Path) -> None:
    # 512 MB x86 behind an HTTP API, 10M requests of 200 ms: requests 9M x $0.20/M = $1.80;
    # compute 1,000,000 GB-s - 400,000 = 600,000 x $0.0000166667 = $10.00002; API Gateway
    # 10M x $1.00/M = $10.00. Total $21.80.
    text = '[functions.api]\napp = "a:app"\nmemory = 512\n'
    assert one(tmp_path, "aws", text, 10_000_000, 200) == Decimal("21.80")
    # warm = 1: 0.5 GB x 2,628,000 s x $0.0000041667 = $5.475; the 1,000,000 GB-s run on it
    # at $0.0000097222 = $9.7222 (no free tier); requests $1.80; API Gateway $10. $26.997...
    warm = text + "warm = 1\nconcurrency = 2\n"
    assert one(tmp_path / "w", "aws", warm, 10_000_000, 200) == Decimal("27.00")


def test_aws_queue_messages_count_sqs_requests_and_batched_invocations(tmp_path: Path) -> None:
    text = """
    [functions.worker]
    handler = "a:h"
    memory = 128
    events = [{ queue = "jobs", batch = 10 }]
    [queues.jobs]
    """
    loaded = project(tmp_path, text)
    usage = Usage(loaded.functions["worker"], 5_000_000, 100)
    assert usage.invocations == 500_000
    cost = estimate(PRICES_, loaded, "aws", [usage]).functions[0]
    charges = {c.item: c.amount for c in cost.charges}
    # 5M sends + 500k receives + 500k deletes = 6M requests x $0.40/M.
    assert cents(charges["SQS"]) == Decimal("2.40")
    assert cents(charges["Lambda requests"]) == Decimal("0.10")


def test_aws_topic_messages_count_sns_publishes(tmp_path: Path) -> None:
    text = """
    [functions.alerts]
    handler = "a:h"
    memory = 128
    events = [{ topic = "alerts" }]
    """
    loaded = project(tmp_path, text)
    cost = estimate(PRICES_, loaded, "aws", [Usage(loaded.functions["alerts"], 3_000_000, 10)])
    charges = {c.item: c.amount for c in cost.functions[0].charges}
    # 3M publishes x $0.50/M = $1.50, of which the free 1M ($0.50) comes off the total;
    # deliveries to Lambda are free. Lambda: 2M requests x $0.20/M = $0.40; 3M x 0.01 s x
    # 0.125 GB = 3,750 GB-s, within the free tier.
    assert cents(charges["SNS"]) == Decimal("1.50")
    assert cents(cost.total) == Decimal("1.40")


def test_api_gateway_pricing_page_example_http_api_volume_tier(tmp_path: Path) -> None:
    # Amazon API Gateway pricing, HTTP APIs example (US East): 432 million requests in a
    # month, the first 300 million at $1.00 per million and the other 132 million at
    # $0.90: $300.00 + $118.80 = $418.80.
    loaded = project(tmp_path, '[functions.api]\napp = "a:app"\n')
    usage = Usage(loaded.functions["api"], 432_000_000, 100)
    cost = estimate(PRICES_, loaded, "aws", [usage])
    charges = {c.item: c.amount for c in cost.functions[0].charges}
    assert cents(charges["API Gateway HTTP API"] + cost.volume_discount) == Decimal("418.80")


def test_api_gateway_volume_tiers_count_the_whole_account(tmp_path: Path) -> None:
    text = """
    [api]
    type = "rest"
    [functions.a]
    app = "a:app"
    routes = ["ANY /a/{proxy+}"]
    [functions.b]
    app = "b:app"
    routes = ["ANY /b/{proxy+}"]
    """
    loaded = project(tmp_path, text)
    usages = [Usage(f, 500_000_000, 100) for f in loaded.functions.values()]
    cost = estimate(PRICES_, loaded, "aws", usages)
    api = sum(c.amount for f in cost.functions for c in f.charges if c.item.startswith("API"))
    # 1,000M REST requests in all: 333M x $3.50/M + 667M x $2.80/M = $1,165.50 + $1,867.60.
    assert cents(api + cost.volume_discount) == Decimal("3033.10")


def test_azure_flex_consumption_published_example_cpu_bound(tmp_path: Path) -> None:
    # Microsoft Learn, "Estimating consumption-based costs", Flex Consumption example, CPU
    # bound: 40 requests a second, 10 at a time (so 250 ms each), 2,048 MB instances, no
    # always ready, on demand rates without free grants: 10 instances x 7,200 GB-s x
    # $0.000026 = $1.872 an hour, 144,000 executions x $0.40/M = $0.0576: $1.9296 an hour.
    loaded = project(tmp_path, '[functions.api]\napp = "a:app"\nmemory = 2048\n')
    usage = Usage(loaded.functions["api"], 40 * MONTH_SECONDS, 250)
    cost = estimate(PRICES_, loaded, "azure", [usage])
    hourly = cost.functions[0].total / 730  # before the free grant, as the example
    assert hourly == Decimal("1.9296")
    assert cents(hourly) == Decimal("1.93")


def test_azure_bills_each_sparse_execution_at_least_a_second(tmp_path: Path) -> None:
    # Flex Consumption bills an activity period at least 1,000 ms, then in 100 ms steps.
    # 100,000 executions of 50 ms a month come 26 s apart: each is a period of its own,
    # billed 1 s: 100,000 x 1 s x 2 GB = 200,000 GB-s - 100,000 free = 100,000 x $0.000026
    # = $2.60; the executions are within the free 250,000.
    text = '[functions.api]\napp = "a:app"\nmemory = 2048\n'
    assert one(tmp_path, "azure", text, 100_000, 50) == Decimal("2.60")
    # 1,250 ms: rounded up to 1,300 ms. 100,000 x 1.3 x 2 = 260,000 - 100,000 = 160,000 GB-s
    # x $0.000026 = $4.16.
    assert one(tmp_path / "b", "azure", text, 100_000, 1250) == Decimal("4.16")


def test_google_cloud_worked_from_the_cloud_run_rates(tmp_path: Path) -> None:
    # No worked example is published for request-based billing; from the rates: 512 MiB gets
    # 0.333 vCPU; 10M requests of 150 ms come 263 ms apart, so each busy period is billed
    # 200 ms (100 ms steps):
    # CPU 10M x 0.2 x 0.333 = 666,000 vCPU-s - 180,000 free = 486,000 x $0.000024 = $11.664
    # memory 10M x 0.2 x 0.5 = 1,000,000 GiB-s - 360,000 = 640,000 x $0.0000025 = $1.60
    # requests 8M x $0.40/M = $3.20. Total $16.464.
    text = '[functions.api]\napp = "a:app"\nmemory = 512\n'
    assert one(tmp_path, "gcp", text, 10_000_000, 150) == Decimal("16.46")
    # One minimum instance, idle when it serves nothing: 2,628,000 s - 2,000,000 s busy =
    # 628,000 s x (0.333 x $0.0000025 + 0.5 x $0.0000025) = $1.30781. Total $17.77.
    warm = text + "warm = 1\n"
    assert one(tmp_path / "w", "gcp", warm, 10_000_000, 150) == Decimal("17.77")
    # Without traffic it idles all month: 2,628,000 x $0.0000020825 = $5.47.
    assert one(tmp_path / "i", "gcp", warm, 0, 150) == Decimal("5.47")


def test_google_cloud_bills_busy_instances_for_the_time_they_run(tmp_path: Path) -> None:
    # 30M requests of 150 ms come 88 ms apart: instances never rest, so nothing is rounded.
    # CPU 30M x 0.15 x 0.333 = 1,498,500 - 180,000 = 1,318,500 x $0.000024 = $31.644
    # memory 30M x 0.15 x 0.5 = 2,250,000 - 360,000 = 1,890,000 x $0.0000025 = $4.725
    # requests 28M x $0.40/M = $11.20. Total $47.569.
    text = '[functions.api]\napp = "a:app"\nmemory = 512\n'
    assert one(tmp_path, "gcp", text, 30_000_000, 150) == Decimal("47.57")


def test_azure_worked_from_the_flex_consumption_rates(tmp_path: Path) -> None:
    # 2048 MB instances, 3M executions of 1 s on demand (0.88 s apart: busy throughout):
    # 6,000,000 GB-s - 100,000 free = 5,900,000 x $0.000026 = $153.40;
    # 3M - 250,000 free = 2,750,000 x $0.40/M = $1.10. Total $154.50.
    text = '[functions.api]\napp = "a:app"\nmemory = 2048\n'
    assert one(tmp_path, "azure", text, 3_000_000, 1000) == Decimal("154.50")
    # One always-ready instance, no free grant: baseline 2 GB x 2,628,000 s x $0.000004 =
    # $21.024; 6,000,000 GB-s x $0.000016 = $96.00; 3M x $0.40/M = $1.20. $118.224.
    warm = text + "warm = 1\n"
    assert one(tmp_path / "w", "azure", warm, 3_000_000, 1000) == Decimal("118.22")


def test_azure_bills_the_instance_size_that_fits_the_largest_function(tmp_path: Path) -> None:
    text = """
    [functions.small]
    handler = "a:h"
    memory = 256
    [functions.big]
    handler = "b:h"
    memory = 1024
    """
    loaded = project(tmp_path, text)
    usage = Usage(loaded.functions["small"], 1_000_000, 1000)
    cost = estimate(PRICES_, loaded, "azure", [usage]).functions[0]
    # Both run on 2048 MB instances: 1M x 1 s x 2 GB x $0.000026.
    assert cents(cost.charges[0].amount) == Decimal("52.00")


def test_free_tiers_apply_once_across_functions(tmp_path: Path) -> None:
    text = """
    [functions.a]
    handler = "a:h"
    memory = 1024
    [functions.b]
    handler = "b:h"
    memory = 1024
    """
    loaded = project(tmp_path, text)
    usages = [Usage(f, 1_000_000, 400) for f in loaded.functions.values()]
    cost = estimate(PRICES_, loaded, "aws", usages)
    # 2M requests - 1M free = $0.20; 800,000 GB-s - 400,000 free = 400,000 x $0.0000166667.
    assert cents(cost.total) == Decimal("6.87")
    assert cents(cost.free_tier) == Decimal("-6.87")


def test_the_container_break_even_is_where_the_costs_cross(tmp_path: Path) -> None:
    loaded = project(tmp_path, '[functions.api]\napp = "a:app"\nmemory = 512\n')
    vcpu, gb, month = container_month(PRICES_, 512)
    # Fargate: 730 h x (0.25 x $0.04048 + 0.5 x $0.004445) = $9.010...
    assert (vcpu, gb, cents(month)) == (0.25, 0.5, Decimal("9.01"))
    usage = Usage(loaded.functions["api"], 0, 100)
    crossing = break_even(PRICES_, loaded, "aws", usage, month)
    assert crossing is not None

    def total(requests: int) -> Decimal:
        alone = Usage(usage.function, requests, 100)
        return estimate(PRICES_, loaded, "aws", [alone]).total

    assert total(crossing - 1) <= month < total(crossing)
    provisioned = project(tmp_path / "p", '[functions.api]\napp = "a:app"\nwarm = 5\n')
    usage = Usage(provisioned.functions["api"], 0, 100)
    assert break_even(PRICES_, provisioned, "aws", usage, month) == 0  # dearer at no traffic


@pytest.mark.parametrize("provider", ["aws", "gcp", "azure"])
def test_no_traffic_costs_nothing_without_warm_environments(tmp_path: Path, provider: str) -> None:
    text = '[functions.api]\napp = "a:app"\n'
    assert one(tmp_path, provider, text, 0, 100) == Decimal("0.00")
