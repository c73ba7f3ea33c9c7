"""resolve: AST → Rulebook. Every unit gets a provision id and a human citation; every
citation is bound to provision ids (or an external document); every name in an expression
is bound to a fact, definition, bound variable or enum member.

Relative references resolve the way a lawyer reads them: 前項 = the preceding paragraph of
the paragraph that contains the citing unit, 前各号 = all preceding items, 前二項 = the two
before, 同項 / 同条 = the one last cited in the same unit, 本条 = the containing article,
「…に関する条」 = the article whose caption contains those words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from yakkan.engine.core import ir as I
from yakkan.engine.core.diagnostics import Diagnostic, did_you_mean
from yakkan.engine.core.numerals import normalize_width
from yakkan.engine.core.textnorm import IDENTIFIERS
from yakkan.engine.semantics.citations import (
    CitationSyntaxError,
    CiteGroup,
    Step,
    article_label,
    key_tuple,
    parse_citation,
)
from yakkan.engine.syntax import ast as A

if TYPE_CHECKING:
    import networkx as nx
    from pydantic import BaseModel

    from yakkan.engine.semantics.program import DecisionProgram

RESERVED_NAMES = ("as_of",)
MAX_PATTERN = 200  # characters of a fact's `pattern`
# what a range bound of each numeric type may be written as (`5%` for a percentage, `1500円`
# or a number for an amount, a whole number for a count)
_BOUND_KINDS = {"int": ("int",), "decimal": ("int", "decimal"),
                "money": ("int", "decimal", "money"), "percent": ("percent",)}
# regular-expression constructs DuckDB's RE2 (batch) and JSON Schema validators do not share
# with Python's `re`: look-around, back-references, conditionals, possessive/atomic groups
_PATTERN_UNSHARED = re.compile(r"\(\?(?:[=!]|<[=!]|P=|\(|>)|\\[1-9]|[*+?}]\+")


@dataclass
class Provision:
    """A unit of the document with its id, its citation and its place in the tree."""

    id: str
    unit: A.Unit
    parent: str | None
    citation: str
    article: str | None
    children: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.unit.full_text


@dataclass
class CitationUse:
    """One citation as used: where (provision), how (statement), and what it binds to."""

    provision: str | None
    statement: str
    citation: I.Citation


@dataclass
class Derived:
    """What later passes derive from a rulebook and keep with it, built on first use and
    never written to the on-disk cache (`cache.py` skips it): each field is owned by the
    module named beside it."""

    graph: nx.MultiDiGraph | None = None  # semantics/graph.py: build
    # runtime/compiled.py: compiled_of (a `Compiled`; typed there: a higher layer)
    compiled: object | None = None
    facts_check: object | None = None  # runtime/case.py: the facts' checker (a `FactsCheck`)
    # runtime/case_model.py: the facts and the case file as pydantic models (batch, schema)
    facts_model: type[BaseModel] | None = None
    case_model: type[BaseModel] | None = None
    # runtime/evaluate.py: fact path → (literals, facts) the grounds compare it with
    comparisons: dict[str, tuple[list[Any], list[str]]] | None = None
    # runtime/evaluate.py: id(decision rule) → (it, the grounds each branch cites, in order)
    branch_grounds: dict[int, tuple[Any, Any]] = field(default_factory=dict)
    # runtime/evaluate.py: id(expression) → (it, its outermost quantifiers); `core.memo`
    quantifiers: dict[int, tuple[Any, tuple[Any, ...]]] = field(default_factory=dict)
    # features/explain.py: the Japanese names (a `jatext.Vocabulary`; typed there)
    vocabulary: object | None = None
    definition_facts: set[str] | None = None  # features/explain.py: facts definitions read
    own_facts: dict[str, set[str]] | None = None  # features/explain.py: outcome → facts
    # features/charges.py: id(charge) → (it, the conventions its builtins stand on)
    charge_builtins: dict[int, tuple[Any, list[str]]] = field(default_factory=dict)
    # features/charges.py: the charge lines as every case prices them (a `_BookStatic`)
    charge_statics: object | None = None
    # features/explain.py: id(ground) → (it, what its explanation says whatever the case: a
    # `_GroundPlan`, typed there); the names a ground's explanation looks up (`_Tables`)
    ground_static: dict[int, tuple[Any, Any]] = field(default_factory=dict)
    explain_tables: object | None = None
    vocabulary_json: dict[str, Any] | None = None  # features/explain.py: vocabulary_json
    # runtime/recording.py: recording_of (a `Recording`; typed there: a higher layer)
    recording: object | None = None


@dataclass
class Rulebook:
    """One document version, resolved."""

    doc: A.Document
    provisions: dict[str, Provision] = field(default_factory=dict)
    order: list[str] = field(default_factory=list)
    facts: dict[str, A.FactDecl] = field(default_factory=dict)
    definitions: dict[str, tuple[A.Definition, str | None]] = field(default_factory=dict)
    enums: dict[str, A.EnumDecl] = field(default_factory=dict)
    # outcome (rule name) → its Japanese name (`outcome NAME "label"`)
    outcome_labels: dict[str, str] = field(default_factory=dict)
    externals: dict[str, A.External] = field(default_factory=dict)
    uses: list[CitationUse] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    derived: Derived = field(default_factory=Derived)  # forms later passes build and keep
    program: DecisionProgram | None = None  # semantics/program.py: compiled once, then kept
    appendix_names: list[str] | None = None  # how the text may name the 別表 (cached)
    source_digest: str | None = None  # sha256 of the rule file this version was read from

    def id_of(self, unit: A.Unit) -> str:
        """The provision id of one of this rulebook's units (kept on the unit as `nid`)."""
        assert unit.nid is not None, "a unit of another document (or not resolved)"
        return unit.nid

    def cite(self, pid: str) -> str:
        return self.provisions[pid].citation

    def caption_of(self, pid: str) -> str | None:
        """The 見出し that governs a provision: its own, or its nearest ancestor's."""
        p: str | None = pid
        while p is not None:
            prov = self.provisions[p]
            if prov.unit.caption:
                return prov.unit.caption
            p = prov.parent
        return None

    def enum_members(self) -> dict[str, str]:
        """Member name → enum name, for every declared and inline enum."""
        out: dict[str, str] = {}
        for e in self.enums.values():
            for m in e.members:
                out[m.name] = e.name
        for path, f in self.facts.items():
            for m in f.type.members:
                out[m.name] = path
            for fd in f.type.fields:
                for m in fd.type.members:
                    out[m.name] = f"{path}.{fd.name}"
        return out


# ---- ids and citations -----------------------------------------------------------

def unit_part(u: A.Unit, parents: tuple[A.Unit, ...]) -> str:
    """This unit's piece of the human citation (第2項, 第7号, 備考, 注1, 第1表, ア …)."""
    k = u.key or ""
    if u.kind == "article":
        return article_label(k) if u.range_end is None else \
            f"{article_label(k)}～{article_label(u.range_end)}"
    if u.kind == "paragraph":
        return f"第{k}項"
    if u.kind == "item":
        in_remarks = bool(parents) and parents[-1].kind == "remarks"
        return k if in_remarks else f"第{k}号"
    if u.kind == "remarks":
        return "備考"
    if u.kind == "note":
        return f"注{k}"
    if u.kind == "table":
        if not k:
            return "表"
        if not k.replace("_", "").isdigit():
            return k
        return f"第{k}表" + (f"～第{u.range_end}表" if u.range_end else "")
    if u.kind == "suppl":
        return "附則" + (f"（{k}）" if k and k != "1" else "")
    rng = f"～{u.range_end}" if u.range_end is not None else ""
    if u.kind == "section":
        nested = bool(parents) and parents[-1].kind == "section"
        if u.label:
            core = u.label
        elif not k.replace("_", "").isdigit():
            core = k + rng
        else:
            core = f"{k}{rng}" if nested else f"第{k}{rng.replace('～', '～第')}"
        return f" {core}" if nested and core[:1].isdigit() else core
    if u.kind in ("row", "subitem"):
        if u.kind == "row" and not u.label and k.isdigit():
            return f"({k})" + (f"～({u.range_end})" if u.range_end else "")
        shown = u.label or (k + rng)
        if u.kind == "row" and not re.fullmatch(r"[(（]?[0-9０-９]+[)）]?(～.*)?|[^\w(（]*", shown):
            return f"「{shown}」"  # a table row named by its first cell: 第4条の4の4「プラン4」
        return shown
    if u.kind == "appendix":
        return k or u.caption or "別表"
    if u.kind == "chapter":
        return f"第{k}章" if k.isdigit() else k
    return k


def _pid(parents: tuple[A.Unit, ...], u: A.Unit) -> str:
    def part(x: A.Unit) -> str:
        key = x.key if x.range_end is None else f"{x.key}..{x.range_end}"
        return f"{x.kind}:{key}" if key is not None else x.kind
    return "/".join(part(x) for x in (*parents, u))


def _citation_of(parents: tuple[A.Unit, ...], u: A.Unit) -> str:
    chain = (*parents, u)
    parts = []
    for i, x in enumerate(chain):
        # articles are cited without their chapter (第2条, not 第1章第2条)
        if x.kind == "chapter" and any(c.kind == "article" for c in chain[i + 1:]):
            continue
        # a single-paragraph article (or 附則) is cited without 第1項, as a drafter writes
        # it: its paragraph is 第14条の64 (附則), its items 第10条第3号
        if x.kind == "paragraph" and i > 0 and chain[i - 1].kind in ("article", "suppl"):
            paras = [c for c in chain[i - 1].children if c.kind == "paragraph"]
            if len(paras) == 1:
                continue
        parts.append(unit_part(x, chain[:i]))
    return "".join(parts)


def build_index(doc: A.Document, book: Rulebook) -> None:
    seen: dict[str, A.Unit] = {}
    for parents, u in doc.iter_units():
        pid = _pid(parents, u)
        if pid in seen:
            first = seen[pid].span
            book.diagnostics.append(Diagnostic(
                code="resolve.duplicate-unit", span=u.span,
                message=f"{_citation_of(parents, u)} is encoded twice",
                related=[(first, "first here")] if first else [],
                hint="give each unit its own key"))
            pid = f"{pid}#{len(book.order)}"
        seen[pid] = u
        parent = parents[-1].nid if parents else None
        art = next((p.nid for p in parents if p.kind == "article"),
                   pid if u.kind == "article" else None)
        book.provisions[pid] = Provision(pid, u, parent, _citation_of(parents, u), art)
        book.order.append(pid)
        u.nid = pid
        if parent:
            book.provisions[parent].children.append(pid)


# ---- resolution of citations -------------------------------------------------------

class _Ctx:
    def __init__(self, book: Rulebook, pid: str | None):
        self.book = book
        self.pid = pid
        self.last: dict[str, str] = {}  # kind → last cited id (for 同条 / 同項)

    def ancestor(self, kind: str) -> str | None:
        p = self.pid
        while p is not None:
            prov = self.book.provisions[p]
            if prov.unit.kind == kind:
                return p
            p = prov.parent
        return None


def _siblings(book: Rulebook, pid: str, kind: str) -> list[str]:
    parent = book.provisions[pid].parent
    pool = book.provisions[parent].children if parent else \
        [p for p in book.order if book.provisions[p].parent is None]
    return [c for c in pool if book.provisions[c].unit.kind == kind]


def _children_of(book: Rulebook, pid: str, kind: str, key: str | None = None) -> list[str]:
    out = []
    for c in book.provisions[pid].children:
        u = book.provisions[c].unit
        if u.kind == kind and (key is None or normalize_width(u.key or "") == key):
            out.append(c)
    return out


def _articles(book: Rulebook) -> list[str]:
    return [p for p in book.order if book.provisions[p].unit.kind == "article"]


def _find_article(book: Rulebook, key: str) -> str | None:
    want = key_tuple(key)
    for p in _articles(book):
        u = book.provisions[p].unit
        if u.range_end is None and key_tuple(u.key) == want:
            return p
    for p in _articles(book):  # inside an omitted range
        u = book.provisions[p].unit
        if u.range_end is not None and key_tuple(u.key) <= want <= key_tuple(u.range_end):
            return p
    return None


class ResolveError(Exception):
    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.hint = hint


def _apply(ctx: _Ctx, group: CiteGroup) -> list[str] | str:
    """Follow a chain of steps; returns provision ids, or an external document's name."""
    cur: list[str] | None = None
    for st in group.steps:
        got = _step(ctx, cur, st)
        if isinstance(got, str):
            return got
        cur = got
    assert cur is not None
    return cur


def _step(ctx: _Ctx, cur: list[str] | None, st: Step) -> list[str] | str:
    book = ctx.book
    k = st.kind
    if k == "external":
        assert st.key is not None
        return st.key
    if k == "named":
        assert st.key is not None
        if cur is None:
            raise ResolveError(f"「{st.key}」 needs a table or provision before it")
        want = _plain(st.key)
        found: list[str] = []
        for c in cur:  # breadth-first: the shallowest part with that name
            layer = list(book.provisions[c].children)
            while layer and not found:
                found = [x for x in layer if want in _names_of(book.provisions[x].unit)]
                layer = [y for x in layer for y in book.provisions[x].children]
        if not found:
            raise ResolveError(f"no part named 「{st.key}」 in "
                               + ", ".join(book.cite(c) for c in cur))
        return found[:1]
    if k == "subitem":
        assert st.key is not None
        if cur is not None:
            out = [c for p in cur for c in _children_of(book, p, "subitem", st.key)]
        else:  # relative: the nearest enclosing unit that lists a subitem with this key
            out = []
            p2 = ctx.pid
            while p2 is not None and not out:
                out = _children_of(book, p2, "subitem", st.key)
                p2 = book.provisions[p2].parent
        if not out:
            raise ResolveError(f"no subitem {st.key} here")
        return out
    if k == "document":
        return [p for p in book.order if book.provisions[p].parent is None]
    if k == "article":
        assert st.key is not None
        a = _find_article(book, st.key)
        if a is None:
            raise ResolveError(f"{article_label(st.key)} is not in this document",
                               "check the number; omitted (（略）) ranges count as present")
        ctx.last["article"] = a
        return [a]
    if k == "title":
        assert st.key is not None
        words = st.key
        hits = [p for p in _articles(book)
                if words in (book.provisions[p].unit.caption or "")]
        if not hits:
            caps = [book.provisions[p].unit.caption or "" for p in _articles(book)]
            raise ResolveError(f"no article is captioned with 「{words}」",
                               did_you_mean(words, caps))
        if len(hits) > 1:
            raise ResolveError(f"「{words}に関する条」 is ambiguous: "
                               + ", ".join(book.cite(h) for h in hits))
        ctx.last["article"] = hits[0]
        return hits
    if k in ("prev_article", "next_article", "this_article", "same_article"):
        here = ctx.ancestor("article")
        if k == "same_article":
            if "article" not in ctx.last:
                raise ResolveError("同条 has no article cited before it")
            return [ctx.last["article"]]
        if here is None:
            raise ResolveError("this unit is not inside an article")
        if k == "this_article":
            return [here]
        arts = _articles(book)
        i = arts.index(here) + (-1 if k == "prev_article" else 1)
        if not 0 <= i < len(arts):
            raise ResolveError("there is no such article")
        return [arts[i]]
    if k in ("paragraph", "item", "table", "note", "section") and cur is not None:
        assert st.key is not None
        out = []
        for c in cur:
            found = _children_of(book, c, k, st.key)
            if not found and k == "item":  # a single-paragraph article: 第10条第3号
                for para in _children_of(book, c, "paragraph"):
                    found += _children_of(book, para, "item", st.key)
            if not found and book.provisions[c].unit.status == "omitted":
                found = [c]
            out += found
        if not out:
            where = ", ".join(book.cite(c) for c in cur)
            label = {"paragraph": f"第{st.key}項", "item": f"第{st.key}号",
                     "table": f"第{st.key}表", "note": f"注{st.key}",
                     "section": f"第{st.key}"}[k]
            raise ResolveError(f"{where} has no {label}")
        if k == "paragraph":
            ctx.last["paragraph"] = out[-1]
        return out
    if k in ("paragraph", "item") and cur is None:
        # 「第1項」 alone: a paragraph of this article; 「第3号」 alone: of this paragraph
        scope = ctx.ancestor("article" if k == "paragraph" else "paragraph")
        if scope is None:
            raise ResolveError(f"第{st.key}{'項' if k == 'paragraph' else '号'} has no "
                               "article to belong to")
        return _step(ctx, [scope], st)
    if k == "remarks":
        base = cur if cur is not None else [ctx.ancestor("article") or ""]
        out = [r for c in base if c for r in _children_of(book, c, "remarks")]
        if not out:
            raise ResolveError("there is no 備考 here")
        return out
    if k == "prev_paragraph":
        here = ctx.ancestor("paragraph")
        if here is None:
            raise ResolveError("前項 is used outside a paragraph")
        sibs = _siblings(book, here, "paragraph")
        i = sibs.index(here)
        if i == 0:
            raise ResolveError("前項 is used in the first paragraph: there is none before it")
        picked = sibs[:i] if st.n == 0 else sibs[max(0, i - st.n):i]
        if st.n and len(picked) < st.n:
            raise ResolveError(f"前{st.n}項: only {len(picked)} paragraph(s) precede this one")
        ctx.last["paragraph"] = picked[-1]
        return picked
    if k == "next_paragraph":
        here = ctx.ancestor("paragraph")
        if here is None:
            raise ResolveError("次項 is used outside a paragraph")
        sibs = _siblings(book, here, "paragraph")
        i = sibs.index(here)
        if i + 1 >= len(sibs):
            raise ResolveError("次項: this is the last paragraph")
        return [sibs[i + 1]]
    if k in ("this_paragraph", "same_paragraph"):
        if k == "same_paragraph":
            if "paragraph" not in ctx.last:
                raise ResolveError("同項 has no paragraph cited before it")
            return [ctx.last["paragraph"]]
        here = ctx.ancestor("paragraph")
        if here is None:
            raise ResolveError("本項 is used outside a paragraph")
        return [here]
    if k == "prev_item":
        here = ctx.ancestor("item")
        if here is None:
            raise ResolveError("前号/前各号 is used outside an item")
        sibs = _siblings(book, here, "item")
        i = sibs.index(here)
        if i == 0:
            raise ResolveError("前各号 is used in the first item")
        return sibs[:i] if st.n == 0 else sibs[i - 1:i]
    if k == "each_item":
        base = cur if cur is not None else [ctx.ancestor("paragraph") or ""]
        out = []
        for c in base:
            if not c:
                continue
            items = _children_of(book, c, "item")
            if not items:  # 「第13条第1項各号」 where 第1項 is given; or article → paragraph 1
                for para in _children_of(book, c, "paragraph")[:1]:
                    items = _children_of(book, para, "item")
            out += items
        if not out:
            raise ResolveError("各号: the cited provision has no items")
        return out
    if k == "each_paragraph":
        base = cur if cur is not None else [ctx.ancestor("article") or ""]
        return [p for c in base if c for p in _children_of(book, c, "paragraph")]
    if k == "sentence":
        if cur is None:
            raise ResolveError("本文/ただし書 needs a provision before it")
        return cur
    if k == "appendix":
        assert st.key is not None
        hits = [p for p in book.order if book.provisions[p].unit.kind == "appendix"
                and st.key in (normalize_width(book.provisions[p].unit.key or ""),
                               normalize_width(book.provisions[p].unit.caption or ""),
                               normalize_width(book.provisions[p].unit.key or "")
                               + normalize_width(book.provisions[p].unit.caption or ""))]
        if not hits:
            hits = [p for p in book.order if book.provisions[p].unit.kind == "appendix"]
        if not hits:
            raise ResolveError(f"this document has no {st.key}")
        return hits[:1]
    if k == "next_table":
        here = ctx.pid
        if here is None:
            raise ResolveError("次表 is used outside a unit")
        after = book.order[book.order.index(here) + 1:]
        for p in after:
            if book.provisions[p].unit.kind in ("table", "row"):
                return [p if book.provisions[p].unit.kind == "table"
                        else book.provisions[p].parent or p]
        raise ResolveError("次表: no table follows")
    if k in ("table", "section", "note") and cur is None:
        scope = ctx.pid
        pool = book.provisions[scope].children if scope else []
        hits = [c for c in pool if book.provisions[c].unit.kind == k
                and book.provisions[c].unit.key == st.key]
        if not hits:
            hits = [p for p in book.order if book.provisions[p].unit.kind == k
                    and book.provisions[p].unit.key == st.key]
        if not hits:
            raise ResolveError(f"no {k} {st.key} here")
        return hits[:1]
    raise ResolveError(f"cannot follow `{k}` here")


def _plain(s: str) -> str:
    return re.sub(r"[\s【】「」]", "", normalize_width(s))


def _names_of(u: A.Unit) -> set[str]:
    return {_plain(x) for x in (u.key, u.label, u.caption) if x}


def _range(book: Rulebook, start: list[str], end: list[str]) -> list[str]:
    if not start or not end:
        return start + end
    a, b = book.order.index(start[0]), book.order.index(end[-1])
    kind = book.provisions[start[0]].unit.kind
    parent = book.provisions[start[0]].parent
    return [p for p in book.order[a:b + 1]
            if book.provisions[p].unit.kind == kind and book.provisions[p].parent == parent]


def _check_caption(book: Rulebook, c: I.Citation, g: CiteGroup, ids: list[str],
                   diags: list[Diagnostic]) -> None:
    if g.caption is None or not ids:
        return
    target = book.provisions[ids[0]]
    unit = target.unit
    if unit.status == "omitted" or unit.kind != "article":
        return
    want = normalize_width(g.caption).replace(" ", "")
    have = normalize_width(unit.caption or "").replace(" ", "")
    if want == have:
        return
    owner = [book.cite(p) for p in _articles(book)
             if normalize_width(book.provisions[p].unit.caption or "").replace(" ", "") == want]
    diags.append(Diagnostic(
        code="resolve.caption-mismatch", severity="warning", span=c.span,
        # a drafting finding a legal team reads: in Japanese, like the draft.* findings
        message=f"「{g.text}」: {target.citation}の見出しは（{unit.caption}）であり、"
        f"（{g.caption}）ではない" + (f"（（{g.caption}）は{'、'.join(owner)}の見出し）"
                                    if owner else ""),
        hint=f"引用は書かれたとおりに残し、番号どおり{target.citation}を指すものとして読む"
        "（本文の起草上の誤り。本文は書き換えない）"))


@dataclass
class Binding:
    """What a citation binds to: provision ids, or an external document; and what is wrong."""

    targets: list[str]
    external: str | None
    diagnostics: list[Diagnostic]


def appendix_names(book: Rulebook) -> list[str]:
    """How the text may name this document's 別表: each appendix's key, caption, both, its
    declared `alias`es, and the generic words 別表 / 料金表."""
    if book.appendix_names is None:
        names: list[str] = []
        for p in book.order:
            u = book.provisions[p].unit
            if u.kind == "appendix":
                names += [x for x in (u.key, u.caption) if x]
                if u.key and u.caption:
                    names.append(u.key + u.caption)
                names += u.aliases
        book.appendix_names = [*names, "別表", "料金表"]
    return book.appendix_names


def bind_citation(book: Rulebook, c: I.Citation, pid: str | None,
                  ctx: _Ctx | None = None) -> Binding:
    """Bind a citation as the text reads it, from the provision `pid`; changes nothing."""
    ctx = ctx or _Ctx(book, pid)
    names: dict[str, str] = {}
    for e in book.externals.values():
        for n in (e.name, e.title, *e.aliases):
            names[n] = e.name
    diags: list[Diagnostic] = []
    try:
        groups = parse_citation(c.raw, names, appendix_names(book))
    except (CitationSyntaxError, ValueError) as e:
        diags.append(Diagnostic(
            code="resolve.bad-citation", span=c.span, message=str(e),
            hint="write citations as the text does: 「第14条の65第2項」, 「前項」, 「前各号」"))
        return Binding([], None, diags)
    targets: list[str] = []
    external: str | None = None
    for g in groups:
        try:
            got = _apply(ctx, g)
            if isinstance(got, str):
                external = got
                continue
            _check_caption(book, c, g, got, diags)
            if g.range_to is not None:
                end = _apply(ctx, g.range_to)
                if isinstance(end, str):
                    raise ResolveError("a range cannot end in another document")
                _check_caption(book, c, g.range_to, end, diags)
                got = _range(book, got, end)
            targets += [t for t in got if t not in targets]
        except ResolveError as e:
            diags.append(Diagnostic(
                code="resolve.unresolved", span=c.span,
                message=f"「{c.raw}」 cannot be resolved: {e}",
                hint=e.hint or "cite a unit that is encoded, or declare the document with "
                "`external`"))
    return Binding(targets, external, diags)


def resolve_citation(book: Rulebook, c: I.Citation, pid: str | None, ctx: _Ctx | None = None,
                     statement: str = "cites") -> None:
    """Within the resolve pass: bind `c` (of the pass's own copy of the document) and record
    the use and the diagnostics on the rulebook being built."""
    b = bind_citation(book, c, pid, ctx)
    c.targets = b.targets
    if b.external is not None:
        c.external = b.external
    book.diagnostics.extend(b.diagnostics)
    book.uses.append(CitationUse(pid, statement, c))


# ---- names in expressions ----------------------------------------------------------

def _bind_names(book: Rulebook, e: I.Expr | None, scope: dict[str, I.YType],
                where: str | None) -> None:
    if e is None:
        return
    members = book.enum_members()
    stack: list[tuple[I.Expr, dict[str, I.YType]]] = [(e, scope)]
    while stack:
        node, sc = stack.pop()
        if isinstance(node, I.Quant):
            _bind_ref(book, node.source, sc, members)
            src = book.facts.get(".".join(node.source.path))
            inner = dict(sc)
            inner[node.var] = src.type if src else I.YType(base="list")
            for sub in (node.body, node.where):
                if sub is not None:
                    stack.append((sub, inner))
            continue
        if isinstance(node, I.Ref):
            _bind_ref(book, node, sc, members)
            continue
        if isinstance(node, I.Holds):
            resolve_citation(book, node.cite, where, statement="holds")
            continue
        for ch in I.children(node):
            stack.append((ch, sc))


def _bind_ref(book: Rulebook, r: I.Ref, scope: dict[str, I.YType],
              members: dict[str, str]) -> None:
    name = ".".join(r.path)
    if r.path[0] in scope:
        var_t = scope[r.path[0]]
        if len(r.path) > 1 and var_t.fields:
            fields = {f.name for f in var_t.fields}
            if r.path[1] not in fields:
                book.diagnostics.append(Diagnostic(
                    code="resolve.unknown-field", span=r.span,
                    message=f"`{r.path[0]}` has no field `{r.path[1]}`",
                    hint=did_you_mean(r.path[1], fields)))
        r.resolved = "var"
    elif name in book.facts:
        r.resolved = "fact"
    elif name in book.definitions:
        r.resolved = "definition"
    elif len(r.path) == 1 and name in members:
        r.resolved = "enum"
    elif name in RESERVED_NAMES:
        r.resolved = "builtin"
    else:
        cands = [*book.facts, *book.definitions, *members, *scope, *RESERVED_NAMES]
        book.diagnostics.append(Diagnostic(
            code="resolve.unknown-name", span=r.span,
            message=f"`{name}` is not a declared fact, definition or enum member",
            hint=did_you_mean(name, cands) or "declare it with `fact` or `define`"))


# ---- the pass -------------------------------------------------------------------------

def resolve(doc: A.Document) -> Rulebook:
    """Index, bind citations and names; collect diagnostics. The rulebook holds its own copy
    of the document, with citation targets, `Ref.resolved` and unit ids filled in (they are
    excluded from equality and dumps); `doc` itself is not changed."""
    doc = doc.model_copy(deep=True)
    book = Rulebook(doc)
    for ext in doc.externals:
        book.externals[ext.name] = ext
    for en in doc.enums:
        if en.name in book.enums:
            book.diagnostics.append(Diagnostic(code="resolve.duplicate-enum", span=en.span,
                                               message=f"enum `{en.name}` is declared twice"))
        book.enums[en.name] = en
    for od in doc.outcomes:
        if od.name in book.outcome_labels:
            book.diagnostics.append(Diagnostic(
                code="resolve.duplicate-outcome", span=od.span,
                message=f"outcome `{od.name}` is named twice"))
        book.outcome_labels[od.name] = od.label
    for f in doc.facts:
        key = ".".join(f.path)
        if key in book.facts:
            book.diagnostics.append(Diagnostic(code="resolve.duplicate-fact", span=f.span,
                                               message=f"fact `{key}` is declared twice"))
        if f.type.base == "enum" and f.type.enum_name and f.type.enum_name not in book.enums:
            book.diagnostics.append(Diagnostic(
                code="resolve.unknown-type", span=f.type.span,
                message=f"`{f.type.enum_name}` is not a type",
                hint=did_you_mean(f.type.enum_name, [*I.SCALAR_TYPES, *IDENTIFIERS, *book.enums])
                or "types: " + ", ".join([*I.SCALAR_TYPES, *IDENTIFIERS])))
        for t in (f.type, *(fd.type for fd in f.type.fields)):
            if t.base == "enum" and t.enum_name:
                if t.enum_name in book.enums:
                    t.members = list(book.enums[t.enum_name].members)
                elif t is not f.type:
                    book.diagnostics.append(Diagnostic(
                        code="resolve.unknown-type", span=t.span,
                        message=f"`{t.enum_name}` is not a type",
                        hint=did_you_mean(t.enum_name, [*I.SCALAR_TYPES, *IDENTIFIERS,
                                                        *book.enums])))
            _check_constraint(book, t)
        book.facts[key] = f
    build_index(doc, book)
    for d in doc.definitions:
        _add_definition(book, d, None)
    for pid in book.order:
        for d in book.provisions[pid].unit.definitions:
            _add_definition(book, d, pid)
    for d, where in book.definitions.values():
        _bind_names(book, d.expr, {}, where)
    seen_assumptions: set[str] = set()
    for a in doc.assumptions:
        if a.name in seen_assumptions:
            book.diagnostics.append(Diagnostic(code="resolve.duplicate-assumption", span=a.span,
                                               message=f"assumption `{a.name}` is declared "
                                               "twice"))
        seen_assumptions.add(a.name)
        _bind_names(book, a.expr, {}, None)
    for pid in book.order:
        _resolve_unit(book, pid)
    _check_rules(book)
    _check_outcomes(book)
    return book


def _check_outcomes(book: Rulebook) -> None:
    """Every `outcome NAME "label"` names an outcome some rule decides."""
    decided = {r.outcome for pid in book.order for r in book.provisions[pid].unit.rules}
    for od in book.doc.outcomes:
        if od.name not in decided:
            book.diagnostics.append(Diagnostic(
                code="resolve.unknown-outcome", span=od.span,
                message=f"`outcome {od.name}` names no outcome: no rule decides `{od.name}`",
                hint=did_you_mean(od.name, sorted(decided))
                or "outcomes: " + ", ".join(sorted(decided))))


def _check_constraint(book: Rulebook, t: I.YType) -> None:
    """A fact's `range` / `pattern` must fit its type and be satisfiable."""
    c = t.constraint
    if c is None:
        return
    what = {"enum": "enum", "list": "list of records"}.get(t.base, t.ident or t.base)
    if c.pattern is not None:
        if t.base != "text" or t.ident:
            book.diagnostics.append(Diagnostic(
                code="type.bad-pattern", span=c.span,
                message=f"a pattern constrains a text fact, not {_a(what)}",
                hint="write `range LOW..HIGH` for a number; an enum lists its values"
                if t.base in _BOUND_KINDS else "remove the pattern"))
            return
        problem = None
        if len(c.pattern) > MAX_PATTERN:
            problem = f"is too long ({len(c.pattern)} characters; at most {MAX_PATTERN})"
        elif _PATTERN_UNSHARED.search(_without_classes(c.pattern)):
            problem = ("uses look-around, a back-reference or a possessive quantifier, which "
                       "batch (DuckDB) and JSON Schema cannot match")
        else:
            try:
                re.compile(c.pattern, re.ASCII)
            except (re.error, RecursionError, OverflowError) as e:
                problem = f"is not a regular expression: {str(e)[:120]}"
        if problem:
            book.diagnostics.append(Diagnostic(
                code="type.bad-pattern", span=c.span, message=f"the pattern {problem}",
                hint='a regular expression the whole value must match, e.g. "[0-9]{7}"'))
        return
    kinds = _BOUND_KINDS.get(t.base) if not t.ident else None
    if kinds is None:
        book.diagnostics.append(Diagnostic(
            code="type.bad-range", span=c.span,
            message=f"a range constrains a number, an amount or a percentage, not {_a(what)}",
            hint='write `pattern "…"` for a text; an enum lists its values'
            if t.base == "text" else "remove the range"))
        return
    for b in (c.minimum, c.maximum):
        if b is None:
            continue
        if b.type not in kinds:
            book.diagnostics.append(Diagnostic(
                code="type.bad-range", span=b.span or c.span,
                message=f"the bound `{I.bound_text(b)}` is {_a(b.type)}, but the fact is "
                f"{_a(t.base)}",
                hint={"int": "a count's bounds are whole numbers: `range 1..2`",
                      "decimal": "write plain numbers: `range -1.5..1.5`",
                      "money": "write amounts: `range 0円..10000円`",
                      "percent": "write percentages: `range 0%..14.6%`"}[t.base]))
            return
        if t.base == "percent" and b.value < 0:  # type: ignore[operator]
            book.diagnostics.append(Diagnostic(
                code="type.bad-range", span=b.span or c.span,
                message=f"the bound `{I.bound_text(b)}` is negative: a percentage is 0 or more",
                hint="write `range 0%..`"))
            return
    lo, hi = c.low(), c.high()
    if lo is not None and hi is not None and lo > hi:
        assert c.minimum is not None and c.maximum is not None
        book.diagnostics.append(Diagnostic(
            code="type.empty-range", span=c.span,
            message=f"the range {I.bound_text(c.minimum)}..{I.bound_text(c.maximum)} is empty: "
            "its lower bound is above its upper bound",
            hint=f"write `range {I.bound_text(c.maximum)}..{I.bound_text(c.minimum)}`"))


def _without_classes(pattern: str) -> str:
    """A pattern with each character class (`[…]`) written as one `x`, escapes kept: what
    looks like a construct inside a class (`[*+]`) is only characters."""
    out: list[str] = []
    i, n = 0, len(pattern)
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            out.append(pattern[i:i + 2])
            i += 2
        elif ch == "[":
            j = i + 1
            if j < n and pattern[j] == "^":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1  # a leading `]` is a character of the class
            while j < n and pattern[j] != "]":
                j += 2 if pattern[j] == "\\" else 1
            out.append("x")
            i = j + 1
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _a(what: str) -> str:
    return ("an " if what[:1] in "aeiou" else "a ") + what


def _add_definition(book: Rulebook, d: A.Definition, pid: str | None) -> None:
    if d.name in book.definitions or d.name in book.facts:
        book.diagnostics.append(Diagnostic(code="resolve.duplicate-definition", span=d.span,
                                           message=f"`{d.name}` is defined twice"))
    book.definitions[d.name] = (d, pid)


def _resolve_unit(book: Rulebook, pid: str) -> None:
    u = book.provisions[pid].unit
    ctx = _Ctx(book, pid)
    for r in u.refs:
        for c in r.cites:
            resolve_citation(book, c, pid, ctx, r.verb)
    for rd in u.readings:
        resolve_citation(book, rd.in_doc, pid, ctx, "reading")
        for c in rd.except_:
            resolve_citation(book, c, pid, ctx, "reading-except")
    for pr in u.precedences:
        resolve_citation(book, pr.winner, pid, ctx, "prevails")
        resolve_citation(book, pr.loser, pid, ctx, "prevails")
        for c in pr.except_:
            resolve_citation(book, c, pid, ctx, "prevails-except")
    _bind_names(book, u.condition, {}, pid)
    for rule in u.rules:
        for e in (rule.when, rule.requires, *rule.unless):
            _bind_names(book, e, {}, pid)
        if isinstance(rule.source, A.Mutatis):
            resolve_citation(book, rule.source.cite, pid, ctx, "mutatis")
        if isinstance(rule.source, A.EachItem):
            items = [c for c in book.provisions[pid].children
                     if book.provisions[c].unit.kind in ("item", "subitem", "row")]
            if not items:
                book.diagnostics.append(Diagnostic(
                    code="resolve.no-items", span=rule.span,
                    message="`for each item` but this unit has no items"))
    for ch in u.charges:
        for e in (ch.amount, ch.when, ch.quote_when):
            _bind_names(book, e, {}, pid)
        if ch.row is not None:
            resolve_citation(book, ch.row, pid, ctx, "row")
    for p in u.periods:
        _bind_names(book, p.expr, {}, pid)
    for cv in u.covers:
        _bind_names(book, cv, {}, pid)
    for sl in u.slips:
        if not sl.strip():
            book.diagnostics.append(Diagnostic(code="resolve.empty-slip", span=u.span,
                                               message="a `slip` with no words"))


def _check_rules(book: Rulebook) -> None:
    """Lint: items with conditions that no `for each item` rule uses, and rules without
    text to stand on."""
    for pid in book.order:
        prov = book.provisions[pid]
        u = prov.unit
        if u.status == "encoded" and u.kind != "appendix" and (u.rules or u.charges) \
                and not u.text and not u.children:
            book.diagnostics.append(Diagnostic(
                code="lint.logic-without-text", severity="warning", span=u.span,
                message=f"{prov.citation} carries logic but no text"))
        if u.condition is not None and prov.parent is not None:
            parent = book.provisions[prov.parent].unit
            users = [r for r in parent.rules if isinstance(r.source, A.EachItem)]
            if not users and not _has_holds_user(book, pid):
                book.diagnostics.append(Diagnostic(
                    code="lint.unused-condition", severity="warning", span=u.condition.span,
                    message=f"the condition of {prov.citation} is used by no rule",
                    hint="add `rule …: … for each item` to the parent, or cite it with "
                    "`holds 「…」`"))


def _has_holds_user(book: Rulebook, pid: str) -> bool:
    return any(u.statement == "holds" and pid in u.citation.targets for u in book.uses)


_WS = re.compile(r"\s+")
