"""The core layer's own modules import each other in one direction, and its public types
are importable at run time."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import faasport.core

CORE = Path(faasport.core.__file__).parent


def _imports(path: Path) -> set[str]:
    """Every faasport module ``path`` imports, at the top, lazily or for the type checker."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name.startswith("faasport.")}


def _graph() -> dict[str, set[str]]:
    modules = {f"faasport.core.{p.stem}": p for p in CORE.glob("*.py") if p.stem != "__init__"}
    return {name: _imports(path) & set(modules) for name, path in modules.items()}


def test_core_modules_import_each_other_without_cycles() -> None:
    graph = _graph()
    cycles: list[list[str]] = []

    def visit(name: str, trail: list[str]) -> None:
        for target in sorted(graph[name]):
            if target in trail:
                cycles.append([*trail[trail.index(target) :], target])
            elif len(trail) < len(graph):
                visit(target, [*trail, target])

    for name in sorted(graph):
        visit(name, [name])
    assert cycles == []


def test_codec_protocol_and_asgi_types_are_importable() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "from faasport.core.codec import Codec; from faasport.core.types import ASGIApp, "
            "Scope; from faasport.core import logs, jsonlog; "
            "assert logs.current is jsonlog.current; print(Codec.__name__)",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == "Codec"


def test_provider_codecs_conform_to_the_protocol() -> None:
    from faasport.aws.handler import CODECS
    from faasport.azure.codec import AzureHttp
    from faasport.core.codec import Codec
    from faasport.gcp.codec import CODEC

    for codec in (*CODECS, CODEC, AzureHttp("/api")):
        for member in ("infer", "decode", "encode"):
            assert callable(getattr(codec, member)), (codec, member)
        assert isinstance(codec.name, str)
    assert Codec.__module__ == "faasport.core.codec"
