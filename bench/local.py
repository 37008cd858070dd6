"""What ``faasport dev`` costs over serving the app directly: warm latency, cold start and
throughput of the phoney example (FastAPI, ``GET /items/1``).

Run it with ``.venv/bin/python bench/local.py`` (about two minutes; ``make bench`` runs it
after the other benchmarks); ``--quick`` is a smoke run of under 30 seconds. The uvicorn rows
need uvicorn (``pip install uvicorn``); without it they are skipped with a note.

It prints the machine (with the load average at the start and at the end: the numbers are
only as quiet as the machine was) and one markdown table:

1. Warm latency. A client sends ``GET /items/1`` over one keep-alive TCP connection
   (TCP_NODELAY; the request bytes are written with ``sendall``, the response head is read
   up to the blank line and the body by its ``content-length``). httpx or requests would add
   about a millisecond of client-side parsing per request, as much as the gateway overhead
   under test, so the client is a raw socket. The same client times ``faasport dev`` and
   uvicorn serving ``phoney.main:app`` directly (one worker, a reference), and the same
   handler is called in-process (``aws.handler("phoney.main:app")(event, context)`` on an
   ``apigw-v2`` event, no network). The three cases are timed in round-robin batches,
   starting from a different case each round, so machine noise spreads over all of them;
   p50 and p99 are over every timed request. Added latency = ``faasport dev`` p50 minus
   in-process p50. Target: <= 2 ms. The REPORT lines' ``Duration`` (the time the execution
   environment held the invocation: the Runtime API round trip, the child's JSON decoding
   and encoding, and the handler) splits the added latency into gateway-side and
   environment-side parts.
2. Cold start. Several fresh ``faasport dev`` processes each answer one request; the REPORT
   line of that first request gives ``Init Duration`` (interpreter start to the runtime
   client's first ``/next``) and ``Duration``. faasport imports the app on first use, so the
   app's import is in that first ``Duration``, not in ``Init Duration``; both are shown. The
   baseline is the wall time of ``python -c "import phoney.main"`` (cwd tests/fixtures/phoney)
   minus that of ``python -c pass``, medians of fresh interpreters run round-robin between
   the ``faasport dev`` starts. The children inherit PYTHONDONTWRITEBYTECODE, as the
   execution environments do (faasport sets it for them).
3. Throughput. K client processes (``--clients``, default 4) each keep one connection and
   loop ``GET /items/1`` for ``--seconds`` (default 5) after a short warm-up, counting
   responses by status. The same load generator drives ``uvicorn phoney.main:app --workers
   N`` (``--workers``, default 2) and ``faasport dev`` on a copy of the project whose
   function ``api`` has ``concurrency = max(N, K)``, so no request is throttled. Each server
   is first loaded untimed until every execution environment it will use has started and
   imported the app (counted by the REPORT lines with Init Duration), so no cold start falls
   in a timed window. A synchronous invocation over the concurrency limit is throttled
   (429), as on Lambda; a second ``faasport dev`` with ``concurrency = N`` shows that, its
   429s counted apart. A third ``faasport dev`` serves the same answer from a plain handler
   (``handler(event, context)`` returning a fixed dict, no framework), loaded the same way:
   its CPU time per response is what the gateway and the environment's runtime plumbing
   cost, apart from the framework's. A reference row runs the same load against uvicorn
   through a do-nothing byte relay, a second process that only copies bytes (``RELAY``):
   what one more process hop costs on the machine before any work is done in it. API
   Gateway and the function are separate processes in ``faasport dev`` by design.

   Stock ``uvicorn --workers N`` (N > 1) binds its listening socket with ``proto`` 0, so
   asyncio does not set TCP_NODELAY on its connections (Kludex/uvicorn#3149): each
   keep-alive response, written as head then body, waits ~40 ms for the client's delayed
   ACK, and the stock rate is ~25 responses/s per connection. The same uvicorn CLI also
   runs with the socket re-made from its descriptor (``proto`` 6, so TCP_NODELAY is on as
   with one worker; see ``UVICORN_NODELAY``). uvicorn runs with httptools and uvloop when
   they are installed (its fastest configuration; uvloop sets TCP_NODELAY itself), and the
   target is judged against the faster of the two uvicorn runs. Servers and clients share
   the machine's cores; the CPU time per 200 response of the
   server's main process (faasport's gateway, uvicorn's supervisor), of the processes it
   started (execution environments, uvicorn's workers) and of the load generator shows
   where the cores went. Reported: the median over ``--rounds`` rounds (round-robin, all
   servers up at once) of the rate of 200 responses. Target: ``faasport dev`` >= 60% of
   uvicorn.

Every server runs in its own process group and is stopped (SIGTERM, then SIGKILL, also for
any process it started) when the script ends, normally or not.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import itertools
import json
import multiprocessing
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PHONEY = ROOT / "tests" / "fixtures" / "phoney"
APP = "phoney.main:app"
PATH = "/items/1"
EXPECTED = {"item_id": 1, "q": None}
REQUEST = f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: faasport-bench\r\n\r\n".encode()
LATENCY_TARGET_MS = 2.0
THROUGHPUT_TARGET = 0.60
START_TIMEOUT = 60.0

#: ``uvicorn --workers N`` binds its socket with ``proto`` 0, so asyncio leaves Nagle on for
#: accepted connections (Kludex/uvicorn#3149) and every keep-alive response whose head and body
#: are written apart waits ~40 ms for the client's delayed ACK. This runs uvicorn's CLI with the
#: socket re-made from its descriptor (``proto`` 6): asyncio then sets TCP_NODELAY, as it does
#: with one worker.
UVICORN_NODELAY = """
import socket, sys
import uvicorn.config, uvicorn.main
bind = uvicorn.config.Config.bind_socket
def bind_socket(self):
    sock = socket.socket(fileno=bind(self).detach())
    sock.set_inheritable(True)
    return sock
uvicorn.config.Config.bind_socket = bind_socket
sys.argv[0] = "uvicorn"
uvicorn.main.main()
"""

#: The least a separate front process can do: relay bytes, one upstream connection per
#: client connection, no parsing. uvicorn behind it measures what one more process hop costs
#: on this machine before any work is done in it (API Gateway and the function are two
#: processes in every faithful emulation, so ``faasport dev`` has that hop by design).
RELAY = """
import asyncio, socket, sys
class Upstream(asyncio.Protocol):
    def __init__(self, client):
        self.client = client
    def data_received(self, data):
        self.client.write(data)
    def connection_lost(self, exc):
        self.client.close()
class Client(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport, self.upstream, self.early = transport, None, []
        asyncio.get_running_loop().create_task(self.connect())
    async def connect(self):
        loop = asyncio.get_running_loop()
        upstream, _ = await loop.create_connection(
            lambda: Upstream(self.transport), "127.0.0.1", int(sys.argv[2])
        )
        upstream.get_extra_info("socket").setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.upstream = upstream
        upstream.write(b"".join(self.early))
    def data_received(self, data):
        if self.upstream is None:
            self.early.append(data)
        else:
            self.upstream.write(data)
    def connection_lost(self, exc):
        if self.upstream is not None:
            self.upstream.close()
async def main():
    server = await asyncio.get_running_loop().create_server(Client, "127.0.0.1", int(sys.argv[1]))
    print("relay listening", flush=True)
    await server.serve_forever()
try:
    import uvloop
    uvloop.run(main())
except ImportError:
    asyncio.run(main())
"""

_LENGTH = re.compile(rb"\r\ncontent-length:[ \t]*(\d+)", re.IGNORECASE)
_LISTENING = re.compile(r"Listening on (http://\S+)")
_DURATION = re.compile(r"\tDuration: ([\d.]+) ms")
_INIT = re.compile(r"\tInit Duration: ([\d.]+) ms")


# -- the client ----------------------------------------------------------------------------


class RawClient:
    """HTTP/1.1 GET over one keep-alive socket, with as little client work as possible."""

    def __init__(self, address: tuple[str, int], request: bytes = REQUEST) -> None:
        self.address = address
        self.request = request
        self.sock = self._connect()
        self.buffer = b""

    def _connect(self) -> socket.socket:
        sock = socket.create_connection(self.address)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def reconnect(self) -> None:
        self.sock.close()
        self.sock = self._connect()
        self.buffer = b""

    def get(self) -> tuple[int, bytes]:
        sock = self.sock
        sock.sendall(self.request)
        buffer = self.buffer
        while (end := buffer.find(b"\r\n\r\n")) < 0:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("the server closed the connection")
            buffer += chunk
        head = buffer[:end]
        buffer = buffer[end + 4 :]
        match = _LENGTH.search(head)
        length = int(match.group(1)) if match else 0
        while len(buffer) < length:
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionResetError("the server closed the connection")
            buffer += chunk
        self.buffer = buffer[length:]
        if b"\r\nconnection: close" in head.lower():
            self.reconnect()
        return int(head[9:12]), buffer[:length]

    def close(self) -> None:
        self.sock.close()


# -- servers -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def listening(text: str) -> tuple[str, int]:
    """The address in faasport dev's ``Listening on http://HOST:PORT`` line."""
    match = _LISTENING.search(text)
    if match is None:
        raise RuntimeError(f"no 'Listening on' line in:\n{text}")
    host, _, port = match.group(1).removeprefix("http://").rpartition(":")
    return host.strip("[]"), int(port)


def descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc; empty elsewhere)."""
    children: dict[int, list[int]] = {}
    with contextlib.suppress(OSError):
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open(f"/proc/{entry}/stat", "rb") as stat:
                    fields = stat.read().rsplit(b")", 1)[1].split()
            except (OSError, IndexError):
                continue
            children.setdefault(int(fields[1]), []).append(int(entry))
    found: list[int] = []
    todo = [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


class Server:
    """A server process in its own process group, its output in a file."""

    def __init__(self, name: str, argv: list[str], cwd: Path, logdir: Path) -> None:
        self.name = name
        self.log_path = logdir / f"{name.replace(' ', '-')}-{time.monotonic_ns()}.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.address: tuple[str, int] = ("127.0.0.1", 0)
        #: uvicorn's worker processes (each logs its startup).
        self.workers = 1
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            argv,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self, offset: int = 0) -> str:
        with open(self.log_path, "rb") as log:
            log.seek(offset)
            return log.read().decode("utf-8", "replace")

    def size(self) -> int:
        return self.log_path.stat().st_size

    def wait_for(self, ready: Callable[[str], bool], timeout: float = START_TIMEOUT) -> str:
        deadline = time.monotonic() + timeout
        while True:
            text = self.output()
            if ready(text):
                return text
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited ({self.process.returncode}):\n{text}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready after {timeout:g} s:\n{text}")
            time.sleep(0.01)

    def stop(self) -> None:
        process = self.process
        if process.poll() is None:
            below = descendants(process.pid)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            # Execution environments live in sessions of their own: make sure they are gone.
            for pid in below:
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)
        self._log.close()


def wait_for_port(server: Server, timeout: float = START_TIMEOUT) -> None:
    """Until ``server.address`` accepts a connection (a start-up wait, not a request path)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(server.address, timeout=1).close()
            return
        except OSError:
            if server.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{server.name} does not listen on {server.address}") from None
            time.sleep(0.01)


class Servers:
    """Every server started so far; all stopped on exit, whatever happens."""

    def __init__(self, logdir: Path) -> None:
        self.logdir = logdir
        self.running: list[Server] = []

    def faasport(self, project: Path, name: str = "faasport dev") -> Server:
        argv = [sys.executable, "-m", "faasport.cli.main", "dev", str(project)]
        argv += ["--port", "0", "--lambda-port", "0", "--services-port", "0", "--no-reload"]
        server = Server(name, argv, ROOT, self.logdir)
        self.running.append(server)
        return server

    def uvicorn(self, workers: int, name: str = "uvicorn", *, nodelay: bool = False) -> Server:
        port = free_port()
        argv = [sys.executable, *(["-c", UVICORN_NODELAY] if nodelay else ["-m", "uvicorn"])]
        argv += [APP, "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--workers", str(workers), "--no-access-log", "--log-level", "info"]
        argv += [f"--{option}={module}" for option, module in UVICORN_FAST if have(module)]
        server = Server(name, argv, PHONEY, self.logdir)
        server.address = ("127.0.0.1", port)
        server.workers = workers
        self.running.append(server)
        return server

    def relay(self, upstream: Server, name: str = "relay") -> Server:
        """A do-nothing byte relay (:data:`RELAY`) in front of ``upstream``."""
        port = free_port()
        argv = [sys.executable, "-c", RELAY, str(port), str(upstream.address[1])]
        server = Server(name, argv, ROOT, self.logdir)
        server.address = ("127.0.0.1", port)
        self.running.append(server)
        return server

    def ready(self, server: Server) -> Server:
        """Wait until ``server`` listens and answers the benchmark's request correctly."""
        if server.name.startswith("faasport"):
            text = server.wait_for(lambda text: _LISTENING.search(text) is not None)
            server.address = listening(text)
        elif server.name.startswith("relay"):
            server.wait_for(lambda text: "relay listening" in text)
        else:
            workers = server.workers
            server.wait_for(lambda text: text.count("Application startup complete") >= workers)
        # uvicorn prints "Application startup complete" before it binds its port.
        wait_for_port(server)
        client = RawClient(server.address)
        try:
            status, body = client.get()
        finally:
            client.close()
        if status != 200 or json.loads(body) != EXPECTED:
            raise RuntimeError(f"{server.name} answered {status} {body!r}")
        return server

    def stop(self, server: Server) -> None:
        server.stop()
        self.running.remove(server)

    def stop_all(self) -> None:
        for server in reversed(self.running):
            with contextlib.suppress(Exception):
                server.stop()
        self.running.clear()


PLAIN_HANDLER = f"""
BODY = {json.dumps(json.dumps(EXPECTED))}


def handle(event, context):
    return {{"statusCode": 200, "headers": {{"content-type": "application/json"}}, "body": BODY}}
"""


def plain_project(into: Path, concurrency: int) -> Path:
    """A project whose function ``api`` is a plain handler answering what phoney answers."""
    target = into / f"plain-c{concurrency}"
    target.mkdir()
    (target / "plain.py").write_text(PLAIN_HANDLER)
    (target / "faasport.toml").write_text(
        'name = "plain"\n\n[functions.api]\nhandler = "plain:handle"\n'
        f'concurrency = {concurrency}\nroutes = ["ANY /{{proxy+}}"]\n'
    )
    return target


def project_copy(into: Path, concurrency: int) -> Path:
    """tests/fixtures/phoney with ``concurrency`` for its function ``api``."""
    target = into / f"phoney-c{concurrency}"
    shutil.copytree(
        PHONEY, target, ignore=shutil.ignore_patterns(".faasport", "__pycache__", "*.pyc")
    )
    config = target / "faasport.toml"
    text = config.read_text()
    head, sep, rest = text.partition("[functions.api]\n")
    if not sep:
        raise RuntimeError(f"no [functions.api] table in {PHONEY / 'faasport.toml'}")
    section, nxt, tail = rest.partition("\n[")
    section = re.sub(r"(?m)^concurrency\s*=.*\n?", "", section)
    config.write_text(f"{head}{sep}concurrency = {concurrency}\n{section}{nxt}{tail}")
    return target


# -- statistics ----------------------------------------------------------------------------


def percentile(samples: list[float], q: int) -> float:
    return statistics.quantiles(samples, n=100, method="inclusive")[q - 1]


def median(samples: list[float]) -> float:
    return statistics.median(samples) if samples else float("nan")


def report_values(text: str) -> list[tuple[float, float | None]]:
    """(Duration, Init Duration or None) of every REPORT line in ``text``."""
    values = []
    for line in text.splitlines():
        if "REPORT RequestId:" not in line:
            continue
        duration = _DURATION.search(line)
        init = _INIT.search(line)
        if duration:
            values.append((float(duration.group(1)), float(init.group(1)) if init else None))
    return values


# -- 1. warm latency -----------------------------------------------------------------------


@dataclass
class Latency:
    samples: dict[str, list[float]] = field(default_factory=dict)
    report_durations: list[float] = field(default_factory=list)
    errors: int = 0


def in_process_call() -> Callable[[], object]:
    sys.path.insert(0, str(PHONEY))
    from faasport import aws
    from faasport.testing import LambdaContext, event

    handler = aws.handler(APP)
    request = event("apigw-v2", "GET", PATH)
    context = LambdaContext()
    result = handler(request, context)
    if result["statusCode"] != 200 or json.loads(result["body"]) != EXPECTED:
        raise RuntimeError(f"in-process handler answered {result!r}")
    return lambda: handler(request, context)


def measure_latency(servers: Servers, warmup: int, requests: int, rounds: int) -> Latency:
    cases: dict[str, Callable[[], object]] = {}
    gateway = servers.faasport(PHONEY)
    uvicorn = servers.uvicorn(1) if HAVE_UVICORN else None
    servers.ready(gateway)
    clients = [RawClient(gateway.address)]
    result = Latency()

    def check(client: RawClient) -> Callable[[], object]:
        def call() -> object:
            status, _ = client.get()
            if status != 200:
                result.errors += 1
            return status

        return call

    cases["faasport dev"] = check(clients[0])
    if uvicorn is not None:
        servers.ready(uvicorn)
        clients.append(RawClient(uvicorn.address))
        cases["uvicorn"] = check(clients[-1])
    cases["in-process"] = in_process_call()
    try:
        for call in cases.values():
            for _ in range(warmup):
                call()
        offset = gateway.size()
        result.samples = {name: [] for name in cases}
        names = list(cases)
        batch = max(1, requests // rounds)
        clock = time.perf_counter_ns
        for r in range(rounds):
            k = r % len(names)
            for name in names[k:] + names[:k]:
                call, samples = cases[name], result.samples[name]
                for _ in range(batch):
                    start = clock()
                    call()
                    samples.append((clock() - start) / 1e6)
        time.sleep(0.2)  # the last REPORT line reaches the log file
        result.report_durations = [d for d, _ in report_values(gateway.output(offset))]
    finally:
        for client in clients:
            client.close()
        servers.stop(gateway)
        if uvicorn is not None:
            servers.stop(uvicorn)
    return result


# -- 2. cold start -------------------------------------------------------------------------


@dataclass
class ColdStart:
    init: list[float] = field(default_factory=list)
    first_duration: list[float] = field(default_factory=list)
    first_request: list[float] = field(default_factory=list)
    imports: list[float] = field(default_factory=list)
    passes: list[float] = field(default_factory=list)


def interpreter_ms(code: str) -> float:
    start = time.perf_counter_ns()
    subprocess.run([sys.executable, "-c", code], cwd=PHONEY, check=True)
    return (time.perf_counter_ns() - start) / 1e6


def measure_cold_start(servers: Servers, starts: int, import_runs: int) -> ColdStart:
    result = ColdStart()
    interpreter_ms("import phoney.main")  # page cache, as for faasport's own first start
    per_start = -(-import_runs // starts)
    for i in range(starts):
        server = servers.faasport(PHONEY)
        try:
            address = listening(server.wait_for(lambda text: _LISTENING.search(text) is not None))
            start = time.perf_counter_ns()
            client = RawClient(address)
            status, body = client.get()
            result.first_request.append((time.perf_counter_ns() - start) / 1e6)
            client.close()
            if status != 200:
                raise RuntimeError(f"first request answered {status} {body!r}")
            text = server.wait_for(lambda text: _INIT.search(text) is not None, timeout=10)
            (duration, init), *_ = (v for v in report_values(text) if v[1] is not None)
            assert init is not None
            result.init.append(init)
            result.first_duration.append(duration)
        finally:
            servers.stop(server)
        for j in range(min(per_start, import_runs - len(result.imports))):
            pair = [("import phoney.main", result.imports), ("pass", result.passes)]
            for code, samples in pair if (i + j) % 2 == 0 else pair[::-1]:
                samples.append(interpreter_ms(code))
    return result


# -- 3. throughput -------------------------------------------------------------------------


def load_client(
    address: tuple[str, int],
    warmup: float,
    seconds: float,
    barrier: Any,
    results: Any,
) -> None:
    """One client process: loop requests on one connection; put its counts by status."""
    counts: dict[int, int] = {}
    errors = 0
    client = RawClient(address)
    barrier.wait()
    begin = time.monotonic() + warmup
    end = begin + seconds
    now = time.monotonic()
    cpu = 0.0
    while now < end:
        if not cpu and now >= begin:
            cpu = time.process_time()
        try:
            status, _ = client.get()
        except OSError:
            errors += 1
            with contextlib.suppress(OSError):
                client.reconnect()
            now = time.monotonic()
            continue
        now = time.monotonic()
        if begin <= now < end:
            counts[status] = counts.get(status, 0) + 1
    client.close()
    results.put((counts, errors, time.process_time() - cpu))


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of one process (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


@dataclass
class Load:
    ok_rps: list[float] = field(default_factory=list)
    ok: int = 0
    other: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    #: CPU seconds in the measured windows: the server's main process, the processes it
    #: started (execution environments, uvicorn's workers), the load generator.
    cpu_main: float = 0.0
    cpu_children: float = 0.0
    cpu_clients: float = 0.0

    def cpu_ms(self, seconds: float) -> str:
        return f"{seconds * 1000 / self.ok:.3f}" if self.ok else "n/a"


def run_load(
    server: Server, clients: int, warmup: float, seconds: float, load: Load | None = None
) -> Load:
    """K client processes against ``server`` for warmup + seconds; adds to ``load``."""
    load = load if load is not None else Load()
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(clients + 1)
    results = context.Queue()
    processes = [
        context.Process(
            target=load_client,
            args=(server.address, warmup, seconds, barrier, results),
            daemon=True,
        )
        for _ in range(clients)
    ]
    try:
        for process in processes:
            process.start()
        barrier.wait(timeout=60)
        time.sleep(warmup)
        pids = [server.process.pid, *descendants(server.process.pid)]
        before = {pid: cpu_seconds(pid) for pid in pids}
        time.sleep(seconds)
        after = {pid: cpu_seconds(pid) for pid in [server.process.pid, *pids[1:]]}
        ok = 0
        for _ in processes:
            counts, errors, cpu = results.get(timeout=warmup + seconds + 60)
            ok += counts.pop(200, 0)
            load.errors += errors
            load.cpu_clients += cpu
            for status, n in counts.items():
                load.other[status] = load.other.get(status, 0) + n
        load.ok += ok
        load.ok_rps.append(ok / seconds)
        main_pid = server.process.pid
        load.cpu_main += after[main_pid] - before[main_pid]
        load.cpu_children += sum(after[p] - before[p] for p in pids[1:])
    finally:
        for process in processes:
            process.join(timeout=5)
            if process.is_alive():
                process.kill()
                process.join()
    return load


def prime(server: Server, clients: int, seconds: float, environments: int) -> None:
    """Load ``server`` untimed until it has ``environments`` warm processes that have each
    answered requests (faasport imports the app in an environment's first invocation)."""
    for _ in range(4):
        run_load(server, clients, 0.0, seconds)
        if not server.name.startswith("faasport"):
            return
        cold = sum(init is not None for _, init in report_values(server.output()))
        if cold >= environments:
            return
    raise RuntimeError(f"{server.name}: only {cold} of {environments} environments started")


def measure_throughput(
    servers: Servers,
    tmp: Path,
    workers: int,
    clients: int,
    seconds: float,
    rounds: int,
    priming: float,
) -> dict[str, Load]:
    enough = max(workers, clients)
    started: dict[str, Server] = {}
    environments: dict[str, int] = {}
    try:
        if HAVE_UVICORN:
            started["uvicorn"] = servers.uvicorn(workers, "uvicorn", nodelay=True)
            started["uvicorn stock"] = servers.uvicorn(workers, "uvicorn stock")
        started["faasport"] = servers.faasport(project_copy(tmp, enough), "faasport dev enough")
        environments["faasport"] = clients
        started["plain"] = servers.faasport(plain_project(tmp, enough), "faasport dev plain")
        environments["plain"] = clients
        if enough != workers:
            started["throttled"] = servers.faasport(
                project_copy(tmp, workers), "faasport dev workers"
            )
            environments["throttled"] = workers
        for server in started.values():
            servers.ready(server)
        if "uvicorn" in started:
            started["relay"] = servers.ready(servers.relay(started["uvicorn"]))
        for name, server in started.items():
            if name in environments:  # uvicorn's workers imported the app at startup
                prime(server, clients, priming, environments[name])
        loads = {name: Load() for name in started}
        names = list(started)
        warmup = min(0.5, seconds / 4)
        for r in range(rounds):
            k = r % len(names)
            for name in names[k:] + names[:k]:
                run_load(started[name], clients, warmup, seconds, loads[name])
        return loads
    finally:
        for server in started.values():
            servers.stop(server)


# -- output --------------------------------------------------------------------------------


def loadavg() -> str:
    try:
        return " / ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def revision() -> str:
    """The checkout's commit, and whether it has local changes."""
    try:
        git = ["git", "-C", str(ROOT)]
        commit = subprocess.run(
            [*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            [*git, "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not a git checkout"
    return f"commit {commit}{' with local changes' if dirty else ''}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def verdict_row(ratio: float) -> str:
    return f">= {THROUGHPUT_TARGET:.0%}: {verdict(ratio >= THROUGHPUT_TARGET)}"


def fmt_other(load: Load) -> str:
    parts = [f"{n} x {status}" for status, n in sorted(load.other.items())]
    if load.errors:
        parts.append(f"{load.errors} connection errors")
    return ", ".join(parts) or "none"


@contextlib.contextmanager
def stopped_on_signals() -> Iterator[None]:
    """SIGTERM and SIGHUP unwind like Ctrl-C, so ``finally`` blocks stop the servers."""

    def stop(signum: int, frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = {s: signal.signal(s, stop) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


HAVE_UVICORN = importlib.util.find_spec("uvicorn") is not None
#: uvicorn's fastest configuration (what ``auto`` picks when they are installed).
UVICORN_FAST = (("http", "httptools"), ("loop", "uvloop"))


def have(module: str) -> bool:
    return importlib.util.find_spec(module) is not None


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="smoke run, under 30 seconds")
    parser.add_argument("--workers", type=int, default=2, help="N: uvicorn workers (default 2)")
    parser.add_argument("--clients", type=int, default=4, help="K: load processes (default 4)")
    parser.add_argument("--seconds", type=float, help="load duration per run (default 5)")
    parser.add_argument("--rounds", type=int, help="load runs per server (default 3)")
    parser.add_argument("--requests", type=int, help="timed requests per latency case")
    parser.add_argument("--starts", type=int, help="fresh faasport dev starts (cold start)")
    args = parser.parse_args()
    quick = args.quick
    seconds = args.seconds or (1.0 if quick else 5.0)
    priming = 0.6 if quick else 2.0
    rounds = args.rounds or (1 if quick else 3)
    requests = args.requests or (400 if quick else 5000)
    starts = args.starts or (2 if quick else 5)
    import_runs = 3 if quick else 10
    warmup = 100 if quick else 300
    load_start = loadavg()
    began = time.monotonic()

    print("# faasport dev against the app served directly\n")
    print(f"- machine: {platform.platform()}, {platform.machine()}, {os.cpu_count()} cpus")
    print(f"- python: {platform.python_implementation()} {platform.python_version()}")
    print(f"- faasport: {revision()}")
    print(f"- load average (1/5/15 min) at start: {load_start}")
    if HAVE_UVICORN:
        import uvicorn

        extras = [module for _, module in UVICORN_FAST if have(module)]
        print(
            f"- uvicorn {uvicorn.__version__} ({', '.join(extras) or 'h11, asyncio loop'}); "
            f"load: {args.clients} client processes, one keep-alive connection each"
        )
    else:
        print(
            "- uvicorn is not installed: `pip install uvicorn` to get the uvicorn rows "
            "(reference latency, throughput comparison); skipping them"
        )
    sys.stdout.flush()

    with tempfile.TemporaryDirectory(prefix="faasport-bench-") as tmp, stopped_on_signals():
        servers = Servers(Path(tmp))
        try:
            phases = [time.monotonic()]
            latency = measure_latency(servers, warmup, requests, rounds=5 if quick else 20)
            phases.append(time.monotonic())
            cold = measure_cold_start(servers, starts, import_runs)
            phases.append(time.monotonic())
            loads = measure_throughput(
                servers, Path(tmp), args.workers, args.clients, seconds, rounds, priming
            )
            phases.append(time.monotonic())
        finally:
            servers.stop_all()

    rows: list[tuple[str, str, str, str, str]] = []
    gw = latency.samples["faasport dev"]
    inproc = latency.samples["in-process"]
    added = median(gw) - median(inproc)
    env = median(latency.report_durations)
    n = len(gw)
    rows.append(
        (
            f"warm latency p50 (ms), {n} requests",
            f"{median(gw):.3f}",
            f"in-process {median(inproc):.3f}",
            f"+{added:.3f} ms added",
            f"<= {LATENCY_TARGET_MS:g} ms: {verdict(added <= LATENCY_TARGET_MS)}",
        )
    )
    rows.append(
        (
            "warm latency p99 (ms)",
            f"{percentile(gw, 99):.3f}",
            f"in-process {percentile(inproc, 99):.3f}",
            f"+{percentile(gw, 99) - percentile(inproc, 99):.3f} ms",
            "",
        )
    )
    rows.append(
        (
            "split of the added p50 (ms)",
            f"REPORT Duration p50 {env:.3f}",
            f"in-process {median(inproc):.3f}",
            f"environment +{env - median(inproc):.3f}, gateway and client +{median(gw) - env:.3f}",
            "",
        )
    )
    if "uvicorn" in latency.samples:
        uv = latency.samples["uvicorn"]
        rows.append(
            (
                "reference: uvicorn, 1 worker, p50 / p99 (ms)",
                f"{median(gw):.3f} / {percentile(gw, 99):.3f}",
                f"uvicorn {median(uv):.3f} / {percentile(uv, 99):.3f}",
                f"+{median(gw) - median(uv):.3f} ms at p50",
                "",
            )
        )
    if latency.errors:
        rows.append(("non-200 warm responses", str(latency.errors), "", "", ""))
    imports = median(cold.imports) - median(cold.passes)
    init = median(cold.init)
    first = median(cold.first_duration)
    rows.append(
        (
            f"cold start: Init Duration (ms), median of {len(cold.init)} starts",
            f"{init:.1f}",
            f"`import phoney.main` - `pass` {imports:.1f}",
            f"x{init / imports:.2f}",
            "",
        )
    )
    rows.append(
        (
            "cold start: Init + first Duration (ms; the app is imported on first use)",
            f"{init:.1f} + {first:.1f} = {init + first:.1f}",
            f"`import phoney.main` {median(cold.imports):.1f} (`pass` {median(cold.passes):.1f})",
            f"x{(init + first) / imports:.2f} of the import, "
            f"x{(init + first) / median(cold.imports):.2f} with interpreter start",
            "",
        )
    )
    rows.append(
        (
            "cold start: first request end to end (ms)",
            f"{median(cold.first_request):.1f}",
            "",
            "connect to last body byte, after `Listening on`",
            "",
        )
    )
    fa = loads["faasport"]
    enough = max(args.workers, args.clients)
    window = f"{args.clients} clients, median of {rounds} x {seconds:g} s"
    rows.append(
        (
            f"throughput (200/s), {window}",
            f"{median(fa.ok_rps):.0f} (`concurrency = {enough}`)",
            f"uvicorn --workers {args.workers}: {median(loads['uvicorn'].ok_rps):.0f}"
            if "uvicorn" in loads
            else "uvicorn not installed",
            "",
            "",
        )
    )
    if "uvicorn" in loads:
        uv_load, stock = loads["uvicorn"], loads["uvicorn stock"]
        # The target is judged against the faster uvicorn: with uvloop, stock uvicorn sets
        # TCP_NODELAY itself and the re-made socket is the slower of the two.
        best = max(median(uv_load.ok_rps), median(stock.ok_rps))
        ratio = median(fa.ok_rps) / best
        rows[-1] = (*rows[-1][:3], f"{median(fa.ok_rps) / median(uv_load.ok_rps):.0%}", "")
        rows.append(
            (
                f"throughput (200/s), stock `uvicorn --workers {args.workers}`",
                f"{median(fa.ok_rps):.0f}",
                f"{median(stock.ok_rps):.0f}",
                f"{median(fa.ok_rps) / median(stock.ok_rps):.0%}",
                "on asyncio's loop stock uvicorn leaves Nagle on (uvicorn#3149)",
            )
        )
        rows.append(
            (
                "throughput against the faster uvicorn",
                f"{median(fa.ok_rps):.0f}",
                f"{best:.0f}",
                f"{ratio:.0%}",
                verdict_row(ratio),
            )
        )
    if "relay" in loads:
        relayed = median(loads["relay"].ok_rps)
        rows.append(
            (
                "reference: uvicorn behind a do-nothing relay process",
                "",
                f"{relayed:.0f}",
                f"relay {relayed / median(loads['uvicorn'].ok_rps):.0%} of uvicorn; "
                f"faasport {median(fa.ok_rps) / relayed:.0%} of the relayed uvicorn",
                f"what one more process hop costs before any work (relay CPU ms per "
                f"response {loads['relay'].cpu_ms(loads['relay'].cpu_main)})",
            )
        )
    if "throttled" in loads:
        th = loads["throttled"]
        share = ""
        if "uvicorn" in loads:
            share = f"{median(th.ok_rps) / median(loads['uvicorn'].ok_rps):.0%}"
        rows.append(
            (
                f"throughput (200/s), `concurrency = {args.workers}` < {args.clients} clients",
                f"{median(th.ok_rps):.0f}",
                "",
                share,
                f"throttled as on Lambda: {fmt_other(th)}",
            )
        )
    plain = loads["plain"]
    rows.append(
        (
            "throughput (200/s), a plain handler (no framework)",
            f"{median(plain.ok_rps):.0f}",
            f"uvicorn --workers {args.workers} (phoney): {median(loads['uvicorn'].ok_rps):.0f}"
            if "uvicorn" in loads
            else "",
            f"{median(plain.ok_rps) / median(loads['uvicorn'].ok_rps):.0%}"
            if "uvicorn" in loads
            else "",
            "the gateway and runtime plumbing alone",
        )
    )
    rows.append(
        (
            "throughput: non-200 responses, connection errors",
            f"{fmt_other(fa)}; plain handler: {fmt_other(plain)}",
            ", ".join(f"{name}: {fmt_other(loads[name])}" for name in loads if "uvicorn" in name),
            "",
            "",
        )
    )
    cpu_rows = (
        ("faasport", "faasport", ("gateway", "environments")),
        ("plain", "faasport, plain handler", ("gateway", "environments")),
        ("uvicorn", "uvicorn", ("", "workers")),
    )
    for name, shown, parts in cpu_rows:
        if name not in loads:
            continue
        load = loads[name]
        main_part = f"{parts[0] or 'supervisor'} {load.cpu_ms(load.cpu_main)}"
        ours = name != "uvicorn"
        rows.append(
            (
                f"CPU ms per 200 response, {shown}",
                f"{main_part}, {parts[1]} {load.cpu_ms(load.cpu_children)}" if ours else "",
                f"{main_part}, {parts[1]} {load.cpu_ms(load.cpu_children)}" if not ours else "",
                f"load generator {load.cpu_ms(load.cpu_clients)}",
                "",
            )
        )

    print()
    print("| measurement | faasport dev | baseline | faasport vs baseline | target |")
    print("|---|---:|---:|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print(f"- load average (1/5/15 min) at end: {loadavg()}")
    spent = [f"{b - a:.1f} s" for a, b in itertools.pairwise(phases)]
    print(
        f"- wall time: {time.monotonic() - began:.1f} s (latency {spent[0]}, cold start "
        f"{spent[1]}, throughput {spent[2]})"
    )


if __name__ == "__main__":
    main()
