"""The citation mini-language: 「第14条の65第2項第7号」, 「前各号」, 「利用停止に関する条第1項各号」 …

`parse_citation` turns the text inside 「」 into a list of `CiteGroup`s (one per element of a
list 「A、B及びC」; a range 「A乃至B」 is one group with `range_to`). Each group is a chain of
`Step`s read left to right, the way a lawyer reads it: an anchor (absolute, relative or by
title), then narrowing steps (項, 号, 備考, 注, 表, …), then modifiers (各号, 本文/ただし書)
and an optional caption in parentheses that the resolver checks.

Also: `human_citation` gives a unit's citation in the lawyer's form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from yakkan.engine.core.lazyre import LazyPattern
from yakkan.engine.core.numerals import normalize_width, to_int

_NUM = r"[0-9]+|[一二三四五六七八九十百]+"


@dataclass
class Step:
    """One element of a citation chain. `kind` is one of:

    article / paragraph / item / remarks / note / table / section  (absolute, `key` set)
    prev_article / next_article / same_article / this_article
    prev_paragraph (n = how many; n=0 means 前各項) / next_paragraph / same_paragraph /
    this_paragraph / prev_item (n; 0 = 前各号) / same_item / each_item / each_paragraph /
    title (key = the words before 「に関する条」) / document (本規約) / appendix (key) /
    next_table / external (key = external name) / external_part (words within it) /
    subitem (key = ア, (ア): relative to the citing unit's nearest enclosing list) /
    named (a part named as printed — a 【section】 or row of a table, matched by key, label
    or caption) /
    sentence (key = main | proviso)
    """

    kind: str
    key: str | None = None
    n: int = 1


@dataclass
class CiteGroup:
    steps: list[Step] = field(default_factory=list)
    caption: str | None = None
    range_to: CiteGroup | None = None
    text: str = ""


class CitationSyntaxError(ValueError):
    pass


def _n(s: str) -> int:
    return to_int(s)


def _article_key(main: str, branches: str) -> str:
    parts = [str(_n(main))] + [str(_n(b)) for b in re.findall(_NUM, branches)]
    return "_".join(parts)


_TOKENS: list[tuple[str, LazyPattern]] = [
    ("article", LazyPattern(rf"第({_NUM})条((?:の(?:{_NUM}))*)")),
    ("paragraph", LazyPattern(rf"第({_NUM})項")),
    ("item", LazyPattern(rf"第({_NUM})号")),
    ("table", LazyPattern(rf"第({_NUM})表")),
    ("remarks", LazyPattern(rf"備考({_NUM})?")),
    ("note", LazyPattern(rf"[（(]?注({_NUM})[）)]?")),
    ("prev_paragraphs", LazyPattern(rf"前({_NUM}|各)項")),
    ("prev_items", LazyPattern(r"前各号")),
    ("fixed", LazyPattern(r"前条|次条|同条|本条|前項|次項|同項|本項|前号|同号|各号|各項|次表|本文|ただし書|本規約|本約款")),
    ("general", LazyPattern(r"通則")),
    ("section", LazyPattern(rf"第({_NUM})(?![0-9条項号表])")),
    ("caption", LazyPattern(r"[（(]([^）)]*)[）)]")),
    ("sep", LazyPattern(r"、|及び|並びに|又は|若しくは|乃至|から|～|〜|まで|の規定|に定める|に規定する")),
    ("space", LazyPattern(r"\s+")),
]

_FIXED = {
    "前条": Step("prev_article"), "次条": Step("next_article"), "同条": Step("same_article"),
    "本条": Step("this_article"), "前項": Step("prev_paragraph", n=1),
    "次項": Step("next_paragraph"), "同項": Step("same_paragraph"),
    "本項": Step("this_paragraph"), "前号": Step("prev_item", n=1),
    "同号": Step("same_item"), "各号": Step("each_item"), "各項": Step("each_paragraph"),
    "次表": Step("next_table"), "本文": Step("sentence", "main"),
    "ただし書": Step("sentence", "proviso"), "本規約": Step("document"),
    "本約款": Step("document"),
}


_NAMED_AFTER = ("appendix", "named", "table", "section", "article", "paragraph", "item",
                "note", "remarks", "subitem")


def parse_citation(raw: str, externals: dict[str, str], appendices: list[str]) -> list[CiteGroup]:
    """Parse the words of a citation. `externals` maps every name/alias/title of an
    external document to its declared name; `appendices` are the appendix keys and captions
    of the document (別表, 料金表, …), matched as prefixes."""
    s = normalize_width(raw).strip()
    groups: list[CiteGroup] = []
    cur = CiteGroup()
    pending_range = False
    i = 0
    ext_names = sorted(externals, key=len, reverse=True)
    app_names = sorted(appendices, key=len, reverse=True)
    start_of_group = 0
    while i < len(s):
        rest = s[i:]
        # by-title anchor: 「利用停止に関する条」「契約申込の承諾の条」
        m = re.match(r"(.+?)(?:に関する|の)条", rest)
        if m and not cur.steps and not re.search(r"第|前|同|本|次", m.group(1)[:1]):
            cur.steps.append(Step("title", m.group(1)))
            i += m.end()
            continue
        ext = next((e for e in ext_names if rest.startswith(normalize_width(e))), None)
        if ext is not None:
            # the parts of another document (「電気通信番号規則別表第6号」) are not resolved
            # here: the citation binds to the external document, the rest is kept as words
            tail = re.match(r"[^、及並又若乃～〜]*", rest[len(normalize_width(ext)):])
            cur.steps.append(Step("external", externals[ext]))
            if tail and tail.group(0):
                cur.steps.append(Step("external_part", tail.group(0)))
            i += len(normalize_width(ext)) + (len(tail.group(0)) if tail else 0)
            continue
        m = re.match(r"(\(?[ア-ン]\)?)(?=$|[(（]|の規定|[、及並又若]|に規定|に該当)", rest)
        if m and (m.group(1).startswith("(") == m.group(1).endswith(")")):
            cur.steps.append(Step("subitem", m.group(1)))
            i += m.end()
            continue
        app = next((a for a in app_names if rest.startswith(normalize_width(a))), None)
        if app is not None and (not cur.steps or cur.steps[-1].kind == "document"):
            cur.steps.append(Step("appendix", app))
            i += len(normalize_width(app))
            continue
        for kind, pat in _TOKENS:
            m = pat.match(s, i)
            if not m:
                continue
            tok = m.group(0)
            if kind == "article":
                cur.steps.append(Step("article", _article_key(m.group(1), m.group(2) or "")))
            elif kind == "paragraph":
                cur.steps.append(Step("paragraph", str(_n(m.group(1)))))
            elif kind == "item":
                cur.steps.append(Step("item", str(_n(m.group(1)))))
            elif kind == "table":
                cur.steps.append(Step("table", str(_n(m.group(1)))))
            elif kind == "remarks":
                cur.steps.append(Step("remarks"))
                if m.group(1):
                    cur.steps.append(Step("item", str(_n(m.group(1)))))
            elif kind == "note":
                cur.steps.append(Step("note", str(_n(m.group(1)))))
            elif kind == "prev_paragraphs":
                cur.steps.append(Step("prev_paragraph",
                                      n=0 if m.group(1) == "各" else _n(m.group(1))))
            elif kind == "prev_items":
                cur.steps.append(Step("prev_item", n=0))
            elif kind == "fixed":
                cur.steps.append(Step(_FIXED[tok].kind, _FIXED[tok].key, _FIXED[tok].n))
            elif kind == "section":
                cur.steps.append(Step("section", str(_n(m.group(1)))))
            elif kind == "general":
                cur.steps.append(Step("section", "通則"))
            elif kind == "caption":
                if cur.steps:
                    cur.caption = m.group(1)
            elif kind == "sep":
                if tok in ("乃至", "から", "～", "〜"):
                    cur.text = s[start_of_group:i]
                    groups.append(cur)
                    cur = CiteGroup()
                    pending_range = True
                    start_of_group = m.end()
                elif tok in ("、", "及び", "並びに", "又は", "若しくは"):
                    if cur.steps:
                        cur.text = s[start_of_group:i]
                        _push(groups, cur, pending_range)
                        pending_range = False
                    cur = CiteGroup()
                    start_of_group = m.end()
                # まで / の規定 / に定める: no meaning of their own
            i = m.end()
            break
        else:
            m = re.match(r"【([^】]+)】|([^、及並又若乃～〜（(【]+)", rest)
            if m and cur.steps and cur.steps[-1].kind in _NAMED_AFTER:
                # a table row or section named as printed: 「別表【IP電話(050)料金】月額基本料」
                cur.steps.append(Step("named", m.group(1) or m.group(2)))
                i += m.end()
                continue
            raise CitationSyntaxError(
                f"cannot read `{s[i:]}` in the citation 「{raw}」")
    if cur.steps:
        cur.text = s[start_of_group:]
        _push(groups, cur, pending_range)
    elif pending_range:
        raise CitationSyntaxError(f"the range in 「{raw}」 has no end")
    if not groups:
        raise CitationSyntaxError(f"the citation 「{raw}」 names nothing")
    return groups


def _push(groups: list[CiteGroup], cur: CiteGroup, as_range_end: bool) -> None:
    if as_range_end and groups:
        groups[-1].range_to = cur
    else:
        groups.append(cur)


def article_label(key: str) -> str:
    """>>> article_label("14_65_2")
    '第14条の65の2'
    """
    first, *rest = key.split("_")
    return f"第{first}条" + "".join(f"の{r}" for r in rest)


def key_tuple(key: str | None) -> tuple[int, ...]:
    """A sortable form of a unit key: "14_65_2" → (14, 65, 2); non-numeric → ()."""
    if key is None:
        return ()
    try:
        return tuple(int(p) for p in key.split("_"))
    except ValueError:
        return ()
