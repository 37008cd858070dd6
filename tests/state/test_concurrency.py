"""Stores stay exact under contention: 8 processes (threads for ``memory://``, which one
process owns) against one limit."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import uuid

import pytest

from faasport import state

WORKERS = 8
# The fixed window's limit, crossed with every worker still calling: four times as many
# attempts as it admits.
LIMIT = 200
ATTEMPTS = LIMIT * 4 // WORKERS

# Each worker opens its own store, says it is ready, waits for the go, then hammers.
WORKER = """
import json, sys, time
import pytest

from faasport import state
url, key, operation, attempts = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
store = state.open(url)
print("ready", flush=True)
sys.stdin.readline()
admitted, first, last, slowest = 0, time.time(), 0.0, 0.0
for _ in range(attempts):
    # The store decides with the clock read when the call starts: so is the time recorded.
    started = time.time()
    if operation == "fixed":
        decision = store.fixed_window(key, limit=int(sys.argv[5]), window=3600)
    else:
        decision = store.take(key, rate=float(sys.argv[5]), burst=int(sys.argv[6]))
    if decision.allowed:
        admitted += 1
        last = started
    slowest = max(slowest, time.time() - started)
    if operation == "take" and time.time() > first + float(sys.argv[7]):
        break
print(json.dumps([admitted, first, last, slowest]), flush=True)
"""


def run(url: str, *arguments: str) -> list[tuple[int, float, float, float]]:
    """Each worker's (admitted, start of its first attempt, start of its last admitted
    attempt, its slowest call in seconds) once all are done."""
    if url == "memory://":
        return run_threads(state.open(url), *arguments)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, url, *arguments],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(WORKERS)
    ]
    try:
        for worker in workers:
            assert worker.stdout and worker.stdout.readline() == "ready\n"
        for worker in workers:
            assert worker.stdin
            worker.stdin.write("go\n")
            worker.stdin.flush()
        results = []
        for worker in workers:
            out, _ = worker.communicate(timeout=300)
            assert worker.returncode == 0
            results.append(tuple(json.loads(out)))
        return results  # type: ignore[return-value]
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.communicate()


def run_threads(store: state.Store, key: str, operation: str, attempts: str, *rest: str) -> list:
    results: list[tuple[int, float, float, float]] = []
    go = threading.Barrier(WORKERS)

    def work() -> None:
        go.wait()
        admitted, first, last, slowest = 0, time.time(), 0.0, 0.0
        for _ in range(int(attempts)):
            started = time.time()
            if operation == "fixed":
                decision = store.fixed_window(key, limit=int(rest[0]), window=3600)
            else:
                decision = store.take(key, rate=float(rest[0]), burst=int(rest[1]))
            if decision.allowed:
                admitted += 1
                last = started
            slowest = max(slowest, time.time() - started)
            if operation == "take" and time.time() > first + float(rest[2]):
                break
        results.append((admitted, first, last, slowest))

    threads = [threading.Thread(target=work) for _ in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_fixed_window_admits_exactly_the_limit(store_url: str) -> None:
    key = uuid.uuid4().hex
    if time.time() % 3600 > 3500:
        time.sleep(3600 - time.time() % 3600 + 0.1)
    results = run(store_url, key, "fixed", str(ATTEMPTS), str(LIMIT))
    assert sum(admitted for admitted, _, _, _ in results) == LIMIT


def test_token_bucket_admits_burst_plus_rate_times_elapsed(store_url: str) -> None:
    key = uuid.uuid4().hex
    # Slow enough for every store to attempt many times per token, so the bucket stays drained
    # and every token is taken. moto serves one request at a time (~15 ms each, several times
    # that on a loaded machine): it gets a slower bucket for longer.
    if store_url.startswith("dynamodb:"):
        rate, burst, duration = 2.0, 4, 3.0
    else:
        rate, burst, duration = 5.0, 10, 2.0
    results = run(store_url, key, "take", "100000", str(rate), str(burst), str(duration))
    admitted = sum(count for count, _, _, _ in results)
    start = min(first for _, first, _, _ in results)
    end = max(last for _, _, last, _ in results)
    expected = burst + rate * (end - start)
    # Never more than the bucket allows. Fewer only by what calls reaching the store out of
    # clock order can lose: a call older than the newest one seen may find the bucket moved
    # past it, and calls overlap by at most the slowest one (seconds, on a loaded machine).
    slowest = max(late for _, _, _, late in results)
    assert expected - 1 - rate * slowest <= admitted <= expected + 1, (admitted, expected, slowest)


FORKED = """
import os, sys
import pytest

from faasport import state
store = state.open(sys.argv[1])
store.set("warm", b"1")  # the parent's connection is open when it forks
children = []
for n in range(4):
    pid = os.fork()
    if pid == 0:
        for i in range(50):
            store.fixed_window(sys.argv[2], limit=1000, window=60)
        os._exit(0)
    children.append(pid)
codes = [os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) for pid in children]
# The parent's own connection still works after its children used theirs.
print(codes, store.fixed_window(sys.argv[2], limit=1000, window=60).remaining)
"""


def test_a_store_opened_before_a_fork_serves_parent_and_children(store_url: str) -> None:
    """Gunicorn-style preload: each process gets its own connection."""
    if store_url == "memory://":
        pytest.skip("memory:// is one process's store")
    key = f"fork-{uuid.uuid4().hex}"
    done = subprocess.run(
        [sys.executable, "-c", FORKED, store_url, key], capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("]")[0] == "[0, 0, 0, 0"
    assert done.stdout.split()[-1] == str(1000 - 201)
