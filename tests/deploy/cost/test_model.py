"""The cost model against each provider's pricing: a published example reproduced to the
cent where the provider publishes one (AWS), and otherwise examples worked by hand from the
rates on the provider's pricing page, each step written out."""

from __future__ import annotations

import textwrap
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import pytest

from faasport.config import Project, load_project
from faasport.deploy.cost import Usage, break_even, container_month, estimate, load
from faasport.deploy.cost.model import MONTH_SECONDS
from faasport.deploy.cost.prices import PRICES

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


def test_google_cloud_worked_from_the_cloud_run_rates(tmp_path: Path) -> None:
    # 512 MiB gets 0.333 vCPU; 10M requests of 150 ms bill 200 ms each (100 ms steps):
    # CPU 10M x 0.2 x 0.333 = 666,000 vCPU-s - 180,000 free = 486,000 x $0.000024 = $11.664
    # memory 10M x 0.2 x 0.5 = 1,000,000 GiB-s - 360,000 = 640,000 x $0.0000025 = $1.60
    # requests 8M x $0.40/M = $3.20. Total $16.464.
    text = '[functions.api]\napp = "a:app"\nmemory = 512\n'
    assert one(tmp_path, "gcp", text, 10_000_000, 150) == Decimal("16.46")
    # One idle minimum instance: 2,628,000 s x (0.333 x $0.0000025 + 0.5 x $0.0000025).
    warm = text + "warm = 1\n"
    idle = Decimal(MONTH_SECONDS) * Decimal("0.833") * Decimal("0.0000025")
    assert one(tmp_path / "w", "gcp", warm, 10_000_000, 150) == cents(Decimal("16.464") + idle)


def test_azure_worked_from_the_flex_consumption_rates(tmp_path: Path) -> None:
    # 2048 MB instances, 3M executions of 1 s on demand:
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


def test_every_price_names_its_source_and_date() -> None:
    assert PRICES.is_file()
    for key, figure in PRICES_.figures.items():
        assert figure.value > 0, key
        assert figure.source and "pricing" in figure.source.lower(), key
        assert len(figure.date) == 10 and figure.date[4] == "-", key
    for provider in ("aws", "gcp", "azure"):
        assert PRICES_.date(provider) == "2026-11-28"


@pytest.mark.parametrize("provider", ["aws", "gcp", "azure"])
def test_no_traffic_costs_nothing_without_warm_environments(tmp_path: Path, provider: str) -> None:
    text = '[functions.api]\napp = "a:app"\n'
    assert one(tmp_path, provider, text, 0, 100) == Decimal("0.00")
