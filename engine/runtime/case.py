"""The case model: a checker generated from a document's fact vocabulary.

A case file (YAML or JSON) names its document, optionally an as-of date, and gives facts
(judgments included) as nested mappings following the fact paths. A fact left out is
unknown, never false; `null` states observed absence where the type allows it. Unknown
fields, wrong types and bad dates are reported all at once, each with its path, the expected
type and a did-you-mean.

Nothing the user writes is guessed at (a guess is a misreading that decides a case):
* types are strict: `true` is not 1, `"12"` and `12.0` are not the integer 12, `0` is not a
  date, `"4%"` is 0.04 for a percent fact and refused elsewhere; counts and amounts are ≥ 0;
  numbers, dates and durations are bounded, so no overflow reaches the engine;
* YAML is read as YAML 1.2 core (`yes`/`no`/`on`/`off` are text, and refused with a hint
  where a yes/no fact is expected; `010` is ten, `1:30` is text), a duplicated key is an error
  naming both lines (YAML and JSON), nesting depth and alias expansion are bounded;
* every diagnostic is bounded in size and all of them are computed in linear time.

The checker reads a case as a pydantic model with extra keys forbidden would (errors in the
same order and words) without pydantic: building pydantic models costs a process tens of
milliseconds, more than explaining a case. The pydantic models of the same vocabulary
(`case_model.py`: the JSON Schema, batch's rows) read every value with the same readers; a
differential test holds the two equal (tests/test_case_checker.py).
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import math
import os
import re
import stat
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from yakkan.engine.core import ir as I
from yakkan.engine.core.diagnostics import Diagnostic, YakkanError, did_you_mean
from yakkan.engine.core.money import parse_jpy
from yakkan.engine.core.numerals import normalize_width, parse_date
from yakkan.engine.core.periods import Duration, parse_duration
from yakkan.engine.core.textnorm import IDENTIFIERS, canonical_id
from yakkan.engine.core.values import ABSENT
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.syntax.load import bundled_ids, read_text

if TYPE_CHECKING:
    from pydantic import BaseModel

# ---- bounds -------------------------------------------------------------------------------
MAX_CASE_BYTES = 8_000_000  # a case file larger than this is refused before it is read
MAX_DEPTH = 48  # nesting of mappings and lists (a case needs about 4)
MAX_NODES = 200_000  # values in a case, with YAML aliases expanded
MAX_ERRORS = 50  # diagnostics shown; the rest are counted
MAX_INT = 10**12  # a count
MAX_AMOUNT = Decimal(10) ** 15  # yen (1000兆円), and any decimal
MAX_PLACES = 8  # digits after the decimal point
MAX_TEXT = 100_000  # characters of a text fact
MAX_PERCENT = Decimal(100)  # 10000%
DATE_MIN = dt.date(1800, 1, 1)
DATE_MAX = dt.date(2999, 12, 31)
MAX_DURATION = Duration(seconds=10**9, days=366_000, months=12_000)  # about 1000 years
MAX_DOC_FILES = 1000  # `.yk` files (and entries looked at) in a document folder

_YAML11_BOOLS = {"yes", "no", "on", "off", "y", "n"}


class ValueProblem(ValueError):
    """A value a reader refuses, with its own message and a hint: the error `yakkan_value`
    (read back by `validation_diagnostics`; `case_model.py` raises it as pydantic's custom error)."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message, self.hint = message, hint


def _bad(message: str, hint: str | None = None) -> ValueProblem:
    return ValueProblem(message, hint)


def _number_text_hint(v: str, example: str) -> str | None:
    s = normalize_width(v).replace(",", "").strip()
    if re.fullmatch(r"[-+]?\d+(\.\d*)?", s):
        return f"write the number without quotes: {s}"
    return None


def _whole(v: Any) -> int:
    """An int as written: an int, never a bool, a float or text."""
    if isinstance(v, bool):
        raise _bad("expected a whole number, not true/false",
                   "a count is a number such as 3 (unknown: leave the field out)")
    if isinstance(v, int):
        return v
    if isinstance(v, float | Decimal):
        d = Decimal(str(v)) if isinstance(v, float) else v
        if d.is_finite() and d == d.to_integral_value():
            raise _bad(f"expected a whole number, got {v}",
                       f"write {int(d)} (without the decimal point)")
        raise _bad(f"expected a whole number, got {_short(v)}")
    if isinstance(v, str):
        raise _bad(f"expected a whole number, got the text {_short(v)}",
                   _number_text_hint(v, "3") or "write a number such as 3")
    raise _bad(f"expected a whole number, got {_kind(v)}")


def _count(v: Any) -> int:
    n = _whole(v)
    if n < 0:
        raise _bad(f"expected a count (0 or more), got {n}",
                   "counts and amounts cannot be negative")
    if n > MAX_INT:
        raise _bad(f"the number {_short(n)} is too large (at most {MAX_INT:,})")
    return n


def _finite(d: Decimal, shown: Any) -> Decimal:
    if not d.is_finite():
        raise _bad(f"expected a finite number, got {_short(shown)}")
    if abs(d) > MAX_AMOUNT:
        raise _bad(f"the number {_short(shown)} is too large (at most {MAX_AMOUNT:,})")
    exp = d.as_tuple().exponent
    if isinstance(exp, int) and exp < -MAX_PLACES:
        raise _bad(f"{_short(shown)} has more than {MAX_PLACES} digits after the point")
    return d


def _numeric(v: Any) -> Decimal:
    """A number given as a YAML/JSON number (not text, not a bool)."""
    if isinstance(v, bool):
        raise _bad("expected a number, not true/false")
    if isinstance(v, int):
        if abs(v) > MAX_AMOUNT:
            raise _bad(f"the number {_short(v)} is too large (at most {MAX_AMOUNT:,})")
        return Decimal(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            raise _bad(f"expected a finite number, got {v}")
        return _finite(Decimal(str(v)), v)
    if isinstance(v, Decimal):
        return _finite(v, v)
    raise _bad(f"expected a number, got {_kind(v)}")


def _decimal(v: Any) -> Decimal:
    if isinstance(v, str):
        s = normalize_width(v).strip()
        if s.endswith(("%", "％")):
            raise _bad(f"expected a number, got the text {_short(v)}",
                       "this fact is a plain number, not a percentage: 4% is 0.04")
        raise _bad(f"expected a number, got the text {_short(v)}",
                   _number_text_hint(v, "1.5") or "write a number such as 1.5")
    return _numeric(v)


def _percent(v: Any) -> Decimal:
    """A percentage: text with `%` (`"4%"` is 0.04, as `4%` in the DSL) or a fraction 0–1."""
    if isinstance(v, str):
        s = normalize_width(v).replace("％", "%").replace(" ", "").strip()
        m = re.fullmatch(r"(\d+(?:\.\d+)?)%", s)
        if m is None:
            raise _bad(f"expected a percentage, got the text {_short(v)}",
                       'write it with a percent sign, "4%", or as a fraction, 0.04')
        d = _finite(Decimal(m.group(1)) / 100, v)
        if d > MAX_PERCENT:
            raise _bad(f"the percentage {_short(v)} is too large")
        return d
    d = _numeric(v)
    if d < 0:
        raise _bad(f"expected a percentage (0 or more), got {_short(v)}")
    if d > 1:
        raise _bad(f"the percentage {_short(v)} is ambiguous: a number is a fraction (0.04 "
                   f"is 4%), and {_short(v)} would be {d * 100}%",
                   f'write "{d}%" for {d} percent, or the fraction {d / 100}')
    return d


def _money(v: Any) -> Decimal:
    """An amount in yen: a number, or text with 円 or ¥ (`"12,345円"`); never negative."""
    d = _amount(v)
    if d < 0:
        raise _bad(f"expected an amount (0 or more), got {_short(v)}",
                   "counts and amounts cannot be negative")
    return d


def _amount(v: Any) -> Decimal:
    """An amount in yen, of either sign (`_money` refuses a negative one)."""
    if isinstance(v, str):
        if len(v) > 64:
            raise _bad(f"expected an amount in yen, got the text {_short(v)}")
        try:
            d = parse_jpy(v)
        except (ValueError, ArithmeticError):
            raise _bad(f"expected an amount in yen, got the text {_short(v)}",
                       'write the number without quotes (12345) or with its unit ("12,345円")'
                       if _number_text_hint(v, "12345")
                       else 'write a number such as 12345, or "12,345円"') from None
        d = _finite(d, v)
    else:
        d = _numeric(v)
    return d


def _date(v: Any) -> dt.date:
    if isinstance(v, dt.datetime):
        raise _bad(f"expected a date, got a date and time {_short(v)}",
                   "write the date alone: 2023-04-17")
    if isinstance(v, dt.date):
        d = v
    elif isinstance(v, str):
        if len(v) > 64:
            raise _bad(f"expected a date, got the text {_short(v)}")
        try:
            d = parse_date(v)
        except (ValueError, ArithmeticError, OverflowError) as e:
            raise _bad(_clip(str(e), 200),
                       "write a date such as 2023-04-17, 2023年4月17日 or 令和5年4月17日") \
                from None
    elif isinstance(v, bool):
        raise _bad("expected a date, not true/false",
                   "write a date such as 2023-04-17 (unknown: leave the field out)")
    elif isinstance(v, int | float | Decimal):
        raise _bad(f"expected a date, got the number {_short(v)}",
                   "a number is not a date: write 2023-04-17 (quoted in JSON)")
    else:
        raise _bad(f"expected a date, got {_kind(v)}")
    if not DATE_MIN <= d <= DATE_MAX:
        raise _bad(f"the date {d.isoformat()} is out of range "
                   f"({DATE_MIN.isoformat()} – {DATE_MAX.isoformat()})")
    return d


def _duration(v: Any) -> Duration:
    if isinstance(v, Duration):
        d = v
    elif isinstance(v, str):
        if len(v) > 64:
            raise _bad(f"expected a duration, got the text {_short(v)}")
        try:
            d = parse_duration(v)
        except (ValueError, ArithmeticError) as e:
            raise _bad(_clip(str(e), 200),
                       'a duration with its unit, such as "61秒", "3分" or "30日"') from None
    elif isinstance(v, bool):
        raise _bad('expected a duration such as "61秒" or "30日", not true/false')
    else:
        raise _bad(f"expected a duration with its unit, got {_short(v)}",
                   'write the unit: "61秒", "3分" or "30日"')
    if d.seconds > MAX_DURATION.seconds or d.days > MAX_DURATION.days \
            or d.months > MAX_DURATION.months:
        raise _bad(f"the duration {_short(v)} is too long (at most about 1000 years)")
    return d


def _text(v: Any) -> str:
    if not isinstance(v, str):
        raise _bad(f"expected text, got {_short(v)}",
                   "put the value in quotes if it is meant as text")
    if len(v) > MAX_TEXT:
        raise _bad(f"the text is too long ({len(v):,} characters; at most {MAX_TEXT:,})")
    return v


# ---- reading a fact's value ---------------------------------------------------------------

READERS: dict[str, Callable[[Any], Any]] = {
    "int": _count, "decimal": _decimal, "percent": _percent, "money": _money, "date": _date,
    "text": _text, "duration": _duration,
}
# a fact of these types can be stated absent (`null`: no such event, no such value); a
# yes/no fact, an enum and a list always have a value, so `null` for them is an error
ABSENT_OK = frozenset({"int", "decimal", "money", "percent", "date", "duration", "text"})


def reader_of(t: I.YType, label: str | None = None) -> Callable[[Any], Any] | None:
    """How a value of a fact of type `t` is read: a function giving the value or raising
    `ValueProblem`. None for a yes/no fact, an enum and a list (checked by their form)."""
    if t.constraint is not None:
        return _constrained(t, label)
    if t.base in ("bool", "enum", "list"):
        return None
    if t.ident in IDENTIFIERS:
        return _ident_reader(t.ident)
    return READERS[t.base]


def _constrained(t: I.YType, label: str | None) -> Callable[[Any], Any]:
    """The reader of a fact with a declared `range` or `pattern`: the plain type's checks,
    then the constraint (a value outside is `case.bad-value` naming the range)."""
    c = t.constraint
    assert c is not None
    declared = f"the vocabulary declares `{_clip(c.describe(), 240)}`" + \
        (f" for {_clip(label, 60)}" if label else "")
    if c.pattern is not None:
        rx = re.compile(c.pattern, re.ASCII)

        def text(v: Any) -> str:
            s = _text(v)
            if rx.fullmatch(s) is None:
                raise _bad(f"{_short(s)} does not match the pattern declared for this fact",
                           declared)
            return s
        return text
    lo, hi = t.value_bounds()
    b = t.base
    read: Any = {"int": _whole, "decimal": _decimal, "money": _amount,
                 "percent": _percent}[b]
    shown = "..".join(I.bound_text(x) if x is not None else "" for x in (c.minimum, c.maximum))

    def number(v: Any) -> Any:
        x = read(v)
        if b == "int" and abs(x) > MAX_INT:
            raise _bad(f"the number {_short(x)} is too large (at most {MAX_INT:,})")
        if (lo is not None and x < lo) or (hi is not None and x > hi):
            raise _bad(f"{_short(v)} is outside the range {shown} of this fact", declared)
        return x
    return number


def _ident_reader(kind: str) -> Callable[[Any], str]:
    """A typed identifier (`duns`): validated against its pattern, kept canonical."""
    ident = IDENTIFIERS[kind]

    def check(v: Any) -> str:
        if not isinstance(v, str):
            raise _bad(f"expected {ident.label} as text, got {_short(v)}",
                       f'write it in quotes: "{ident.example}" (a number loses its leading '
                       "zeros)")
        try:
            return canonical_id(kind, _text(v))
        except ValueError as e:
            raise _bad(_clip(str(e), 200), f"write {ident.describe()}; a number the case "
                       "does not have is left out (unknown) or null (there is none)") from None
    return check


# ---- the checker ----------------------------------------------------------------------------
# A case is checked as pydantic checks a model with extra keys forbidden (lax, but for the
# strict yes/no): each declared field the mapping has, in declaration order, then every key
# that is no field; every error is reported, each in pydantic's shape (`type`, `loc`, `msg`,
# `input`, `ctx`) and words, which `validation_diagnostics` turns into diagnostics.

_BAD: Any = object()  # a value that did not check (its error is recorded)


# (plain classes, not dataclasses: these are defined on every run, and a dataclass costs
# its definition a few tenths of a millisecond)
class _Field:
    """How one field is checked. `form`: `value` (read by `read`), `bool` (strictly true or
    false), `enum` (one of `members`), `text` (an enum without members: any text), `group`
    (a mapping of the fields of `group`), `records` (a list of such mappings), `mapping` (a
    mapping with text keys, values unchecked). `nullable`: `null` states observed absence."""

    __slots__ = ("form", "group", "members", "nullable", "read", "required")

    def __init__(self, form: str, read: Callable[[Any], Any] | None = None,
                 nullable: bool = False, required: bool = False,
                 members: tuple[str, ...] = (), group: _Group | None = None):
        self.form, self.read, self.nullable, self.required = form, read, nullable, required
        self.members, self.group = members, group


class _Group:
    """A mapping of declared fields; `name` is the one pydantic's messages give its model
    (`Facts_applicant`, `lines_record`); `absent` what `null` reads as."""

    __slots__ = ("absent", "fields", "name")

    def __init__(self, name: str, fields: dict[str, _Field], absent: Any = ABSENT):
        self.name, self.fields, self.absent = name, fields, absent


def _err(kind: str, loc: Loc, msg: str, v: Any, ctx: dict[str, Any] | None = None
         ) -> dict[str, Any]:
    e = {"type": kind, "loc": loc, "msg": msg, "input": v}
    if ctx is not None:
        e["ctx"] = ctx
    return e


def _at(key: Any) -> str | int:
    """A key as a place in an error's `loc`, as pydantic writes it (True is 1, b'k' "b'k'")."""
    if isinstance(key, str):
        return str(key)
    return int(key) if isinstance(key, int) else str(key)


def _text_of(v: Any, loc: Loc, errs: list[dict[str, Any]]) -> Any:
    """Text as pydantic's lax `str` reads it (bytes decoded as UTF-8)."""
    if isinstance(v, str):
        return str(v)
    if isinstance(v, bytes | bytearray):
        try:
            return bytes(v).decode("utf-8")
        except UnicodeDecodeError:
            errs.append(_err("string_unicode", loc, "Input should be a valid string, unable "
                             "to parse raw data as a unicode string", v))
            return _BAD
    errs.append(_err("string_type", loc, "Input should be a valid string", v))
    return _BAD


def _check(f: _Field, v: Any, loc: Loc, errs: list[dict[str, Any]]) -> Any:
    """The value `v` read for field `f`, or `_BAD` (its errors added to `errs`)."""
    form = f.form
    if form == "value":
        assert f.read is not None
        try:
            return f.read(v)
        except ValueProblem as e:
            errs.append(_err("yakkan_value", loc, e.message, v,
                             {"message": e.message, "hint": e.hint}))
        except ValueError as e:
            errs.append(_err("value_error", loc, f"Value error, {e}", v, {"error": e}))
        return _BAD
    if form == "bool":
        if type(v) is bool:
            return v
        errs.append(_err("bool_type", loc, "Input should be a valid boolean", v))
        return _BAD
    if form == "enum":
        if isinstance(v, str) and v in f.members:
            return str(v)
        expected = _expected(f.members)
        errs.append(_err("literal_error", loc, f"Input should be {expected}", v,
                         {"expected": expected}))
        return _BAD
    if form == "text":
        return _text_of(v, loc, errs)
    if form == "group":
        assert f.group is not None
        return _check_group(f.group, v, loc, errs)
    if form == "records":
        assert f.group is not None
        if not isinstance(v, list | tuple | set | frozenset):
            errs.append(_err("list_type", loc, "Input should be a valid list", v))
            return _BAD
        out = [_check_group(f.group, x, (*loc, i), errs) for i, x in enumerate(v)]
        return _BAD if any(x is _BAD for x in out) else out
    assert form == "mapping"
    if not isinstance(v, dict):
        errs.append(_err("dict_type", loc, "Input should be a valid dictionary", v))
        return _BAD
    mapping: dict[str, Any] = {}
    ok = True
    for k, x in v.items():
        key = _text_of(k, (*loc, _at(k), "[key]"), errs)
        if key is _BAD:
            ok = False
        else:
            mapping[key] = x
    return mapping if ok else _BAD


def _check_group(g: _Group, v: Any, loc: Loc, errs: list[dict[str, Any]]) -> Any:
    if not isinstance(v, dict):
        errs.append(_err("model_type", loc, "Input should be a valid dictionary or instance "
                         f"of {g.name}", v, {"class_name": g.name}))
        return _BAD
    out: dict[str, Any] = {}
    for name, f in g.fields.items():
        if name in v:
            x = v[name]
            if x is None and f.nullable:
                out[name] = g.absent
            else:
                x = _check(f, x, (*loc, name), errs)
                if x is not _BAD:
                    out[name] = x
        elif f.required:
            errs.append(_err("missing", (*loc, name), "Field required", v))
    if len(v) > len(out):
        for k, x in v.items():
            if not isinstance(k, str):
                errs.append(_err("invalid_key", (*loc, _at(k)), "Keys should be strings", k))
            elif k not in g.fields:
                errs.append(_err("extra_forbidden", (*loc, k), "Extra inputs are not permitted",
                                 x))
    return out


def _expected(members: tuple[str, ...]) -> str:
    """`'a', 'b' or 'c'`, as pydantic lists the values of a Literal."""
    shown = [repr(m) for m in members]
    return shown[0] if len(shown) == 1 else ", ".join(shown[:-1]) + " or " + shown[-1]


def _field_check(t: I.YType, name: str, label: str | None) -> _Field:
    nullable = t.base in ABSENT_OK
    if t.constraint is None and t.base == "enum":
        names = tuple(m.name for m in t.members)
        return _Field("enum", members=names) if names else _Field("text")
    if t.constraint is None and t.base == "list":
        rec = {f.name: _field_check(f.type, f.name, f.label) for f in t.fields}
        return _Field("records", group=_Group(f"{name}_record", rec))
    if t.constraint is None and t.base == "bool":
        return _Field("bool")
    return _Field("value", read=reader_of(t, label), nullable=nullable)


def facts_tree(book: Rulebook) -> dict[str, Any]:
    """The vocabulary as nested mappings, by the parts of each fact's path: a leaf is the
    fact's (type, label) — judgments marked in their label."""
    tree: dict[str, Any] = {}
    for f in book.facts.values():
        node = tree
        for p in f.path[:-1]:
            node = node.setdefault(p, {})
        label = f.label or ".".join(f.path)
        if f.judgment and "判断" not in label:
            label += "（判断）"
        node[f.path[-1]] = (f.type, label)
    return tree


class FactsCheck:
    """The checker of a case's `facts` for one document version, and the field names at
    each path (for did-you-mean hints): built once per rulebook and kept with it."""

    __slots__ = ("group", "known")

    def __init__(self, group: _Group):
        self.group = group
        self.known: dict[tuple[str, ...], list[str]] = {}


def facts_check(book: Rulebook) -> FactsCheck:
    c = book.derived.facts_check
    if not isinstance(c, FactsCheck):
        c = book.derived.facts_check = _facts_check(book)
    return c


def _facts_check(book: Rulebook) -> FactsCheck:
    def build(tree: dict[str, Any], name: str) -> _Group:
        fields: dict[str, _Field] = {}
        for k, v in tree.items():
            if isinstance(v, dict):
                fields[k] = _Field("group", group=build(v, f"{name}_{k}"))
            else:
                fields[k] = _field_check(v[0], k, v[1])
        return _Group(name, fields)

    out = FactsCheck(build(facts_tree(book), "Facts"))

    def known(g: _Group, at: tuple[str, ...]) -> None:
        out.known[at] = list(g.fields)
        for name, f in g.fields.items():
            if f.group is not None:
                known(f.group, (*at, name) if f.form == "group" else (*at, name, "*"))
    known(out.group, ())
    return out


class CaseErrors(Exception):
    """What a check found, as pydantic's `ValidationError.errors()` lists it."""

    def __init__(self, errors: list[dict[str, Any]]):
        super().__init__(f"{len(errors)} errors")
        self._errors = errors

    def errors(self, include_url: bool = False) -> list[dict[str, Any]]:
        return self._errors


class CaseFile:
    """A case as written: which document, when, what is known, what is expected."""

    def __init__(self, document: str, as_of: dt.date | None = None, title: str | None = None,
                 note: str | None = None, facts: dict[str, Any] | None = None,
                 expect: dict[str, Any] | None = None):
        self.document, self.as_of, self.title, self.note = document, as_of, title, note
        self.facts: dict[str, Any] = {} if facts is None else facts
        self.expect = expect


_CASE_FILE = _Group("CaseFile", {
    "document": _Field("value", read=_text, required=True),
    "as_of": _Field("value", read=_date, nullable=True),
    "title": _Field("value", read=_text, nullable=True),
    "note": _Field("value", read=_text, nullable=True),
    "facts": _Field("mapping"),
    "expect": _Field("mapping", nullable=True),
}, absent=None)


def facts_model(book: Rulebook) -> type[BaseModel]:
    """The facts of a case as a pydantic model (`case_model.py`: batch reads rows with it)."""
    from yakkan.engine.runtime.case_model import facts_model as build
    return build(book)

# ---- reading YAML and JSON ----------------------------------------------------------------

Loc = tuple[Any, ...]
Positions = dict[Loc, tuple[int, int, int]]  # path → (line, column, width), 1-based


class _InputError(Exception):
    """A structural problem of the file (depth, size, duplicate key): one diagnostic."""

    def __init__(self, code: str, message: str, line: int, column: int, width: int = 1,
                 hint: str | None = None, related: list[tuple[int, int, str]] | None = None):
        super().__init__(message)
        self.code, self.message, self.hint = code, message, hint
        self.line, self.column, self.width = line, column, width
        self.related = related or []


_CORE_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_CORE_FLOAT = re.compile(
    r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
    r"|\.(?:nan|NaN|NAN))$")


class _CoreSchema(yaml.composer.Composer, yaml.constructor.SafeConstructor):
    """YAML 1.2 core schema: true/false are the only booleans (`yes`, `no`, `on`, `off` are
    text), integers are decimal, 0o octal or 0x hex (`010` is ten, `1:30` is text), no
    implicit timestamps (dates stay text and are read by `parse_date`, so 2023-02-30 is a
    diagnostic and 令和 dates work the same way), no merge keys; nesting depth bounded.
    Mixed into both loaders below (the composer is PyYAML's Python one in both)."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[attr-defined]
                raise _InputError("case.too-deep", f"the case nests deeper than {MAX_DEPTH} "
                                  "levels", mark.line + 1, mark.column + 1,
                                  hint="a case needs a few levels: facts, a group, a record")
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_core_int(self, node: yaml.ScalarNode) -> int:
        v = str(self.construct_scalar(node))
        if len(v) > 1000:
            raise yaml.constructor.ConstructorError(
                None, None, f"the number {v[:20]}… is too long", node.start_mark)
        if v.startswith("0o"):
            return int(v[2:], 8)
        if v.startswith("0x"):
            return int(v[2:], 16)
        return int(v, 10)

    def construct_core_float(self, node: yaml.ScalarNode) -> float | Decimal:
        v = str(self.construct_scalar(node))
        low = v.lower()
        if low.endswith(".inf") or low == ".nan":
            return float("nan")  # refused by every numeric fact
        if len(v) > 1000:
            raise yaml.constructor.ConstructorError(
                None, None, f"the number {v[:20]}… is too long", node.start_mark)
        return Decimal(v)  # exact: 16.98 stays 16.98


class _CaseLoader(_CoreSchema, yaml.SafeLoader):
    """The reference loader (pure Python): its error messages are the ones reported."""


_CaseLoader.yaml_implicit_resolvers = {}
_CaseLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"))
_CaseLoader.add_implicit_resolver("tag:yaml.org,2002:int", _CORE_INT, list("-+0123456789"))
_CaseLoader.add_implicit_resolver("tag:yaml.org,2002:float", _CORE_FLOAT,
                                  list("-+0123456789."))
_CaseLoader.add_implicit_resolver("tag:yaml.org,2002:null",
                                  re.compile(r"^(?:~|null|Null|NULL|)$"), ["~", "n", "N", ""])
# (the stubs bind a constructor's self to the stock loaders; these are the mixin's methods)
_CaseLoader.add_constructor("tag:yaml.org,2002:int",
                            _CaseLoader.construct_core_int)  # type: ignore[type-var]
_CaseLoader.add_constructor("tag:yaml.org,2002:float",
                            _CaseLoader.construct_core_float)  # type: ignore[type-var]

try:  # libyaml's scanner and parser (C), when PyYAML was built with it
    _CParser: Any = importlib.import_module("yaml.cyaml").CParser
except (ImportError, AttributeError):  # pragma: no cover
    _CParser = None
_FastCaseLoader: Any = None
if _CParser is not None:
    class _FastLoader(_CoreSchema, _CParser, yaml.resolver.Resolver):
        """The same schema and bounds, read by libyaml's C scanner and parser (about six
        times faster); only the composing stays in Python, where the depth is bounded. On
        a syntax error the reference loader reads the text again and reports it."""

        def __init__(self, stream: str) -> None:
            _CParser.__init__(self, stream)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            yaml.composer.Composer.__init__(self)

    _FastLoader.yaml_implicit_resolvers = _CaseLoader.yaml_implicit_resolvers
    _FastLoader.yaml_constructors = _CaseLoader.yaml_constructors
    _FastCaseLoader = _FastLoader


def _read_yaml(text: str, construct: bool) -> tuple[Positions, Any]:
    """The positions of every path of a YAML text, after its bounds and duplicate keys are
    checked (`_yaml_checks`, before anything is constructed), and its data when
    `construct`. libyaml's parser reads it when there is one; a YAML error is raised in the
    reference loader's words (it reads the text again)."""
    loaders = (_FastCaseLoader, _CaseLoader) if _FastCaseLoader is not None else (_CaseLoader,)
    for cls in loaders:
        loader = cls(text)
        try:
            node = loader.get_single_node()
            pos = _yaml_checks(node) if node is not None else {}
            data = loader.construct_document(node) if construct and node is not None else None
            return pos, data
        except yaml.YAMLError:
            if cls is _CaseLoader:
                raise
        finally:
            loader.dispose()
    raise AssertionError("unreachable")  # pragma: no cover


def _yaml_checks(root: yaml.Node) -> Positions:
    """Bound alias expansion, refuse duplicate keys (naming both lines) and map every path
    to its position — in time linear in the expanded size (itself bounded)."""
    sizes: dict[int, int] = {}

    def size(n: yaml.Node) -> int:  # memoised on node identity: aliases share nodes
        if id(n) in sizes:
            return sizes[id(n)]
        sizes[id(n)] = MAX_NODES + 1  # a recursive alias counts as too large
        total = 1
        if isinstance(n, yaml.MappingNode):
            for k, v in n.value:
                total += size(k) + size(v)
                if total > MAX_NODES:
                    break
        elif isinstance(n, yaml.SequenceNode):
            for v in n.value:
                total += size(v)
                if total > MAX_NODES:
                    break
        sizes[id(n)] = total
        return total

    if size(root) > MAX_NODES:
        raise _InputError("case.too-large", f"the case has more than {MAX_NODES:,} values "
                          "once its YAML aliases (*name) are expanded", 1, 1,
                          hint="write the values out, or use fewer aliases")
    pos: Positions = {}

    def walk(n: yaml.Node, at: Loc) -> None:
        if isinstance(n, yaml.MappingNode):
            seen: dict[Any, yaml.Node] = {}
            for k, v in n.value:
                key = k.value if isinstance(k, yaml.ScalarNode) else None
                if key is not None and key in seen:
                    first = seen[key].start_mark
                    raise _InputError(
                        "case.duplicate-key",
                        f"`{_clip(str(key), 60)}` is given twice "
                        f"({_lines(first.line + 1, k.start_mark.line + 1)}): YAML would "
                        "silently keep the last value",
                        k.start_mark.line + 1, k.start_mark.column + 1, max(len(str(key)), 1),
                        hint="keep one of them",
                        related=[(first.line + 1, first.column + 1, "first given here")])
                if key is not None:
                    seen[key] = k
                    loc = (*at, key)
                    pos.setdefault(loc, (k.start_mark.line + 1, k.start_mark.column + 1,
                                         max(len(str(key)), 1)))
                    walk(v, loc)
        elif isinstance(n, yaml.SequenceNode):
            for i, v in enumerate(n.value):
                loc = (*at, i)
                pos.setdefault(loc, (v.start_mark.line + 1, v.start_mark.column + 1, 1))
                walk(v, loc)

    walk(root, ())
    return pos


_JSON_TOKEN = re.compile(r'"(?:[^"\\\n]|\\.)*"|[{}\[\],:]')
_NON_SPACE = re.compile(r"\S")


def _json_checks(text: str) -> Positions:
    """One linear pass over JSON text: depth bounded, duplicate keys refused (both lines
    named), every path mapped to its position. Syntax is left to `json.loads`."""
    pos: Positions = {}
    # frame: [is_object, path, keys seen {key: (line, col)}, index, current key, expect key]
    stack: list[list[Any]] = []
    line, line_start, last = 1, 0, 0

    def where(i: int) -> tuple[int, int]:
        nonlocal line, line_start, last
        nl = text.count("\n", last, i)
        if nl:
            line += nl
            line_start = text.rfind("\n", last, i) + 1
        last = i
        return line, i - line_start + 1

    def child_path() -> Loc:
        if not stack:
            return ()
        f = stack[-1]
        return (*f[1], f[4]) if f[0] else (*f[1], f[3])

    def item_at(i: int) -> None:  # the next array item starts at the next non-space
        m = _NON_SPACE.search(text, i)
        if m and m.group() not in "]," and stack and not stack[-1][0]:
            ln, col = where(m.start())
            pos.setdefault((*stack[-1][1], stack[-1][3]), (ln, col, 1))

    for m in _JSON_TOKEN.finditer(text):
        tok = m.group()
        if tok in "{[":
            if len(stack) >= MAX_DEPTH:
                ln, col = where(m.start())
                raise _InputError("case.too-deep", f"the case nests deeper than {MAX_DEPTH} "
                                  "levels", ln, col,
                                  hint="a case needs a few levels: facts, a group, a record")
            stack.append([tok == "{", child_path(), {}, 0, None, True])
            if tok == "[":
                item_at(m.end())
        elif tok in "}]":
            if stack:
                stack.pop()
        elif tok == ",":
            if stack and stack[-1][0]:
                stack[-1][5] = True
            elif stack:
                stack[-1][3] += 1
                item_at(m.end())
        elif tok == ":":
            continue
        elif stack and stack[-1][0] and stack[-1][5]:  # a key
            f = stack[-1]
            try:
                key = json.loads(tok)
            except ValueError:
                continue  # json.loads reports it
            ln, col = where(m.start())
            if key in f[2]:
                fl, fc = f[2][key]
                raise _InputError(
                    "case.duplicate-key",
                    f"`{_clip(key, 60)}` is given twice ({_lines(fl, ln)}): JSON would "
                    "silently keep the last value", ln, col, max(len(tok), 1),
                    hint="keep one of them", related=[(fl, fc, "first given here")])
            f[2][key] = (ln, col)
            f[4], f[5] = key, False
            pos.setdefault((*f[1], key), (ln, col + 1, max(len(key), 1)))
    return pos


def _json_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number in a case file")


def _span(path: str, line: int, col: int, width: int = 1) -> I.Span:
    return I.Span(file=path, line=line, column=col, end_line=line, end_column=col + width)


# positions of the paths of the files read, for the diagnostics of `validate_facts`
_POSITIONS: dict[str, tuple[str, Positions]] = {}


def _positions_of(path: str, text: str) -> Positions:
    """The positions of every path of a case text (cached for the file last read)."""
    hit = _POSITIONS.get(path)
    if hit is not None and hit[0] == text:
        return hit[1]
    try:
        if path.endswith(".json"):
            pos = _json_checks(text)
        else:
            pos, _ = _read_yaml(text, construct=False)
    except (_InputError, yaml.YAMLError, ValueError, RecursionError):
        pos = {}
    _remember(path, text, pos)
    return pos


def _remember(path: str, text: str, pos: Positions) -> None:
    if len(_POSITIONS) > 16:
        _POSITIONS.clear()
    _POSITIONS[path] = (text, pos)


def read_case_data(path: str) -> tuple[dict[str, Any], str]:
    """Read a YAML/JSON case file into a mapping. Exit 2 (YakkanError) on bad syntax, a
    duplicated key, too deep a nesting or too many values, or a file that is not a regular
    file of reasonable size (`/dev/zero` is never read)."""
    try:
        st = os.stat(path)
    except OSError:
        st = None  # read_text says what is wrong
    if st is not None and not stat.S_ISREG(st.st_mode) and not stat.S_ISDIR(st.st_mode):
        raise YakkanError([Diagnostic(code="io.not-a-file", message=f"`{_clip(path, 200)}` "
                                      "is not a regular file",
                                      hint="give the path of a YAML or JSON case file")])
    if st is not None and st.st_size > MAX_CASE_BYTES:
        raise YakkanError([Diagnostic(code="case.too-large",
                                      message=f"`{_clip(path, 200)}` is too large for a case "
                                      f"file ({st.st_size:,} bytes; at most "
                                      f"{MAX_CASE_BYTES:,})")])
    text = read_text(Path(path), path)
    return parse_case_text(text, path)


def parse_case_text(text: str, path: str,
                    is_json: bool | None = None) -> tuple[dict[str, Any], str]:
    """A case's text (JSON when `is_json`, by default when `path` ends with `.json`; else
    YAML 1.2) as a mapping, with the same checks and diagnostics as a case file (`path` names
    the source in them; it is never opened). `read_case_data` reads a file and calls this;
    the console (`yakkan serve`) calls it with a request's body."""
    if len(text) > MAX_CASE_BYTES:
        raise YakkanError([Diagnostic(code="case.too-large",
                                      message=f"`{_clip(path, 200)}` is too large for a case "
                                      f"({len(text):,} characters; at most "
                                      f"{MAX_CASE_BYTES:,} bytes)")])
    if is_json is None:
        is_json = path.endswith(".json")
    try:
        if is_json:
            pos = _json_checks(text)
            data = json.loads(text, parse_float=Decimal, parse_constant=_json_constant)
        else:
            pos, data = _read_yaml(text, construct=True)
    except _InputError as e:
        raise YakkanError([Diagnostic(
            code=e.code, message=e.message, span=_span(path, e.line, e.column, e.width),
            hint=e.hint, related=[(_span(path, ln, col), msg) for ln, col, msg in e.related],
        )], sources={path: text}) from None
    except (yaml.YAMLError, ValueError, RecursionError) as e:
        mark = getattr(e, "problem_mark", None)
        nlines = max(text.count("\n") + (0 if text.endswith("\n") else 1), 1)
        line = min(mark.line + 1 if mark is not None else getattr(e, "lineno", 1), nlines)
        col = mark.column + 1 if mark is not None else getattr(e, "colno", 1)
        problem = getattr(e, "problem", None) or getattr(e, "msg", None) or e
        if isinstance(e, yaml.reader.ReaderError):  # a character YAML refuses: at its place
            before = text[:e.position]
            line, col = before.count("\n") + 1, e.position - (before.rfind("\n") + 1) + 1
            char = e.character if isinstance(e.character, int) else ord(e.character[:1] or " ")
            problem = f"unacceptable character U+{char:04X}: {e.reason}"
        raise YakkanError([Diagnostic(
            code="case.syntax", message=f"the case file is not valid "
            f"{'JSON' if is_json else 'YAML'}: {_clip(str(problem), 200)}",
            span=_span(path, line, col),
            hint="check the indentation and the brackets around this line",
        )], sources={path: text}) from None
    if not isinstance(data, dict):
        raise YakkanError([Diagnostic(
            code="case.not-a-mapping", span=_span(path, 1, 1, 0),
            message=f"`{_clip(path, 200)}` is not a case: a case file is a mapping with "
            "`document` and `facts`")], sources={path: text})
    _remember(path, text, pos)
    return data, text


def case_header(data: dict[str, Any], path: str, text: str) -> \
        tuple[CaseFile | None, list[Diagnostic]]:
    """The case's own fields (document, as_of, title, note, expect) and their errors."""
    errs: list[dict[str, Any]] = []
    fields = _check_group(_CASE_FILE, data, (), errs)
    if errs:
        return None, validation_diagnostics(CaseErrors(errs), path, text,
                                            {(): list(_CASE_FILE.fields)})
    return CaseFile(**fields), []


def case_document(value: Any, case_path: str, text: str,
                  diags: list[Diagnostic]) -> str | None:
    """The document a case file names, checked: a bundled id, or a path relative to the case
    file's own folder that is a regular `.yk` file or a folder of them. Anything else adds a
    `case.bad-document` diagnostic to `diags` and gives None — nothing else is read, and
    nothing of a foreign file is shown. (`--doc` on the command line is not checked: the
    user names what they mean.)"""
    if not isinstance(value, str):
        return None
    m = re.search(r'^[ \t]*["\']?document["\']?[ \t]*:', text, re.M)
    line = text.count("\n", 0, m.start()) + 1 if m else 1
    col = m.start() - (text.rfind("\n", 0, m.start()) + 1) + 1 + \
        (len(m.group()) - len(m.group().lstrip())) if m else 1
    shown = _clip(value, 80)

    def bad(message: str, hint: str | None = None) -> None:
        diags.append(Diagnostic(code="case.bad-document", message=message, hint=hint,
                                span=_span(case_path, line, col, len("document"))))

    ids = bundled_ids()
    if value in ids:
        return value
    if not value.strip() or "\0" in value or len(value) > 1000:
        bad(f"`document: {shown}` names no document",
            "bundled documents: " + ", ".join(ids))
        return None
    base = Path(case_path).parent
    target = base / value
    looks_like_path = "/" in value or "\\" in value or value.endswith(".yk") or \
        value.startswith(".")
    try:
        real = target.resolve(strict=True)
        st = os.stat(real)
    except (OSError, RuntimeError):
        if looks_like_path:
            bad(f"`document: {shown}`: no `.yk` file or folder at that path (relative to the "
                "case file's folder)", "a path in a case file is read from the case file's "
                f"own folder, `{_clip(str(base), 120)}`")
        else:
            bad(f"unknown document `{shown}`",
                did_you_mean(value, ids) or "bundled documents: " + ", ".join(ids))
        return None
    if stat.S_ISREG(st.st_mode):
        if real.suffix != ".yk" or target.suffix != ".yk":
            bad(f"`document: {shown}` is not a `.yk` clause file",
                "give a bundled document id, a `.yk` file or a folder of them")
            return None
        return str(target)
    if stat.S_ISDIR(st.st_mode):
        problem = _clause_folder_problem(real)
        if problem:
            bad(f"`document: {shown}` {problem}",
                "give a bundled document id, a `.yk` file or a folder of them")
            return None
        return str(target)
    bad(f"`document: {shown}` is not a `.yk` clause file",
        "give a bundled document id, a `.yk` file or a folder of them")
    return None


def _clause_folder_problem(folder: Path) -> str | None:
    """Why a folder is not a document (None if it is one): it must hold `.yk` files, every
    `.yk` file found below it must be a regular file, and it must be small."""
    found, looked = 0, 0
    todo = [folder]
    while todo:
        d = todo.pop()
        try:
            entries = list(os.scandir(d))
        except OSError:
            return "cannot be read"
        for e in entries:
            looked += 1
            if looked > MAX_DOC_FILES:
                return f"holds more than {MAX_DOC_FILES} entries: it is not a clause folder"
            if e.is_dir(follow_symlinks=False):
                todo.append(Path(e.path))
            elif e.name.endswith(".yk"):
                if not e.is_file(follow_symlinks=False):
                    return f"holds `{_clip(e.name, 60)}`, which is not a regular file"
                found += 1
    return None if found else "holds no `.yk` files"


def facts_dict(m: Any) -> Any:
    """Validated facts as plain nested dicts, unknowns left out, `null` as `values.ABSENT`
    (observed absence), and values kept as the evaluator wants them (Duration, Decimal,
    date): what `validate_facts` gives (returned as it is), or a model `facts_model`
    validated (batch's rows) — `model_dump` would turn a Duration into a dict."""
    fields_set = getattr(m, "model_fields_set", None)
    if fields_set is not None:  # a pydantic model; `null` given for a field: observed absence
        return {k: ABSENT if v is None else facts_dict(v) for k, v in m
                if v is not None or k in fields_set}
    if isinstance(m, list):
        return [facts_dict(x) for x in m]
    return m


def validate_facts(book: Rulebook, facts: dict[str, Any], path: str = "<case>",
                   text: str = "") -> dict[str, Any]:
    """Check raw facts against the document's vocabulary: the facts as the evaluator reads
    them (`facts_dict`); all errors at once (exit 2)."""
    check = facts_check(book)
    errs: list[dict[str, Any]] = []
    out = _check_group(check.group, facts, (), errs)
    if errs:
        raise YakkanError(validation_diagnostics(CaseErrors(errs), path, text, check.known,
                                 prefix=("facts",)), sources={path: text})
    assert isinstance(out, dict)
    return out


def known_fields(model: type[BaseModel]) -> dict[tuple[str, ...], list[str]]:
    """Field names at each path of a pydantic model (batch), for did-you-mean hints."""
    from yakkan.engine.runtime import case_model
    return case_model.known_fields(model)


# ---- bounded messages ---------------------------------------------------------------------

def _clip(s: str, n: int) -> str:
    """`s` cut to `n` characters, control characters shown escaped."""
    s = s if len(s) <= n else s[: n - 1] + "…"
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", lambda m: repr(m.group())[1:-1], s)


def _kind(v: Any) -> str:
    if isinstance(v, dict):
        return f"a mapping ({len(v)} keys)"
    if isinstance(v, list | tuple):
        return f"a list ({len(v)} items)"
    if v is None:
        return "null"
    return f"a value of type {type(v).__name__}"


def _lines(first: int, second: int) -> str:
    """Where a key is given twice: `lines 3 and 8`, or `both on line 1`."""
    return f"both on line {first}" if first == second else f"lines {first} and {second}"


def _short(v: Any) -> str:
    """A value as shown in a message: bounded whatever its size, computed without a full
    `repr` (an alias-expanded list is never walked)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return repr(_clip(v, 60))
    if isinstance(v, int):
        s = str(v) if v.bit_length() < 200 else None
        return s if s is not None and len(s) <= 30 else \
            f"{'-' if v < 0 else ''}(about {int(v.bit_length() * 0.30103)} digits)"
    if isinstance(v, float | Decimal):
        s = str(v)
        return s if len(s) <= 30 else s[:27] + "…"
    if isinstance(v, dt.date):
        return v.isoformat()
    if isinstance(v, dict | list | tuple) or v is None:
        return _kind(v)
    return _clip(str(v), 60)


def _where(path: str, text: str, loc: Loc) -> I.Span | None:
    """The position of `loc` (or of its nearest ancestor) in the file read, if known."""
    if not text:
        return None
    pos = _positions_of(path, text)
    for n in range(len(loc), 0, -1):
        hit = pos.get(loc[:n])
        if hit is not None:
            return _span(path, hit[0], hit[1], hit[2])
    return None


def position_of(path: str, text: str, loc: Loc) -> I.Span | None:
    """Where `loc` (a path of keys and indexes, e.g. `("document",)`) stands in a case's text
    read as `path`, if known."""
    return _where(path, text, loc)


def validation_diagnostics(e: CaseErrors | Any, path: str, text: str,
                           known: dict[tuple[str, ...], list[str]],
                           prefix: tuple[str, ...] = ()) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    errors = e.errors(include_url=False)
    for err in errors[:MAX_ERRORS]:
        loc = tuple(err["loc"])
        full = (*prefix, *loc)
        dotted = ".".join(_clip(str(x), 60) for x in full)
        span = _where(path, text, full)
        got = err.get("input")
        ctx = err.get("ctx") or {}
        if err["type"] == "extra_forbidden":
            parent = tuple("*" if isinstance(x, int) else str(x) for x in loc[:-1])
            cands = known.get(parent, [])
            out.append(Diagnostic(
                code="case.unknown-field", span=span,
                message=f"unknown field `{dotted}`",
                hint=did_you_mean(_clip(str(loc[-1]), 60), cands)
                or ("known here: " + ", ".join(cands) if cands else None)))
        elif err["type"] == "missing":
            out.append(Diagnostic(code="case.missing-field", span=span,
                                  message=f"`{dotted}` is required"))
        elif err["type"] == "yakkan_value":
            out.append(Diagnostic(code="case.bad-value", span=span, hint=ctx.get("hint"),
                                  message=f"`{dotted}`: {ctx.get('message', err['msg'])}"))
        else:
            msg = _clip(str(err["msg"]).removeprefix("Value error, "), 200)
            hint = None
            if err["type"] == "literal_error":
                exp = str(ctx.get("expected", ""))
                msg = f"expected one of {_clip(exp, 300)}"
                hint = did_you_mean(_clip(str(got), 60), re.findall(r"'([^']+)'", exp))
            elif err["type"].startswith("bool"):
                msg = "expected true or false"
                hint = "write true or false without quotes (unknown: leave the field out)"
                if isinstance(got, str) and got.strip().lower() in _YAML11_BOOLS:
                    hint = (f"`{_clip(got, 10)}` is text in YAML 1.2, which yakkan reads: "
                            "write true or false")
                elif got is None:
                    hint = ("`null` states that a value is absent, but a yes/no fact always "
                            "has one: write true or false, or leave the field out if unknown")
            elif got is None and err["type"] in ("literal_error", "list_type",
                                                 "model_type"):
                hint = ("`null` states that a value is absent (an event that did not "
                        "happen); this field always has one — leave it out if unknown")
            elif err["type"].startswith(("int", "decimal", "float")):
                msg = "expected a number"
            shown = _short(got)
            out.append(Diagnostic(
                code="case.bad-value", span=span, hint=hint,
                message=f"`{dotted}`: {msg}" + ("" if shown in msg else f" (got {shown})")))
    if len(errors) > MAX_ERRORS:
        out.append(Diagnostic(code="case.more-errors", span=out[-1].span if out else None,
                              message=f"… and {len(errors) - MAX_ERRORS:,} more errors in "
                              "this case (the first "
                              f"{MAX_ERRORS} are shown)"))
    return out


def json_schema(book: Rulebook) -> dict[str, Any]:
    """The JSON Schema of a case file (`case_model.py`)."""
    from yakkan.engine.runtime.case_model import json_schema as schema
    return schema(book)
