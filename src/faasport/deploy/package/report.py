"""The size report of an artifact: what each function brings, and what weighs most.

One artifact serves every function, so each function's line gives its own code (its
top-level module or package, bytecode included) next to what it shares with the others.
"""

from __future__ import annotations

from collections import defaultdict

from faasport.config.model import Project
from faasport.deploy.package.archive import Files, unzipped_size

#: How many of the heaviest top-level entries the report names.
HEAVIEST = 5


def human(size: int) -> str:
    if size >= 1024 * 1024 // 10:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{size / 1024:.1f} KB"


def _top(name: str) -> str:
    head, _, rest = name.partition("/")
    if not rest:
        return head.removesuffix(".py")
    if head == "__pycache__":  # bytecode of a root module
        return rest.partition(".")[0]
    return head.partition("-")[0] if head.endswith(".dist-info") else head


def by_top_level(files: Files) -> dict[str, int]:
    """Unzipped bytes per top-level module or package (a distribution's metadata counts
    with the package of the same name)."""
    sizes: dict[str, int] = defaultdict(int)
    for name, content in files.items():
        sizes[_top(name)] += unzipped_size({name: content})
    return dict(sizes)


def size_report(project: Project, files: Files) -> tuple[str, ...]:
    sizes = by_top_level(files)
    total = sum(sizes.values())
    shared = len(project.functions)
    lines = []
    for function in project.functions.values():
        top = function.target.partition(":")[0].partition(".")[0]
        own = sizes.get(top, 0)
        lines.append(
            f"{function.name}: {top} {human(own)} of its own code, "
            f"{human(total - own)} shared"
            + (f" with {shared - 1} other function{'s' * (shared > 2)}" if shared > 1 else "")
        )
    heaviest = sorted(sizes.items(), key=lambda item: (-item[1], item[0]))[:HEAVIEST]
    lines.append("heaviest: " + ", ".join(f"{name} {human(size)}" for name, size in heaviest))
    return tuple(lines)
