"""A version in force → e-Gov 法令標準XML (v3) `Law` document, and a sidecar with its logic.

`yakkan export DOC --format egov-xml` writes the text and structure of the version in force
the way the schema (`XMLSchemaForJapaneseLaw_v3.xsd`) has them; `--sidecar FILE` writes the
encoded logic (declarations, each unit's `when`/`rule`/`charge`/…, as DSL text) keyed by the
unit paths yakkan uses as provision ids (`article:14_65/paragraph:2/item:6`). Every unit
element starts with `<?yakkan {"id": "<unit path>", …}?>`: the same key, and what the schema
has no place for (the unit's kind where a borrowed element stands for it, its key, an omitted
or deleted status on elements without Delete/Hide). Processing instructions are ignored by
schema validation and by e-Gov tools, so the document stays valid.

The mapping (README, "e-Gov XML", has the table; `egov_import` reads it back):

* header: `Law LawType="Misc" Lang="ja"`, Era/Year/Num from a 和暦 number (平成11年経企24号 →
  Heisei 11, No. 24), else from the effective date with Num="1" (the schema requires one;
  LawNum carries the number as written, or is empty); LawTitle; an omitted 目次 → TOC.
* article → Article Num="14_65_2" (a range "1:4"), ArticleCaption （見出し）, ArticleTitle
  (the label, or 第N条); paragraph → Paragraph (ParagraphCaption, ParagraphNum = label);
  text/proviso → Sentence (Function="main"/"proviso" when there is a proviso); item → Item;
  subitem → Subitem1…10 (by depth); remarks → Remarks (RemarksLabel); row → TableRow in a
  TableStruct (first cell: label or key; then the text, one cell per tab-separated part);
  suppl → SupplProvision (caption as AmendLawNum); appendix → AppdxTable.
* units the schema has no element for (節 of a 料金表, 注, a row that has sub-units or a
  caption, …) → the next Item/Subitem level, the kind in the instruction; a caption then
  goes in a first Column of the …Sentence, the text in the second.
* deleted → Delete="true" where the element has it, and the text (削除); omitted (（略）) →
  Hide="true" where the element has it, the （略） text as written — nothing is invented.

A structure the schema cannot hold is an `export.unsupported` error naming the unit.
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from yakkan.engine.core.diagnostics import Diagnostic, YakkanError
from yakkan.engine.core.numerals import ERAS, normalize_width
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.syntax import ast as A
from yakkan.engine.syntax.egov_import import (
    ERA_NAMES,
    PI_TARGET,
    SIDECAR_FORMAT,
    article_title,
    pi_data,
    unit_path,
)
from yakkan.engine.syntax.format import format_document

_NUMBER = re.compile(r"(明治|大正|昭和|平成|令和)(元|[0-9]+)年.*?([0-9]+)号")
LOGIC_FIELDS = ("aliases", "unit_kind", "condition", "rules", "charges", "definitions",
                "periods", "refs", "readings", "precedences", "corrections", "memos", "slips",
                "arithmetic", "figures", "covers")
MAX_LEVEL = 10  # Item (0) … Subitem10


class _Exporter:
    def __init__(self, book: Rulebook) -> None:
        self.book = book
        self.paths: dict[int, str] = {}
        for parents, u in book.doc.iter_units():
            self.paths[id(u)] = unit_path(parents, u)

    # -- helpers -----------------------------------------------------------------------

    def fail(self, u: A.Unit, why: str) -> YakkanError:
        pid = self.paths.get(id(u), u.kind)
        cite = next((p.citation for p in self.book.provisions.values() if p.unit is u), pid)
        return YakkanError([Diagnostic(
            code="export.unsupported", span=u.span,
            message=f"{cite} cannot be written in e-Gov 法令XML: {why}",
            hint="the 法令標準XMLスキーマ v3 has no place for it; change the clause file's "
            "structure or leave this document out of the export")])

    def pi(self, el: Any, u: A.Unit, **extra: Any) -> None:
        data: dict[str, Any] = {"id": self.paths[id(u)]}
        if u.status != "encoded":
            data["status"] = u.status
        data.update(extra)
        el.append(etree.ProcessingInstruction(PI_TARGET, pi_data(data)))

    @staticmethod
    def num(u: A.Unit) -> str:
        if u.key is None:
            return ""
        return u.key if u.range_end is None else f"{u.key}:{u.range_end}"

    @staticmethod
    def status_attrs(el: Any, u: A.Unit) -> None:
        if u.status == "deleted":
            el.set("Delete", "true")
        elif u.status == "omitted":
            el.set("Hide", "true")

    @staticmethod
    def sentences(holder: Any, text: str | None, proviso: str | None) -> None:
        if text is None and proviso is None:
            etree.SubElement(holder, "Sentence")
            return
        n = 1
        for s, fn in ((text, "main"), (proviso, "proviso")):
            if s is None:
                continue
            el = etree.SubElement(holder, "Sentence", Num=str(n))
            if proviso is not None:
                el.set("Function", fn)
            el.text = s
            n += 1

    def sentence_block(self, holder: Any, u: A.Unit) -> None:
        """text/proviso of a unit; with a caption: Column 1 the caption, Column 2 the text."""
        text = u.text
        proviso = u.proviso if u.status == "encoded" else None
        if u.caption is None or u.range_end is not None:
            self.sentences(holder, text, proviso)
            return
        col = etree.SubElement(holder, "Column", Num="1")
        etree.SubElement(col, "Sentence").text = u.caption
        if text is not None or proviso is not None:
            col2 = etree.SubElement(holder, "Column", Num="2")
            self.sentences(col2, text, proviso)

    # -- eligibility ---------------------------------------------------------------------

    @staticmethod
    def table_row(u: A.Unit) -> bool:
        """A row written as a TableRow: a leaf with no caption, proviso or range."""
        return (u.kind == "row" and u.status == "encoded" and not u.children
                and u.caption is None and u.proviso is None and u.range_end is None
                and u.key is not None and u.label != u.key and u.text != ""
                and not _logic_of(u, "aliases"))

    @staticmethod
    def remarks_block(u: A.Unit) -> bool:
        """Remarks written as the schema's Remarks: a 備考 of items, or of sentences."""
        return (u.kind == "remarks" and u.status == "encoded" and u.key is None
                and u.caption is None and u.proviso is None
                and (u.text is None) != (not u.children)
                and all(c.kind == "item" for c in u.children))

    def split_table(self, children: list[A.Unit]) -> tuple[list[A.Unit], list[A.Unit],
                                                            A.Unit | None]:
        """(units before, table rows at the end, a 備考 after them) of a child list."""
        rest = list(children)
        remarks = None
        if rest and self.remarks_block(rest[-1]) and len(rest) > 1 \
                and self.table_row(rest[-2]):
            remarks = rest.pop()
        i = len(rest)
        while i > 0 and self.table_row(rest[i - 1]):
            i -= 1
        rows = rest[i:]
        if not rows and remarks is not None:
            rest.append(remarks)
            remarks = None
        return rest[:i], rows, remarks

    # -- elements --------------------------------------------------------------------------

    def table(self, parent: Any, rows: list[A.Unit], remarks: A.Unit | None) -> None:
        ts = etree.SubElement(parent, "TableStruct")
        table = etree.SubElement(ts, "Table", WritingMode="horizontal")
        for r in rows:
            tr = etree.SubElement(table, "TableRow")
            self.pi(tr, r)
            head = etree.SubElement(tr, "TableColumn")
            etree.SubElement(head, "Sentence").text = r.label if r.label is not None else r.key
            if r.text is not None:
                for cell in r.text.split("\t"):
                    col = etree.SubElement(tr, "TableColumn")
                    etree.SubElement(col, "Sentence").text = cell
        if remarks is not None:
            self.remarks(ts, remarks)

    def remarks(self, parent: Any, u: A.Unit) -> None:
        el = etree.SubElement(parent, "Remarks")
        self.pi(el, u)
        etree.SubElement(el, "RemarksLabel").text = u.label or ""
        if u.children:
            for c in u.children:
                self.level(el, c, 0)
        else:
            self.sentences(el, u.text, None)

    def level(self, parent: Any, u: A.Unit, depth: int) -> None:
        """A unit as Item (depth 0) or Subitem{depth}."""
        if depth > MAX_LEVEL:
            raise self.fail(u, "it is nested deeper than Subitem10")
        tag = "Item" if depth == 0 else f"Subitem{depth}"
        el = etree.SubElement(parent, tag, Num=self.num(u))
        self.status_attrs(el, u)
        title = u.label if u.status == "encoded" else None
        if u.kind == "row" and u.status == "encoded" and u.key is not None \
                and not u.key.isdigit():
            # a row's key is its first cell as printed (grammar): shown as the title
            if u.label == u.key:
                self.pi(el, u, label=u.label)
            else:
                self.pi(el, u)
            title = u.label if u.label is not None else u.key
        else:
            self.pi(el, u)
        if title is not None:
            etree.SubElement(el, f"{tag}Title").text = title
        self.sentence_block(etree.SubElement(el, f"{tag}Sentence"), u)
        if u.status != "encoded":
            return
        before, rows, remarks = self.split_table(u.children)
        for c in before:
            if depth == MAX_LEVEL:
                raise self.fail(c, "it is nested deeper than Subitem10")
            self.level(el, c, depth + 1)
        if rows:
            self.table(el, rows, remarks)

    def paragraph(self, parent: Any, u: A.Unit) -> None:
        if u.kind != "paragraph" or u.key is None or not u.key.isdigit() or u.range_end:
            raise self.fail(u, "an article holds paragraphs numbered 1, 2, … only")
        el = etree.SubElement(parent, "Paragraph", Num=u.key)
        if u.status == "omitted":
            el.set("Hide", "true")
        self.pi(el, u)
        if u.caption is not None:
            etree.SubElement(el, "ParagraphCaption").text = f"（{u.caption}）"
        etree.SubElement(el, "ParagraphNum").text = u.label or ""
        self.sentences(etree.SubElement(el, "ParagraphSentence"), u.text,
                       u.proviso if u.status == "encoded" else None)
        if u.status != "encoded":
            return
        before, rows, remarks = self.split_table(u.children)
        for c in before:
            self.level(el, c, 0)
        if rows:
            self.table(el, rows, remarks)

    def text_paragraph(self, parent: Any, u: A.Unit) -> None:
        """The text of a deleted or omitted article or 附則: one Paragraph holding it."""
        p = etree.SubElement(parent, "Paragraph", Num="1")
        etree.SubElement(p, "ParagraphNum")
        self.sentences(etree.SubElement(p, "ParagraphSentence"), u.text, None)

    def article(self, parent: Any, u: A.Unit) -> None:
        el = etree.SubElement(parent, "Article", Num=self.num(u))
        self.status_attrs(el, u)
        self.pi(el, u)
        if u.caption is not None:
            etree.SubElement(el, "ArticleCaption").text = f"（{u.caption}）"
        title = u.label if u.label is not None and u.status == "encoded" \
            else article_title(u.key, u.range_end)
        etree.SubElement(el, "ArticleTitle").text = title
        if u.status != "encoded":
            self.text_paragraph(el, u)
            return
        if u.text is not None or u.proviso is not None:
            raise self.fail(u, "an article's text stands in its paragraphs (paragraph 1)")
        if not u.children:
            raise self.fail(u, "an article needs at least one paragraph")
        for c in u.children:
            self.paragraph(el, c)

    def suppl(self, parent: Any, u: A.Unit) -> None:
        el = etree.SubElement(parent, "SupplProvision")
        if u.caption is not None:
            el.set("AmendLawNum", u.caption)
        self.pi(el, u)
        etree.SubElement(el, "SupplProvisionLabel").text = u.label or ""
        if u.status != "encoded":
            self.text_paragraph(el, u)
            return
        if u.text is not None or u.proviso is not None:
            raise self.fail(u, "the text of 附則 stands in its paragraphs")
        if not u.children:
            raise self.fail(u, "附則 needs at least one paragraph or article")
        for c in u.children:
            if c.kind == "article":
                self.article(el, c)
            else:
                self.paragraph(el, c)

    def appendix(self, parent: Any, u: A.Unit) -> None:
        el = etree.SubElement(parent, "AppdxTable")
        extra: dict[str, Any] = {}
        title: str | None = None
        if u.status == "encoded" and u.label is not None:
            if u.caption is not None:
                title, extra["label"] = f"{u.label}　{u.caption}", u.label
            else:
                title, extra["label_only"] = u.label, True
        elif u.caption is not None:
            title = u.caption
        self.pi(el, u, **extra)
        if title is not None:
            etree.SubElement(el, "AppdxTableTitle", WritingMode="horizontal").text = title
        if u.text is not None or (u.proviso is not None and u.status == "encoded"):
            holder = etree.SubElement(el, "Item", Num="")
            holder.append(etree.ProcessingInstruction(PI_TARGET, pi_data({"part": "text"})))
            self.sentences(etree.SubElement(holder, "ItemSentence"), u.text,
                           u.proviso if u.status == "encoded" else None)
        if u.status != "encoded":
            return
        children = list(u.children)
        remarks = children.pop() if children and self.remarks_block(children[-1]) else None
        i = 0
        while i < len(children):
            if self.table_row(children[i]):
                j = i
                while j < len(children) and self.table_row(children[j]):
                    j += 1
                self.table(el, children[i:j], None)
                i = j
            else:
                self.level(el, children[i], 0)
                i += 1
        if remarks is not None:
            self.remarks(el, remarks)

    def toc(self, parent: Any, u: A.Unit) -> None:
        el = etree.SubElement(parent, "TOC")
        self.pi(el, u)
        etree.SubElement(el, "TOCLabel").text = u.text or ""
        # the schema requires one entry; an empty one says nothing the text does not
        entry = etree.SubElement(el, "TOCArticle", Num="omitted")
        etree.SubElement(entry, "ArticleTitle")
        etree.SubElement(entry, "ArticleCaption")

    def chapter(self, parent: Any, u: A.Unit) -> None:
        if u.status != "encoded" or u.text or u.label or u.proviso or u.range_end:
            raise self.fail(u, "a chapter (章) is written with its title and articles only")
        el = etree.SubElement(parent, "Chapter", Num=u.key or "")
        self.pi(el, u)
        etree.SubElement(el, "ChapterTitle").text = u.caption or ""
        if not u.children or any(c.kind != "article" for c in u.children):
            raise self.fail(u, "a chapter (章) holds articles")
        for c in u.children:
            self.article(el, c)

    # -- the document ---------------------------------------------------------------------

    def law(self) -> Any:
        doc = self.book.doc
        h = doc.header
        era, year, num = _law_number(h)
        root = etree.Element("Law", Era=era, Year=str(year), Num=str(num), LawType="Misc",
                             Lang="ja")
        etree.SubElement(root, "LawNum").text = h.number or ""
        body = etree.SubElement(root, "LawBody")
        etree.SubElement(body, "LawTitle").text = h.title
        units = list(doc.units)
        if units and _is_toc(units[0]):
            self.toc(body, units.pop(0))
        main = [u for u in units if u.kind in ("article", "chapter")]
        tail_start = len(main)
        if units[:tail_start] != main:
            bad = next(u for u in units[:tail_start] if u.kind not in ("article", "chapter"))
            raise self.fail(bad, "the schema puts 附則 and 別表 after the main provisions")
        if not main:
            raise self.fail(units[0] if units else A.Unit(kind="article"),
                            "the schema requires at least one article in MainProvision")
        mp = etree.SubElement(body, "MainProvision")
        if any(u.status == "omitted" for _, u in doc.iter_units()):
            mp.set("Extract", "true")  # 抄: an excerpt
        kinds = {u.kind for u in main}
        if kinds == {"chapter"}:
            for u in main:
                self.chapter(mp, u)
        elif kinds == {"article"}:
            for u in main:
                self.article(mp, u)
        else:
            raise self.fail(next(u for u in main if u.kind == "chapter"),
                            "MainProvision holds chapters or articles, not both")
        for u in units[tail_start:]:
            if u.kind == "suppl":
                self.suppl(body, u)
            elif u.kind == "appendix":
                self.appendix(body, u)
            else:
                raise self.fail(u, "after the main provisions only 附則 and 別表 may follow")
        return root


def _is_toc(u: A.Unit) -> bool:
    return (u.kind == "chapter" and u.key == "目次" and u.status == "omitted"
            and u.caption is None and not u.children)


def _law_number(h: A.Header) -> tuple[str, int, int]:
    """Era, Year and Num of `Law` from the 和暦 number, else from the effective date."""
    m = _NUMBER.search(normalize_width(h.number or ""))
    if m:
        return ERA_NAMES[m.group(1)], 1 if m.group(2) == "元" else int(m.group(2)), \
            max(int(m.group(3)), 1)
    if h.effective_from is not None:
        era = next(e for e in reversed(ERAS) if e.start <= h.effective_from)
        return ERA_NAMES[era.name], h.effective_from.year - era.start.year + 1, 1
    return "Reiwa", 1, 1


def _logic_of(u: A.Unit, *fields: str) -> bool:
    return any(getattr(u, f) for f in (fields or LOGIC_FIELDS))


def _dsl_lines(doc: A.Document) -> list[str]:
    """The canonical text of a scratch document, without its header line."""
    return format_document(doc).splitlines()[1:]


def _logic_lines(u: A.Unit) -> list[str]:
    """A unit's logic statements as DSL lines (unindented), in the canonical order."""
    carrier = A.Unit(kind="section", key="u", **{f: getattr(u, f) for f in LOGIC_FIELDS})
    lines = _dsl_lines(A.Document(header=A.Header(id="x", title="x"), units=[carrier]))
    body = [ln for ln in lines if ln.strip()]
    if len(body) <= 1:  # `section u {}`
        return []
    return [ln[2:] for ln in body[1:-1]]


def sidecar(book: Rulebook, xml_name: str | None = None) -> dict[str, Any]:
    """Everything the XML does not carry: declarations and the logic of each unit."""
    doc = book.doc
    h = doc.header
    scratch = A.Header(id=h.id, title="x")
    header_text = format_document(A.Document(header=h)).strip()
    decls = _dsl_lines(A.Document(header=scratch, externals=doc.externals, enums=doc.enums,
                                  outcomes=doc.outcomes, facts=doc.facts,
                                  assumptions=doc.assumptions, definitions=doc.definitions))
    corrections = _dsl_lines(A.Document(header=scratch, corrections=doc.corrections))
    units: dict[str, Any] = {}
    for pid in book.order:
        u = book.provisions[pid].unit
        logic = _logic_lines(u) if u.status == "encoded" else []
        if logic or u.comments:
            path = unit_path(*_parents_of(book, pid))
            units[path] = {"citation": book.provisions[pid].citation, "logic": logic,
                           **({"comments": u.comments} if u.comments else {})}
    return {
        "format": SIDECAR_FORMAT, "format_version": 1,
        "document": h.id, "title": h.title, "version": h.version,
        "effective": {"from": h.effective_from.isoformat() if h.effective_from else None,
                      "until": h.effective_until.isoformat() if h.effective_until else None},
        "source_digest": book.source_digest, "xml": xml_name,
        "header": header_text, "declarations": "\n".join(decls).strip(),
        "corrections": "\n".join(corrections).strip(),
        "comments": doc.comments, "trailing_comments": doc.trailing_comments,
        "units": units,
    }


def _parents_of(book: Rulebook, pid: str) -> tuple[tuple[A.Unit, ...], A.Unit]:
    chain: list[A.Unit] = []
    p = book.provisions[pid].parent
    while p is not None:
        chain.append(book.provisions[p].unit)
        p = book.provisions[p].parent
    return tuple(reversed(chain)), book.provisions[pid].unit


def export_egov(book: Rulebook) -> bytes:
    """The version `book` holds as an e-Gov 法令XML document (UTF-8 bytes)."""
    ex = _Exporter(book)
    root = ex.law()
    h = book.doc.header
    meta = {"document": h.id, "version": h.version,
            "effective_from": h.effective_from.isoformat() if h.effective_from else None,
            "effective_until": h.effective_until.isoformat() if h.effective_until else None,
            "exported_by": "yakkan", "logic": "sidecar JSON keyed by the id of each unit"}
    tree = etree.ElementTree(root)
    root.addprevious(etree.ProcessingInstruction(PI_TARGET, pi_data(meta)))
    out: bytes = etree.tostring(tree, xml_declaration=True, encoding="UTF-8", pretty_print=True)
    return out
