"""A real ``faasport dev`` process for end-to-end tests: started on free ports, its stderr
collected line by line, killed (with its environments) at the end."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path


class Dev:
    def __init__(self, project: Path, *options: str) -> None:
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "faasport.cli.main",
                "dev",
                str(project),
                "--port",
                "0",
                "--lambda-port",
                "0",
                *options,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        if not self._ready.wait(30):
            raise AssertionError(f"faasport dev did not start: {self.lines}")
        self.url = self._find(r"Listening on (http://\S+)")
        self.lambda_url = self._find(r"Lambda Invoke API on (http://\S+)")

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))
            if line.startswith("Lambda Invoke API on"):
                self._ready.set()

    def _find(self, pattern: str) -> str:
        for line in self.lines:
            found = re.match(pattern, line)
            if found:
                return found.group(1)
        raise AssertionError(f"no line matches {pattern}: {self.lines}")

    def children(self) -> set[int]:
        """Child processes of any of the server's threads (Linux /proc)."""
        found: set[int] = set()
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            children = task / "children"
            if children.exists():
                found.update(int(pid) for pid in children.read_text().split())
        return found

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._reader.join(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()

    def wait_for(self, text: str, timeout: float = 10.0) -> None:
        poll(lambda: any(text in line for line in self.lines), timeout)


def poll(condition: object, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.02)
