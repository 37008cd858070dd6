"""A real ``faasport dev`` process for tests: started on free ports, its stderr collected."""

from __future__ import annotations

import re
import subprocess
import sys
import threading
from pathlib import Path


class DevServer:
    def __init__(self, project: Path, *args: str) -> None:
        self.process = subprocess.Popen(
            [
                *(sys.executable, "-m", "faasport.cli.main", "dev", str(project)),
                *("--port", "0", "--lambda-port", "0", "--no-reload", *args),
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
            self.close()
            raise AssertionError(f"faasport dev did not start: {self.lines}")
        self.url = self._find(r"Listening on (http://\S+)")

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

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=10)
        self._reader.join(timeout=10)
        if self.process.stderr is not None:
            self.process.stderr.close()
