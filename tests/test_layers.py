"""DESIGN.md's layers, kept true: imports point down the stack, never up, and no module
imports itself back through others.

The import graph is read from the source (an AST walk), so a lazy import inside a function
counts as much as one at the top of a module: it runs in the cloud all the same.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PACKAGE = SRC / "faasport"

#: Bottom to top. A layer may import its own layer and any layer below it.
LAYERS: list[set[str]] = [
    {"core"},
    {"config"},
    {"state", "secrets", "db", "metrics", "websocket"},
    {"aws", "gcp", "azure"},
    {"events"},
    {"gateway"},
    {"testing"},
    {"local"},
    {"deploy"},
    {"cli", "cdk"},
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
#: Providers sit side by side: none of them may depend on another.
PROVIDERS = {"aws", "gcp", "azure"}
#: Shipped inside functions; may never reach the development tools.
RUNTIME = {"core", "aws", "gcp", "azure", "events", "gateway", "state", "secrets", "db"}
RUNTIME |= {"metrics", "websocket"}
TOOLS = {"local", "deploy", "cli", "cdk"}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports(name: str, path: Path) -> Iterator[tuple[str, int, bool]]:
    """(imported faasport module, line, executed at import time) for each import in a module;
    imports under ``if TYPE_CHECKING`` are left out: they never run."""
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]

    def visit(node: ast.AST, top: bool) -> Iterator[tuple[str, int, bool]]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and _is_type_checking(child):
                yield from (i for n in child.orelse for i in visit(n, top))
                continue
            if isinstance(child, ast.Import):
                for alias in child.names:
                    if alias.name.split(".")[0] == "faasport":
                        yield alias.name, child.lineno, top
            elif isinstance(child, ast.ImportFrom):
                base = child.module or ""
                if child.level:
                    anchor = package.split(".")
                    anchor = anchor[: len(anchor) - (child.level - 1)]
                    base = ".".join([*anchor, base] if base else anchor)
                if base.split(".")[0] != "faasport":
                    continue
                for alias in child.names:
                    yield f"{base}.{alias.name}", child.lineno, top
            in_body = isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda)
            yield from visit(child, top and not in_body)

    yield from visit(tree, True)


def resolve(target: str, known: dict[str, Path]) -> str | None:
    """The module an import names: ``faasport.core.http.HttpRequest`` -> ``faasport.core.http``."""
    while target and target not in known:
        target = target.rpartition(".")[0]
    return target or None


def layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


def graph() -> dict[str, list[tuple[str, int, bool]]]:
    known = modules()
    edges: dict[str, list[tuple[str, int, bool]]] = {}
    for name, path in known.items():
        found = []
        for target, line, top in imports(name, path):
            resolved = resolve(target, known)
            if resolved and resolved != name:
                found.append((resolved, line, top))
        edges[name] = found
    return edges


def test_every_package_has_a_layer() -> None:
    unplaced = {layer(m) for m in modules()} - set(RANK) - {""}
    # Single-module packages (faasport/db.py) are layers of their own name.
    assert unplaced == set(), f"add {sorted(unplaced)} to LAYERS in tests/test_layers.py"


def test_imports_point_down() -> None:
    wrong = []
    for source, targets in graph().items():
        src = layer(source)
        if not src:
            continue
        for target, line, _ in targets:
            dst = layer(target)
            if not dst or dst == src:
                continue
            if RANK[dst] > RANK[src] or (src in PROVIDERS and dst in PROVIDERS):
                wrong.append(f"{source}:{line} imports {target} ({src} -> {dst})")
            elif src in RUNTIME and dst in TOOLS:
                wrong.append(f"{source}:{line} ships in functions but imports {target}")
    assert wrong == []


def test_no_import_cycles() -> None:
    """Lazy imports count: a module that imports another inside a function still depends
    on it, and a pair that needs each other is one module in two files."""
    edges = {m: sorted({t for t, _, _ in ts}) for m, ts in graph().items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []
    counter = 0

    def connect(node: str) -> None:
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, []):
            if nxt not in index:
                connect(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            connect(node)
    # A package importing its own submodules from __init__ and those submodules importing
    # siblings through the package is the usual shape of a package, not a cycle to break.
    real = [c for c in cycles if not _package_and_children(c)]
    assert real == []


def _package_and_children(component: list[str]) -> bool:
    roots = [m for m in component if all(o == m or o.startswith(m + ".") for o in component)]
    return bool(roots)


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from faasport.local import gateway", ["faasport.local.gateway"]),
        ("def f():\n    import faasport.deploy.plan", ["faasport.deploy.plan"]),
        ("if TYPE_CHECKING:\n    from faasport.cli import main", []),
    ],
)
def test_the_walk_sees_imports(tmp_path: Path, source: str, expected: list[str]) -> None:
    path = tmp_path / "mod.py"
    path.write_text(source)
    assert [t for t, _, _ in imports("faasport.core.mod", path)] == expected
