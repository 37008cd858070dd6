"""A real ``faasport dev`` process for end-to-end tests: started on free ports (gateway,
Invoke API and AWS services endpoint), its stderr collected line by line, stopped at the end."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
from botocore.config import Config

#: The last line ``faasport dev`` prints once everything listens.
READY = "AWS services on"


class Dev:
    def __init__(self, project: Path, *options: str, env: dict[str, str] | None = None) -> None:
        self.project = project
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "faasport.cli.main", "dev", str(project)),
                *("--port", "0", "--lambda-port", "0", "--services-port", "0"),
                *options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            env=None if env is None else {**os.environ, **env},
        )
        self.lines: list[str] = []
        self._clients: list[Any] = []
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(30):
            self.close()
            raise AssertionError(f"faasport dev did not start: {self.lines}")
        self.url = self._find(r"Listening on (http://\S+)")
        self.lambda_url = self._find(r"Lambda Invoke API on (http://\S+)")
        self.services = self._find(r"AWS services on (http://\S+)")

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))
            if line.startswith(READY):
                self._ready.set()

    def _find(self, pattern: str) -> str:
        for line in self.lines:
            found = re.match(pattern, line)
            if found:
                return found.group(1)
        raise AssertionError(f"no line matches {pattern}: {self.lines}")

    @property
    def dashboard(self) -> str:
        """The dashboard's URL (``.../_faasport/``)."""
        return self._find(r"Dashboard on (http://\S+)")

    def client(self, service: str) -> Any:
        """A boto3 client of the running server, closed with it (an unclosed one leaves its
        socket to the garbage collector, which warns in whichever test comes next)."""
        url = self.lambda_url if service == "lambda" else self.services
        client = boto3.client(
            service,
            endpoint_url=url,
            region_name="us-east-1",
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=Config(retries={"max_attempts": 1}, read_timeout=30),
        )
        self._clients.append(client)
        return client

    def settled(self, at_least: int = 0) -> int:
        """START lines once every invocation logged so far has logged its REPORT too, and at
        least `at_least` have started: stderr is read on another thread, a little behind the
        responses, so a response can arrive before its START line is read."""

        def count(prefix: str) -> int:
            return sum(line.startswith(prefix) for line in self.lines)

        wait_for(
            lambda: count("START") >= at_least and count("START") == count("REPORT"),
            10,
            "the REPORT lines",
        )
        return count("START")

    def invocation_ids(self) -> set[str]:
        """The request ids of the invocations the server has started, from its own record
        (the dashboard's state: the last 200). Unlike counting START lines, this does not
        depend on how far the thread reading stderr has got."""
        import httpx

        state = httpx.get(self.dashboard + "api/state", timeout=30).json()
        return {record["id"] for record in state["invocations"]}

    def children(self) -> set[int]:
        """Child processes of any of the server's threads (Linux /proc)."""
        found: set[int] = set()
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            children = task / "children"
            if children.exists():
                found.update(int(pid) for pid in children.read_text().split())
        return found

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind, as a crash."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def close(self) -> None:
        for client in self._clients:
            client.close()
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._reader.join(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()


def wait_for(condition: Callable[[], object], timeout: float = 20.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or condition}")
        time.sleep(0.02)
