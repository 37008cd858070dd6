"""Rate-limit decisions per second per store: faasport.state against the ``limits`` library.

Run it with ``.venv/bin/python bench/state.py`` (about a minute; needs redis-server and
PostgreSQL's server binaries, ``make install`` provides both); ``--quick`` is a smoke run.

It starts a throwaway redis-server and PostgreSQL server on loopback (tests/postgres.py),
prints the machine and one markdown table: decisions per second of faasport and of
``limits`` on the same store, and their ratio (target >= 1.0x on every store both serve).

Every decision is one ``hit`` on one key, sequentially from one thread, with a limit high
enough that every hit is admitted, so each decision does its full read-and-write work:

* fixed window: ``store.fixed_window`` vs ``FixedWindowRateLimiter.hit``
* sliding window: ``store.sliding_window`` vs ``SlidingWindowCounterRateLimiter.hit``
  (both weigh the previous window's count; ``limits``' moving window keeps a log, a
  different algorithm)
* token bucket: ``store.take``; ``limits`` has no token bucket, so no ratio.

``limits`` has no PostgreSQL, SQLite or DynamoDB storage (its storages are memory, Redis,
Memcached and MongoDB), so those rows show faasport alone. DynamoDB is left out: the only
DynamoDB-compatible endpoint here is moto, whose speed says nothing about DynamoDB's.

Method: after a warm-up, ``--rounds`` (3000) rounds each call every case once, in a fresh
random order each round (so no case always follows the same one: a predecessor's garbage
or background thread would otherwise land on the same case), timing each call with
``time.perf_counter_ns``; reported is 1 / the median time per call. Interleaving single
calls keeps a shared, noisy machine's load changes from favouring one case.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from faasport import state
from postgres import PostgresServer
from servers import free_port

HIGH = 10**9
WINDOW = 3600


@contextmanager
def redis_server() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        sys.exit("redis-server is not installed: run `make redis`")
    import redis

    port = free_port()
    directory = tempfile.mkdtemp(prefix="faasport-bench-redis-")
    with open(Path(directory) / "log", "wb") as log:
        server = subprocess.Popen(
            [binary, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--dir", directory],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    client = redis.Redis(port=port)
    try:
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        client.close()
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(directory, ignore_errors=True)


def faasport_cases(
    name: str, store: state.Store
) -> dict[tuple[str, str, str], Callable[[], object]]:
    key = uuid.uuid4().hex
    return {
        (name, "fixed window", "faasport"): lambda: store.fixed_window(
            key, limit=HIGH, window=WINDOW
        ),
        (name, "sliding window", "faasport"): lambda: store.sliding_window(
            key, limit=HIGH, window=WINDOW
        ),
        (name, "token bucket", "faasport"): lambda: store.take(key, rate=HIGH, burst=HIGH),
    }


def limits_cases(name: str, url: str) -> dict[tuple[str, str, str], Callable[[], object]]:
    from limits import RateLimitItemPerHour, storage, strategies

    backend = storage.storage_from_string(url)
    item = RateLimitItemPerHour(HIGH)
    fixed = strategies.FixedWindowRateLimiter(backend)
    sliding = strategies.SlidingWindowCounterRateLimiter(backend)
    key = uuid.uuid4().hex
    return {
        (name, "fixed window", "limits"): lambda: fixed.hit(item, key),
        (name, "sliding window", "limits"): lambda: sliding.hit(item, key),
    }


def measure(
    cases: dict[tuple[str, str, str], Callable[[], object]], rounds: int
) -> dict[tuple[str, str, str], float]:
    """Decisions per second of each case: 1 / its median time per call."""
    for case in cases.values():
        # The first calls connect and load scripts.
        for _ in range(50):
            case()
    times: dict[tuple[str, str, str], list[int]] = {name: [] for name in cases}
    names = list(cases)
    clock = time.perf_counter_ns
    shuffle = random.Random(0).shuffle
    for _ in range(rounds):
        shuffle(names)
        for name in names:
            case = cases[name]
            start = clock()
            case()
            times[name].append(clock() - start)
    return {name: 1e9 / statistics.median(values) for name, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--rounds", type=int, default=3000)
    args = parser.parse_args()
    rounds = 100 if args.quick else args.rounds

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}"
    )
    print(f"load average at start: {os.getloadavg()}")
    postgres = PostgresServer.start()
    directory = tempfile.mkdtemp(prefix="faasport-bench-state-")
    stores: list[state.Store] = []
    try:
        with redis_server() as redis_url:
            cases: dict[tuple[str, str, str], Callable[[], object]] = {}
            for name, url in (
                ("memory", "memory://"),
                ("redis", redis_url),
                ("postgresql", postgres.url(driver="postgresql")),
                ("sqlite", f"sqlite:///{directory}/state.db"),
            ):
                store = state.open(url)
                stores.append(store)
                cases.update(faasport_cases(name, store))
                if name in ("memory", "redis"):
                    cases.update(limits_cases(name, url))
            rates = measure(cases, rounds)
    finally:
        for store in stores:
            store.close()
        postgres.stop()
        shutil.rmtree(directory, ignore_errors=True)
    print(f"load average at end: {os.getloadavg()}")
    print()
    print(
        "| store | algorithm | faasport decisions/s | limits decisions/s | ratio | target >= 1.0x |"
    )
    print("|---|---|---:|---:|---:|---|")
    for store_name, algorithm, library in rates:
        if library != "faasport":
            continue
        ours = rates[(store_name, algorithm, "faasport")]
        theirs = rates.get((store_name, algorithm, "limits"))
        if theirs is None:
            print(f"| {store_name} | {algorithm} | {ours:,.0f} | n/a | | |")
            continue
        ratio = ours / theirs
        verdict = "PASS" if ratio >= 1.0 else "FAIL"
        row = (store_name, algorithm, f"{ours:,.0f}", f"{theirs:,.0f}", f"{ratio:.2f}x", verdict)
        print("| " + " | ".join(row) + " |")


if __name__ == "__main__":
    main()
