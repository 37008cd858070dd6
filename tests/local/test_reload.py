"""Hot reload's file watcher: which changes it reports, and what it skips."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

from faasport.local.reload import Reloader, snapshot


def touch(path: Path, text: str = "x = 1\n") -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    later = time.time() + 5
    os.utime(path, (later, later))


def test_snapshot_skips_hidden_virtualenv_and_cache_folders(tmp_path: Path) -> None:
    for name in ("app.py", "pkg/mod.py", ".venv/lib/x.py", "venv/y.py", "pkg/__pycache__/z.py"):
        touch(tmp_path / name)
    touch(tmp_path / "notes.txt")
    # The configuration and secrets files count at the root only (a vendored package's
    # pyproject.toml is not the project's).
    for name in ("faasport.toml", "secrets.local.toml", "pkg/pyproject.toml"):
        touch(tmp_path / name)
    assert sorted(Path(p).relative_to(tmp_path).as_posix() for p in snapshot(tmp_path)) == [
        "app.py",
        "faasport.toml",
        "pkg/mod.py",
        "secrets.local.toml",
    ]


def test_reports_changed_added_and_removed_files(tmp_path: Path) -> None:
    touch(tmp_path / "app.py")
    touch(tmp_path / "gone.py")
    changes: list[list[str]] = []
    seen = threading.Event()

    def on_change(changed: list[str]) -> None:
        changes.append(changed)
        seen.set()

    reloader = Reloader(tmp_path, on_change, interval=0.02)
    reloader.start()
    try:
        time.sleep(0.1)
        assert changes == []  # nothing changed yet
        touch(tmp_path / "app.py", "x = 2\n")
        touch(tmp_path / "new.py")
        (tmp_path / "gone.py").unlink()
        assert seen.wait(5)
        time.sleep(0.1)
    finally:
        reloader.stop()
        reloader.join(5)
    reported = {Path(p).name for batch in changes for p in batch}
    assert reported == {"app.py", "new.py", "gone.py"}
    assert not reloader.is_alive()
