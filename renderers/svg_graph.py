"""svg_graph: a small directed graph drawn as SVG in Python — no Graphviz.

The layout is grandalf's Sugiyama layering (layers, crossing reduction, long edges routed
through dummy points); it is turned left to right (a layer is a column), each connected part
below the previous one. Boxes carry their lines of text, a link and a tooltip; arrows their
colour and a label at their middle. Every text is escaped here (the SVG is returned as
`Markup` for the templates); nothing from a rule file reaches an attribute unescaped.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

FONT = "Noto Sans CJK JP, Hiragino Sans, Meiryo, sans-serif"
LINE = 15  # px per line of a box
PAD_X, PAD_Y = 8, 5
GAP_LAYER, GAP_NODE, GAP_PART = 70, 10, 24  # between columns, boxes, connected parts
SHAPES = ("box", "external", "document", "omitted")
_FILL = {"box": ("#ffffff", "#5b6b7f"), "external": ("#f6f0e4", "#9a7b4f"),
         "document": ("#e9f2fc", "#0a58a5"), "omitted": ("#ffffff", "#9aa4ae")}


@dataclass(frozen=True)
class Box:
    """A node: its lines (the first one bold), where it links to, its tooltip and shape."""

    id: str
    lines: tuple[str, ...]
    href: str | None = None
    tooltip: str = ""
    shape: str = "box"


@dataclass(frozen=True)
class Arrow:
    """An edge from `source` to `target` (box ids), with its label and colour."""

    source: str
    target: str
    label: str
    color: str
    tooltip: str = ""
    width: float = 1.1
    dashed: bool = False


def text_width(s: str, size: float = 11) -> float:
    """An estimate of the drawn width of `s` (wide characters one em, others about half)."""
    return sum(size if unicodedata.east_asian_width(c) in ("W", "F") else size * 0.58
               for c in s)


class _View:
    """grandalf's view of a box: its size (turned: a column's width is the box's height)."""

    def __init__(self, w: float, h: float):
        self.w, self.h = h, w  # transposed: grandalf lays layers top to bottom
        self.xy: tuple[float, float] = (0.0, 0.0)


class _Route:
    def __init__(self) -> None:
        self.pts: list[tuple[float, float]] = []

    def setpath(self, pts: list[tuple[float, float]]) -> None:
        self.pts = list(pts)


def _size(b: Box) -> tuple[float, float]:
    w = max(text_width(line, 11 if i == 0 else 10) for i, line in enumerate(b.lines))
    return w + 2 * PAD_X, LINE * len(b.lines) + 2 * PAD_Y


def draw(boxes: list[Box], arrows: list[Arrow], label: str) -> Markup:
    """The SVG of the graph; `label` is its accessible name. Arrows between unknown boxes
    are an error of the caller (KeyError)."""
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout
    from grandalf.routing import route_with_lines

    vertices = {b.id: Vertex(b) for b in boxes}
    sizes = {b.id: _size(b) for b in boxes}
    for b in boxes:
        vertices[b.id].view = _View(*sizes[b.id])
    edges = []
    for a in arrows:
        e = Edge(vertices[a.source], vertices[a.target], data=a)
        e.view = _Route()
        edges.append(e)
    g = Graph(list(vertices.values()), edges)
    placed: dict[str, tuple[float, float]] = {}  # box id → its centre (x, y), turned
    routes: list[tuple[Arrow, list[tuple[float, float]]]] = []
    top = 0.0
    width = 0.0
    for part in g.C:
        lay = SugiyamaLayout(part)
        lay.xspace, lay.yspace = GAP_NODE, GAP_LAYER
        lay.route_edge = route_with_lines
        lay.init_all()
        lay.draw(4)
        pts = [v.view.xy for v in part.sV]
        # turned: grandalf's y (layer) is our x, its x (place in the layer) our y
        min_y = min(x - v.view.w / 2 for v, (x, _) in zip(part.sV, pts, strict=True))
        min_x = min(y - v.view.h / 2 for v, (_, y) in zip(part.sV, pts, strict=True))
        bottom = top
        for v in part.sV:
            x, y = v.view.xy
            cx, cy = y - min_x, x - min_y + top
            placed[v.data.id] = (cx, cy)
            w, h = sizes[v.data.id]
            bottom = max(bottom, cy + h / 2)
            width = max(width, cx + w / 2)
        for e in part.sE:
            routes.append((e.data, [(y - min_x, x - min_y + top) for x, y in e.view.pts]))
        top = bottom + GAP_PART
    height = max(top - GAP_PART, 0.0)
    return Markup(_svg(boxes, sizes, placed, routes, width, height, label))


def _svg(boxes: list[Box], sizes: dict[str, tuple[float, float]],
         placed: dict[str, tuple[float, float]],
         routes: list[tuple[Arrow, list[tuple[float, float]]]],
         width: float, height: float, label: str) -> str:
    m = 6
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{escape(label)}" '
           f'width="{width + 2 * m:.0f}" height="{height + 2 * m:.0f}" '
           f'viewBox="{-m} {-m} {width + 2 * m:.0f} {height + 2 * m:.0f}" '
           f'font-family="{FONT}">']
    colors = sorted({a.color for a, _ in routes})
    out.append("<defs>" + "".join(
        f'<marker id="arrow{i}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        f'markerHeight="7" orient="auto-start-reverse"><path d="M0,0L10,5L0,10z" '
        f'fill="{escape(c)}"/></marker>' for i, c in enumerate(colors)) + "</defs>")
    for a, pts in routes:
        if len(pts) < 2:
            continue
        d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        dash = ' stroke-dasharray="4 3"' if a.dashed else ""
        out.append(f'<g class="edge"><title>{escape(a.tooltip or a.label)}</title>'
                   f'<path d="{d}" fill="none" stroke="{escape(a.color)}" '
                   f'stroke-width="{a.width:.1f}"{dash} '
                   f'marker-end="url(#arrow{colors.index(a.color)})"/>')
        (x1, y1), (x2, y2) = _middle(pts)
        out.append(f'<text x="{(x1 + x2) / 2:.1f}" y="{(y1 + y2) / 2 - 3:.1f}" '
                   f'font-size="9" text-anchor="middle" fill="{escape(a.color)}">'
                   f'{escape(a.label)}</text></g>')
    for b in boxes:
        cx, cy = placed[b.id]
        w, h = sizes[b.id]
        fill, stroke = _FILL[b.shape]
        dash = ' stroke-dasharray="3 2"' if b.shape == "omitted" else ""
        rx = 2 if b.shape in ("external", "document") else 5
        body = [f'<title>{escape(b.tooltip or " ".join(b.lines))}</title>',
                f'<rect x="{cx - w / 2:.1f}" y="{cy - h / 2:.1f}" width="{w:.1f}" '
                f'height="{h:.1f}" rx="{rx}" fill="{fill}" stroke="{stroke}"{dash}/>']
        for i, line in enumerate(b.lines):
            y = cy - h / 2 + PAD_Y + LINE * i + 11
            weight = ' font-weight="bold"' if i == 0 else ""
            color = "#6b7580" if b.shape == "omitted" or i > 0 else "#1f2328"
            body.append(f'<text x="{cx:.1f}" y="{y:.1f}" font-size="{11 if i == 0 else 10}" '
                        f'text-anchor="middle" fill="{color}"{weight}>{escape(line)}</text>')
        inner = "".join(body)
        if b.href:
            inner = f'<a href="{escape(b.href)}">{inner}</a>'
        out.append(f'<g class="node">{inner}</g>')
    out.append("</svg>")
    return "\n".join(out)


def _middle(pts: list[tuple[float, float]]) -> tuple[Any, Any]:
    """The segment of a route its label stands on: the middle one."""
    i = (len(pts) - 2) // 2
    return pts[i], pts[i + 1]
