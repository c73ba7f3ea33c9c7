"""The dependency graph: edges with their kinds and spans, impact, cycles, output formats."""

from __future__ import annotations

import datetime as dt
import itertools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from yakkan.cli.main import main
from yakkan.engine.semantics.check import check_sources
from yakkan.engine.semantics.graph import build, impact, to_dot, to_mermaid
from yakkan.engine.semantics.rulebooks import rulebook_for
from yakkan.engine.syntax.load import load_file

NEW = dt.date(2023, 5, 1)


def test_edges_carry_kind_and_span() -> None:
    book = rulebook_for("denwa", NEW)
    g = build(book)
    kinds = {d["kind"] for _, _, d in g.edges(data=True)}
    assert {"contains", "overrides", "mutatis", "reads", "uses", "cites"} <= kinds
    over = [(a, b, d) for a, b, d in g.edges(data=True) if d["kind"] == "overrides"]
    assert any(g.nodes[a]["citation"] == "第14条の65第2項" and
               g.nodes[b]["citation"] == "第14条の65第1項" and d["span"] is not None
               for a, b, d in over)


def test_impact_of_an_article_includes_its_mutatis_user() -> None:
    book = rulebook_for("denwa", NEW)
    names = [name for _, name in impact(book, "第14条の65")]
    assert "第14条の65の2第4項" in names  # 「第14条の65…の規定に準じて取り扱います」


def test_cycle_is_one_diagnostic_with_every_step(tmp_path: Path) -> None:
    f = tmp_path / "cycle.yk"
    f.write_text('document c "循環" {\n  version "1"\n  effective 2020-01-01\n}\n'
                 'fact x: bool "X"\n'
                 'define p "P" = q and x\n'
                 'define q "Q" = r\n'
                 'define r "R" = p\n', encoding="utf-8")
    diags = check_sources([load_file(f)])
    cyc = [d for d in diags if d.code == "check.cycle"]
    assert len(cyc) == 1
    assert len(cyc[0].related) == 3 and all(s.file == str(f) for s, _ in cyc[0].related)
    for name in ("P", "Q", "R"):
        assert name in cyc[0].message


def test_formats() -> None:
    book = rulebook_for("denwa", NEW)
    g = build(book)
    assert to_dot(g).startswith("digraph") and "->" in to_dot(g)
    assert to_mermaid(g).startswith("graph LR") and "-->|overrides|" in to_mermaid(g)
    r = CliRunner().invoke(main, ["graph", "denwa", "--as-of", "2023-05-01", "--format", "json"])
    assert r.exit_code == 0
    data = json.loads(r.stdout)
    assert data["document"] == "denwa" and data["edges"]
    r = CliRunner().invoke(main, ["graph", "denwa", "--impact", "第99条"])
    assert r.exit_code == 2 and "graph.unknown-citation" in r.stderr


def test_svg_is_the_article_overview_drawn_without_graphviz(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`--format svg` needs no Graphviz: articles (附則, 別表, external documents) as boxes,
    only references between two of them, labelled in Japanese; well-formed XML."""
    import shutil
    from xml.etree import ElementTree

    monkeypatch.setattr(shutil, "which", lambda name: None)
    r = CliRunner().invoke(main, ["graph", "denwa", "--as-of", "2023-05-01", "--format", "svg"])
    assert r.exit_code == 0, r.stderr
    root = ElementTree.fromstring(r.stdout)
    ns = "{http://www.w3.org/2000/svg}"
    boxes = ["".join(t.itertext()) for g in root.iter(f"{ns}g") if g.get("class") == "node"
             for t in g.iter(f"{ns}text")][::1]
    titles = {t.text for g in root.iter(f"{ns}g") if g.get("class") == "node"
              for t in g.iter(f"{ns}title")}
    assert any(t and t.startswith("第14条の65") for t in titles), titles
    assert not any(t and "第2項" in t for t in titles), "a paragraph is no box of the overview"
    labels = {"".join(t.itertext()) for g in root.iter(f"{ns}g") if g.get("class") == "edge"
              for t in g.iter(f"{ns}text")}
    assert {lbl.split(" ×")[0] for lbl in labels} >= {"参照", "準用"}, labels
    assert boxes


@pytest.mark.parametrize("doc", ["denwa", "rakuten-miitel"])
def test_svg_labels_overlap_nothing_and_arrows_cross_no_box(doc: str) -> None:
    """The overview is readable (issue #19): no arrow label overlaps a box or another label,
    and no arrow runs through a box (arrows keep to the gaps between columns)."""
    import re as re_
    from xml.etree import ElementTree

    from yakkan.renderers.svg_graph import LABEL_MARGIN, LABEL_SIZE, text_width

    r = CliRunner().invoke(main, ["graph", doc, "--format", "svg"])
    assert r.exit_code == 0, r.stderr
    root = ElementTree.fromstring(r.stdout)
    ns = "{http://www.w3.org/2000/svg}"
    boxes = []
    for g in root.iter(f"{ns}g"):
        if g.get("class") == "node":
            rect = next(g.iter(f"{ns}rect"))
            x, y = float(rect.get("x", 0)), float(rect.get("y", 0))
            boxes.append((x, y, x + float(rect.get("width", 0)),
                          y + float(rect.get("height", 0))))
    labels, paths = [], []
    for g in root.iter(f"{ns}g"):
        if g.get("class") != "edge":
            continue
        t = next(g.iter(f"{ns}text"))
        x, y, w = float(t.get("x", 0)), float(t.get("y", 0)), \
            text_width("".join(t.itertext()), LABEL_SIZE) / 2
        labels.append((x - w, y - LABEL_SIZE, x + w, y + 2))
        pts = [tuple(map(float, p.split(",")))
               for p in re_.findall(r"-?[\d.]+,-?[\d.]+", next(g.iter(f"{ns}path")).get("d", ""))]
        paths.append(pts)
    assert boxes and labels and len(labels) == len(paths)

    def overlap(p: tuple[float, ...], q: tuple[float, ...]) -> bool:
        return min(p[2], q[2]) - max(p[0], q[0]) > 0.5 and min(p[3], q[3]) - max(p[1], q[1]) > 0.5

    for i, lab in enumerate(labels):
        assert not [b for b in boxes if overlap(lab, b)], (doc, i, lab)
        assert not [o for o in labels[i + 1:] if overlap(lab, o)], (doc, i, lab)
    assert LABEL_MARGIN >= 0
    for pts in paths:
        for (x1, y1), (x2, y2) in itertools.pairwise(pts):
            for k in range(1, 40):
                x, y = x1 + (x2 - x1) * k / 40, y1 + (y2 - y1) * k / 40
                inside = [b for b in boxes if b[0] + 1 < x < b[2] - 1 and b[1] + 1 < y < b[3] - 1]
                assert not inside, (doc, (x1, y1), (x2, y2), inside)
