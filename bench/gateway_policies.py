"""What the local gateway's policies add to a request: ``faasport dev`` serving the phoney
example (``GET /items/1``) as is, and a copy whose function ``api`` has a JWT authorizer
(RS256, a JWKS file) and a throttle (kept in the default SQLite store, set high enough that
nothing is refused).

Run it with ``.venv/bin/python bench/gateway_policies.py`` (under a minute). The two servers
run at once and are timed in round-robin batches over one keep-alive raw-socket connection
each (the client of ``bench/local.py``), so machine noise spreads over both; the table gives
p50 and p99 over every timed request and the added p50. Target: <= 2 ms.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import sys
import tempfile
import time
from pathlib import Path

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

# bench/ is the script's directory, so its first entry on sys.path.
from local import (
    EXPECTED,
    PATH,
    ROOT,
    RawClient,
    Server,
    Servers,
    listening,
    percentile,
    project_copy,
    wait_for_port,
)

TARGET_MS = 2.0
ISSUER = "https://issuer.example.com/"
_LISTENING = re.compile(r"Listening on (http://\S+)")


def with_policies(project: Path, key: rsa.RSAPrivateKey) -> None:
    """Put a JWT authorizer and a throttle on ``project``'s function ``api``."""
    public = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    (project / "jwks.json").write_text(json.dumps({"keys": [{**public, "kid": "bench"}]}))
    config = project / "faasport.toml"
    text = config.read_text().replace(
        "[functions.api]\n",
        '[functions.api]\nauth = "bench"\nthrottle = { rate = 1000000, burst = 1000000 }\n',
    )
    text += f'\n[auth.bench]\nissuer = "{ISSUER}"\naudience = ["phoney"]\njwks = "jwks.json"\n'
    config.write_text(text)


def request(token: str | None) -> bytes:
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    return (
        f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: faasport-bench\r\n{auth}\r\n"
    ).encode()


def start_dev(servers: Servers, project: Path, name: str) -> Server:
    """``faasport dev`` on free ports (two run at once, so the services port too)."""
    argv = [sys.executable, "-m", "faasport.cli.main", "dev", str(project), "--no-reload"]
    argv += ["--port", "0", "--lambda-port", "0", "--services-port", "0"]
    server = Server(name, argv, ROOT, servers.logdir)
    servers.running.append(server)
    return server


def ready(server: Server, raw: bytes) -> RawClient:
    text = server.wait_for(lambda text: _LISTENING.search(text) is not None)
    server.address = listening(text)
    wait_for_port(server)
    client = RawClient(server.address, raw)
    status, body = client.get()
    if status != 200 or json.loads(body) != EXPECTED:
        raise RuntimeError(f"{server.name} answered {status} {body!r}")
    return client


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=600, help="timed requests per case")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=100)
    args = parser.parse_args()
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    claims = {"iss": ISSUER, "aud": "phoney", "sub": "bench", "exp": int(time.time()) + 3600}
    token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "bench"})
    print(f"# {platform.node()}: {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        plain = project_copy(Path(tmp) / "plain", 1)
        guarded = project_copy(Path(tmp) / "guarded", 1)
        with_policies(guarded, key)
        servers = Servers(Path(tmp))
        try:
            cases = {
                "no policies": ready(start_dev(servers, plain, "plain"), request(None)),
                "JWT + throttle": ready(start_dev(servers, guarded, "guarded"), request(token)),
            }
            samples: dict[str, list[float]] = {name: [] for name in cases}
            for client in cases.values():
                client.reconnect()  # the first may have idled out while the second started
                for _ in range(args.warmup):
                    client.get()
            names = list(cases)
            batch = max(1, args.requests // args.rounds)
            errors = 0
            for r in range(args.rounds):
                k = r % len(names)
                for name in names[k:] + names[:k]:
                    client = cases[name]
                    for _ in range(batch):
                        start = time.perf_counter_ns()
                        status, _ = client.get()
                        samples[name].append((time.perf_counter_ns() - start) / 1e6)
                        errors += status != 200
            for client in cases.values():
                client.close()
        except Exception:
            for server in servers.running:
                print(f"--- {server.name}:\n{server.output()[-3000:]}", file=sys.stderr)
            raise
        finally:
            servers.stop_all()
    base = percentile(samples["no policies"], 50)
    print("\n| `faasport dev`, GET /items/1 | requests | p50 ms | p99 ms | added p50 ms |")
    print("|---|---|---|---|---|")
    for name, values in samples.items():
        p50 = percentile(values, 50)
        added = f"{p50 - base:+.3f}" if name != "no policies" else ""
        print(f"| {name} | {len(values)} | {p50:.3f} | {percentile(values, 99):.3f} | {added} |")
    added = percentile(samples["JWT + throttle"], 50) - base
    verdict = "within" if added <= TARGET_MS else "OVER"
    print(f"\nadded p50 {added:.3f} ms: {verdict} the {TARGET_MS:g} ms target; non-200: {errors}")
    print(f"# load at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
