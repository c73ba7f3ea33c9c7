"""drafting: defects a careful reader finds in the text itself, derived — not annotated.

Each finding is a warning with a stable code, the unit's place and the words at fault; a
`slip` note in the clause file stays possible for what no rule can see, and the report tells
the two apart (derived: a diagnostic with its code; annotated: the encoder's `slip`).

* `draft.unbalanced-bracket` — 「（」 without its 「）」 (or 「 without 」, or 「（」 closed by a
  half-width 「)」) in one unit's text;
* `draft.no-final-period` — a sentence of a 項 that ends with 「ます」/「する」… but no 「。」;
* `draft.malformed-url` — an address that is no `https://` URL (「http;//…」, 「https:/…」);
* `draft.cites-deleted` — a citation whose every target is 削除 (「前項に規定するほか」 when
  前項 is 削除);
* `draft.numbering` — paragraphs or items numbered twice, skipped or out of order, and a
  printed number (`label`) of 項 (or of 号) whose digits mix full and half width within one
  article;
* `draft.table-arithmetic` — a row of a table whose printed figures break the relation the
  table declares (`arithmetic 総額 = 単価 * 時間 * 12 * 年`, each row's `figures`), with the
  figures: 「4.60円 × 2,000時間 × 12 × 1年 = 110,400円、総額 105,600円」.

`lint.table-figures` (an error of the encoding, not of the text): `figures` under no
`arithmetic`, a column of the relation a row gives no figure for, or an amount the row's
printed text does not show (the figures are the text's, never the encoder's own).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation

from yakkan.engine.core import ir as I
from yakkan.engine.core.diagnostics import Diagnostic
from yakkan.engine.core.labels import ARITH_LABELS, UNIT_LABELS
from yakkan.engine.core.numerals import normalize_width
from yakkan.engine.semantics.resolve import Provision, Rulebook
from yakkan.engine.syntax.ast import Arithmetic, Figures

PAIRS = {"（": "）", "(": ")", "「": "」", "『": "』", "【": "】", "［": "］", "[": "]"}
_CLOSERS = {v: k for k, v in PAIRS.items()}
_WIDTH = {"（": "(", "(": "（", "［": "[", "[": "［"}  # the same bracket in the other width
# an address written with something other than `://` after the scheme, or one slash
_URL = re.compile(r"h\s?t\s?t\s?p\s?s?\s?[:;：；]?\s?[/／]{1,2}[A-Za-z0-9.\-]+")
_GOOD_URL = re.compile(r"https?://[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+")
# the end of a Japanese sentence in the polite or plain form
_SENTENCE_END = re.compile(r"(ます|ません|します|です|する|とする|ある|ない|できる)$")
_FULL_DIGITS = re.compile(r"[０-９]")
_HALF_DIGITS = re.compile(r"[0-9]")


def drafting_findings(book: Rulebook) -> list[Diagnostic]:
    """Every finding of this module for one document version, in document order."""
    out: list[Diagnostic] = []
    for pid in book.order:
        prov = book.provisions[pid]
        if prov.unit.status != "encoded":
            continue
        out.extend(_brackets(prov))
        out.extend(_final_period(prov))
        out.extend(_urls(prov))
    out.extend(_cites_deleted(book))
    out.extend(_numbering(book))
    out.extend(_table_arithmetic(book))
    return out


def _texts(prov: Provision) -> Iterator[tuple[str, str]]:
    u = prov.unit
    for what, t in (("本文", u.text), ("ただし書", u.proviso)):
        if t:
            yield what, t


def _brackets(prov: Provision) -> list[Diagnostic]:
    """Brackets that do not pair up within one text (本文 and ただし書 each): one left
    open, one closed that was never opened, or a full-width 「（」 closed by a half-width
    「)」 (or the reverse). A label such as 「例）」 (a closer after 例 or 注 that opens no
    parenthesis) is the style of some documents, not a defect."""
    out = []
    for what, text in _texts(prov):
        stack: list[tuple[str, int]] = []
        bad: tuple[str, int, str] | None = None
        for i, c in enumerate(text):
            if c in PAIRS:
                stack.append((c, i))
            elif c in _CLOSERS:
                if stack and stack[-1][0] == _CLOSERS[c]:
                    stack.pop()
                elif stack and _WIDTH.get(stack[-1][0]) == _CLOSERS[c]:
                    o = stack.pop()[0]
                    bad = (c, i, f"「{o}」を「{c}」で閉じている（全角と半角の不一致）")
                    break
                elif text[i - 1:i] in ("例", "注") and not stack:
                    continue
                else:
                    bad = (c, i, f"「{c}」に対応する「{_CLOSERS[c]}」がない")
                    break
        if bad is None and stack:
            c, i = stack[0]
            bad = (c, i, f"「{c}」に対応する「{PAIRS[c]}」がない")
        if bad is not None:
            c, i, msg = bad
            where = text[max(0, i - 12):i + 13]
            out.append(Diagnostic(
                code="draft.unbalanced-bracket", severity="warning", span=prov.unit.span,
                message=f"{prov.citation}の{what}: {msg}（…{where}…）",
                hint="括弧の対応を原文で確かめ、原文どおりなら `slip` に記す（本文は書き換えない）"))
    return out


def _final_period(prov: Provision) -> list[Diagnostic]:
    """A 項 (or 附則) whose text is a sentence but has no closing 「。」."""
    u = prov.unit
    if u.kind not in ("paragraph", "suppl") or not u.text:
        return []
    text = u.text.rstrip()
    if text.endswith(("。", "：", ":")) or not _SENTENCE_END.search(text):
        return []
    return [Diagnostic(
        code="draft.no-final-period", severity="warning", span=u.span,
        message=f"{prov.citation}: 文末に句点「。」がない（「…{text[-12:]}」）",
        hint="原文どおりなら `slip` に記す（本文は書き換えない）")]


def _urls(prov: Provision) -> list[Diagnostic]:
    out = []
    for what, text in _texts(prov):
        for m in _URL.finditer(text):
            s = m.group(0)
            if _GOOD_URL.fullmatch(s):
                continue
            out.append(Diagnostic(
                code="draft.malformed-url", severity="warning", span=prov.unit.span,
                message=f"{prov.citation}の{what}: 「{s}」はURLとして正しくない"
                "（`https://` の形でない）",
                hint="原文どおりなら `slip` に記す；リンクとしては使えない"))
    return out


def _cites_deleted(book: Rulebook) -> list[Diagnostic]:
    out = []
    seen: set[tuple[str | None, str]] = set()
    for use in book.uses:
        c = use.citation
        targets = [t for t in c.targets if t in book.provisions]
        if not targets or use.statement in ("amends", "corrects"):
            continue
        if all(book.provisions[t].unit.status == "deleted" for t in targets):
            key = (use.provision, c.raw)
            if key in seen:
                continue
            seen.add(key)
            where = book.cite(use.provision) if use.provision else "文書"
            out.append(Diagnostic(
                code="draft.cites-deleted", severity="warning", span=c.span,
                message=f"{where}の「{c.raw}」が指す{book.cite(targets[0])}は「削除」"
                "であり、引用先に規定がない",
                hint="改正で引用先が削られたときは、引用する側の文言も改めるのが通例"))
    return out


def _numbering(book: Rulebook) -> list[Diagnostic]:
    """Siblings of one kind numbered 1, 2, 3 …: twice, skipped or out of order; printed
    numbers of one article in both full- and half-width digits."""
    out: list[Diagnostic] = []
    for pid in [None, *book.order]:
        children = book.provisions[pid].children if pid else \
            [p for p in book.order if book.provisions[p].parent is None]
        for kind in ("paragraph", "item"):
            sibs = [book.provisions[c] for c in children
                    if book.provisions[c].unit.kind == kind]
            out.extend(_sequence(book, pid, kind, sibs))
    for pid in book.order:
        prov = book.provisions[pid]
        if prov.unit.kind != "article":
            continue
        for kind in ("paragraph", "item"):
            labelled = [(book.provisions[c], book.provisions[c].unit.label or "")
                        for c in _descendants(book, pid)
                        if book.provisions[c].unit.kind == kind]
            full = [p for p, lb in labelled if _FULL_DIGITS.search(lb)]
            half = [p for p, lb in labelled if _HALF_DIGITS.search(lb)]
            if full and half:
                word = "項" if kind == "paragraph" else "号"
                out.append(Diagnostic(
                    code="draft.numbering", severity="warning", span=half[0].unit.span,
                    message=f"{prov.citation}: {word}の番号の数字に全角（{full[0].unit.label}、"
                    f"{full[0].citation}）と半角（{half[0].unit.label}、{half[0].citation}）が"
                    "混在している",
                    hint="原文どおりなら `slip` に記す"))
    return out


def _descendants(book: Rulebook, pid: str) -> Iterator[str]:
    for c in book.provisions[pid].children:
        yield c
        yield from _descendants(book, c)


def _sequence(book: Rulebook, parent: str | None, kind: str,
              sibs: list[Provision]) -> list[Diagnostic]:
    nums: list[tuple[Provision, int, int]] = []  # (unit, first, last) of a key or a range
    for p in sibs:
        first, last = _number(p.unit.key), _number(p.unit.range_end or p.unit.key)
        if first is None or last is None:
            return []  # keys that are no plain numbers (ア, (7), プラン4): not a sequence
        nums.append((p, first, last))
    out = []
    expected = 1
    word = "項" if kind == "paragraph" else "号"
    seen: set[int] = set()
    everything = {n for _, first, last in nums for n in range(first, last + 1)}
    for p, first, last in nums:
        msg: str | None = None
        if first in seen:
            msg = f"第{first}{word}が二度ある（{p.citation}）"
        elif first < expected:
            msg = f"第{first}{word}が第{expected - 1}{word}の後にある（{p.citation}）"
        elif first > expected:
            # a number that comes later (out of order) is reported there, not as missing
            missing = [n for n in range(expected, first) if n not in everything]
            if missing and expected > 1:
                msg = f"第{missing[0]}{word}が抜けている（第{expected - 1}{word}の次が第{first}{word}）"
            elif missing:
                msg = f"第1{word}がなく第{first}{word}から始まる"
        if msg is not None:
            where = book.cite(parent) if parent else "文書"
            out.append(Diagnostic(code="draft.numbering", severity="warning",
                                  span=p.unit.span, message=f"{where}: {msg}",
                                  hint="原文どおりなら `slip` に記す"))
        seen.update(range(first, last + 1))
        expected = max(expected, last + 1)
    return out


def _number(key: str | None) -> int | None:
    if key is None:
        return None
    return int(key) if key.isdecimal() and key.isascii() else None


# ---- table arithmetic ------------------------------------------------------------------



def _table_arithmetic(book: Rulebook) -> list[Diagnostic]:
    """Every row's `figures` checked against the `arithmetic` of the nearest unit above it
    (or of the row itself) that declares one."""
    out: list[Diagnostic] = []
    for pid in book.order:
        prov = book.provisions[pid]
        if not prov.unit.figures:
            continue
        relations = [a for q in _ancestry(book, pid) for a in book.provisions[q].unit.arithmetic]
        for fg in prov.unit.figures:
            if not relations:
                out.append(_figure_error(fg, f"{prov.citation}: `figures` の上に `arithmetic`"
                                         "（列の関係）を宣言した表がない",
                                         "表（または行の上の単位）に `arithmetic 総額 = 単価 * "
                                         "数量` を書く"))
                continue
            out.extend(_printed(book, pid, fg))
            for rel in relations:
                out.extend(_check_row(prov, rel, fg))
    return out


def _ancestry(book: Rulebook, pid: str) -> list[str]:
    """`pid` and the units above it, nearest first, up to the first that declares an
    `arithmetic` (a table inside a table answers for its own rows)."""
    q: str | None = pid
    while q is not None:
        if book.provisions[q].unit.arithmetic:
            return [q]
        q = book.provisions[q].parent
    return []


def _figure_error(fg: Figures, message: str, hint: str) -> Diagnostic:
    return Diagnostic(code="lint.table-figures", severity="error", span=fg.span,
                      message=message, hint=hint)


def _printed(book: Rulebook, pid: str, fg: Figures) -> list[Diagnostic]:
    """Each amount among the figures must be printed in the row (its label, text or the
    text of the units under it), as 105,600円 or 105600円."""
    texts: list[str] = []
    stack = [pid]
    while stack:
        u = book.provisions[stack.pop()]
        texts.extend(t for t in (u.unit.label, u.unit.caption, u.unit.text, u.unit.proviso) if t)
        stack.extend(u.children)
    printed = normalize_width("\n".join(texts)).replace(",", "").replace("，", "")
    out = []
    for f in fg.values:
        if f.value.type != "money":
            continue
        if not re.search(rf"(?<![0-9.]){re.escape(str(f.value.value))}円", printed):
            out.append(_figure_error(
                fg, f"{book.cite(pid)}: `{f.name} = {f.value.value}円` はこの行の本文に印刷"
                "されていない", "`figures` には行に印刷されている金額をそのまま書く"))
    return out


def _check_row(prov: Provision, rel: Arithmetic, fg: Figures) -> list[Diagnostic]:
    values = {f.name: f.value for f in fg.values}
    names = [rel.target, *dict.fromkeys(
        ".".join(x.path) for x in I.walk(rel.expr) if isinstance(x, I.Ref))]
    missing = [n for n in names if n not in values]
    # the row's citation names it (別表データ保管料「2000時間相当」); the label names the column
    row = f"{prov.citation} {fg.label}" if fg.label else prov.citation
    if missing:
        return [_figure_error(fg, f"{row}: 列「{'」「'.join(missing)}」の"
                              f"数値がない（`arithmetic {rel.target} = …` が使う）",
                              "`figures` にその列の数値を書き足す")]
    try:
        computed = _value(rel.expr, values)
    except (ZeroDivisionError, InvalidOperation):
        computed = None
    stated = values[rel.target]
    if computed is not None and computed == Decimal(stated.value):  # type: ignore[arg-type]
        return []
    shown = _shown(rel.expr, values, 0)
    result = "計算できない（0で割る）" if computed is None else \
        _figure_text(computed, stated.type, stated.unit)
    return [Diagnostic(
        code="draft.table-arithmetic", severity="warning", span=fg.span,
        message=f"{row}: {shown} = {result}、{rel.target} {_lit(stated)}",
        hint=f"表の宣言 `arithmetic {rel.target} = …` と印刷された数値が合わない。原文どおり"
        "なら `slip` に記す（数値は書き換えない）")]


def _value(e: I.Expr, values: dict[str, I.Lit]) -> Decimal:
    if isinstance(e, I.Lit):
        return Decimal(e.value)  # type: ignore[arg-type]
    if isinstance(e, I.Ref):
        return Decimal(values[".".join(e.path)].value)  # type: ignore[arg-type]
    if isinstance(e, I.Neg):
        return -_value(e.operand, values)
    assert isinstance(e, I.Arith)  # the lowering admits nothing else (lower.bad-arithmetic)
    a, b = _value(e.left, values), _value(e.right, values)
    return {"+": a + b, "-": a - b, "*": a * b}[e.op] if e.op != "/" else a / b


def _shown(e: I.Expr, values: dict[str, I.Lit], ctx: int) -> str:
    """The relation with each column replaced by the row's figure: 4.60円 × 2,000時間 × 12."""
    if isinstance(e, I.Lit):
        return _lit(e)
    if isinstance(e, I.Ref):
        return _lit(values[".".join(e.path)])
    if isinstance(e, I.Neg):
        return "－" + _shown(e.operand, values, 3)
    assert isinstance(e, I.Arith)
    prec = 1 if e.op in "+-" else 2
    s = f"{_shown(e.left, values, prec)} {ARITH_LABELS[e.op]} {_shown(e.right, values, prec + 1)}"
    return f"（{s}）" if prec < ctx else s


def _lit(v: I.Lit) -> str:
    return _figure_text(Decimal(v.value), v.type, v.unit)  # type: ignore[arg-type]


def _figure_text(d: Decimal, kind: str, unit: str | None) -> str:
    """4.60円, 110,400円, 2,000時間, 12 — grouped by thousands, decimals as printed."""
    if d == d.to_integral_value():
        d = d.quantize(Decimal(1))
    s = f"{d:,}"
    if kind == "money":
        return s + "円"
    if kind == "duration":
        return s + UNIT_LABELS[unit or "day"]
    return s
