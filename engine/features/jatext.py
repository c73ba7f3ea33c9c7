"""Conditions in Japanese, with the case's values: what an explanation shows a reviewer.

`exprtext.to_text` writes an expression as DSL (`plan4［true］ and not applicant.duns_issued
［false］`) — the encoded form, for whoever checks the encoding. This module writes the same
walk the way the document's reader reads it: facts and definitions by their labels in 「」,
enum members by their Japanese names, values as はい／いいえ／不明, amounts in 円 and dates in
年月日, the connectives かつ／又は／でない, comparisons as ＝ ≠ ＜ ≦ ＞ ≧, quantifiers over
records and builtins in words:

    「プラン4」［はい］ かつ 「申込をした者が、…払出を受けている」［いいえ］でない

A value the case gave a node is written after it in ［］ (the explanation pages colour those
marks); a name the case says nothing about shows ［不明］. Labels come from the clause file
(`fact … "label"`, `define name "label"`, `enum … { member "label" }`); a name without one is
shown as written.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from decimal import Decimal
from typing import Any, assert_never

from yakkan.engine.core import ir as I
from yakkan.engine.core.labels import ARITH_LABELS, UNIT_LABELS, date_label, show, truth_label
from yakkan.engine.core.memo import per_object
from yakkan.engine.core.money import format_jpy
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.syntax.exprtext import HOLE, Template

_CMP = {"==": "＝", "!=": "≠", "<": "＜", "<=": "≦", ">": "＞", ">=": "≧"}
_PREC = {"or": 1, "and": 2, "not": 3, "compare": 4, "member": 4, "+": 5, "-": 5, "*": 6,
         "/": 6}
_QUANT = {"all": "すべてが", "any": "いずれかが", "count": "の件数",
          "sum": "の合計", "min": "の最小値", "max": "の最大値"}


class Vocabulary:
    """The Japanese names a document gives its facts, fields, definitions and enum members,
    and how a value of each is written."""

    def __init__(self, book: Rulebook):
        self.book = book
        self.templates: dict[int, tuple[Any, Template]] = {}  # id(expression) → it, its words
        self._writers: dict[str | None, Callable[[Any], str]] = {}
        self.members: dict[str, str] = {}
        for e in book.enums.values():
            for m in e.members:
                if m.label:
                    self.members.setdefault(m.name, m.label)
        for f in book.facts.values():
            for t in (f.type, *(fd.type for fd in f.type.fields)):
                for m in t.members:
                    if m.label:
                        self.members.setdefault(m.name, m.label)

    def field(self, name: str) -> I.FieldDecl | None:
        """The field `lines.registered_on` of a list fact, if `name` is one."""
        head, _, tail = name.rpartition(".")
        f = self.book.facts.get(head)
        return next((fd for fd in f.type.fields if fd.name == tail), None) if f else None

    def label(self, name: str) -> str | None:
        """The label of a fact path, a field of a list fact (`lines.registered_on`) or a
        definition."""
        b = self.book
        if name in b.facts:
            return b.facts[name].label
        if name in b.definitions:
            return b.definitions[name][0].label
        fd = self.field(name)
        return fd.label if fd else None

    def type_of(self, name: str) -> I.YType | None:
        if name in self.book.facts:
            return self.book.facts[name].type
        fd = self.field(name)
        return fd.type if fd else None

    def judgment(self, name: str) -> bool:
        f = self.book.facts.get(name)
        return bool(f and f.judgment)

    def member(self, name: str) -> str:
        return self.members.get(name, name)

    def value(self, v: Any, name: str | None = None) -> str:
        """A value of the fact (or definition) `name` as a reviewer reads it."""
        return self.writer(name)(v)

    def writer(self, name: str | None) -> Callable[[Any], str]:
        """How a value of the fact (or definition) `name` is written (`value`): its type and
        its members' labels looked up once."""
        w = self._writers.get(name)
        if w is None:
            t = self.type_of(name) if name else None
            if t is None:
                w = functools.partial(show, base=None, members=self.members)
            else:
                w = functools.partial(show, base=t.base, members={
                    m.name: m.label for m in t.members if m.label} or None)
            self._writers[name] = w
        return w


def vocabulary(book: Rulebook) -> Vocabulary:
    """The document's Japanese names (kept with the rulebook: built once per version)."""
    v = book.derived.vocabulary
    if not isinstance(v, Vocabulary):
        v = book.derived.vocabulary = Vocabulary(book)
    return v


def ja_text(e: I.Expr | None, values: dict[str, Any] | None, vocab: Vocabulary) -> str:
    """`e` in Japanese; with `values` (name or node id → value), each name and each
    quantifier or citation the case gave a value is followed by it in ［］.

    The words do not depend on the values: each expression is written once (per rulebook)
    as a template whose holes are the places a value may follow, and a case fills them."""
    if e is None:
        return "（無条件）"
    return ja_template(e, vocab).fill(values)


def ja_template(e: I.Expr, vocab: Vocabulary) -> Template:
    """`e` in Japanese as a template (`ja_text`), made once per expression."""
    def make() -> Template:
        w = _Writer(vocab)
        return Template(w.t(e, 0, {}), [(key, vocab.writer(name)) for key, name in w.holes])
    return per_object(vocab.templates, e, make)


class _Writer:
    def __init__(self, vocab: Vocabulary):
        self.vocab = vocab
        self.holes: list[tuple[str, str | None]] = []

    def valued(self, s: str, key: str | None, name: str | None = None) -> str:
        """`s`, and where a value may follow it: a hole (`ja_text`)."""
        if key is None:
            return s
        self.holes.append((key, name))
        return f"{s}{HOLE}{len(self.holes) - 1}{HOLE}"

    def name(self, path: str) -> str:
        label = self.vocab.label(path)
        return f"「{label}」" if label else path

    def t(self, e: I.Expr, ctx: int, scope: dict[str, str]) -> str:
        def wrap(s: str, prec: int) -> str:
            return f"（{s}）" if prec < ctx else s

        match e:
            case I.Lit():
                return _lit(e)
            case I.Ref():
                return self.ref(e, scope)
            case I.Not():
                inner = self.t(e.operand, 4, scope)
                return wrap(f"{inner}でない", 3)
            case I.BoolOp():
                p = _PREC[e.op]
                word = " かつ " if e.op == "and" else " 又は "
                # a connective inside the other is always parenthesised: 「A 又は B かつ C」
                # would leave the reader to know which binds first
                return wrap(word.join(f"（{self.t(x, 0, scope)}）" if isinstance(x, I.BoolOp)
                                      else self.t(x, p, scope) for x in e.operands), p)
            case I.Compare():
                right = e.right
                if e.op in ("==", "!=") and isinstance(right, I.Ref) and right.resolved == "enum":
                    member = f"「{self.vocab.member('.'.join(right.path))}」"
                    left = self.t(e.left, 5, scope)
                    return wrap(f"{left}が{member}" + ("でない" if e.op == "!=" else ""), 4)
                return wrap(f"{self.t(e.left, 5, scope)} {_CMP[e.op]} "
                            f"{self.t(e.right, 5, scope)}", 4)
            case I.MemberOf():
                opts = "・".join(self.t(o, 5, scope) for o in e.options)
                return wrap(f"{self.t(e.operand, 5, scope)}が{opts}のいずれか", 4)
            case I.Arith():
                p = _PREC[e.op]
                return wrap(f"{self.t(e.left, p, scope)} {ARITH_LABELS[e.op]} "
                            f"{self.t(e.right, p + 1, scope)}", p)
            case I.Neg():
                return "−" + self.t(e.operand, 7, scope)
            case I.Call():
                return self.call(e, scope)
            case I.Quant():
                return self.quant(e, scope)
            case I.Holds():
                return self.valued(f"「{e.cite.raw}」に該当する", e.nid or f"@{id(e)}")
            case I.IfThen():
                return wrap(f"{self.t(e.cond, 0, scope)}のときは{self.t(e.then, 0, scope)}、"
                            f"そうでないときは{self.t(e.orelse, 0, scope)}", 0)
            case I.Applies():
                return self.valued(f"根拠 {e.ground} が適用される", e.nid)
            case I.Priority():
                arms = "；".join(f"{self.t(b.cond, 0, scope)}ならば{b.value}"
                                for b in e.branches)
                return f"（{arms}；それ以外は{e.default}）"
            case _:
                assert_never(e)

    def ref(self, e: I.Ref, scope: dict[str, str]) -> str:
        name = ".".join(e.path)
        if e.resolved == "enum":
            return f"「{self.vocab.member(name)}」"
        if e.resolved == "builtin" and name == "as_of":
            return self.valued("基準日", name)
        if e.path[0] in scope:  # a field of the record a quantifier ranges over
            field = f"{scope[e.path[0]]}.{'.'.join(e.path[1:])}" if len(e.path) > 1 else None
            if field is None:
                return "その記録"
            return self.name(field)
        return self.valued(self.name(name), name, name)

    def call(self, e: I.Call, scope: dict[str, str]) -> str:
        a = [self.t(x, 0, scope) for x in e.args]
        words = {
            "days_between": lambda: f"{a[0]}から{a[1]}までの日数",
            "add_days": lambda: f"{a[0]}に{a[1]}日を加えた日",
            "period_end": lambda: f"{a[0]}から起算して{a[1]}を経過する日",
            "interest": lambda: f"{a[0]}に対する年{a[1]}の{a[2]}日分の利息",
            "tax_included": lambda: f"{a[0]}の税込額",
            "len": lambda: f"{a[0]}の件数",
            "min": lambda: f"{'・'.join(a)}のうち最も小さいもの",
            "max": lambda: f"{'・'.join(a)}のうち最も大きいもの",
            "days": lambda: f"{a[0]}の日数",
            "units_started": lambda: f"{a[0]}の{a[1]}までごとの数",
            "known": lambda: f"{a[0]}が判明している",
            "present": lambda: f"{a[0]}がある",
            "same_name": lambda: f"{a[0]}と{a[1]}が同じ名義である",
        }
        try:
            return words[e.fn]()
        except (KeyError, IndexError):
            return f"{e.fn}（{'、'.join(a)}）"

    def quant(self, e: I.Quant, scope: dict[str, str]) -> str:
        src = ".".join(e.source.path)
        inner = {**scope, e.var: src}
        what = self.name(src)
        where = f"のうち{self.t(e.where, 0, inner)}に当たるもの" if e.where is not None else ""
        body = self.t(e.body, 0, inner) if e.body is not None else ""
        if isinstance(e.body, I.BoolOp | I.Not | I.Compare):
            body = f"（{body}）"
        if e.q in ("all", "any"):
            s = f"{what}{where}の{_QUANT[e.q]}{body}に当たる"
        elif e.q == "count":
            cond = f"のうち{body}に当たるもの" if body else ""
            s = f"{what}{where}{cond}の件数"
        else:
            s = f"{what}{where}の{body or '値'}{_QUANT[e.q]}"
        return self.valued(s, e.nid or f"@{id(e)}")


def _lit(e: I.Lit) -> str:
    if e.type == "bool":
        return truth_label(bool(e.value))
    if e.type == "text":
        return f"「{e.value}」"
    if e.type == "money":
        return format_jpy(Decimal(str(e.value)))
    if e.type == "percent":
        return f"{e.value}%"
    if e.type == "duration":
        return f"{e.value}{UNIT_LABELS[e.unit or 'day']}"
    if e.type == "date" and isinstance(e.value, dt.date):
        return date_label(e.value)
    return str(e.value)
