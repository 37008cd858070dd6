"""Fake records per second: phoney's bulk generation against one Faker call per field.

Run it with ``.venv/bin/python bench/phoney.py`` (about a minute; ``--quick`` for a smoke
run). It prints the machine, one markdown table and the target with PASS/FAIL.

The template has five fields, as a typical user record::

    {"first_name": "{{first_name}}", "last_name": "{{last_name}}", "email": "{{email}}",
     "city": "{{city}}", "joined": "{{date_between:-30d,today}}"}

* **Faker, one call per field** (the baseline): a seeded ``Faker("en_US")`` builds each record
  with ``first_name()``, ``last_name()``, ``email()``, ``city()`` and
  ``date_between("-30d", "today").isoformat()``, the way a service calling Faker does.
* **phoney, bulk**: ``compile_template`` then the records, drawn column by column from the
  same locale data (``random.Random(seed).choices`` over Faker's provider tuples and weights).
* **phoney, bulk + NDJSON**: the same, encoded to the bytes ``POST /template`` sends.
* **phoney, POST /template**: the whole request through ``aws.handler`` (an API Gateway HTTP
  API event in, the JSON array out: FastAPI, validation and encoding included).

Each case runs in rounds, interleaved with the others; reported is the median of records/s
(wall time) over rounds and its ratio to the baseline's median measured in the same run, and
the median of records per second of the process's own CPU time, which a machine busy with
other work lowers much less.

Target: phoney, bulk >= 50,000 records/s, judged on both measures; on a machine
busy with other work (the load average is printed) the wall-time one says more about the
machine than about phoney.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from random import Random

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples" / "phoney"))

TARGET = 50_000.0
TEMPLATE = {
    "first_name": "{{first_name}}",
    "last_name": "{{last_name}}",
    "email": "{{email}}",
    "city": "{{city}}",
    "joined": "{{date_between:-30d,today}}",
}


def faker_case(count: int) -> Callable[[int], int]:
    from faker import Faker

    fake = Faker("en_US")

    def run(seed: int) -> int:
        fake.seed_instance(seed)
        records = [
            {
                "first_name": fake.first_name(),
                "last_name": fake.last_name(),
                "email": fake.email(),
                "city": fake.city(),
                "joined": fake.date_between("-30d", "today").isoformat(),
            }
            for _ in range(count)
        ]
        return len(records)

    return run


def bulk_case(count: int, *, encode: bool) -> Callable[[int], int]:
    from phoney.formats import chunks
    from phoney.locale_data import locale_data
    from phoney.template import compile_template

    data = locale_data("en_US")

    def run(seed: int) -> int:
        template = compile_template(TEMPLATE, data, max_fields=200)
        batches = template.records(Random(seed), count)
        if encode:
            body = b"".join(chunks("ndjson", batches, template.fields))
            return body.count(b"\n")
        return sum(len(batch) for batch in batches)

    return run


def handler_case(count: int) -> Callable[[int], int]:
    import logging

    from phoney.main import app

    from faasport import aws
    from faasport.testing import LambdaClient

    os.environ.setdefault("FAASPORT_METRICS", "off")
    logging.getLogger("phoney").setLevel(logging.WARNING)  # one log line per request
    client = LambdaClient(aws.handler(app, lifespan="off"))

    def run(seed: int) -> int:
        body = {"template": TEMPLATE, "count": count, "seed": seed}
        response = client.post("/template", json_body=body)
        assert response.status == 200, response.text
        return len(response.json())

    return run


def measure(run: Callable[[int], int], seed: int) -> tuple[float, float]:
    """Records per second of wall time and per second of this process's CPU time."""
    started, cpu = time.perf_counter(), time.process_time()
    made = run(seed)
    return made / (time.perf_counter() - started), made / (time.process_time() - cpu)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="few rounds, small counts")
    options = parser.parse_args()
    rounds = 2 if options.quick else 5
    scale = 10 if options.quick else 1
    cases: dict[str, Callable[[int], int]] = {
        "Faker, one call per field": faker_case(4_000 // scale),
        "phoney, bulk": bulk_case(200_000 // scale, encode=False),
        "phoney, bulk + NDJSON": bulk_case(200_000 // scale, encode=True),
        "phoney, POST /template (JSON, 50,000 per request)": handler_case(50_000 // scale),
    }
    for run in cases.values():  # warm-up: imports, locale data, caches
        run(0)
    rates: dict[str, list[float]] = {name: [] for name in cases}
    cpu_rates: dict[str, list[float]] = {name: [] for name in cases}
    for round_ in range(rounds):
        for name, run in cases.items():
            wall, cpu = measure(run, 1000 + round_)
            rates[name].append(wall)
            cpu_rates[name].append(cpu)

    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"{platform.platform()}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {load}"
    )
    print(f"template: {json.dumps(TEMPLATE)}\n")
    baseline = statistics.median(rates["Faker, one call per field"])
    print(
        f"| case | records/s (median of {rounds} rounds) | min..max | x Faker "
        "| records per CPU second |"
    )
    print("|---|---:|---:|---:|---:|")
    for name, samples in rates.items():
        median = statistics.median(samples)
        spread = f"{min(samples):,.0f}..{max(samples):,.0f}"
        cpu = statistics.median(cpu_rates[name])
        print(f"| {name} | {median:,.0f} | {spread} | x{median / baseline:.1f} | {cpu:,.0f} |")
    print(f"\ntarget: phoney, bulk >= {TARGET:,.0f} records/s")
    for what, found in [("wall time", rates), ("CPU time", cpu_rates)]:
        ours = statistics.median(found["phoney, bulk"])
        print(f"  per second of {what}: {ours:,.0f} {'PASS' if ours >= TARGET else 'FAIL'}")


if __name__ == "__main__":
    main()
