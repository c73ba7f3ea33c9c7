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
  article.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from yakkan.engine.core.diagnostics import Diagnostic
from yakkan.engine.semantics.resolve import Provision, Rulebook

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
