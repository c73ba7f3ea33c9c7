"""e-Gov 法令標準XML (v3) → a skeleton AST: every unit's structure and verbatim text.

`yakkan import FILE.xml -o clauses/<doc>/<version>.yk` reads a `Law` document — one that
`yakkan export` wrote, or any law or 約款 in that schema — and builds the units the way the
grammar models them; `format_document` prints them. The logic is the encoder's job: the
skeleton has none, unless the sidecar JSON that `yakkan export --sidecar` wrote is given,
which puts the declarations and every unit's logic back (keyed by the same unit paths).

Element → unit (README, "e-Gov XML", has the whole table):

* Article [article] (Num "14_65_2", a range "1:4"; ArticleCaption （…） → caption; an
  ArticleTitle other than 第N条 → label), Paragraph [paragraph] (ParagraphNum → label),
  Item [item], Subitem1…10 [subitem] (…Title → label), Remarks [remarks] (RemarksLabel),
  TableRow [row] (first cell → key or label, the other cells → text, joined by a tab),
  SupplProvision [suppl] (AmendLawNum → caption), AppdxTable [appendix], TOC [chapter 目次
  omitted], Part/Chapter/Section/Subsection/Division [chapter].
* Sentence Function="proviso" → proviso, the other sentences → text; an …Sentence made of
  Columns: the first column is the caption, the rest the text.
* Delete="true" (or a lone 「削除」) → deleted; Hide="true" → omitted (（略）, not encoded).
* `<?yakkan {...}?>` processing instructions (what `yakkan export` writes; the schema
  validation ignores them) give the unit's kind, key and status where e-Gov has no element
  for them (a 料金表's 節 or 注, a row's key, an omitted 別表).

Parsing is safe: no DTD is loaded, no entity resolved, nothing fetched; a document with a
DOCTYPE is refused. Problems are diagnostics with file:line:col (exit 2), never a traceback.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from yakkan.engine.core.diagnostics import Diagnostic, YakkanError
from yakkan.engine.core.ir import Span
from yakkan.engine.core.kinds import one_of
from yakkan.engine.core.numerals import ERAS, article_label
from yakkan.engine.syntax import ast as A

PI_TARGET = "yakkan"
SIDECAR_FORMAT = "yakkan-egov-sidecar"
ERA_NAMES = {"明治": "Meiji", "大正": "Taisho", "昭和": "Showa", "平成": "Heisei",
             "令和": "Reiwa"}
_KEY = re.compile(r"[0-9]+(_[0-9]+)*|\([^\W\d_]\)|\([0-9]+\)|[^\W\d]\w*")
_DOC_ID = re.compile(r"[A-Za-z][A-Za-z0-9_-]*")
SUBITEM_TAGS = tuple(f"Subitem{n}" for n in range(1, 11))
ITEM_TAGS = ("Item", *SUBITEM_TAGS)
DIVISION_TAGS = ("Part", "Chapter", "Section", "Subsection", "Division")
# elements that only group units: their children are read as if they stood in the parent
_TRANSPARENT = {"MainProvision", "TableStruct", "Table"}
# elements read by the unit that holds them
_OWNED = {"LawNum", "LawTitle", "ArticleTitle", "ArticleCaption", "ParagraphCaption",
          "ParagraphNum", "ParagraphSentence", "ItemTitle", "ItemSentence",
          "SupplProvisionLabel", "AppdxTableTitle", "RemarksLabel", "Sentence", "Column",
          "TOCLabel", "TableColumn", "TableHeaderRow", "TableStructTitle",
          "EnactStatement", "RelatedArticleNum",
          *(f"{t}Title" for t in SUBITEM_TAGS), *(f"{t}Sentence" for t in SUBITEM_TAGS),
          *(f"{t}Title" for t in DIVISION_TAGS)}
_TOC_ENTRIES = {"TOCPart", "TOCChapter", "TOCSection", "TOCArticle", "TOCSupplProvision",
                "TOCAppdxTableLabel", "TOCPreambleLabel"}


def article_title(key: str | None, range_end: str | None = None, *, kanji: bool = False
                  ) -> str:
    """The ArticleTitle yakkan writes for an article key: 第14条の65の2, 第1条～第4条."""
    if key is None:
        return ""
    try:
        title = article_label(key, kanji=kanji)
        return title if range_end is None else f"{title}～{article_label(range_end)}"
    except ValueError:
        return key if range_end is None else f"{key}～{range_end}"


def pi_data(data: dict[str, Any]) -> str:
    """The text of a `<?yakkan …?>` instruction: JSON, with `>` escaped so `?>` cannot occur."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).replace(">", "\\u003e")


def is_key(s: str) -> bool:
    return bool(_KEY.fullmatch(s))


# ---- reading the file ------------------------------------------------------------------


def _span(file: str, line: int | None, col: int | None = None) -> Span:
    ln, c = max(line or 1, 1), max(col or 1, 1)
    return Span(file=file, line=ln, column=c, end_line=ln, end_column=c + 1)


def parse_xml(data: bytes, file: str) -> etree._Element:
    """The root element, parsed without DTDs, entities or network; errors as YakkanError."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False,
                             dtd_validation=False, huge_tree=False, remove_pis=False)
    text = data.decode("utf-8", errors="replace")
    sources = {file: text}
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        line, col = e.position if e.position else (e.lineno, 1)
        msg = str(e.msg or e).split(f" ({file}", 1)[0]
        raise YakkanError([Diagnostic(
            code="import.malformed-xml", span=_span(file, line, col),
            message=f"not well-formed XML: {msg}",
            hint="an e-Gov 法令XML file is UTF-8 XML whose root element is <Law>")],
            sources=sources) from None
    except ValueError as e:  # e.g. an encoding lxml does not know
        raise YakkanError([Diagnostic(code="import.malformed-xml", span=_span(file, 1),
                                      message=f"cannot read the XML: {e}")],
                          sources=sources) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise YakkanError([Diagnostic(
            code="import.dtd-forbidden", span=_span(file, 1),
            message="the file has a DOCTYPE; DTDs and entities are not read",
            hint="e-Gov 法令XML has no DOCTYPE; remove it (the schema is XSD)")],
            sources=sources)
    if not isinstance(root.tag, str) or root.tag != "Law":
        raise YakkanError([Diagnostic(
            code="import.not-egov", span=_span(file, root.sourceline),
            message=f"the root element is <{root.tag}>, not <Law>: not an e-Gov 法令XML "
            "document",
            hint="the file must follow 法令標準XMLスキーマ v3 (XMLSchemaForJapaneseLaw_v3.xsd)")],
            sources=sources)
    body = root.find("LawBody")
    if body is None:
        raise YakkanError([Diagnostic(
            code="import.not-egov", span=_span(file, root.sourceline),
            message="<Law> has no <LawBody>", hint="see XMLSchemaForJapaneseLaw_v3.xsd")],
            sources=sources)
    return root


def _pi(el: Any) -> dict[str, Any]:
    """The data of the `<?yakkan …?>` instruction heading `el`, or {}."""
    for c in el:
        if isinstance(c, etree._ProcessingInstruction) and c.target == PI_TARGET:
            try:
                data = json.loads(c.text or "{}")
            except json.JSONDecodeError:
                return {}
            return data if isinstance(data, dict) else {}
        if isinstance(c.tag, str):
            return {}
    return {}


def _doc_pi(root: etree._Element) -> dict[str, Any]:
    p = root.getprevious()
    while p is not None:
        if isinstance(p, etree._ProcessingInstruction) and p.target == PI_TARGET:
            try:
                data = json.loads(p.text or "{}")
            except json.JSONDecodeError:
                return {}
            return data if isinstance(data, dict) else {}
        p = p.getprevious()
    return {}


def _text(el: Any) -> str:
    """The characters of an element as printed: ruby readings (Rt) left out."""
    out = [el.text or ""]
    for c in el:
        if isinstance(c.tag, str) and c.tag != "Rt":
            out.append(_text(c))
        out.append(c.tail or "")
    return "".join(out)


def _elements(el: Any) -> list[Any]:
    return [c for c in el if isinstance(c.tag, str)]


def _child(el: Any, tag: str) -> Any:
    return next((c for c in el if c.tag == tag), None)


def _opt(s: str | None) -> str | None:
    return s if s else None


def _sentences(holder: Any) -> tuple[str | None, str | None, str | None]:
    """(caption, text, proviso) of a …Sentence element (Sentences, or Columns)."""
    if holder is None:
        return None, None, None
    cols = [c for c in holder if c.tag == "Column"]
    caption = None
    sentences: list[Any]
    if cols:
        caption = _opt("".join(_text(s) for s in cols[0] if s.tag == "Sentence"))
        sentences = [s for c in cols[1:] for s in c if s.tag == "Sentence"]
    else:
        sentences = [s for s in holder if s.tag == "Sentence"]
    main = "".join(_text(s) for s in sentences if s.get("Function") != "proviso")
    proviso = "".join(_text(s) for s in sentences if s.get("Function") == "proviso")
    return caption, _opt(main), _opt(proviso)


def _all_sentences(el: Any) -> str | None:
    return _opt("".join(_text(s) for s in el.iter("Sentence")))


def _norm_key(s: str | None) -> str | None:
    if s is None or s == "":
        return None
    return unicodedata.normalize("NFKC", s).strip()


@dataclass
class _Reader:
    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def warn(self, el: Any, code: str, message: str, hint: str | None = None) -> None:
        self.diagnostics.append(Diagnostic(code=code, span=_span(self.file, el.sourceline),
                                           message=message, hint=hint, severity="warning"))

    # -- identity: kind, key, range, status --------------------------------------------

    def _identity(self, el: Any, kind: str, key: str | None, index: int
                  ) -> tuple[A.UnitKind, str | None, str | None, str | None]:
        """(kind, key, range_end, status from the instruction or None)."""
        data = _pi(el)
        pid = data.get("id")
        if isinstance(pid, str) and pid:
            seg = pid.rsplit("/", 1)[-1]
            k, _, rest = seg.partition(":")
            start, _, end = rest.partition("..")
            status = data.get("status")
            return (one_of(k, A.UNIT_KINDS), start or None, end or None,
                    status if isinstance(status, str) else None)
        rng: str | None = None
        if key is not None and ":" in key:
            key, _, rng = key.partition(":")
            rng = _norm_key(rng)
            key = _norm_key(key)
        if (key is not None and not is_key(key)) or (rng is not None and not is_key(rng)):
            self.warn(el, "import.key", f"<{el.tag} Num=\"{el.get('Num')}\"> is not a unit key "
                      f"yakkan can write; numbered {index} by its place",
                      "keys are numbers with 枝番 (14_65_2), (ア), or names")
            key, rng = str(index), None
        return one_of(kind, A.UNIT_KINDS), key, rng, None

    @staticmethod
    def _status(el: Any, pi_status: str | None, text: str | None, has_children: bool
                ) -> A.UnitStatus:
        if pi_status in A.UNIT_STATUSES:
            return one_of(pi_status, A.UNIT_STATUSES)
        if el.get("Delete") == "true":
            return "deleted"
        if el.get("Hide") == "true":
            return "omitted"
        if pi_status is None and text == "削除" and not has_children:
            return "deleted"
        return "encoded"

    def _unit(self, el: Any, kind: str, key: str | None, index: int, *, label: str | None,
              caption: str | None, text: str | None, proviso: str | None,
              children: list[A.Unit]) -> A.Unit:
        kind, key, rng, pi_status = self._identity(el, kind, key, index)
        status = self._status(el, pi_status, text, bool(children))
        if status != "encoded":
            if text is None:
                text = "".join(x for x in (_all_sentences(el), proviso) if x) or (
                    "削除" if status == "deleted" else None)
            else:
                text = text + (proviso or "")
            if status == "deleted" and key is None:
                key = str(index)
            return A.Unit(kind=kind, key=key, range_end=rng, status=status,
                          caption=caption if rng is None else None, text=text,
                          span=_span(self.file, el.sourceline))
        if rng is not None:
            self.warn(el, "import.range", f"<{el.tag} Num=\"{el.get('Num')}\"> is a range but "
                      "not deleted or hidden; read as its first number")
            rng = None
        return A.Unit(kind=kind, key=key, caption=caption, text=text,
                      proviso=proviso, label=label, children=children,
                      span=_span(self.file, el.sourceline))

    # -- containers --------------------------------------------------------------------

    def units(self, parent: Any, *, grouped: bool = False) -> \
            tuple[list[A.Unit], tuple[str | None, str | None]]:
        """The units among `parent`'s children, and text a `part: text` holder gave it.
        `grouped`: `parent` only groups units of its own parent, which checks their keys."""
        out: list[A.Unit] = []
        own: tuple[str | None, str | None] = (None, None)
        counts: dict[str, int] = {}
        for c in _elements(parent):
            tag = c.tag
            if _pi(c).get("part") == "text":
                _, t, p = _sentences(_child(c, f"{tag}Sentence"))
                own = (t, p)
                continue
            if tag in _TRANSPARENT:
                sub, _ = self.units(c, grouped=True)
                out.extend(sub)
                continue
            if tag in _OWNED or tag in ("LawBody",):
                continue
            group = "item" if tag in ITEM_TAGS else tag
            counts[group] = counts.get(group, 0) + 1
            u = self.element(c, counts[group])
            if u is not None:
                out.extend(self._expand(c, u))
        seen: dict[tuple[str, str | None, str | None], A.Unit] = {}
        for u in [] if grouped else out:
            k = (u.kind, u.key, u.range_end)
            if u.key is not None and k in seen:
                self.diagnostics.append(Diagnostic(
                    code="import.duplicate-key", severity="warning", span=u.span,
                    message=f"two {u.kind}s keyed `{u.key}` under one parent; give one its "
                    "own key in the clause file"))
            seen[k] = u
        return out, own

    def _expand(self, el: Any, u: A.Unit) -> list[A.Unit]:
        """A deleted range (第3条から第5条まで 削除) as one deleted unit per number: the
        grammar has ranges only for omitted units."""
        if u.status != "deleted" or u.range_end is None:
            return [u]
        a, b = u.key or "", u.range_end
        pa, _, na = a.rpartition("_")
        pb, _, nb = b.rpartition("_")
        if pa == pb and na.isdigit() and nb.isdigit() and int(na) <= int(nb) \
                and int(nb) - int(na) < 1000:
            pre = f"{pa}_" if pa else ""
            return [u.model_copy(update={"key": f"{pre}{n}", "range_end": None})
                    for n in range(int(na), int(nb) + 1)]
        self.warn(el, "import.range", f"the deleted range {a}:{b} cannot be split into "
                  "numbers; read as omitted")
        return [u.model_copy(update={"status": "omitted"})]

    def element(self, el: Any, index: int) -> A.Unit | None:
        tag = el.tag
        if tag == "Article":
            return self.article(el, index)
        if tag == "Paragraph":
            return self.paragraph(el, index)
        if tag in ITEM_TAGS:
            return self.item(el, index)
        if tag == "TableRow":
            return self.row(el, index)
        if tag == "Remarks":
            return self.remarks(el, index)
        if tag == "SupplProvision":
            return self.suppl(el, index)
        if tag == "AppdxTable":
            return self.appendix(el, index)
        if tag == "TOC":
            return self.toc(el, index)
        if tag in DIVISION_TAGS:
            return self.division(el, index)
        self.warn(el, "import.unsupported-element",
                  f"<{tag}> is not a unit yakkan models; its text is not imported",
                  "encode it by hand if the clause file needs it")
        return None

    def article(self, el: Any, index: int) -> A.Unit:
        title = _text(_child(el, "ArticleTitle")) if _child(el, "ArticleTitle") is not None \
            else ""
        cap_el = _child(el, "ArticleCaption")
        caption = _caption(_text(cap_el)) if cap_el is not None else None
        children, (text, proviso) = self.units(el)
        u = self._unit(el, "article", _norm_key(el.get("Num")), index, label=None,
                       caption=caption, text=text, proviso=proviso, children=children)
        if u.status == "encoded" and title and title not in (
                article_title(u.key, u.range_end), article_title(u.key, kanji=True)):
            u.label = title
        return u

    def paragraph(self, el: Any, index: int) -> A.Unit:
        cap_el = _child(el, "ParagraphCaption")
        num_el = _child(el, "ParagraphNum")
        _, text, proviso = _sentences(_child(el, "ParagraphSentence"))
        children, _ = self.units(el)
        return self._unit(el, "paragraph", _norm_key(el.get("Num")), index,
                          label=_opt(_text(num_el)) if num_el is not None else None,
                          caption=_caption(_text(cap_el)) if cap_el is not None else None,
                          text=text, proviso=proviso, children=children)

    def item(self, el: Any, index: int) -> A.Unit:
        tag = el.tag
        title = _child(el, f"{tag}Title")
        caption, text, proviso = _sentences(_child(el, f"{tag}Sentence"))
        children, _ = self.units(el)
        u = self._unit(el, "item" if tag == "Item" else "subitem",
                       _norm_key(el.get("Num")) or str(index),
                       index, label=_opt(_text(title)) if title is not None else None,
                       caption=caption, text=text, proviso=proviso, children=children)
        label = _pi(el).get("label")
        if u.kind == "row" and u.label == u.key and not isinstance(label, str):
            u.label = None  # a row's title is its key (its first cell), not a label
        return u

    def row(self, el: Any, index: int) -> A.Unit:
        cols = [c for c in el if c.tag == "TableColumn"]
        cells = ["".join(_text(s) for s in c.iter("Sentence")) for c in cols]
        heading = cells[0] if cells else ""
        text = "\t".join(cells[1:]) if len(cells) > 1 else None
        data = _pi(el)
        key: str | None
        if data.get("id"):
            key = None  # from the instruction
        else:
            norm = _norm_key(heading)
            key = norm if norm and is_key(norm) else str(index)
        u = self._unit(el, "row", key, index, label=None, caption=None, text=text,
                       proviso=None, children=[])
        if u.status == "encoded" and heading and heading != u.key:
            u.label = heading
        return u

    def remarks(self, el: Any, index: int) -> A.Unit:
        label_el = _child(el, "RemarksLabel")
        children, _ = self.units(el)
        text = _opt("".join(_text(s) for s in el if s.tag == "Sentence"))
        u = self._unit(el, "remarks", None, index,
                       label=_opt(_text(label_el)) if label_el is not None else None,
                       caption=None, text=text, proviso=None, children=children)
        return u

    def suppl(self, el: Any, index: int) -> A.Unit:
        label_el = _child(el, "SupplProvisionLabel")
        children, (text, proviso) = self.units(el)
        return self._unit(el, "suppl", str(index), index,
                          label=_opt(_text(label_el)) if label_el is not None else None,
                          caption=_opt(el.get("AmendLawNum")), text=text, proviso=proviso,
                          children=children)

    def appendix(self, el: Any, index: int) -> A.Unit:
        title_el = _child(el, "AppdxTableTitle")
        title = _opt(_text(title_el)) if title_el is not None else None
        children, (text, proviso) = self.units(el)
        data = _pi(el)
        label = data.get("label") if isinstance(data.get("label"), str) else None
        caption = title
        key: str | None = _norm_key(title) if title and is_key(_norm_key(title) or "") \
            else (el.get("Num") or str(index))
        if label is not None and title is not None:
            caption = _opt(title[len(label) + 1:]) if title.startswith(label + "　") else title
        elif data.get("id") and data.get("label_only"):
            label, caption = title, None
        elif not data.get("id") and key == title:
            caption = None
        u = self._unit(el, "appendix", key, index, label=label, caption=caption, text=text,
                       proviso=proviso, children=children)
        return u

    def toc(self, el: Any, index: int) -> A.Unit:
        label_el = _child(el, "TOCLabel")
        text = _opt(_text(label_el)) if label_el is not None else None
        kind, key, _, _ = self._identity(el, "chapter", "目次", index)
        return A.Unit(kind=kind, key=key, status="omitted",
                      text=text or "目次", span=_span(self.file, el.sourceline))

    def division(self, el: Any, index: int) -> A.Unit:
        title = _child(el, f"{el.tag}Title")
        children, _ = self.units(el)
        return self._unit(el, "chapter", _norm_key(el.get("Num")), index, label=None,
                          caption=_opt(_text(title)) if title is not None else None,
                          text=None, proviso=None, children=children)


def _caption(s: str) -> str | None:
    """ArticleCaption （見出し） → 見出し."""
    s = s.strip()
    if len(s) >= 2 and s[0] in "（(" and s[-1] in "）)":
        s = s[1:-1]
    return _opt(s)


def _date(v: Any) -> dt.date | None:
    if not isinstance(v, str):
        return None
    try:
        return dt.date.fromisoformat(v)
    except ValueError:
        return None


def import_law(data: bytes, file: str, *, doc_id: str, version: str | None
               ) -> tuple[A.Document, list[Diagnostic]]:
    """An e-Gov `Law` document → a skeleton Document, and the warnings met on the way."""
    if not _DOC_ID.fullmatch(doc_id):
        raise YakkanError([Diagnostic(
            code="import.document-id", message=f"`{doc_id}` is not a document id",
            hint="write the clause file as clauses/<doc>/<version>.yk, <doc> made of "
            "letters, digits, `-` and `_`")])
    root = parse_xml(data, file)
    reader = _Reader(file)
    body = root.find("LawBody")
    assert body is not None
    title_el = body.find("LawTitle")
    title = _text(title_el).strip() if title_el is not None else ""
    number = _opt(_text(root.find("LawNum")).strip()) if root.find("LawNum") is not None \
        else None
    if not title:
        reader.warn(body, "import.no-title", "<LawBody> has no <LawTitle>; the title is left "
                    "empty", "write the document's title in the header")
    meta = _doc_pi(root)
    header = A.Header(id=doc_id, title=title, number=number,
                      version=version or (meta.get("version") if isinstance(
                          meta.get("version"), str) else None),
                      effective_from=_date(meta.get("effective_from")),
                      effective_until=_date(meta.get("effective_until")))
    if header.effective_from is None:
        header.memos.append("NEEDS: 効力発生日（effective）を確かめて記入すること（e-Gov XML "
                            "から読み取れない）。")
    units, _ = reader.units(body)
    doc = A.Document(header=header, units=units)
    return doc, reader.diagnostics


# ---- the sidecar: declarations and each unit's logic, back in place -------------------------


def apply_sidecar(doc: A.Document, sidecar: dict[str, Any], file: str) -> list[Diagnostic]:
    """Put back what `yakkan export --sidecar` carried: header metas, declarations and the
    logic of each unit (keyed by its unit path). Units the sidecar names but the XML lacks
    are reported."""
    from yakkan.engine.syntax.parse import parse_document

    if sidecar.get("format") != SIDECAR_FORMAT:
        raise YakkanError([Diagnostic(code="import.sidecar", message=f"`{file}` is not a "
                                      f"{SIDECAR_FORMAT} file (no \"format\" field)")])
    units: dict[str, dict[str, Any]] = sidecar.get("units") or {}
    by_path = dict(_paths(doc))
    names = {pid: f"u{i}" for i, pid in enumerate(units)}
    parts = [str(sidecar.get("header") or f'document {doc.header.id} "x" {{}}'),
             str(sidecar.get("declarations") or "")]
    for pid, entry in units.items():
        logic = "\n".join("  " + line for line in entry.get("logic", []))
        parts.append(f"section {names[pid]} {{\n{logic}\n}}" if logic
                     else f"section {names[pid]} {{}}")
    parts.append(str(sidecar.get("corrections") or ""))
    text = "\n\n".join(parts) + "\n"
    carrier, diags = parse_document(text, file)
    if carrier is None or any(d.severity == "error" for d in diags):
        raise YakkanError([Diagnostic(code="import.sidecar", message=f"the logic in `{file}` "
                                      "does not parse: " + "; ".join(d.message for d in diags))])
    h = carrier.header
    doc.header = doc.header.model_copy(update={
        "issuer": h.issuer, "seed": h.seed, "seed_column": h.seed_column,
        "language": h.language, "memos": h.memos,
        "effective_from": doc.header.effective_from or h.effective_from,
        "effective_until": doc.header.effective_until or h.effective_until,
        "number": doc.header.number or h.number})
    doc.comments = list(sidecar.get("comments") or [])
    doc.trailing_comments = list(sidecar.get("trailing_comments") or [])
    doc.externals, doc.enums, doc.outcomes = carrier.externals, carrier.enums, carrier.outcomes
    doc.facts, doc.definitions = carrier.facts, carrier.definitions
    doc.assumptions = carrier.assumptions
    doc.corrections = carrier.corrections
    out: list[Diagnostic] = []
    logic_units = {u.key: u for u in carrier.units}
    for pid, entry in units.items():
        target = by_path.get(pid)
        if target is None:
            out.append(Diagnostic(code="import.sidecar-unit", severity="warning",
                                  message=f"the sidecar has logic for `{pid}`, which the XML "
                                  "does not have; it is not imported"))
            continue
        src = logic_units[names[pid]]
        for f in ("aliases", "unit_kind", "condition", "rules", "charges", "definitions",
                  "periods", "refs", "readings", "precedences", "corrections", "memos",
                  "slips", "arithmetic", "figures", "covers"):
            setattr(target, f, getattr(src, f))
        target.comments = list(entry.get("comments") or [])
    return out


def unit_path(parents: tuple[A.Unit, ...], u: A.Unit) -> str:
    """The unit path yakkan uses as a provision id: `article:14_65/paragraph:2/item:6`."""
    def part(x: A.Unit) -> str:
        key = x.key if x.range_end is None else f"{x.key}..{x.range_end}"
        return f"{x.kind}:{key}" if key is not None else x.kind
    return "/".join(part(x) for x in (*parents, u))


def _paths(doc: A.Document) -> list[tuple[str, A.Unit]]:
    return [(unit_path(parents, u), u) for parents, u in doc.iter_units()]


__all__ = ["ERAS", "ERA_NAMES", "PI_TARGET", "SIDECAR_FORMAT", "apply_sidecar",
           "article_title", "import_law", "is_key", "parse_xml", "pi_data", "unit_path"]
