"""textnorm: text values compared as the documents compare them — names (名義) and typed
identifiers (D-U-N-S® Number).

Part of the language's standard library (`grammar/README.md`, "Text values"):

* `name_key(text)` — the form in which two names (名義) are compared by `same_name(a, b)`:
  1. width and compatibility forms: the Unicode NFKC form of the full-width and half-width
     characters, the spaces, the parenthesised and circled ideographs and ㍿ (`_width_table`;
     the same table as `jaconv.h2z`/`z2h` give for these), so ＡＢＣ is ABC,
     ｶﾌﾞｼｷｶﾞｲｼｬ is カブシキガイシャ and ㈱ is (株); other characters are kept as written;
  2. whitespace (ASCII, 全角スペース, line breaks) removed;
  3. the 法人格 written as an abbreviation replaced by its full form, where it stands
     (`CORPORATE_FORMS`): (株)甲 is 株式会社甲, 甲(株) is 甲株式会社 — 前株 and 後株 stay
     different names, as they are different names in the register.
  Nothing else is changed: no case folding, no kana/kanji readings, no removal of
  punctuation; two names that differ otherwise are different names.
* typed identifiers (`IDENTIFIERS`): a fact of type `duns` holds a D-U-N-S® Number — nine
  digits, hyphens allowed between them (full-width digits and dash variants are read as
  such). A case is validated against the pattern (a malformed number is a located error,
  never a silent mismatch) and the value is kept in the canonical form `12-345-6789`, so two
  numbers are equal exactly when their digits are.

>>> name_key("㈱ 甲") == name_key("株式会社甲")
True
>>> name_key("甲(株)") == name_key("株式会社甲")
False
>>> canonical_id("duns", "１２３４５６７８９")
'12-345-6789'
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# 法人格: the abbreviations in use (after NFKC, ㈱ and （株） are both "(株)"), each with the
# full form it stands for. Longest first where one is a prefix of another.
CORPORATE_FORMS: tuple[tuple[str, str], ...] = (
    ("(株)", "株式会社"),
    ("(有)", "有限会社"),
    ("(同)", "合同会社"),
    ("(名)", "合名会社"),
    ("(資)", "合資会社"),
    ("(一社)", "一般社団法人"),
    ("(一財)", "一般財団法人"),
    ("(公社)", "公益社団法人"),
    ("(公財)", "公益財団法人"),
    ("(特非)", "特定非営利活動法人"),
    ("(医)", "医療法人"),
    ("(学)", "学校法人"),
    ("(福)", "社会福祉法人"),
    ("(宗)", "宗教法人"),
    ("(独)", "独立行政法人"),
)

def _width_table() -> tuple[tuple[tuple[str, str], ...], str, str]:
    """The width and compatibility characters of Japanese names, with their NFKC forms:
    (pairs and characters that become several characters, replaced first; characters that
    become one, translated). Full-width and half-width forms (U+FF01–U+FFEF, with the
    half-width kana and their voiced marks composed: ｶﾞ → ガ), the spaces (U+3000 …),
    parenthesised and circled ideographs (㈱ ㈲ ㊑ …) and the squared 株式会社 ㍿. Characters
    outside these are kept as written. One table for every backend (SQL applies the same)."""
    multi: dict[str, str] = {}
    one_from, one_to = [], []
    cps = [*range(0xFF01, 0xFFEF), *range(0x3220, 0x3248), *range(0x3280, 0x32B1),
           0x337F, 0x3000, 0x00A0, *range(0x2000, 0x200B), 0x202F, 0x205F]
    for cp in cps:
        c = chr(cp)
        n = unicodedata.normalize("NFKC", c)
        if n == c:
            continue
        if len(n) == 1:
            one_from.append(c)
            one_to.append(n)
        else:
            multi[c] = n
    for base in range(0xFF66, 0xFF9E):  # half-width kana with a (semi-)voiced mark
        for mark in ("\uff9e", "\uff9f"):
            pair = chr(base) + mark
            n = unicodedata.normalize("NFKC", pair)
            if len(n) == 1:
                multi[pair] = n
    pairs = tuple(sorted(multi.items(), key=lambda kv: -len(kv[0])))
    return pairs, "".join(one_from), "".join(one_to)


WIDTH_PAIRS, WIDTH_FROM, WIDTH_TO = _width_table()
_TRANSLATE = str.maketrans(WIDTH_FROM, WIDTH_TO)
SPACES = " \t\n\r\f\v"  # removed after the width table (U+3000 is a space by then)
_SPACE = re.compile(f"[{re.escape(SPACES)}]")


def name_key(text: str) -> str:
    """The form in which `same_name` compares two names (module docstring)."""
    s = text
    for a, b in WIDTH_PAIRS:
        s = s.replace(a, b)
    s = s.translate(_TRANSLATE)
    s = _SPACE.sub("", s)
    for short, full in CORPORATE_FORMS:
        s = s.replace(short, full)
    return s


def same_name(a: str, b: str) -> bool:
    """Whether two names are the same name under `name_key`."""
    return name_key(a) == name_key(b)


# ---- typed identifiers ---------------------------------------------------------------------------

_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−－ｰ﹣"), "-")


@dataclass(frozen=True)
class Identifier:
    """A kind of identifier: its name in the DSL, what it is called, how many digits it has
    and how the canonical form groups them."""

    name: str
    label: str
    digits: int
    groups: tuple[int, ...]
    example: str

    @property
    def pattern(self) -> str:
        """The JSON Schema pattern of a value as a case may write it (ASCII form)."""
        return r"^\s*[0-9](-?[0-9]){" + str(self.digits - 1) + r"}\s*$"

    def describe(self) -> str:
        return f"{self.label}: {self.digits} digits, hyphens allowed ({self.example})"


IDENTIFIERS: dict[str, Identifier] = {
    "duns": Identifier("duns", "a D-U-N-S® Number", 9, (2, 3, 4), "12-345-6789"),
}


def canonical_id(kind: str, value: str) -> str:
    """The canonical form of an identifier of `kind`; ValueError (with what is wrong) for a
    value that is not one."""
    ident = IDENTIFIERS[kind]
    s = unicodedata.normalize("NFKC", value.translate(_DASHES)).strip()
    if not re.fullmatch(r"[0-9]+(-[0-9]+)*", s):
        bad = next((c for c in s if not (c.isdigit() or c == "-")), None)
        what = f"the character {bad!r}" if bad is not None else "a misplaced hyphen"
        raise ValueError(f"{ident.label} is {ident.digits} digits with hyphens between them; "
                         f"{value!r} has {what}")
    digits = s.replace("-", "")
    if len(digits) != ident.digits:
        raise ValueError(f"{ident.label} has {ident.digits} digits; {value!r} has "
                         f"{len(digits)}")
    out, i = [], 0
    for g in ident.groups:
        out.append(digits[i:i + g])
        i += g
    return "-".join(out)
