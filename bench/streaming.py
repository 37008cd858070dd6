"""A streamed response through ``faasport dev`` against uvicorn serving the same app directly:
time to first byte and total time of a 10 MB ``StreamingResponse``.

Run it with ``.venv/bin/python bench/streaming.py`` (about half a minute; needs uvicorn,
installed with ``.[bench]``); ``--rounds N`` changes the number of timed requests per server
(default 15).

The app is FastAPI's ``StreamingResponse`` of 160 chunks of 64 KB (10 MB), the function
configured with ``stream = true``. Both servers run at once, each in its own process;
requests alternate between them, each on a fresh keep-alive connection of a raw-socket
client (TCP_NODELAY; an HTTP library's parsing would be a large part of what is measured).
Time to first byte is from sending the request to receiving the first byte of the body
(after the head; for ``faasport dev`` the head comes with the function's first chunk, which
carries the status and headers). Total time is to the last chunk. Medians over the rounds,
after warm-up requests that leave a warm execution environment.

Targets: first byte within 2 ms of uvicorn's; throughput (10 MB / total time) at least 50% of
uvicorn's. The machine is shared and the numbers are only as quiet as it was: the load
average is printed at the start and the end. Time on a busy machine is what the other
processes leave, so the CPU each server spent over the timed rounds is printed too, per MB
streamed (user + system time from ``/proc``): for ``faasport dev`` its own process and its
execution environments (the processes it started) apart. That cost does not depend on the
load.
"""

from __future__ import annotations

import argparse
import collections
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

CHUNKS = 160
CHUNK = 64 * 1024
SIZE = CHUNKS * CHUNK

CONFIG = """
name = "bench-stream"

[functions.feed]
app = "feed:app"
stream = true
memory = 1024
"""

APP = f"""
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

app = FastAPI()
BLOCK = b"x" * {CHUNK}


@app.get("/feed")
async def feed():
    async def chunks():
        for _ in range({CHUNKS}):
            yield BLOCK

    return StreamingResponse(chunks(), media_type="application/octet-stream")
"""


def fetch(address: tuple[str, int], path: str) -> tuple[float, float, int]:
    """Seconds to the first body byte and to the end of a chunked GET; the body's size."""
    sock = socket.create_connection(address)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    started = time.perf_counter()
    sock.sendall(f"GET {path} HTTP/1.1\r\nhost: bench\r\n\r\n".encode())
    buffer = b""
    while b"\r\n\r\n" not in buffer:
        buffer += sock.recv(65536)
    head, _, rest = buffer.partition(b"\r\n\r\n")
    assert b" 200 " in head.split(b"\r\n")[0], head
    assert b"transfer-encoding: chunked" in head.lower(), head
    # Body bytes that came with the head count from the head's arrival.
    first = time.perf_counter() - started if len(rest) > 8 else 0.0
    size = 0
    # Chunked body: size line, data, CRLF; a zero size ends it.
    while True:
        while b"\r\n" not in rest:
            rest += sock.recv(65536)
        line, _, rest = rest.partition(b"\r\n")
        length = int(line.split(b";")[0], 16)
        if length == 0:
            break
        while len(rest) < length + 2:
            data = sock.recv(max(65536, length + 2 - len(rest)))
            if not data:
                raise ConnectionError("closed mid-body")
            if not first:
                first = time.perf_counter() - started
            rest += data
        if not first:
            first = time.perf_counter() - started
        size += length
        rest = rest[length + 2 :]
    total = time.perf_counter() - started
    sock.close()
    return first, total, size


def start(argv: list[str], cwd: Path, pattern: str) -> tuple[subprocess.Popen[str], str]:
    process = subprocess.Popen(
        argv,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    for line in process.stdout:
        found = re.search(pattern, line)
        if found:
            # The server's log goes on (a line or three per request): read and dropped, or
            # the full pipe would stop the server mid-run.
            threading.Thread(
                target=collections.deque, args=(process.stdout, 0), daemon=True
            ).start()
            return process, found.group(1)
        if time.monotonic() > deadline:
            break
    stop(process)
    raise SystemExit(f"{argv[0]} did not start")


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(10)


def cpu_seconds(root: int) -> dict[int, float]:
    """User + system CPU seconds of ``root`` and each live process it started (their
    children too: an execution environment runs in a session of its own), by pid (Linux)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parents, spent = {}, {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            stat = Path(entry.path, "stat").read_text()
        except OSError:
            continue
        # The command name (2nd field) may hold spaces: the fields after it are fixed.
        fields = stat.rpartition(")")[2].split()
        pid = int(entry.name)
        parents[pid] = int(fields[1])
        spent[pid] = (int(fields[11]) + int(fields[12])) / ticks
    found = {}
    for pid, seconds in spent.items():
        ancestor = pid
        while ancestor > 1 and ancestor != root:
            ancestor = parents.get(ancestor, 0)
        if ancestor == root:
            found[pid] = seconds
    return found


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two :func:`cpu_seconds` readings (a process that started
    in between counts whole)."""
    return sum(spent - before.get(pid, 0.0) for pid, spent in after.items())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=15)
    rounds = parser.parse_args().rounds
    print(f"machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "faasport.toml").write_text(textwrap.dedent(CONFIG))
        (root / "feed.py").write_text(APP)
        port = free_port()
        dev, url = start(
            [
                *(sys.executable, "-m", "faasport.cli.main", "dev", str(root)),
                *("--port", "0", "--lambda-port", "0", "--services-port", "0"),
            ],
            root,
            r"Listening on http://([\d.:]+)",
        )
        uvicorn, _ = start(
            [
                *(sys.executable, "-m", "uvicorn", "feed:app", "--port", str(port)),
                *("--log-level", "info", "--no-access-log"),
            ],
            root,
            r"(Uvicorn running)",
        )
        try:
            host, _, dev_port = url.rpartition(":")
            servers = {
                "faasport dev": (host, int(dev_port)),
                "uvicorn": ("127.0.0.1", port),
            }
            for address in servers.values():
                for _ in range(3):
                    fetch(address, "/feed")
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in servers}
            before = {dev.pid: cpu_seconds(dev.pid), uvicorn.pid: cpu_seconds(uvicorn.pid)}
            for round_ in range(rounds):
                order = list(servers) if round_ % 2 == 0 else list(reversed(servers))
                for name in order:
                    first, total, size = fetch(servers[name], "/feed")
                    assert size == SIZE, (name, size)
                    results[name].append((first, total))
            after = {dev.pid: cpu_seconds(dev.pid), uvicorn.pid: cpu_seconds(uvicorn.pid)}
        finally:
            stop(dev)
            stop(uvicorn)
    medians = {
        name: (
            statistics.median(first for first, _ in times),
            statistics.median(total for _, total in times),
        )
        for name, times in results.items()
    }
    base_first, base_total = medians["uvicorn"]
    print(f"10 MB streamed in {CHUNKS} chunks of {CHUNK // 1024} KB; medians of {rounds} rounds\n")
    print("| server | first byte (ms) | total (ms) | throughput (MB/s) | vs uvicorn |")
    print("|---|---:|---:|---:|---|")
    for name, (first, total) in medians.items():
        rate = SIZE / total / 2**20
        ratio = (
            "reference"
            if name == "uvicorn"
            else f"first byte {1000 * (first - base_first):+.2f} ms, "
            f"throughput {base_total / total:.0%}"
        )
        print(f"| {name} | {1000 * first:.2f} | {1000 * total:.1f} | {rate:.0f} | {ratio} |")
    dev_first, dev_total = medians["faasport dev"]
    print(
        f"\ntargets: first byte within 2 ms of uvicorn's: "
        f"{'met' if dev_first - base_first <= 0.002 else 'missed'}; "
        f"throughput >= 50% of uvicorn's: {'met' if base_total / dev_total >= 0.5 else 'missed'}"
    )
    megabytes = rounds * SIZE / 2**20
    gateway = {dev.pid: after[dev.pid].get(dev.pid, 0.0)}
    environments = {pid: t for pid, t in after[dev.pid].items() if pid != dev.pid}
    spent = {
        "faasport dev (gateway process)": cpu_used(before[dev.pid], gateway),
        "faasport dev (environments)": cpu_used(before[dev.pid], environments),
        "uvicorn": cpu_used(before[uvicorn.pid], after[uvicorn.pid]),
    }
    print(f"\nCPU per MB streamed over the {rounds} timed rounds per server:\n")
    print("| process | CPU ms per MB |")
    print("|---|---:|")
    for name, seconds in spent.items():
        print(f"| {name} | {1000 * seconds / megabytes:.2f} |")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
