"""The AST of one encoded document version: plain data classes (`core/datamodel.py`), every
node with its span.

Structure names follow the e-Gov law XML schema (Article / Paragraph / Item / Subitem /
Remarks / SupplProvision / AppdxTable): `Unit.kind` is one of `UNIT_KINDS`, `Unit.key` is
the e-Gov `Num` (枝番 as `14_65_2`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Literal, get_args

from yakkan.engine.core import kinds
from yakkan.engine.core.ir import Citation, EnumMember, Expr, Lit, Node, Quant, YType
from yakkan.engine.core.labels import FORCE_LABELS as FORCE_LABELS  # one table, re-exported

UnitKind = Literal[
    "article", "paragraph", "item", "subitem", "remarks", "note",
    "table", "section", "row", "suppl", "appendix", "chapter",
]
UNIT_KINDS: tuple[UnitKind, ...] = get_args(UnitKind)
UnitStatus = Literal["encoded", "deleted", "omitted"]
UNIT_STATUSES: tuple[UnitStatus, ...] = get_args(UnitStatus)
RefVerb = Literal["cites", "notwithstanding", "mutatis", "amends"]
REF_VERBS: tuple[RefVerb, ...] = get_args(RefVerb)

Force = kinds.Force  # the closed set of legal forces (engine/core/kinds.py)


class Header(Node):
    id: str
    title: str
    version: str | None = None
    effective_from: dt.date | None = None
    effective_until: dt.date | None = None
    number: str | None = None
    issuer: str | None = None
    seed: str | None = None
    seed_column: str | None = None
    language: str | None = None
    memos: list[str] = []


class External(Node):
    """An external document the text refers to (MiiTel 規約, 電気通信番号規則, …)."""

    name: str
    title: str
    aliases: list[str] = []
    comments: list[str] = []


class EnumDecl(Node):
    name: str
    label: str | None = None
    members: list[EnumMember]
    comments: list[str] = []


class OutcomeDecl(Node):
    """`outcome NAME "label"`: the Japanese name of the outcome its rules decide."""

    name: str
    label: str
    comments: list[str] = []


class FactDecl(Node):
    """A fact of the case vocabulary; `judgment` marks a reviewer's judgment input."""

    path: list[str]
    type: YType
    label: str | None = None
    judgment: bool = False
    comments: list[str] = []


class Definition(Node):
    """A defined term or classification (プラン4 = プラン2のうち…)."""

    name: str
    label: str | None = None
    expr: Expr
    comments: list[str] = []


class Assumption(Node):
    """`assume NAME "label" = EXPR`: a domain assumption the encoder declares where the text
    does not state it (two plans never chosen together). The solver respects it; a case that
    breaks it is warned about, never silently decided."""

    name: str
    label: str
    expr: Expr
    comments: list[str] = []


class PeriodDef(Node):
    name: str
    expr: Expr


class EachItem(Node):
    kind: Literal["each_item"] = "each_item"


class Mutatis(Node):
    """準用 / 「…の規定に準じて」: decide as the cited provisions decide `outcome`."""

    kind: Literal["mutatis"] = "mutatis"
    cite: Citation
    outcome: str | None = None


class Rule(Node):
    """An effect with its legal force: `outcome` is decided with `force` when `when` holds.

    `source=EachItem` makes each child item's condition a ground of its own
    (「次の場合には…承諾しないことがあります」 followed by 号). `requires` is what a
    `requirement` demands (the ground applies where `when` holds and `requires` does not).
    `unless` are ただし書 / 「この限りでない」 exceptions.
    """

    outcome: str
    force: Force
    source: EachItem | Mutatis | None = None
    when: Expr | None = None
    requires: Expr | None = None
    unless: list[Expr] = []


class Charge(Node):
    """A payment: amount, tax category, period, its conditions and quote/lower-bound flags."""

    name: str
    label: str | None = None
    amount: Expr | None = None
    when: Expr | None = None
    tax: str | None = None
    per: str | None = None
    lower_bound: bool = False
    quote_when: Expr | None = None
    memos: list[str] = []
    row: Citation | None = None
    assumptions: list[str] = []
    payer: str | None = None  # None / "contractor": the contractor pays; "company": 当社 pays


class RefStmt(Node):
    verb: RefVerb
    cites: list[Citation]


class Reading(Node):
    """読み替え: in `in_doc`, read `original` as `replacement` (except in `except_`)."""

    in_doc: Citation
    original: str
    replacement: str
    except_: list[Citation] = []


class Precedence(Node):
    """`winner` prevails over `loser` where they conflict, except for `except_`."""

    winner: Citation
    loser: Citation
    except_: list[Citation] = []


class Correction(Node):
    """An extraction slip of the seed, corrected: what the seed shows, what we encode, why."""

    seed: str
    encoded: str
    reason: str


class Arithmetic(Node):
    """`arithmetic 総額 = 単価 * 時間 * 12 * 年`: how the columns of a table relate. Names are
    the table's column names, bound in each row by `figures`; the expression uses `+ - * /`,
    numbers and names only (data, never evaluated as code)."""

    target: str
    expr: Expr


class Figure(Node):
    """One printed figure of a row: `単価 = 4.60円`."""

    name: str
    value: Lit


class Figures(Node):
    """`figures "1年" 単価 = 4.60円, 時間 = 2000時間, 年 = 1年, 総額 = 105600円`: the figures of
    one row (one column group, `label`) checked against the table's `arithmetic`."""

    label: str | None = None
    values: list[Figure] = []


class Unit(Node):
    """One 条 / 項 / 号 / 備考 / 注 / 表 / 行 / 附則 with its text and logic."""

    kind: UnitKind
    key: str | None = None
    range_end: str | None = None
    caption: str | None = None
    status: UnitStatus = "encoded"
    text: str | None = None
    proviso: str | None = None
    label: str | None = None
    # other names the text uses for this unit (「別紙サービス料金表」 for the 別表), declared by
    # the encoder; a citation by such a name binds here (a drafting slip to record with `slip`)
    aliases: list[str] = []
    unit_kind: str | None = None
    condition: Expr | None = None
    rules: list[Rule] = []
    charges: list[Charge] = []
    definitions: list[Definition] = []
    periods: list[PeriodDef] = []
    refs: list[RefStmt] = []
    readings: list[Reading] = []
    precedences: list[Precedence] = []
    corrections: list[Correction] = []
    memos: list[str] = []
    slips: list[str] = []
    arithmetic: list[Arithmetic] = []
    figures: list[Figures] = []
    # `covers c in calls where …`: the records the charges under this unit are presented as
    # pricing, every one (an `any` over the list whose `where` is the domain); static.gap
    covers: list[Quant] = []
    children: list[Unit] = []
    comments: list[str] = []

    @property
    def full_text(self) -> str:
        """本文 and ただし書 joined, as printed."""
        return (self.text or "") + (self.proviso or "")


class Document(Node):
    """One version of one document, as one `.yk` file encodes it."""

    header: Header
    externals: list[External] = []
    enums: list[EnumDecl] = []
    outcomes: list[OutcomeDecl] = []
    facts: list[FactDecl] = []
    definitions: list[Definition] = []
    assumptions: list[Assumption] = []
    units: list[Unit] = []
    corrections: list[Correction] = []
    comments: list[str] = []
    trailing_comments: list[str] = []

    def iter_units(self) -> Iterator[tuple[tuple[Unit, ...], Unit]]:
        """Every unit with its ancestors (outermost first), depth-first in document order."""
        stack: list[tuple[tuple[Unit, ...], Unit]] = [((), u) for u in reversed(self.units)]
        while stack:
            parents, u = stack.pop()
            yield parents, u
            stack.extend(((*parents, u), c) for c in reversed(u.children))

