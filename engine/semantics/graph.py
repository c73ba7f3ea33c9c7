"""graph: a Rulebook as a networkx dependency graph.

Nodes: provisions (`prov:<id>`), definitions (`def:<name>`), facts (`fact:<path>`),
external documents (`ext:<name>`). Edges point from the user to what it uses, each with
its `kind` — cites / uses / overrides / mutatis / reads / prevails / contains — and the
span of the use. Cycles among definitions and `holds` citations are check diagnostics that
show every step.
"""

from __future__ import annotations

from typing import Any

import networkx as nx

from yakkan.engine.core import ir as I
from yakkan.engine.core.diagnostics import Diagnostic, YakkanError
from yakkan.engine.semantics.resolve import Rulebook, resolve_citation

EDGE_KINDS = ("contains", "cites", "overrides", "mutatis", "uses", "reads", "prevails",
              "reading", "row", "holds")
_VERB_KIND = {"cites": "cites", "notwithstanding": "overrides", "mutatis": "mutatis",
              "amends": "cites", "holds": "holds", "reading": "reading",
              "reading-except": "reading", "prevails": "prevails", "prevails-except": "prevails",
              "row": "row"}


def _refs_in(e: I.Expr | None) -> list[I.Ref]:
    if e is None:
        return []
    return [n for n in I.walk(e) if isinstance(n, I.Ref)]


def build(book: Rulebook) -> nx.MultiDiGraph:
    """The dependency graph of one document version."""
    if book.derived.graph is not None:
        return book.derived.graph
    g: nx.MultiDiGraph = nx.MultiDiGraph(document=book.doc.header.id,
                                         version=book.doc.header.version)
    for pid in book.order:
        p = book.provisions[pid]
        g.add_node(f"prov:{pid}", type="provision", citation=p.citation,
                   caption=p.unit.caption, kind=p.unit.kind, status=p.unit.status)
        if p.parent:
            g.add_edge(f"prov:{p.parent}", f"prov:{pid}", kind="contains")
    for path, f in book.facts.items():
        g.add_node(f"fact:{path}", type="judgment" if f.judgment else "fact", label=f.label)
    for name, (d, where) in book.definitions.items():
        g.add_node(f"def:{name}", type="definition", label=d.label,
                   citation=book.cite(where) if where else None)
        if where:
            g.add_edge(f"prov:{where}", f"def:{name}", kind="contains")
        _uses(g, f"def:{name}", d.expr)
    for name, ext in book.externals.items():
        g.add_node(f"ext:{name}", type="external", label=ext.title)
    for use in book.uses:
        src = f"prov:{use.provision}" if use.provision else "document"
        if src == "document" and src not in g:
            g.add_node(src, type="document", label=book.doc.header.title)
        kind = _VERB_KIND.get(use.statement, "cites")
        span = use.citation.span
        if use.citation.external:
            g.add_edge(src, f"ext:{use.citation.external}", kind=kind, span=span,
                       text=use.citation.raw)
        for t in use.citation.targets:
            g.add_edge(src, f"prov:{t}", kind=kind, span=span, text=use.citation.raw)
    for pid in book.order:
        u = book.provisions[pid].unit
        src = f"prov:{pid}"
        exprs: list[I.Expr | None] = [u.condition]
        for r in u.rules:
            exprs += [r.when, r.requires, *r.unless]
        for c in u.charges:
            exprs += [c.amount, c.when, c.quote_when]
        exprs += u.covers
        for e in exprs:
            _uses(g, src, e)
    book.derived.graph = g
    return g


def _uses(g: nx.MultiDiGraph, src: str, e: I.Expr | None) -> None:
    for r in _refs_in(e):
        name = ".".join(r.path)
        if r.resolved == "fact":
            g.add_edge(src, f"fact:{name}", kind="reads", span=r.span)
        elif r.resolved == "definition":
            g.add_edge(src, f"def:{name}", kind="uses", span=r.span)


def cycles(book: Rulebook) -> list[Diagnostic]:
    """Cycles among definitions and `holds` citations, each as one diagnostic."""
    g = build(book)
    dep = nx.DiGraph()
    for a, b, data in g.edges(data=True):
        if data["kind"] in ("uses", "holds"):
            dep.add_edge(a, b, span=data.get("span"))
    # a provision depends on its items (for holds of an item's parent)
    def where(a: str, b: str) -> tuple[str, int, int, str]:
        span = dep.edges[a, b].get("span")
        return (span.file or "", span.line, span.column, a) if span else ("\uffff", 0, 0, a)

    def rotated(cyc: list[str]) -> list[str]:
        # the same cycle is reported the same way in every run (simple_cycles' starting node
        # follows set order): from the step written first in the file
        i = min(range(len(cyc)), key=lambda i: where(cyc[i], cyc[(i + 1) % len(cyc)]))
        return cyc[i:] + cyc[:i]

    found = sorted((rotated(c) for c in nx.simple_cycles(dep)),
                   key=lambda c: where(c[0], c[1 % len(c)]))
    out = []
    for cyc in found:
        steps = []
        for i, a in enumerate(cyc):
            b = cyc[(i + 1) % len(cyc)]
            span = dep.edges[a, b].get("span")
            steps.append((span, f"`{_name(g, a)}` uses `{_name(g, b)}` here"))
        first = steps[0][0]
        out.append(Diagnostic(
            code="check.cycle", span=first,
            message="a cycle: " + " → ".join(_name(g, n) for n in [*cyc, cyc[0]]),
            related=[(s, m) for s, m in steps if s is not None],
            hint="a definition cannot depend on itself; break the cycle"))
    return out


def _name(g: nx.MultiDiGraph, node: str) -> str:
    data = g.nodes[node]
    return str(data.get("citation") or data.get("label") or node.split(":", 1)[-1])


def find_provision(book: Rulebook, citation: str) -> list[str]:
    """Provision ids for a citation typed by a user (absolute: 第14条の65第2項)."""
    c = I.Citation(raw=citation.strip("「」"))
    before = len(book.diagnostics)
    resolve_citation(book, c, None, statement="query")
    errs = book.diagnostics[before:]
    del book.diagnostics[before:]
    book.uses.pop()
    if errs or not c.targets:
        raise YakkanError([Diagnostic(code="graph.unknown-citation",
                                      message=f"「{citation}」 names no provision of "
                                      f"{book.doc.header.id}",
                                      hint=errs[0].message if errs else None)])
    return c.targets


def impact(book: Rulebook, citation: str) -> list[tuple[str, str]]:
    """Everything that depends on the cited provision, transitively: what cites it or its
    parts, and what cites a provision that contains it (準用 of 「第14条の65」 depends on its
    第2項第6号 too)."""
    g = build(book)
    targets = {f"prov:{t}" for t in find_provision(book, citation)}
    tree = _containment(g)
    for t in list(targets):  # a provision's parts, and the provisions it stands in
        if t in tree:
            targets |= set(nx.descendants(tree, t)) | set(nx.ancestors(tree, t))
    dep = nx.DiGraph()
    for a, b, data in g.edges(data=True):
        if data["kind"] != "contains":
            dep.add_edge(a, b, kind=data["kind"])
    out: set[str] = set()
    for t in targets:
        if t in dep:
            out |= nx.ancestors(dep, t)
    return sorted(((n, _name(g, n)) for n in out - targets), key=lambda x: x[0])


def _containment(g: nx.MultiDiGraph) -> nx.DiGraph:
    tree = nx.DiGraph()
    tree.add_edges_from((a, b) for a, b, d in g.edges(data=True) if d["kind"] == "contains")
    return tree


def to_dot(g: nx.MultiDiGraph) -> str:
    lines = ["digraph yakkan {", "  rankdir=LR; node [fontname=\"sans-serif\"];"]
    shapes = {"provision": "box", "fact": "ellipse", "judgment": "diamond",
              "definition": "hexagon", "external": "folder"}
    for n, d in g.nodes(data=True):
        if d.get("type") == "provision" and d.get("status") == "omitted":
            continue
        label = _name(g, n).replace('"', '\\"')
        lines.append(f'  "{n}" [label="{label}", shape={shapes.get(d.get("type", ""), "box")}];')
    shown = {n for n, d in g.nodes(data=True)
             if not (d.get("type") == "provision" and d.get("status") == "omitted")}
    for a, b, d in g.edges(data=True):
        if d["kind"] == "contains" or a not in shown or b not in shown:
            continue  # omitted (（略）) units are not drawn, nor edges to them
        lines.append(f'  "{a}" -> "{b}" [label="{d["kind"]}"];')
    lines.append("}")
    return "\n".join(lines)


def to_mermaid(g: nx.MultiDiGraph) -> str:
    ids = {n: f"n{i}" for i, n in enumerate(g.nodes)}
    lines = ["graph LR"]
    for n in g.nodes:
        label = _name(g, n).replace('"', "'")
        lines.append(f'  {ids[n]}["{label}"]')
    for a, b, d in g.edges(data=True):
        if d["kind"] == "contains":
            continue
        lines.append(f"  {ids[a]} -->|{d['kind']}| {ids[b]}")
    return "\n".join(lines)


def to_json(g: nx.MultiDiGraph) -> dict[str, Any]:
    def span(s: Any) -> Any:
        return str(s) if s is not None else None
    return {
        "document": g.graph.get("document"), "version": g.graph.get("version"),
        "nodes": [{"id": n, **{k: v for k, v in d.items()}} for n, d in g.nodes(data=True)],
        "edges": [{"from": a, "to": b, "kind": d["kind"], "span": span(d.get("span")),
                   "text": d.get("text")} for a, b, d in g.edges(data=True)],
    }


