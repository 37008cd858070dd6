"""docs/authorizers.md's example, run as written: its faasport.toml and Python files in a
project, a real ``faasport dev``, and each documented curl command answered with the
documented output."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import httpx

from dev_process import Dev

DOC = Path(__file__).resolve().parents[2] / "docs" / "authorizers.md"


def example() -> tuple[str, dict[str, str], list[tuple[list[str], str]]]:
    text = DOC.read_text(encoding="utf-8")
    config = re.findall(r"```toml\n(.*?)```", text, re.DOTALL)[0]
    files = {}
    for block in re.findall(r"```python\n(.*?)```", text, re.DOTALL):
        first, _, rest = block.partition("\n")
        files[first.removeprefix("# ").strip()] = rest
    (console,) = re.findall(r"```console\n(.*?)```", text, re.DOTALL)
    lines = console.splitlines()
    calls = [
        (shlex.split(line[2:]), lines[index + 1])
        for index, line in enumerate(lines)
        if line.startswith("$ curl ")
    ]
    return config, files, calls


def test_the_documented_example_answers_as_documented(tmp_path: Path) -> None:
    config, files, calls = example()
    assert len(calls) == 3 and set(files) == {"authz.py", "api.py"}
    (tmp_path / "faasport.toml").write_text(config)
    for name, source in files.items():
        (tmp_path / name).write_text(source)
    dev = Dev(tmp_path)
    try:
        key = json.loads((tmp_path / ".faasport" / "api-keys.json").read_text())["acme"]
        assert any(line.endswith(f"API key acme: {key}") for line in dev.lines)
        base = dev.url.removesuffix("/prod")
        with httpx.Client() as client:
            for argv, expected in calls:
                url = argv[argv.index("-s") + 1].replace("localhost:3000", base)
                headers = {}
                for index, word in enumerate(argv):
                    if word == "-H":
                        name, _, value = argv[index + 1].partition(": ")
                        headers[name] = value.replace("$KEY", key)
                answer = client.get(url, headers=headers)
                assert answer.json() == json.loads(expected), (argv, answer.status_code)
    finally:
        dev.close()
