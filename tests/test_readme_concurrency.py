"""The README's "Concurrent environments" example, as written there: its faasport.toml and
slots.py under ``faasport dev``, asked eight times at once as its console lines do."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx

from dev_process import Dev

README = Path(__file__).resolve().parents[1] / "README.md"
SECTION = "## Concurrent environments (Lambda Managed Instances)"


def example() -> dict[str, str]:
    """The section's files, by the name in their first-line comment."""
    text = README.read_text(encoding="utf-8")
    start = text.index(SECTION)
    section = text[start : text.index("\n## ", start + len(SECTION))]
    files = {}
    for body in re.findall(r"```(?:toml|python)\n(.*?)```", section, re.DOTALL):
        name = body.splitlines()[0].lstrip("# ").strip()
        files[name] = body
    return files


async def eight(url: str) -> list[httpx.Response]:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        return list(await asyncio.gather(*(client.get("/slow") for _ in range(8))))


def test_the_readme_example_serves_eight_requests_from_one_environment(tmp_path: Path) -> None:
    files = example()
    assert set(files) == {"faasport.toml", "slots.py"}
    for name, body in files.items():
        (tmp_path / name).write_text(body)
    server = Dev(tmp_path)
    try:
        responses = asyncio.run(eight(server.url))
        assert [r.status_code for r in responses] == [200] * 8, server.lines[-30:]
        answers = [r.json() for r in responses]
        assert len({a["request_id"] for a in answers}) == 8
        assert len({a["pid"] for a in answers}) == 1
        server.settled(8)
        reports = [line for line in server.lines if line.startswith("REPORT")]
        assert sum("Init Duration" in line for line in reports) == 1
    finally:
        server.close()
