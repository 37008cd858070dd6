"""Hot reload: watch the project's Python files, and its configuration and secrets files
at the root, and call back when one changes.

A stat() scan a few times a second: portable (no inotify), and cheap for a project's own
sources, since virtual environments, caches and hidden folders are skipped.
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable
from pathlib import Path

SKIP = {"__pycache__", "node_modules", "venv", "site-packages"}
#: Files watched at the project's root only.
ROOT_FILES = {"faasport.toml", "pyproject.toml", "secrets.local.toml"}


def snapshot(root: Path) -> dict[str, float]:
    found: dict[str, float] = {}
    top = str(root)
    stack = [top]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if not entry.name.startswith(".") and entry.name not in SKIP:
                    stack.append(entry.path)
            elif entry.name.endswith(".py") or (folder == top and entry.name in ROOT_FILES):
                with contextlib.suppress(OSError):
                    found[entry.path] = entry.stat().st_mtime
    return found


class Reloader(threading.Thread):
    def __init__(
        self, root: Path, on_change: Callable[[list[str]], None], interval: float = 0.25
    ) -> None:
        super().__init__(name="faasport-reload", daemon=True)
        self.root = root
        self.on_change = on_change
        self.interval = interval
        self._halt = threading.Event()
        self._files = snapshot(root)

    def run(self) -> None:
        while not self._halt.wait(self.interval):
            files = snapshot(self.root)
            if files != self._files:
                changed = sorted(
                    path
                    for path in files.keys() | self._files.keys()
                    if files.get(path) != self._files.get(path)
                )
                self._files = files
                self.on_change(changed)

    def stop(self) -> None:
        self._halt.set()
