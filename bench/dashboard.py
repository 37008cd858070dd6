"""What the dashboard's recording and live feed cost the gateway: warm request latency of
``faasport dev`` without the dashboard, with it recording but nobody watching, and with it
streaming to watchers.

Run it with ``.venv/bin/python bench/dashboard.py`` (about a minute; ``--quick`` for a smoke
run). Three ``faasport dev`` processes serve the same small WSGI app (``GET /items/1``,
JSON): ``--no-dashboard``; the dashboard on (every invocation recorded in its ring buffer,
no page open); and the dashboard on with ``--watchers`` clients (default 2, separate
processes) reading ``/_faasport/api/stream`` as an open page does, so every request also
sends four Server-Sent Events to each. One client per server sends requests over one
keep-alive TCP connection (a raw socket: an HTTP library's own parsing would be as large as
the differences measured). The three are timed in round-robin batches, starting from a
different server each round, so machine noise spreads over all of them; p50 and p99 are
over every timed request, and the ratio is each p50 over the no-dashboard p50. The machine
and its load average are printed with the table: the numbers are as quiet as the machine.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

APP = textwrap.dedent(
    """
    import json

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps({"path": environ["PATH_INFO"], "ok": True}).encode()]
    """
)
CONFIG = textwrap.dedent(
    """
    name = "bench"

    [functions.api]
    app = "webapp:app"
    routes = ["ANY /{proxy+}"]
    concurrency = 1
    warm = 1
    """
)
WATCHER = textwrap.dedent(
    """
    import socket, sys
    host, port = sys.argv[1], int(sys.argv[2])
    sock = socket.create_connection((host, port))
    sock.sendall(f"GET /_faasport/api/stream HTTP/1.1\\r\\nhost: {host}\\r\\n\\r\\n".encode())
    while sock.recv(65536):
        pass
    """
)


class Server:
    def __init__(self, project: Path, *options: str) -> None:
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "faasport.cli.main", "dev", str(project), "--no-reload"),
                *("--port", "0", "--lambda-port", "0", "--services-port", "0", *options),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        assert self.process.stderr is not None
        for line in self.process.stderr:
            found = re.match(r"Listening on http://([\d.]+):(\d+)", line)
            if found:
                self.address = (found.group(1), int(found.group(2)))
            if line.startswith("AWS services on"):
                break
        # The log is not what is measured: keep reading it so the pipe never fills.
        self._drain = subprocess.Popen(
            ["cat"], stdin=self.process.stderr, stdout=subprocess.DEVNULL
        )
        self.sock = self.connect()
        self.buffer = b""

    def connect(self) -> socket.socket:
        """A fresh connection per batch: the gateway closes one idle for 5 s, which a
        batch of the other servers can take on a loaded machine."""
        sock = socket.create_connection(self.address)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def batch(self, count: int) -> list[float]:
        self.sock.close()
        self.sock, self.buffer = self.connect(), b""
        return [self.request() for _ in range(count)]

    def _recv(self) -> bytes:
        data = self.sock.recv(65536)
        if not data:
            raise ConnectionError("the server closed the connection")
        return data

    def request(self) -> float:
        started = time.perf_counter()
        self.sock.sendall(b"GET /items/1 HTTP/1.1\r\nhost: bench\r\n\r\n")
        while b"\r\n\r\n" not in self.buffer:
            self.buffer += self._recv()
        head, _, rest = self.buffer.partition(b"\r\n\r\n")
        length = int(re.search(rb"content-length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
        while len(rest) < length:
            rest += self._recv()
        self.buffer = rest[length:]
        elapsed = time.perf_counter() - started
        assert head.startswith(b"HTTP/1.1 200"), head
        return elapsed * 1000

    def close(self) -> None:
        self.sock.close()
        try:
            os.killpg(self.process.pid, 15)
            self.process.wait(15)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(self.process.pid, 9)
        self._drain.wait(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--batch", type=int, default=150, help="requests per case and round")
    parser.add_argument("--watchers", type=int, default=2)
    args = parser.parse_args()
    rounds, batch = (3, 100) if args.quick else (args.rounds, args.batch)
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="faasport-bench-") as folder:
        project = Path(folder)
        (project / "faasport.toml").write_text(CONFIG)
        (project / "webapp.py").write_text(APP)
        cases = {
            "no dashboard": Server(project, "--no-dashboard"),
            "dashboard, nobody watching": Server(project),
            f"dashboard, {args.watchers} watchers": Server(project),
        }
        watched = list(cases.values())[2]
        watchers = [
            subprocess.Popen([sys.executable, "-c", WATCHER, *map(str, watched.address)])
            for _ in range(args.watchers)
        ]
        times: dict[str, list[float]] = {name: [] for name in cases}
        try:
            for server in cases.values():  # warm-up: the app imported, connections open
                server.batch(50)
            names = list(cases)
            for number in range(rounds):
                for name in names[number % 3 :] + names[: number % 3]:
                    server = cases[name]
                    times[name] += server.batch(batch)
        finally:
            for watcher in watchers:
                watcher.kill()
                watcher.wait()
            for server in cases.values():
                server.close()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    print(f"load average before/after: {load_before[0]:.2f} / {os.getloadavg()[0]:.2f}")
    print(f"{rounds} rounds x {batch} requests per case, GET /items/1 over one connection\n")
    print("| faasport dev | p50 ms | p99 ms | p50 / no dashboard |")
    print("|---|---:|---:|---:|")
    base = statistics.median(times["no dashboard"])
    for name, values in times.items():
        values.sort()
        p50 = statistics.median(values)
        p99 = values[int(len(values) * 0.99) - 1]
        print(f"| {name} | {p50:.3f} | {p99:.3f} | {p50 / base:.2f} |")
    feed_cost(2000 if args.quick else 20000)


def feed_cost(invocations: int = 20000) -> None:
    """The feed's own work per invocation on the emulator's loop (no network, no noise from
    the servers): four observer calls, with nobody watching and with two live clients."""
    import asyncio
    import json

    from faasport.local.dashboard.feed import Feed
    from faasport.local.environment import Environment
    from faasport.local.outcome import Outcome, Status
    from faasport.local.runtime_api import Invocation
    from faasport.local.spec import FunctionSpec
    from faasport.testing.events import event

    payload = json.dumps(event("apigw-v2", "GET", "/items/1")).encode()
    result = b'{"statusCode": 200, "body": "{}"}'

    async def run(watchers: int) -> float:
        feed = Feed()
        clients = [feed.subscribe() for _ in range(watchers)]
        with tempfile.TemporaryDirectory() as root:
            env = Environment(FunctionSpec("api", "app.handler", Path(root)), 0, print)
        feed.environment_changed("api", env, "starting")
        # What the runtime makes anyway is made before the clock starts.
        made = [Invocation(payload, deadline_ms=0) for _ in range(invocations)]
        outcomes = [Outcome(i.request_id, Status.OK, result, 1.0, None, 20, 512) for i in made]
        started = time.perf_counter()
        for invocation, outcome in zip(made, outcomes, strict=True):
            feed.environment_changed("api", env, "busy")
            feed.invocation_started("api", env, invocation)
            feed.invocation_ended("api", env, invocation, outcome)
            feed.environment_changed("api", env, "idle")
            for client in clients:  # the clients keep up
                await client.wait(0)
        return (time.perf_counter() - started) / invocations * 1e6

    print("\n| feed work per invocation (in process) | microseconds |")
    print("|---|---:|")
    for clients in (0, 2):
        cost = statistics.median(asyncio.run(run(clients)) for _ in range(5))
        print(f"| {clients} live clients | {cost:.1f} |")


if __name__ == "__main__":
    main()
