"""The import tree as an icicle chart: one self-contained HTML file with inline SVG (no
script, no external asset), viewable offline. Width is cumulative import time; each
rectangle's tooltip gives the module's self and cumulative time."""

from __future__ import annotations

from html import escape

from faasport.local.importtime import Node

WIDTH = 1200.0
ROW = 22
#: Colours by top-level package, stable across runs (hash of the name).
PALETTE = ("#f4a261", "#e9c46a", "#2a9d8f", "#8ab17d", "#e76f51", "#90be6d", "#f9c74f", "#7fb7be")


def _colour(package: str) -> str:
    return PALETTE[sum(package.encode()) % len(PALETTE)]


def render(title: str, roots: list[Node]) -> str:
    total = sum(root.cumulative_us for root in roots) or 1
    rects: list[str] = []
    depth = [0]

    def place(node: Node, x: float, level: int) -> None:
        width = WIDTH * node.cumulative_us / total
        if width < 0.5:
            return
        depth[0] = max(depth[0], level + 1)
        y = level * ROW
        tip = (
            f"{node.name}: {node.cumulative_us / 1000:.1f} ms cumulative, "
            f"{node.self_us / 1000:.1f} ms self"
        )
        room = int((width - 6) / 6.5)
        label = escape(node.name if len(node.name) <= room else node.name[: room - 1] + "…")
        if room < 4:
            label = ""
        rects.append(
            f'<g><title>{escape(tip)}</title><rect x="{x:.1f}" y="{y}" width="{width:.1f}" '
            f'height="{ROW - 1}" fill="{_colour(node.package)}"/>'
            f'<text x="{x + 3:.1f}" y="{y + 15}">{label}</text></g>'
        )
        offset = x
        for child in node.children:
            place(child, offset, level + 1)
            offset += WIDTH * child.cumulative_us / total

    x = 0.0
    for root in roots:
        place(root, x, 0)
        x += WIDTH * root.cumulative_us / total
    height = depth[0] * ROW
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>"
        "body{font:13px sans-serif;margin:16px}svg text{font-size:11px;pointer-events:none}"
        "rect{stroke:#fff;stroke-width:0.5}g:hover rect{stroke:#000}"
        "</style></head><body>"
        f"<h1>{escape(title)}</h1>"
        f"<p>Import tree: width is cumulative import time ({total / 1000:.1f} ms in all); "
        "hover a module for its times.</p>"
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH:.0f}" height="{height}" '
        f'viewBox="0 0 {WIDTH:.0f} {height}">{"".join(rects)}</svg>'
        "</body></html>\n"
    )
