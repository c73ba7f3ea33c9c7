"""Expressions as text: in DSL form, with the case's values substituted, or with the
document's Japanese labels — for explanations, reports and diagnostics."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, assert_never

from yakkan.engine.core import ir as I
from yakkan.engine.core.labels import UNIT_LABELS
from yakkan.engine.core.memo import per_object
from yakkan.engine.core.periods import Duration
from yakkan.engine.core.values import ABSENT

_PREC = {"or": 1, "and": 2, "not": 3, "compare": 4, "member": 4, "+": 5, "-": 5, "*": 6, "/": 6}


def show_value(v: Any) -> str:
    """A value as a reviewer reads it: true/false/unknown, 1,500円, 2023-04-17, 61秒."""
    if isinstance(v, _Hole):
        return f"{HOLE}{int(v)}{HOLE}"
    if v is None:
        return "unknown"
    if v is ABSENT:
        return "なし"
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, Decimal):
        return format(v.normalize(), "f") if v == v.to_integral() else str(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, Duration):
        return str(v)
    if isinstance(v, list):
        return f"[{len(v)} records]"
    return str(v)


def to_text(e: I.Expr | None, values: dict[str, Any] | None = None,
            labels: Callable[[str], str | None] | None = None) -> str:
    """DSL text of `e`. With `values` (dotted name → value), names show their value as
    `name［value］`; with `labels`, names are shown by their Japanese label."""
    if e is None:
        return "true"
    if labels is not None:
        return _t(e, values, labels, 0)
    # without labels the words do not depend on the values: the expression is written once
    # as a template whose holes are where a value may follow, and `values` fills them
    return template(e).fill(values)


def template(e: I.Expr) -> Template:
    """`e` in DSL form as a template (`to_text` without labels), made once per expression."""
    def make() -> Template:
        holes = _Holes()
        # a hole is written 「［…］」: its brackets go with it (shown only when filled)
        text = _t(e, holes, None, 0).replace("［" + HOLE, HOLE).replace(HOLE + "］", HOLE)
        return Template(text, [(k, show_value) for k in holes.keys_])
    if len(_TEMPLATES) > 20_000:  # expressions of rulebooks no longer in use
        _TEMPLATES.clear()
    return per_object(_TEMPLATES, e, make)


HOLE = "\x00"  # around a hole's number in a template (no rule text holds a NUL)


class Template:
    """Words with numbered holes where a case's value may follow (`HOLE`n`HOLE` in the
    text it is made from), each hole with the key of the value (a fact path, a definition
    name, a node id) and the function that writes it. Made once per expression; `fill`
    writes it for one case."""

    __slots__ = ("rest", "words")

    def __init__(self, text: str, holes: list[tuple[str, Callable[[Any], str]]]):
        parts = text.split(HOLE)
        self.words: tuple[str, ...] = tuple(parts[0::2])  # the words around the holes
        # the holes in the order the text shows them (not always the order they were made),
        # each with what `fill` writes there: the words after it, written out beforehand
        # for no value and for the values most holes get (`_COMMON`), and the function that
        # writes any other value
        self.rest: tuple[tuple[str, dict[int, str], Callable[[Any], str], str], ...] = tuple(
            _hole(*holes[int(n)], word)
            for n, word in zip(parts[1::2], self.words[1:], strict=True))

    def fill(self, values: Mapping[str, Any] | None) -> str:
        """The words, each hole the case gave a value followed by it in ［］."""
        words = self.words
        if not self.rest:
            return words[0]
        if not values:
            return "".join(words)
        get = values.get
        out = words[0]  # a few short pieces: added in place, faster than a list joined
        for key, written, write, word in self.rest:
            v = get(key, _NO_VALUE)
            s = written.get(id(v))
            out += s if s is not None else f"［{write(v)}］{word}"
        return out

    def holes(self) -> tuple[tuple[str, Callable[[Any], str]], ...]:
        """Each hole's key and writer, in the order the text shows them: `words[i]` comes
        before hole `i`, the last word after the last hole. What a caller needs to write
        `fill` out in its own code (the explanation's ground writers, `explain.py`)."""
        return tuple((key, write) for key, _written, write, _word in self.rest)


_NO_VALUE = object()  # a hole the case gave no value: its words only
# the values most holes are filled with (unknown, yes/no, observed absence): objects that
# live as long as the program, so their `id` names them
_COMMON = (None, True, False, ABSENT)


def _hole(key: str, write: Callable[[Any], str],
          word: str) -> tuple[str, dict[int, str], Callable[[Any], str], str]:
    """A hole of a `Template` as `fill` reads it: its key, what it writes for no value and
    for each common value (id → words), how it writes another value, and the words after
    it."""
    written = {id(v): f"［{write(v)}］{word}" for v in _COMMON}
    written[id(_NO_VALUE)] = word
    return key, written, write, word


# id(expression) → (it, its `Template`)
_TEMPLATES: dict[int, tuple[Any, Template]] = {}


class _Holes(dict[str, Any]):
    """Stands in for a case's values while a template is written: every key is in it, and
    each value shown is a numbered hole."""

    def __init__(self) -> None:
        super().__init__()
        self.keys_: list[str] = []

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str)

    def __getitem__(self, key: str) -> Any:
        self.keys_.append(key)
        return _Hole(len(self.keys_) - 1)


class _Hole(int):
    """A hole's number, shown by `show_value` as the hole's marker."""


def _t(e: I.Expr, values: dict[str, Any] | None,
       labels: Callable[[str], str | None] | None, ctx: int) -> str:
    def wrap(s: str, prec: int) -> str:
        return f"({s})" if prec < ctx else s

    match e:
        case I.Lit():
            return _lit(e)
        case I.Ref():
            name = ".".join(e.path)
            shown = (labels(name) if labels else None) or name
            if labels and shown != name:
                shown = f"「{shown}」"
            if values is not None and name in values and e.resolved != "enum":
                return f"{shown}［{show_value(values[name])}］"
            return shown
        case I.Not():
            return wrap("not " + _t(e.operand, values, labels, 3), 3)
        case I.BoolOp():
            p = _PREC[e.op]
            return wrap(f" {e.op} ".join(_t(x, values, labels, p) for x in e.operands), p)
        case I.Compare():
            return wrap(f"{_t(e.left, values, labels, 5)} {e.op} "
                        f"{_t(e.right, values, labels, 5)}", 4)
        case I.MemberOf():
            opts = ", ".join(_t(o, values, labels, 0) for o in e.options)
            return wrap(f"{_t(e.operand, values, labels, 5)} in [{opts}]", 4)
        case I.Arith():
            p = _PREC[e.op]
            return wrap(f"{_t(e.left, values, labels, p)} {e.op} "
                        f"{_t(e.right, values, labels, p + 1)}", p)
        case I.Neg():
            return "-" + _t(e.operand, values, labels, 7)
        case I.Call():
            return f"{e.fn}({', '.join(_t(a, values, labels, 0) for a in e.args)})"
        case I.Quant():
            body = f": {_t(e.body, None, labels, 0)}" if e.body is not None else ""
            where = f" where {_t(e.where, None, labels, 0)}" if e.where is not None else ""
            return _valued(f"{e.q}({e.var} in {'.'.join(e.source.path)}{body}{where})",
                           e.nid or f"@{id(e)}", values)
        case I.Holds():
            return _valued(f"holds 「{e.cite.raw}」", e.nid or f"@{id(e)}", values)
        case I.IfThen():
            return wrap(f"if {_t(e.cond, values, labels, 0)} then "
                        f"{_t(e.then, values, labels, 0)} "
                        f"else {_t(e.orelse, values, labels, 0)}", 0)
        case I.Applies():
            return _valued(f"applies({e.ground})", e.nid, values)
        case I.Priority():
            arms = "; ".join(f"{_t(b.cond, values, labels, 0)} ⇒ {b.value}"
                             for b in e.branches)
            return f"first({arms}; else {e.default})"
        case _:
            assert_never(e)


def _valued(s: str, key: str | None, values: dict[str, Any] | None) -> str:
    """`s` followed by the value the case gave the node named `key`, if any."""
    if values is not None and key is not None and key in values:
        return f"{s}［{show_value(values[key])}］"
    return s


def _lit(e: I.Lit) -> str:
    if e.type == "text":
        return '"' + str(e.value).replace("\\", "\\\\").replace('"', '\\"') + '"'
    if e.type == "bool":
        return "true" if e.value else "false"
    if e.type == "money":
        return f"{e.value}円"
    if e.type == "percent":
        return f"{e.value}%"
    if e.type == "duration":
        return f"{e.value}{UNIT_LABELS[e.unit or 'day']}"
    if e.type == "date":
        return str(e.value)
    return str(e.value)
