"""Event sources of ``faasport dev`` end to end, and ``events.process`` against Powertools.

Run it with ``.venv/bin/python bench/events.py`` (a minute or two; ``--quick`` for a smoke
run; ``--throughput-only`` repeats the batch 10 throughput row, to compare two versions run
alternately). It prints the machine, then two markdown tables and the targets with PASS/FAIL:

* **Queue -> function.** A real ``faasport dev`` process serves a project whose plain
  handler consumes a queue with ``batch = 1`` or ``batch = 10`` (no batching window, five
  pollers). Messages carry their send time; the handler notes, for each record, the time it
  started minus the send time. *Throughput*: N messages sent with boto3
  ``send_message_batch`` (10 per call, from ``--producers`` processes, 3 by default, each
  with its client made before the clock starts) as fast as the endpoint takes them;
  messages/s = N / (last handler start - first send). *CPU per message* over the same
  span, as the machine is shared and rates swing with its load: user + system time of the
  ``faasport dev`` process, of its environments (its other descendants) and of the
  producers' send loops, divided by N. *Delay*: messages sent one at a time,
  paced so that the queue never backs up; p50/p99 of send -> handler start. The ``queue
  send`` row runs the CLI, one process per message, as a user does; its rate is bounded by
  Python's start-up, which the table shows.
  *Drain*: the queue -> function rate alone. N messages wait in a queue that no function
  consumes yet; a fresh ``faasport dev`` whose function consumes it (batch 10) drains it;
  rate and CPU are over the records after the first quarter (once every environment is up),
  with no sender sharing the two cores. The throughput target is judged on this row: the
  senders' own CPU (about 0.25 ms per message for boto3) measures the client, not the
  queue.
* **events.process vs Powertools.** The same 10-record SQS event (built by
  ``faasport.testing.sqs_event``) through ``events.process`` and through Powertools'
  ``process_partial_response`` with a ``BatchProcessor(EventType.SQS)``; both handlers read
  the record body. Median per event over repeats of calibrated batches, interleaved.

Targets (DESIGN.md): queue -> function >= 5,000 messages/s with batch 10 (the drain row);
p50 delay <= 10 ms with no batching window; ``events.process`` >= 1.0x Powertools' speed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import timeit
from dataclasses import dataclass
from pathlib import Path
from typing import Any

THROUGHPUT_TARGET = 5000.0
DELAY_TARGET_MS = 10.0
PROCESS_TARGET = 1.0

WORKER = textwrap.dedent(
    """
    import json, time
    from pathlib import Path

    OUT = Path(__file__).with_name("delays.log")

    def handle(event, context):
        now = time.time()
        lines = [f"{now - json.loads(r['body'])['t']:.6f} {now:.6f}" for r in event["Records"]]
        with OUT.open("a") as out:
            out.write("\\n".join(lines) + "\\n")
        return {"batchItemFailures": []}
    """
)

CONFIG = textwrap.dedent(
    """
    name = "bench-events"

    [queues.one]
    [queues.ten]
    [queues.backlog]

    [functions.single]
    handler = "worker:handle"
    concurrency = 5
    warm = 5
    events = [{ queue = "one", batch = 1 }]

    [functions.batched]
    handler = "worker:handle"
    concurrency = 5
    warm = 5
    events = [{ queue = "ten", batch = 10 }]
    """
)


#: The function that drains ``backlog``, added only once the queue is full.
DRAIN = textwrap.dedent(
    """
    [functions.drain]
    handler = "worker:handle"
    concurrency = 5
    warm = 5
    events = [{ queue = "backlog", batch = 10 }]
    """
)

#: The first records of a drain come while environments still start: left out of its rate.
DRAIN_SKIP = 0.25


class Dev:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "faasport.cli.main", "dev", str(root), "--no-reload"),
                *("--port", "0", "--lambda-port", "0", "--services-port", "0"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.process.stderr is not None
        for line in self.process.stderr:
            found = re.match(r"AWS services on (http://\S+)", line)
            if found:
                self.url = found.group(1)
                break
        else:
            raise SystemExit("faasport dev did not start")
        threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.process.stderr is not None
        for _ in self.process.stderr:
            pass

    def sqs(self) -> Any:
        import boto3

        return boto3.client(
            "sqs",
            endpoint_url=self.url,
            region_name="us-east-1",
            aws_access_key_id="bench",
            aws_secret_access_key="bench",
        )

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def _cpu_seconds(pid: int) -> float:
    """User + system time of a process so far (``/proc/<pid>/stat``), 0 once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _descendants(pid: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parents.setdefault(int(stat.rpartition(")")[2].split()[1]), []).append(int(entry.name))
    out, todo = [], [pid]
    while todo:
        children = parents.get(todo.pop(), [])
        out += children
        todo += children
    return out


def tree_cpu(pid: int) -> tuple[float, dict[int, float]]:
    """CPU seconds of ``pid`` itself, and of each of its descendants by pid."""
    return _cpu_seconds(pid), {child: _cpu_seconds(child) for child in _descendants(pid)}


def delays(root: Path) -> list[tuple[float, float]]:
    log = root / "delays.log"
    if not log.exists():
        return []
    out = []
    for line in log.read_text().splitlines():
        delay, started = line.split()
        out.append((float(delay), float(started)))
    return out


def wait_count(root: Path, count: int, timeout: float = 120.0) -> list[tuple[float, float]]:
    deadline = time.monotonic() + timeout
    while True:
        seen = delays(root)
        if len(seen) >= count or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)


def _produce(url: str, endpoint: str, part: range, ready: Any, go: Any, spent: Any) -> None:
    import boto3

    client = boto3.client(
        "sqs",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="bench",
        aws_secret_access_key="bench",
    )
    client.get_queue_attributes(QueueUrl=url)  # the model loaded, the connection open
    ready.release()
    go.wait()
    cpu = time.process_time()
    for start in range(part.start, part.stop, 10):
        entries = [
            {"Id": str(i), "MessageBody": json.dumps({"t": time.time(), "i": i})}
            for i in range(start, min(start + 10, part.stop))
        ]
        client.send_message_batch(QueueUrl=url, Entries=entries)
    spent.put(time.process_time() - cpu)


@dataclass
class Cpu:
    """CPU milliseconds per message, by who spent them, and the records per invocation."""

    dev: float
    environments: float
    producers: float
    per_invocation: float


def throughput(dev: Dev, queue: str, count: int, producers: int) -> tuple[float, Cpu]:
    import multiprocessing

    (dev.root / "delays.log").unlink(missing_ok=True)
    url = dev.sqs().get_queue_url(QueueName=queue)["QueueUrl"]
    # Producers are processes: boto3's own cost per call would otherwise bound the rate.
    # Each has made its client (a few hundred ms of boto3 start-up) before the clock starts.
    context = multiprocessing.get_context("fork")
    ready, go, spent = context.Semaphore(0), context.Event(), context.Queue()
    share = count // producers
    processes = [
        context.Process(
            target=_produce,
            args=(url, dev.url, range(i * share, (i + 1) * share), ready, go, spent),
        )
        for i in range(producers)
    ]
    for process in processes:
        process.start()
    for _ in processes:
        ready.acquire()
    own, children = tree_cpu(dev.process.pid)
    first = time.time()
    go.set()
    producer_cpu = sum(spent.get() for _ in processes)
    for process in processes:
        process.join()
    total = share * producers
    seen = wait_count(dev.root, total)
    own_after, children_after = tree_cpu(dev.process.pid)
    if len(seen) < total:
        raise SystemExit(f"only {len(seen)} of {count} messages reached the function")
    environments = sum(
        spent_now - children.get(pid, 0.0) for pid, spent_now in children_after.items()
    )
    cpu = Cpu(
        (own_after - own) * 1000 / total,
        environments * 1000 / total,
        producer_cpu * 1000 / total,
        # The records of one event share their start time.
        total / len({started for _, started in seen}),
    )
    return total / (max(started for _, started in seen) - first), cpu


def drain(root: Path, count: int) -> tuple[float, Cpu]:
    """Queue -> function alone: ``count`` messages wait in ``backlog`` (sent while no
    function consumes it), then a fresh ``faasport dev`` whose ``drain`` function consumes
    the queue is started. Rate and CPU are over the records after the first DRAIN_SKIP,
    once every environment is up; no producer shares the cores."""
    dev = Dev(root)
    try:
        sqs = dev.sqs()
        url = sqs.get_queue_url(QueueName="backlog")["QueueUrl"]
        for start in range(0, count, 10):
            entries = [
                {"Id": str(i), "MessageBody": json.dumps({"t": time.time(), "i": i})}
                for i in range(start, min(start + 10, count))
            ]
            sqs.send_message_batch(QueueUrl=url, Entries=entries)
    finally:
        dev.close()
    (root / "delays.log").unlink(missing_ok=True)
    (root / "faasport.toml").write_text(CONFIG + DRAIN)
    skip = int(count * DRAIN_SKIP)
    dev = Dev(root)
    try:
        wait_count(dev.root, skip)
        own, children = tree_cpu(dev.process.pid)
        seen = wait_count(dev.root, count)
        own_after, children_after = tree_cpu(dev.process.pid)
    finally:
        dev.close()
        (root / "faasport.toml").write_text(CONFIG)
    if len(seen) < count:
        raise SystemExit(f"only {len(seen)} of {count} messages reached the function")
    starts = sorted(started for _, started in seen)
    window = count - skip
    environments = sum(
        spent_now - children.get(pid, 0.0) for pid, spent_now in children_after.items()
    )
    cpu = Cpu(
        (own_after - own) * 1000 / window,
        environments * 1000 / window,
        0.0,
        count / len(set(starts)),
    )
    return window / (starts[-1] - starts[skip]), cpu


def paced_delays(dev: Dev, queue: str, count: int, gap: float) -> list[float]:
    (dev.root / "delays.log").unlink(missing_ok=True)
    sqs = dev.sqs()
    url = sqs.get_queue_url(QueueName=queue)["QueueUrl"]
    for i in range(count):
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"t": time.time(), "i": i}))
        time.sleep(gap)
    return [delay * 1000 for delay, _ in wait_count(dev.root, count)]


def cli_sends(dev: Dev, count: int) -> tuple[float, list[float]]:
    (dev.root / "delays.log").unlink(missing_ok=True)
    first = time.time()
    for i in range(count):
        body = json.dumps({"t": time.time(), "i": i})
        subprocess.run(
            [
                *(sys.executable, "-m", "faasport.cli.main", "queue", "send", "one", body),
                *("--dir", str(dev.root)),
            ],
            check=True,
            capture_output=True,
        )
    seen = wait_count(dev.root, count)
    rate = count / (max(started for _, started in seen) - first)
    return rate, [delay * 1000 for delay, _ in seen]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def process_ratio(repeats: int) -> tuple[float, float]:
    from aws_lambda_powertools.utilities.batch import (
        BatchProcessor,
        EventType,
        process_partial_response,
    )

    from faasport import events
    from faasport.testing import events as sample

    event = sample.sqs_event(*[json.dumps({"item": i}) for i in range(10)])
    processor = BatchProcessor(event_type=EventType.SQS)

    def ours() -> None:
        events.process(event, lambda record: record.body)  # type: ignore[union-attr]

    def theirs() -> None:
        process_partial_response(
            event=event,
            record_handler=lambda record: record.body,
            processor=processor,
            context=object(),  # type: ignore[arg-type]
        )

    number = 2000
    a: list[float] = []
    b: list[float] = []
    for _ in range(repeats):
        a.append(timeit.timeit(ours, number=number) / number * 1e6)
        b.append(timeit.timeit(theirs, number=number) / number * 1e6)
    return statistics.median(a), statistics.median(b)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run")
    parser.add_argument("--producers", type=int, default=3, help="boto3 sender processes")
    parser.add_argument(
        "--throughput-only",
        action="store_true",
        help="only the batch 10 throughput row, several times (to compare versions)",
    )
    args = parser.parse_args()
    count = 1000 if args.quick else 10000
    paced = 50 if args.quick else 300
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "faasport.toml").write_text(CONFIG)
        (root / "worker.py").write_text(WORKER)
        dev = Dev(root)
        try:
            time.sleep(2)  # the warm environments
            if args.throughput_only:
                for _ in range(3 if args.quick else 5):
                    rate, cpu = throughput(dev, "ten", count, args.producers)
                    print(
                        f"batch 10: {rate:,.0f} msg/s; CPU ms/msg: dev {cpu.dev:.3f}, "
                        f"environments {cpu.environments:.3f}, producers {cpu.producers:.3f};"
                        f" {cpu.per_invocation:.1f} records per invocation"
                    )
                return
            rows: list[tuple[str, float, list[float], Cpu | None]] = []
            for label, queue in (("batch 1", "one"), ("batch 10", "ten")):
                rate, cpu = throughput(
                    dev, queue, count // (5 if queue == "one" else 1), args.producers
                )
                lat = paced_delays(dev, queue, paced, 0.01)
                rows.append((f"boto3 send_message_batch, {label}", rate, lat, cpu))
            cli_rate, cli_lat = cli_sends(dev, 5 if args.quick else 20)
            rows.append(
                ("faasport queue send (one process each), batch 1", cli_rate, cli_lat, None)
            )
        finally:
            dev.close()
        backlog_rate, backlog_cpu = drain(root, 2000 if args.quick else 20000)
        rows.append(("a waiting queue drained, batch 10", backlog_rate, [], backlog_cpu))
    print()
    print(
        "| queue -> function | messages/s | p50 delay ms | p99 delay ms |"
        " CPU ms/msg: faasport dev | environments | producers |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, rate, lat, cpu in rows:
        spent = "- | - | -"
        if cpu is not None:
            producers = f"{cpu.producers:.3f}" if cpu.producers else "-"
            spent = f"{cpu.dev:.3f} | {cpu.environments:.3f} | {producers}"
        delay = f"{percentile(lat, 0.5):.1f} | {percentile(lat, 0.99):.1f}" if lat else "- | -"
        print(f"| {label} | {rate:,.0f} | {delay} | {spent} |")
    ours, theirs = process_ratio(5 if args.quick else 15)
    print()
    print("| 10-record SQS event | us per event | speed vs Powertools |")
    print("|---|---:|---:|")
    print(f"| faasport events.process | {ours:.1f} | {theirs / ours:.2f}x |")
    print(f"| Powertools BatchProcessor | {theirs:.1f} | 1.00x |")
    print()
    batch10 = rows[1]
    checks = [
        (
            f"queue -> function, batch 10 >= {THROUGHPUT_TARGET:,.0f} msg/s",
            backlog_rate >= THROUGHPUT_TARGET,
        ),
        (
            f"p50 delay <= {DELAY_TARGET_MS:.0f} ms (no window)",
            max(percentile(rows[0][2], 0.5), percentile(batch10[2], 0.5)) <= DELAY_TARGET_MS,
        ),
        (f"events.process >= {PROCESS_TARGET:.1f}x Powertools", theirs / ours >= PROCESS_TARGET),
    ]
    for name, ok in checks:
        print(f"{'PASS' if ok else 'FAIL'}  {name}")


if __name__ == "__main__":
    main()
