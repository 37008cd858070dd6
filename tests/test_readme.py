"""The README's "Use faasport in your project" commands, run one by one in an empty directory.

They are the ```console block of that section (lines starting ``$ ``). Three are replaced, as
the test already runs inside an environment with faasport installed:
- ``python3 -m venv`` and ``. .venv/bin/activate``: the test's own environment is put first
  on PATH instead, so that the bare ``faasport`` of the README is the installed command;
- ``pip install ...``: run with ``--dry-run --no-index``, which must find every requirement
  already satisfied (nothing to download, nothing that would be installed);
- ``faasport dev``: started on free ports, asked for a page over HTTP, stopped by SIGTERM.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import threading
from pathlib import Path

import httpx

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## Use faasport in your project"


def section_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end != -1 else None]
    blocks = re.findall(r"```console\n(.*?)```", section, re.DOTALL)
    return [line[2:] for block in blocks for line in block.splitlines() if line.startswith("$ ")]


def environment() -> dict[str, str]:
    bin_dir = str(Path(sys.executable).parent)
    return {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}


def run_dev(args: list[str], cwd: Path, env: dict[str, str]) -> None:
    process = subprocess.Popen(
        [*args, "--port", "0", "--lambda-port", "0", "--no-reload"],
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    ready = threading.Event()

    def read() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line.rstrip("\n"))
            if line.startswith("Lambda Invoke API on"):
                ready.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert ready.wait(60), lines
        url = next(m.group(1) for m in map(re.compile(r"Listening on (\S+)").match, lines) if m)
        response = httpx.get(f"{url}/items/1", timeout=30)
        assert (response.status_code, response.json()) == (200, {"id": 1, "name": "pen"})
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        reader.join(timeout=10)
        if process.stderr is not None:
            process.stderr.close()
    assert "faasport dev: stopped" in lines


def test_the_section_has_the_commands_it_describes() -> None:
    commands = section_commands()
    assert commands[:3] == [
        "python3 -m venv .venv",
        ". .venv/bin/activate",
        "pip install 'faasport[cli]'",
    ]
    assert {"faasport check", "faasport dev", "faasport deploy aws --dry-run"} <= set(commands)


def test_the_section_commands_run_in_an_empty_directory(tmp_path: Path) -> None:
    env = environment()
    cwd = tmp_path
    for command in section_commands():
        args = shlex.split(command)
        if args[:3] == ["python3", "-m", "venv"] or args[:1] == ["."]:
            continue  # this test's environment stands for the new one
        if args[0] == "cd":
            cwd = cwd / args[1]
            continue
        if args == ["faasport", "dev"]:
            run_dev(args, cwd, env)
            continue
        if args[:2] == ["pip", "install"]:
            args = [sys.executable, "-m", "pip", "install", "--dry-run", "--no-index", *args[2:]]
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command}: {done.stdout}{done.stderr}"
        assert "Would install" not in done.stdout, command
    assert (cwd / "deploy" / "aws" / "template.yaml").is_file()
