"""``python -X importtime`` output: one node per import, nested as the imports were."""

from __future__ import annotations

from dataclasses import dataclass, field

PREFIX = "import time:"


@dataclass
class Node:
    name: str
    self_us: int
    cumulative_us: int
    children: list[Node] = field(default_factory=list)

    @property
    def package(self) -> str:
        return self.name.split(".")[0]

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "self_ms": self.self_us / 1000,
            "cumulative_ms": self.cumulative_us / 1000,
            "children": [child.to_json() for child in self.children],
        }


def parse(stderr: str) -> list[Node]:
    """The roots of the import tree. Python prints each import after its own imports
    (post-order), indented two spaces per level of nesting."""
    pending: dict[int, list[Node]] = {}
    for line in stderr.splitlines():
        if not line.startswith(PREFIX):
            continue
        fields = line[len(PREFIX) :].split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue  # the header line
        raw = fields[2].rstrip()
        name = raw.lstrip(" ")
        level = (len(raw) - len(name) - 1) // 2
        node = Node(name, int(fields[0]), int(fields[1]), pending.pop(level + 1, []))
        pending.setdefault(level, []).append(node)
    return pending.get(0, [])


def walk(roots: list[Node]) -> list[Node]:
    out: list[Node] = []
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out


def by_package(roots: list[Node]) -> dict[str, tuple[int, int, int]]:
    """Per top-level package: modules, total self time and cumulative time (us), the
    cumulative time counting each import of the package made from outside it once."""
    table: dict[str, list[int]] = {}

    def visit(node: Node, parent_package: str | None) -> None:
        row = table.setdefault(node.package, [0, 0, 0])
        row[0] += 1
        row[1] += node.self_us
        if node.package != parent_package:
            row[2] += node.cumulative_us
        for child in node.children:
            visit(child, node.package)

    for root in roots:
        visit(root, None)
    return {name: (row[0], row[1], row[2]) for name, row in table.items()}
