"""svg_graph: a small directed graph drawn as SVG in Python — no Graphviz.

The layout is grandalf's Sugiyama layering (layers, crossing reduction, long edges routed
through dummy points); it is turned left to right (a layer is a column), each connected part
below the previous one. Boxes carry their lines of text, a link and a tooltip; arrows their
colour and a label at their middle. Every text is escaped here (the SVG is returned as
`Markup` for the templates); nothing from a rule file reaches an attribute unescaped.
"""

from __future__ import annotations

import itertools
import unicodedata
from dataclasses import dataclass

from markupsafe import Markup, escape

FONT = "Noto Sans CJK JP, Hiragino Sans, Meiryo, sans-serif"
LINE = 15  # px per line of a box
PAD_X, PAD_Y = 8, 5
GAP_LAYER, GAP_NODE, GAP_PART = 70, 14, 24  # between columns, boxes, connected parts
LABEL_SIZE, LABEL_MARGIN = 9, 3  # an arrow label's font size; its clearance (px)
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
    are an error of the caller (KeyError).

    Arrows run in the gaps between columns only: from the right side of the source box out to
    its column's edge, across the gap (through the slot Sugiyama kept for a long edge in each
    column it passes), and in to the target box — so no arrow crosses a box. The gap between
    columns is as wide as the longest arrow label needs, and each label is put where it
    overlaps no box and no other label (`_place_labels`)."""
    from grandalf.graphs import Edge, Graph, Vertex
    from grandalf.layouts import SugiyamaLayout

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
    gap = max([GAP_LAYER, *(text_width(a.label, LABEL_SIZE) + 2 * LABEL_MARGIN + 24
                            for a in arrows)])
    placed: dict[str, tuple[float, float]] = {}  # box id → its centre (x, y), turned
    routes: list[tuple[Arrow, list[tuple[float, float]]]] = []
    top = 0.0
    width = 0.0
    for part in g.C:
        lay = SugiyamaLayout(part)
        lay.xspace, lay.yspace = GAP_NODE, gap
        lay.init_all()
        lay.draw(4)
        # the slots kept for long arrows count as the boxes do: a part reaches as far as
        # its arrows, and the next part is drawn below them
        dummies = [d for ds in lay.ctrls.values() for d in ds.values()]
        views = [v.view for v in part.sV] + [d.view for d in dummies]
        # turned: grandalf's y (layer) is our x, its x (place in the layer) our y
        min_y = min(v.xy[0] - v.w / 2 for v in views)
        min_x = min(v.xy[1] - v.h / 2 for v in views)

        def turn(xy: tuple[float, float], min_x: float = min_x,
                 min_y: float = min_y, top: float = top) -> tuple[float, float]:
            return xy[1] - min_x, xy[0] - min_y + top

        bottom = top
        columns: dict[int, tuple[float, float]] = {}  # rank → (left, right)
        for v in part.sV:
            cx, cy = turn(v.view.xy)
            placed[v.data.id] = (cx, cy)
            w, h = sizes[v.data.id]
            bottom = max(bottom, cy + h / 2)
            width = max(width, cx + w / 2)
            r = lay.grx[v].rank
            lo, hi = columns.get(r, (cx - w / 2, cx + w / 2))
            columns[r] = (min(lo, cx - w / 2), max(hi, cx + w / 2))
        for d in dummies:
            bottom = max(bottom, turn(d.view.xy)[1] + d.view.w / 2)
        for e in part.sE:
            r0, r1 = lay.grx[e.v[0]].rank, lay.grx[e.v[1]].rank
            step = 1 if r1 >= r0 else -1
            via = [(r, turn(lay.ctrls[e][r].view.xy)) for r in range(r0 + step, r1, step)] \
                if e in lay.ctrls else []
            routes.append((e.data, _route(placed[e.v[0].data.id], sizes[e.v[0].data.id],
                                          placed[e.v[1].data.id], sizes[e.v[1].data.id],
                                          columns, r0, r1, via)))
        top = bottom + GAP_PART
    height = max(top - GAP_PART, 0.0)
    return Markup(_svg(boxes, sizes, placed, routes, width, height, label))


def _route(src: tuple[float, float], src_size: tuple[float, float], dst: tuple[float, float],
           dst_size: tuple[float, float], columns: dict[int, tuple[float, float]],
           r0: int, r1: int, via: list[tuple[int, tuple[float, float]]]
           ) -> list[tuple[float, float]]:
    """An arrow's points (the module docstring): out of the source's side facing the target,
    to its column's edge, through each column it passes at the slot kept for it, and in from
    the target column's edge to the target's side."""
    (sx, sy), (sw, _) = src, src_size
    (tx, ty), (tw, _) = dst, dst_size
    if r0 == r1:  # one column (not made by the layering): straight
        return [(sx, sy), (tx, ty)]
    fwd = r1 > r0
    side = 1 if fwd else -1
    out_edge = columns[r0][1] if fwd else columns[r0][0]
    in_edge = columns[r1][0] if fwd else columns[r1][1]
    pts = [(sx + side * sw / 2, sy), (out_edge, sy)]
    for r, (_, y) in via:
        lo, hi = columns[r]
        pts += [(lo, y), (hi, y)] if fwd else [(hi, y), (lo, y)]
    pts += [(in_edge, ty), (tx - side * tw / 2, ty)]
    # drop points that repeat (a box as wide as its column)
    return [p for i, p in enumerate(pts) if i == 0 or p != pts[i - 1]]


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
    spots = _place_labels(routes, [(cx - sizes[b.id][0] / 2, cy - sizes[b.id][1] / 2,
                                    cx + sizes[b.id][0] / 2, cy + sizes[b.id][1] / 2)
                                   for b in boxes for cx, cy in [placed[b.id]]])
    for (a, pts), spot in zip(routes, spots, strict=True):
        if len(pts) < 2:
            continue
        d = "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in pts)
        dash = ' stroke-dasharray="4 3"' if a.dashed else ""
        out.append(f'<g class="edge"><title>{escape(a.tooltip or a.label)}</title>'
                   f'<path d="{d}" fill="none" stroke="{escape(a.color)}" '
                   f'stroke-width="{a.width:.1f}"{dash} '
                   f'marker-end="url(#arrow{colors.index(a.color)})"/>')
        x, y = spot
        out.append(f'<text x="{x:.1f}" y="{y:.1f}" font-size="{LABEL_SIZE}" '
                   f'text-anchor="middle" fill="{escape(a.color)}" stroke="#ffffff" '
                   f'stroke-width="3" stroke-linejoin="round" paint-order="stroke">'
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


Rect = tuple[float, float, float, float]  # left, top, right, bottom


def _label_rect(a: Arrow, x: float, y: float) -> Rect:
    """Where a label drawn with its baseline at (x, y) stands, with its clearance."""
    w = text_width(a.label, LABEL_SIZE) / 2 + LABEL_MARGIN
    return x - w, y - LABEL_SIZE - LABEL_MARGIN, x + w, y + 2 + LABEL_MARGIN


def _overlap(p: Rect, q: Rect) -> float:
    return max(0.0, min(p[2], q[2]) - max(p[0], q[0])) * \
        max(0.0, min(p[3], q[3]) - max(p[1], q[1]))


def _place_labels(routes: list[tuple[Arrow, list[tuple[float, float]]]],
                  boxes: list[Rect]) -> list[tuple[float, float]]:
    """Each arrow label's baseline centre: along its arrow (the middle of its first slanted
    stretch first, then other points of the arrow, a little above or below), the first spot
    that overlaps no box and no label placed before; failing that, the spot that overlaps
    least."""
    taken: list[Rect] = []
    out = []
    for a, pts in routes:
        # slanted stretches (across a gap) first, then the level ones, each in order
        segs = [s for _, s in sorted(enumerate(itertools.pairwise(pts)),
                                     key=lambda i_s: (abs(i_s[1][0][1] - i_s[1][1][1]) < 0.5,
                                                      i_s[0]))]
        best: tuple[float, tuple[float, float], Rect] | None = None
        for (x1, y1), (x2, y2) in segs:
            for t in (0.5, 0.35, 0.65, 0.2, 0.8):
                for dy in (-3, -12, 9, -21, 18):
                    x, y = x1 + (x2 - x1) * t, y1 + (y2 - y1) * t + dy
                    r = _label_rect(a, x, y)
                    cost = sum(_overlap(r, q) for q in (*boxes, *taken))
                    if best is None or cost < best[0]:
                        best = (cost, (x, y), r)
                    if cost == 0:
                        break
                if best is not None and best[0] == 0:
                    break
            if best is not None and best[0] == 0:
                break
        if best is None:  # an arrow of one point: nothing to label it on
            out.append(pts[0] if pts else (0.0, 0.0))
            continue
        taken.append(best[2])
        out.append(best[1])
    return out
