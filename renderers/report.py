"""report: a whole document version as one page — `yakkan report DOC [--format html|md]`.

The page shows the header (title, number, version, effective dates in Western and 和暦
form), a table of contents, the vocabulary (facts, judgments, definitions, enums, external
documents) and every unit with its text (本文 and ただし書), its encoded logic with the
document's Japanese labels, its legal force and kind, its charges and definitions, its
references out and in (as links to `#prov-…` anchors; external documents are marked, not
linked), corrections of the seed and drafting slips, and the diagnostics `yakkan check`
finds, each next to the unit it concerns. The reference graph is embedded: an inline SVG overview of the
references between articles, drawn in Python (`svg_graph`, no Graphviz), with the full list
of edges beside it (HTML) — and a Mermaid block in Markdown, which GitHub draws (it strips
inline SVG).

`report_view` turns a Rulebook into plain dataclasses; the templates
(`templates/report.{html,md}.j2`) only lay them out, dispatching by unit kind and failing on
a kind they do not know.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markupsafe import Markup

from yakkan import __version__
from yakkan.engine.core import ir as I
from yakkan.engine.core.diagnostics import Diagnostic
from yakkan.engine.core.labels import FORCE_LABELS, PER_LABELS, TAX_LABELS
from yakkan.engine.core.numerals import to_wareki
from yakkan.engine.features.jatext import ja_text, vocabulary
from yakkan.engine.semantics.resolve import Rulebook, unit_part
from yakkan.engine.syntax import ast as A
from yakkan.renderers.env import JUDGMENT_CLOSE, JUDGMENT_OPEN, RenderError, render

FORMATS = ("html", "md")

# Unit.kind → how the page names it. INVARIANT: covers ast.UNIT_KINDS (a test checks);
# a kind missing here is a RenderError, never a blank unit.
KIND_LABELS: dict[str, str] = {
    "article": "条", "paragraph": "項", "item": "号", "subitem": "号の細分",
    "remarks": "備考", "note": "注", "table": "表", "section": "区分", "row": "表の行",
    "suppl": "附則", "appendix": "別表", "chapter": "章",
}
# kinds that open a section of their own (a heading and an entry in the table of contents)
HEADING_KINDS = ("chapter", "article", "suppl", "appendix", "table", "section")

UNIT_KIND_LABELS = {
    "definition": "定義", "scope": "適用範囲", "notice": "通知", "disclaimer": "免責",
    "procedure": "手続", "declaration": "宣言", "jurisdiction": "管轄", "severability": "分離可能性",
    "effective_date": "施行期日", "precedence": "優先関係", "governing_law": "準拠法",
    "fee_table": "料金表", "commencement": "施行",
}
STATEMENT_LABELS = {
    "cites": "参照", "notwithstanding": "「…の規定にかかわらず」（優先）", "mutatis": "準用",
    "amends": "改正", "holds": "条件として参照", "reading": "読み替え",
    "reading-except": "読み替えの除外", "prevails": "優先関係", "prevails-except": "優先の例外",
    "row": "料金表の行",
}
EDGE_LABELS = {
    "cites": "参照", "overrides": "にかかわらず（優先）", "mutatis": "準用", "holds": "条件として参照",
    "reading": "読み替え", "prevails": "優先関係", "row": "料金表の行", "uses": "定義を使用",
    "reads": "事実を参照", "contains": "包含",
}
SEVERITY_LABELS = {"error": "エラー", "warning": "警告", "info": "情報"}
# what a check finding means, in Japanese (the finding's own message gives the detail); a code
# not here is shown by its prefix's title
DIAG_TITLES = {
    "resolve.caption-mismatch": "引用の見出しが引用先の条の見出しと一致しない（起草上の誤りの疑い）",
    "resolve.bad-citation": "引用が読めない", "resolve.unresolved": "引用先が見つからない",
    "resolve.unknown-name": "宣言されていない名前", "resolve.unknown-field": "記録にない項目",
    "resolve.unknown-type": "宣言されていない型", "resolve.no-items": "各号の規定に号がない",
    "resolve.duplicate-unit": "同じ単位が二度符号化されている",
    "resolve.duplicate-fact": "同じ事実が二度宣言されている",
    "resolve.duplicate-enum": "同じ列挙が二度宣言されている",
    "resolve.duplicate-definition": "同じ定義が二度ある", "resolve.empty-slip": "空の起草上の誤り",
    "lint.logic-without-text": "本文のない単位に論理がある",
    "lint.unused-condition": "どの規定も使わない条件",
    "draft.unbalanced-bracket": "括弧の対応が崩れている", "draft.no-final-period": "文末の句点がない",
    "draft.malformed-url": "URLの形が正しくない", "draft.cites-deleted": "「削除」の規定を引用している",
    "draft.numbering": "番号の重複・欠番・順序・全角半角の混在",
    "draft.table-arithmetic": "表の数値が表の定める計算と合わない",
    "lint.table-figures": "表の行の数値（figures）が宣言・本文と合わない",
    "lower.bad-arithmetic": "表の算術（arithmetic）の式が不正",
    "check.cycle": "定義又は引用が循環している", "check.id-mismatch": "文書IDがフォルダ名と異なる",
    "static.dead": "成り立つことのない条件", "static.always": "常に成り立つ条件",
    "static.overlap": "一つの事例が並列の区分に同時に当たりうる",
    "static.conflict": "優先の定めのない相反する効果",
    "static.double-charge": "一つの記録を二つの料金表の行が計上しうる",
    "type.mismatch": "型が合わない", "type.enum-member": "列挙にない値",
    "type.not-a-list": "リストでない事実", "type.not-bool": "真偽でない条件",
    "type.not-money": "金額でない値", "type.unknown-function": "知られていない関数",
    "lower.bad-payer": "支払者の指定が不正",
}
DIAG_PREFIX_TITLES = {"parse": "構文の誤り", "lower": "符号化の誤り", "resolve": "参照の誤り",
                      "type": "型の誤り", "lint": "符号化上の注意", "static": "静的検査の指摘",
                      "draft": "起草上の誤り（本文から検出）",
                      "check": "検査の指摘"}
# an encoder's memo that names something the language cannot yet say (for its developers)
NEEDS_PREFIX = "NEEDS:"


# ---- anchors ---------------------------------------------------------------------------

def anchor_safe(s: str) -> str:
    """An id fragment for `s`: letters (Japanese included), digits and `_` kept; the
    separators of provision ids mapped (`:` → `-`, `/` → `.`, `..` → `--`, `#` → `~~`);
    anything else as `~hex~`. Distinct provision ids give distinct anchors.

    >>> anchor_safe("article:14_65/paragraph:2/item:7")
    'article-14_65.paragraph-2.item-7'
    >>> anchor_safe("article:4_3..4_4_3"), anchor_safe("subitem:(ア)")
    ('article-4_3--4_4_3', 'subitem-~28~ア~29~')
    """
    s = s.replace("..", "\0")
    out = []
    for c in s:
        if c == "\0":
            out.append("--")
        elif c == ":":
            out.append("-")
        elif c == "/":
            out.append(".")
        elif c == "#":
            out.append("~~")
        elif c == "_" or c.isalnum():
            out.append(c)
        else:
            out.append(f"~{ord(c):x}~")
    return "".join(out)


def prov_anchor(pid: str) -> str:
    return "prov-" + anchor_safe(pid)


def name_anchor(prefix: str, dotted: str) -> str:
    """`fact-applicant.may_pay_late`, `def-plan2`: dots kept (names have no `/`)."""
    return f"{prefix}-" + anchor_safe(dotted.replace(".", "/"))


# ---- the view ------------------------------------------------------------------------------

@dataclass
class Link:
    """A reference on the page: an internal link (`anchor`) or an external document."""

    text: str
    anchor: str | None = None
    external: bool = False
    title: str | None = None


@dataclass
class CiteView:
    raw: str
    targets: list[Link]
    external: Link | None
    unresolved: bool


@dataclass
class RefOut:
    statement: str
    label: str
    cite: CiteView


@dataclass
class RefIn:
    kind: str
    label: str
    source: Link
    text: str | None


@dataclass
class RuleView:
    outcome: str
    outcome_label: str  # the outcome's Japanese name (`outcome NAME "label"`)
    force: str
    force_label: str
    source: str | None  # "each_item" | "mutatis" | None
    mutatis: CiteView | None
    mutatis_outcome: str | None
    when: str | None
    requires: str | None
    unless: list[str]


@dataclass
class ChargeView:
    name: str
    label: str | None
    amount: str | None
    when: str | None
    quote_when: str | None
    tax: str | None
    tax_label: str | None
    per: str | None
    per_label: str | None
    lower_bound: bool
    row: CiteView | None
    assumptions: list[str]
    memos: list[str]


@dataclass
class DefView:
    name: str
    label: str | None
    anchor: str
    expr: str
    where: Link | None


@dataclass
class InputView:
    path: str
    label: str | None
    type: str
    judgment: bool
    anchor: str


@dataclass
class DiagView:
    anchor: str
    severity: str
    severity_label: str
    code: str
    message: str
    hint: str | None
    location: str | None
    unit: Link | None
    related: list[str]
    title: str = ""  # what it means, in Japanese (DIAG_TITLES)


@dataclass
class UnitView:
    id: str
    anchor: str
    kind: str
    kind_label: str
    citation: str
    caption: str | None
    label: str | None
    status: str
    text: str | None
    proviso: str | None
    unit_kind: str | None
    unit_kind_label: str | None
    depth: int
    heading: bool
    condition: str | None = None
    rules: list[RuleView] = field(default_factory=list)
    charges: list[ChargeView] = field(default_factory=list)
    definitions: list[DefView] = field(default_factory=list)
    periods: list[tuple[str, str]] = field(default_factory=list)
    readings: list[dict[str, Any]] = field(default_factory=list)
    precedences: list[dict[str, Any]] = field(default_factory=list)
    refs_out: list[RefOut] = field(default_factory=list)
    refs_in: list[RefIn] = field(default_factory=list)
    inputs: list[InputView] = field(default_factory=list)
    uses_definitions: list[Link] = field(default_factory=list)
    corrections: list[A.Correction] = field(default_factory=list)
    slips: list[str] = field(default_factory=list)
    memos: list[str] = field(default_factory=list)
    diagnostics: list[DiagView] = field(default_factory=list)
    children: list[UnitView] = field(default_factory=list)

    @property
    def has_logic(self) -> bool:
        return bool(self.condition or self.rules or self.charges or self.definitions
                    or self.periods or self.readings or self.precedences)

    @property
    def judgments(self) -> list[InputView]:
        return [i for i in self.inputs if i.judgment]


@dataclass
class TocEntry:
    text: str
    anchor: str
    status: str
    children: list[TocEntry] = field(default_factory=list)


@dataclass
class EdgeGroup:
    """References of one provision of one kind: `source` — kind → targets."""

    source: Link
    kind: str
    targets: list[Link]
    texts: list[str]


@dataclass
class GraphView:
    svg: Markup | None
    mermaid: str
    mermaid_fence: str
    legend: list[tuple[str, str, str]]
    edges: list[EdgeGroup]
    node_count: int
    edge_count: int


@dataclass
class ReportView:
    title: str
    doc_id: str
    number: str | None
    issuer: str | None
    version: str | None
    effective_from: str | None
    effective_from_wareki: str | None
    effective_until: str | None
    effective_until_wareki: str | None
    seed: str | None
    seed_column: str | None
    memos: list[str]
    toc: list[TocEntry]
    units: list[UnitView]
    facts: list[InputView]
    definitions: list[DefView]
    enums: list[A.EnumDecl]
    externals: list[tuple[A.External, str]]
    corrections: list[A.Correction]
    diagnostics: list[DiagView]
    unplaced_diagnostics: list[DiagView]
    graph: GraphView
    stats: dict[str, int]
    yakkan_version: str
    # encoder's memos naming what the language cannot yet say (`memo "NEEDS: …"`), with the
    # unit they stand in: for the language's developers, listed apart from the document
    needs: list[tuple[str, Link | None]] = field(default_factory=list)


# ---- labels and expressions --------------------------------------------------------------

class _Labeller:
    """The labels of one book's names in the report's logic: facts and definitions by
    their label, list fields (`l.registered_on` under `count(l in lines …)`) by the field's
    label; judgments wrapped in markers the `logic_*` filters highlight."""

    def __init__(self, book: Rulebook):
        self.book = book
        self.vars: dict[str, str] = {}

    def scope(self, *exprs: I.Expr | None) -> _Labeller:
        self.vars = {}
        for e in exprs:
            if e is None:
                continue
            for n in I.walk(e):
                if isinstance(n, I.Quant):
                    self.vars.setdefault(n.var, ".".join(n.source.path))
        return self

    def field(self, name: str) -> I.FieldDecl | None:
        head, _, rest = name.partition(".")
        src = self.vars.get(head)
        if src is None or not rest or src not in self.book.facts:
            return None
        return next((f for f in self.book.facts[src].type.fields if f.name == rest), None)

    def __call__(self, name: str) -> str | None:
        if name in self.book.facts:
            f = self.book.facts[name]
            return _mark(f.label or name, f.judgment)
        if name in self.book.definitions:
            return self.book.definitions[name][0].label
        fd = self.field(name)
        if fd is not None:
            return _mark(fd.label or fd.name, fd.judgment)
        return None


def _mark(label: str, judgment: bool) -> str:
    return f"{JUDGMENT_OPEN}{label}{JUDGMENT_CLOSE}" if judgment else label


def _text(lab: _Labeller, e: I.Expr | None) -> str | None:
    """The logic in Japanese words (the writer explanations use: facts, list fields and enum
    members by their labels, 又は／かつ／でない for the connectives), each judgment's label
    marked for the `logic_*` filters; the DSL itself is the clause file's."""
    if e is None:
        return None
    text = ja_text(e, None, vocabulary(lab.book))
    lab = lab.scope(e)
    for n in I.walk(e):
        if isinstance(n, I.Ref):
            name = lab(".".join(n.path))
            if name and JUDGMENT_OPEN in name:
                plain = name.replace(JUDGMENT_OPEN, "").replace(JUDGMENT_CLOSE, "")
                text = text.replace(f"「{plain}」", f"「{name}」")
    return text


def _inputs(book: Rulebook, exprs: list[I.Expr | None]) -> tuple[list[InputView], list[str]]:
    """Facts (and list fields) and definitions the expressions read, in first-use order."""
    facts: dict[str, InputView] = {}
    defs: list[str] = []
    lab = _Labeller(book).scope(*exprs)
    for e in exprs:
        if e is None:
            continue
        for n in I.walk(e):
            if isinstance(n, I.Quant):
                _add_fact(book, facts, ".".join(n.source.path))
            if not isinstance(n, I.Ref):
                continue
            name = ".".join(n.path)
            if n.resolved == "fact" or (n.resolved is None and name in book.facts):
                _add_fact(book, facts, name)
            elif n.resolved == "definition" and name not in defs:
                defs.append(name)
            elif n.resolved == "var":
                fd = lab.field(name)
                src = lab.vars.get(n.path[0])
                if fd is not None and src is not None:
                    key = f"{src}.{fd.name}"
                    if key not in facts:
                        facts[key] = InputView(key, fd.label, fd.type.describe(), fd.judgment,
                                               name_anchor("fact", src))
    return list(facts.values()), defs


def _add_fact(book: Rulebook, facts: dict[str, InputView], path: str) -> None:
    if path in facts or path not in book.facts:
        return
    f = book.facts[path]
    facts[path] = InputView(path, f.label, _type_text(book, f.type), f.judgment,
                            name_anchor("fact", path))


def _type_text(book: Rulebook, t: I.YType) -> str:
    if t.base == "enum":
        names = "・".join(m.label or m.name for m in t.members)
        return f"{t.enum_name}（{names}）" if t.enum_name else f"列挙（{names}）"
    if t.base == "list":
        return "一覧（" + "、".join(f.label or f.name for f in t.fields) + "）"
    return t.base


# ---- citations ------------------------------------------------------------------------------

def _cite_view(book: Rulebook, c: I.Citation) -> CiteView:
    targets = [Link(book.cite(t), prov_anchor(t)) for t in c.targets if t in book.provisions]
    ext = None
    if c.external is not None:
        e = book.externals.get(c.external)
        ext = Link(e.title if e else c.external, None, external=True, title="外部文書")
    return CiteView(c.raw, targets, ext, unresolved=not targets and ext is None)


def _statement_label(statement: str) -> str:
    try:
        return STATEMENT_LABELS[statement]
    except KeyError:
        raise RenderError(f"the report has no label for the citation statement "
                          f"`{statement}`") from None


def _edge_label(kind: str) -> str:
    try:
        return EDGE_LABELS[kind]
    except KeyError:
        raise RenderError(f"the report has no label for the graph edge kind `{kind}`") from None


# ---- diagnostics -----------------------------------------------------------------------------

def report_diagnostics(book: Rulebook) -> list[Diagnostic]:
    """What `yakkan check FILE` finds for the file this version was read from (parse and
    lowering warnings included); for a book built in memory, its semantic diagnostics."""
    from yakkan.engine.semantics.check import check_sources
    from yakkan.engine.syntax.load import load_file

    path = book.doc.span.file if book.doc.span else None
    if path and Path(path).is_file():
        return check_sources([load_file(path)])
    from yakkan.engine.semantics.drafting import drafting_findings
    from yakkan.engine.semantics.graph import cycles
    from yakkan.engine.semantics.types import check_types
    return sorted([*book.diagnostics, *cycles(book), *check_types(book),
                   *drafting_findings(book)], key=Diagnostic.sort_key)


def _contains(outer: I.Span, inner: I.Span) -> bool:
    return outer.file == inner.file and \
        (outer.line, outer.column) <= (inner.line, inner.column) and \
        (inner.end_line, inner.end_column) <= (outer.end_line, outer.end_column)


def _owner(book: Rulebook, span: I.Span | None) -> str | None:
    """The innermost unit whose source span holds `span`."""
    if span is None:
        return None
    best: tuple[int, str] | None = None
    for pid in book.order:
        us = book.provisions[pid].unit.span
        if us is not None and _contains(us, span):
            depth = pid.count("/")
            if best is None or depth >= best[0]:
                best = (depth, pid)
    return best[1] if best else None


# ---- the reference graph -----------------------------------------------------------------------

REFERENCE_EDGES = ("cites", "overrides", "mutatis", "holds", "reading", "prevails", "row")
EDGE_COLORS = {"cites": "#6e7781", "overrides": "#cf222e", "mutatis": "#8250df",
               "holds": "#0969da", "reading": "#bf8700", "prevails": "#1a7f37",
               "row": "#57606a"}
DOCUMENT_NODE = "doc:"  # a citation of the whole document (「本規約」)


@dataclass
class RefEdge:
    """One citation as an edge: provision `source` — kind → targets (graph nodes)."""

    source: str
    kind: str
    targets: list[str]
    text: str | None


def reference_edges(book: Rulebook) -> list[RefEdge]:
    """The references between provisions (and to external documents) of the graph
    (`graph.build`), one per citation as written; a citation of every top-level unit
    (「本規約」) points at the document as a whole."""
    from yakkan.engine.semantics.graph import build
    g = build(book)
    roots = {f"prov:{p}" for p in book.order if book.provisions[p].parent is None}
    grouped: dict[tuple[str, str, str | None], list[str]] = {}
    for a, b, d in g.edges(data=True):
        if d["kind"] not in REFERENCE_EDGES or not a.startswith("prov:"):
            continue
        if b.split(":", 1)[0] not in ("prov", "ext"):
            continue
        targets = grouped.setdefault((a, d["kind"], d.get("text")), [])
        if b not in targets:
            targets.append(b)
    out = []
    for (a, kind, text), targets in grouped.items():
        provs = {t for t in targets if t.startswith("prov:")}
        if len(roots) > 1 and provs >= roots:
            targets = [DOCUMENT_NODE, *(t for t in targets if t not in roots)]
        out.append(RefEdge(a, kind, targets, text))
    return out


def _node_link(book: Rulebook, node: str) -> Link:
    kind, _, name = node.partition(":")
    if kind == "prov" and name in book.provisions:
        return Link(book.cite(name), prov_anchor(name))
    if kind == "ext":
        e = book.externals.get(name)
        return Link(e.title if e else name, None, external=True, title="外部文書")
    if node == DOCUMENT_NODE:
        return Link("文書全体", "units")
    return Link(node)


def _top(book: Rulebook, node: str) -> str:
    """The node of the picture for a graph node: its article (or top-level unit)."""
    if not node.startswith("prov:"):
        return node
    pid = node[5:]
    prov = book.provisions[pid]
    if prov.article:
        return f"prov:{prov.article}"
    chain = [pid]
    while book.provisions[chain[-1]].parent is not None:
        chain.append(book.provisions[chain[-1]].parent or "")
    root = chain[-1]
    if book.provisions[root].unit.kind == "chapter" and len(chain) > 1:
        root = chain[-2]
    return f"prov:{root}"


def article_edges(book: Rulebook, edges: list[RefEdge]) -> list[tuple[str, str, str, int]]:
    """The references between articles (and 附則, 別表, external documents, the document):
    (from, to, kind, how many citations); references inside one article are left out."""
    counts: dict[tuple[str, str, str], int] = {}
    for e in edges:
        a = _top(book, e.source)
        for t in e.targets:
            b = _top(book, t)
            if a != b:
                counts[(a, b, e.kind)] = counts.get((a, b, e.kind), 0) + 1
    return [(a, b, k, n) for (a, b, k), n in counts.items()]


def _node_title(book: Rulebook, node: str) -> tuple[str, str | None]:
    link = _node_link(book, node)
    cap = None
    if node.startswith("prov:"):
        cap = book.provisions[node[5:]].unit.caption
        if cap and len(cap) > 16:
            # long captions of neighbouring articles share their beginning (契約者指定番号発信
            # サービス利用…): the end tells them apart
            cap = "…" + cap[-15:]
    return link.text, cap if cap != link.text else None


def _dot_str(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def overview_svg(book: Rulebook, arts: list[tuple[str, str, str, int]]) -> Markup:
    """The article-level reference picture as SVG (`svg_graph`: no Graphviz): a box per
    article (附則, 別表, external document, the document as a whole) linking to its anchor,
    an arrow per kind of reference between two of them with its Japanese label."""
    from yakkan.renderers.svg_graph import Arrow, Box, draw
    boxes = []
    for n in dict.fromkeys([n for a, b, _, _ in arts for n in (a, b)]):
        link = _node_link(book, n)
        text, cap = _node_title(book, n)
        shape = "external" if link.external else "document" if n == DOCUMENT_NODE else \
            "omitted" if n.startswith("prov:") and book.provisions[n[5:]].unit.status == \
            "omitted" else "box"
        boxes.append(Box(n, (text, cap) if cap else (text,),
                         "#" + link.anchor if link.anchor else None,
                         text + (f"（{cap}）" if cap else ""), shape))
    arrows = []
    for a, b, kind, count in arts:
        tip = f"{_node_link(book, a).text} — {_edge_label(kind)} → {_node_link(book, b).text}"
        arrows.append(Arrow(a, b, _edge_label(kind) + (f" ×{count}" if count > 1 else ""),
                            EDGE_COLORS[kind], tip + (f"（{count} 件）" if count > 1 else ""),
                            1.8 if count > 2 else 1.1, kind == "row"))
    return draw(boxes, arrows, "参照関係図")


_MERMAID_CODES = {"#": "#35;", '"': "#quot;", "|": "#124;", "<": "#lt;", ">": "#gt;",
                  "`": "#96;"}


def reference_mermaid(book: Rulebook, arts: list[tuple[str, str, str, int]]) -> str:
    """Mermaid source of the same picture (GitHub draws it; no links there)."""
    ids: dict[str, str] = {}
    lines = ["graph LR"]

    def q(s: str) -> str:  # Mermaid's entity codes: no markup from the rule file
        return "".join(_MERMAID_CODES.get(c, c) for c in s)

    for a, b, _, _ in arts:
        for n in (a, b):
            if n not in ids:
                ids[n] = f"n{len(ids)}"
                text, cap = _node_title(book, n)
                label = q(text) + (f"<br>{q(cap)}" if cap else "")
                shape = ('[/"', '"/]') if n.startswith("ext:") else ('["', '"]')
                lines.append(f"  {ids[n]}{shape[0]}{label}{shape[1]}")
    for a, b, kind, count in arts:
        label = _edge_label(kind) + (f" ×{count}" if count > 1 else "")
        lines.append(f"  {ids[a]} -->|{q(label)}| {ids[b]}")
    return "\n".join(lines)


def _graph_view(book: Rulebook) -> GraphView:
    edges = reference_edges(book)
    # the list: one line per (provision, kind), its targets in order, the citations as written
    grouped: dict[tuple[str, str], tuple[list[str], list[str]]] = {}
    for e in edges:
        targets, texts = grouped.setdefault((e.source, e.kind), ([], []))
        targets += [t for t in e.targets if t not in targets]
        if e.text and e.text not in texts:
            texts.append(e.text)
    groups = [EdgeGroup(_node_link(book, a), _edge_label(kind),
                        [_node_link(book, b) for b in targets], texts)
              for (a, kind), (targets, texts) in grouped.items()]
    arts = article_edges(book, edges)
    svg = overview_svg(book, arts) if arts else None
    mermaid = reference_mermaid(book, arts) if arts else ""
    longest = max((len(m) for m in re.findall(r"`{3,}", mermaid)), default=2)
    kinds = sorted({e.kind for e in edges})
    return GraphView(svg, mermaid, "`" * (longest + 1),
                     [(k, _edge_label(k), EDGE_COLORS[k]) for k in kinds], groups,
                     len({n for a, b, _, _ in arts for n in (a, b)}),
                     sum(len(g.targets) for g in groups))


# ---- building the view -----------------------------------------------------------------------

def _kind_label(kind: str) -> str:
    try:
        return KIND_LABELS[kind]
    except KeyError:
        raise RenderError(f"the report has no template for unit kind `{kind}`") from None


def _printed_label(book: Rulebook, pid: str) -> str | None:
    """The number as printed (`label`), else the citation's last part (第2項, 第7号, 注1);
    none for the first, unnumbered paragraph."""
    prov = book.provisions[pid]
    u = prov.unit
    if u.label:
        return u.label
    like = _like_siblings(book, pid)
    if like:
        return like
    if u.kind in HEADING_KINDS:
        return None
    if u.kind == "paragraph" and (u.key in (None, "1")):
        return None
    parents: list[A.Unit] = []
    p = prov.parent
    while p is not None:
        parents.insert(0, book.provisions[p].unit)
        p = book.provisions[p].parent
    return unit_part(u, tuple(parents)) or None


_FULL = str.maketrans("0123456789", "０１２３４５６７８９")


def _like_siblings(book: Rulebook, pid: str) -> str | None:
    """A deleted (or omitted) unit — `item 2 deleted "削除"` has no body for a `label` —
    among siblings with a printed number (a 削除 between (1) and (5)) is numbered as they
    are: (2), not 第2号."""
    prov = book.provisions[pid]
    u = prov.unit
    if u.status == "encoded" or prov.parent is None or not u.key or not u.key.isdigit():
        return None  # a deleted or omitted unit has no body to print its number in
    for sib in book.provisions[prov.parent].unit.children:
        if sib.kind != u.kind or not sib.label or not sib.key or not sib.key.isdigit():
            continue
        for key, own in ((sib.key, u.key), (sib.key.translate(_FULL), u.key.translate(_FULL))):
            if sib.label.count(key) == 1 and not re.search(r"\d", sib.label.replace(key, "")):
                return sib.label.replace(key, own)
    return None


def _def_view(book: Rulebook, lab: _Labeller, d: A.Definition, where: str | None) -> DefView:
    return DefView(d.name, d.label, name_anchor("def", d.name),
                   _text(lab, d.expr) or "",
                   Link(book.cite(where), prov_anchor(where)) if where else None)


def _rule_view(book: Rulebook, lab: _Labeller, r: A.Rule) -> RuleView:
    if r.force not in FORCE_LABELS:
        raise RenderError(f"the report has no label for the legal force `{r.force}`")
    source = None
    mut = None
    mut_outcome = None
    if isinstance(r.source, A.EachItem):
        source = "each_item"
    elif isinstance(r.source, A.Mutatis):
        source = "mutatis"
        mut = _cite_view(book, r.source.cite)
        mut_outcome = r.source.outcome
    return RuleView(r.outcome, book.outcome_labels.get(r.outcome, r.outcome), r.force,
                    FORCE_LABELS[r.force], source, mut,
                    book.outcome_labels.get(mut_outcome, mut_outcome) if mut_outcome else None,
                    _text(lab, r.when), _text(lab, r.requires),
                    [t for t in (_text(lab, u) for u in r.unless) if t])


def _charge_view(book: Rulebook, lab: _Labeller, c: A.Charge) -> ChargeView:
    return ChargeView(
        c.name, c.label, _text(lab, c.amount), _text(lab, c.when), _text(lab, c.quote_when),
        c.tax, TAX_LABELS.get(c.tax or "") if c.tax else None, c.per,
        PER_LABELS.get(c.per or "") if c.per else None, c.lower_bound,
        _cite_view(book, c.row) if c.row is not None else None, list(c.assumptions),
        list(c.memos))


def _unit_exprs(u: A.Unit) -> list[I.Expr | None]:
    exprs: list[I.Expr | None] = [u.condition]
    for r in u.rules:
        exprs += [r.when, r.requires, *r.unless]
    for c in u.charges:
        exprs += [c.amount, c.when, c.quote_when]
    exprs += [p.expr for p in u.periods]
    exprs += [d.expr for d in u.definitions]
    return exprs


def _shown_path(path: str) -> str:
    """A rule file's path as a reader can use it: `clauses/…` for a bundled document,
    relative to the working directory where it is below it, else as given."""
    from yakkan.engine.syntax.load import bundled_root
    p = Path(path)
    for base, prefix in ((bundled_root(), "clauses/"), (Path.cwd(), "")):
        try:
            return prefix + str(p.resolve().relative_to(base.resolve()))
        except (ValueError, OSError):
            continue
    return path


def _diag_view(book: Rulebook, i: int, d: Diagnostic, owner: str | None) -> DiagView:
    sev = d.severity
    loc = f"{_shown_path(d.span.file)}:{d.span.line}:{d.span.column}" if d.span else None
    return DiagView(
        f"diag-{i + 1}", sev, SEVERITY_LABELS.get(sev, sev), d.code, d.message, d.hint,
        loc,
        Link(book.cite(owner), prov_anchor(owner)) if owner else None,
        [f"{s}: {m}" for s, m in d.related],
        _diag_title(d.code))


def _diag_title(code: str) -> str:
    """What a finding is, in Japanese; a drafting defect derived from the text says so
    (beside the encoder's `slip` notes, 符号化者の注記)."""
    group = DIAG_PREFIX_TITLES.get(code.split(".")[0], "検査の指摘")
    title = DIAG_TITLES.get(code)
    if title and code.startswith("draft."):
        return f"{group}: {title}"
    return title or group


def report_view(book: Rulebook, diagnostics: list[Diagnostic] | None = None) -> ReportView:
    """The report of one version as plain data for the templates."""
    from yakkan.engine.semantics.graph import build
    if diagnostics is None:
        diagnostics = report_diagnostics(book)
    h = book.doc.header
    lab = _Labeller(book)
    g = build(book)

    anchors: dict[str, str] = {}
    for pid in book.order:
        a = prov_anchor(pid)
        if a in anchors:
            raise RenderError(f"provisions `{anchors[a]}` and `{pid}` have the same anchor `{a}`")
        anchors[a] = pid

    diags = []
    by_unit: dict[str, list[DiagView]] = {}
    unplaced = []
    for i, d in enumerate(diagnostics):
        owner = _owner(book, d.span)
        dv = _diag_view(book, i, d, owner)
        diags.append(dv)
        if owner:
            by_unit.setdefault(owner, []).append(dv)
        else:
            unplaced.append(dv)

    uses_by: dict[str | None, list[Any]] = {}
    for use in book.uses:
        if use.statement == "query":
            continue
        uses_by.setdefault(use.provision, []).append(use)

    views: dict[str, UnitView] = {}
    roots: list[UnitView] = []
    needs: list[tuple[str, Link | None]] = []
    for pid in book.order:
        prov = book.provisions[pid]
        u = prov.unit
        v = UnitView(
            id=pid, anchor=prov_anchor(pid), kind=u.kind, kind_label=_kind_label(u.kind),
            citation=prov.citation,
            caption=u.caption if u.caption and u.caption not in prov.citation else None,
            label=_printed_label(book, pid),
            status=u.status, text=u.text, proviso=u.proviso, unit_kind=u.unit_kind,
            unit_kind_label=UNIT_KIND_LABELS.get(u.unit_kind or "") if u.unit_kind else None,
            depth=pid.count("/"), heading=u.kind in HEADING_KINDS)
        lab.scope(u.condition)
        v.condition = _text(lab, u.condition)
        v.rules = [_rule_view(book, lab, r) for r in u.rules]
        v.charges = [_charge_view(book, lab, c) for c in u.charges]
        v.definitions = [_def_view(book, lab, d, pid) for d in u.definitions]
        v.periods = [(p.name, _text(lab, p.expr) or "") for p in u.periods]
        v.readings = [{"in_doc": _cite_view(book, r.in_doc), "original": r.original,
                       "replacement": r.replacement,
                       "except": [_cite_view(book, c) for c in r.except_]} for r in u.readings]
        v.precedences = [{"winner": _cite_view(book, p.winner), "loser": _cite_view(book, p.loser),
                          "except": [_cite_view(book, c) for c in p.except_]}
                         for p in u.precedences]
        inputs, defs = _inputs(book, _unit_exprs(u))
        v.inputs = inputs
        v.uses_definitions = [Link(book.definitions[n][0].label or n, name_anchor("def", n))
                              for n in defs if n in book.definitions]
        # readings and precedences are shown (with their citations) in the logic panel
        v.refs_out = [RefOut(use.statement, _statement_label(use.statement),
                             _cite_view(book, use.citation))
                      for use in uses_by.get(pid, [])
                      if use.statement not in ("reading", "reading-except", "prevails",
                                               "prevails-except")]
        seen: set[tuple[str, str]] = set()
        node = f"prov:{pid}"
        if node in g:
            for src, _, d in g.in_edges(node, data=True):
                if d["kind"] == "contains" or (src, d["kind"]) in seen:
                    continue
                seen.add((src, d["kind"]))
                if src.startswith("prov:"):
                    link = _node_link(book, src)
                elif src == "document":
                    link = Link("文書全体の定義")
                else:
                    link = _node_link(book, src)
                v.refs_in.append(RefIn(d["kind"], _edge_label(d["kind"]), link, d.get("text")))
        v.corrections = list(u.corrections)
        v.slips = list(u.slips)
        v.memos = [m for m in u.memos if not m.startswith(NEEDS_PREFIX)]
        needs += [(m[len(NEEDS_PREFIX):].strip(), Link(v.citation, v.anchor))
                  for m in u.memos if m.startswith(NEEDS_PREFIX)]
        v.diagnostics = by_unit.get(pid, [])
        views[pid] = v
        if prov.parent is None:
            roots.append(v)
        else:
            views[prov.parent].children.append(v)

    def toc(vs: list[UnitView]) -> list[TocEntry]:
        out = []
        for v in vs:
            if not v.heading:
                continue
            text = v.citation + (f"（{v.caption}）" if v.caption else "")
            out.append(TocEntry(text, v.anchor, v.status, toc(v.children)))
        return out

    facts = []
    for path, f in book.facts.items():
        facts.append(InputView(path, f.label, _type_text(book, f.type), f.judgment,
                               name_anchor("fact", path)))
    definitions = [_def_view(book, lab, d, where) for d, where in book.definitions.values()]

    def wareki(d: dt.date | None) -> str | None:
        return to_wareki(d) if d else None

    stats = {
        "units": len(book.order),
        "encoded": sum(book.provisions[p].unit.status == "encoded" for p in book.order),
        "omitted": sum(book.provisions[p].unit.status == "omitted" for p in book.order),
        "deleted": sum(book.provisions[p].unit.status == "deleted" for p in book.order),
        "rules": sum(len(book.provisions[p].unit.rules) for p in book.order),
        "charges": sum(len(book.provisions[p].unit.charges) for p in book.order),
        "facts": len(book.facts),
        "judgments": sum(f.judgment for f in book.facts.values()),
        "definitions": len(book.definitions),
        "errors": sum(d.severity == "error" for d in diagnostics),
        "warnings": sum(d.severity == "warning" for d in diagnostics),
        "infos": sum(d.severity == "info" for d in diagnostics),
    }
    return ReportView(
        title=h.title, doc_id=h.id, number=h.number, issuer=h.issuer, version=h.version,
        effective_from=h.effective_from.isoformat() if h.effective_from else None,
        effective_from_wareki=wareki(h.effective_from),
        effective_until=h.effective_until.isoformat() if h.effective_until else None,
        effective_until_wareki=wareki(h.effective_until),
        seed=h.seed, seed_column=h.seed_column,
        memos=[m for m in h.memos if not m.startswith(NEEDS_PREFIX)],
        needs=[*((m[len(NEEDS_PREFIX):].strip(), None) for m in h.memos
                 if m.startswith(NEEDS_PREFIX)), *needs],
        toc=toc(roots), units=roots, facts=facts,
        definitions=definitions,
        enums=list(book.enums.values()),
        externals=[(e, name_anchor("ext", e.name)) for e in book.externals.values()],
        corrections=list(book.doc.corrections), diagnostics=diags,
        unplaced_diagnostics=unplaced, graph=_graph_view(book), stats=stats,
        yakkan_version=__version__)


def render_report(book: Rulebook, fmt: str, diagnostics: list[Diagnostic] | None = None) -> str:
    """The whole document version as one HTML page or one Markdown file."""
    if fmt not in FORMATS:
        raise RenderError(f"no report format `{fmt}` (formats: {', '.join(FORMATS)})")
    view = report_view(book, diagnostics)
    out = render(f"report.{fmt}.j2", r=view)
    if fmt == "md":  # blank lines the template's blocks leave: at most one in a row
        out = re.sub(r"\n{3,}", "\n\n", out)
    return out


