"""The case model: a pydantic model generated from a document's fact vocabulary.

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
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import math
import os
import re
import stat
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal, get_args, get_origin

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    WithJsonSchema,
    create_model,
)
from pydantic_core import PydanticCustomError

from yakkan.engine.core import ir as I
from yakkan.engine.core.diagnostics import Diagnostic, YakkanError, did_you_mean
from yakkan.engine.core.money import parse_jpy
from yakkan.engine.core.numerals import normalize_width, parse_date
from yakkan.engine.core.periods import Duration, parse_duration
from yakkan.engine.core.textnorm import IDENTIFIERS, canonical_id
from yakkan.engine.core.values import ABSENT
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.syntax.load import bundled_ids, read_text

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


def _bad(message: str, hint: str | None = None) -> PydanticCustomError:
    """A validation error with its own message and a hint (read back by
    `validation_diagnostics`)."""
    return PydanticCustomError("yakkan_value", "{message}", {"message": message, "hint": hint})


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


_MONEY_SCHEMA: dict[str, list[dict[str, Any]]] = {"anyOf": [
    {"type": "number", "minimum": 0, "maximum": int(MAX_AMOUNT)},
    {"type": "string", "pattern": r"^\s*([¥￥]\s*[0-9０-９,，.．]+|[0-9０-９,，.．万億]+\s*円)\s*$",
     "description": "an amount with its unit: 12,345円 or ¥12,345"}]}
_PERCENT_SCHEMA: dict[str, list[dict[str, Any]]] = {"anyOf": [
    {"type": "number", "minimum": 0, "maximum": 1, "description": "a fraction: 0.04 is 4%"},
    {"type": "string", "pattern": r"^\s*[0-9]+(\.[0-9]+)?\s*[%％]\s*$",
     "description": "a percentage: 4%"}]}
_DURATION_SCHEMA = {"type": "string", "description": "a duration with its unit: 61秒, 3分, 30日"}

DurationT = Annotated[Duration, BeforeValidator(_duration), WithJsonSchema(_DURATION_SCHEMA)]
SCALARS: dict[str, Any] = {
    "bool": StrictBool,  # "yes", "no", 1 are not booleans: a typo must not become a fact
    "int": Annotated[int, BeforeValidator(_count), WithJsonSchema(
        {"type": "integer", "minimum": 0, "maximum": MAX_INT})],
    "decimal": Annotated[Decimal, BeforeValidator(_decimal), WithJsonSchema(
        {"type": "number", "minimum": -int(MAX_AMOUNT), "maximum": int(MAX_AMOUNT)})],
    "percent": Annotated[Decimal, BeforeValidator(_percent), WithJsonSchema(_PERCENT_SCHEMA)],
    "money": Annotated[Decimal, BeforeValidator(_money), WithJsonSchema(_MONEY_SCHEMA)],
    "date": Annotated[dt.date, BeforeValidator(_date)],
    "text": Annotated[str, BeforeValidator(_text), WithJsonSchema(
        {"type": "string", "maxLength": MAX_TEXT})],
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# a fact of these types can be stated absent (`null`: no such event, no such value); a
# yes/no fact, an enum and a list always have a value, so `null` for them is an error
ABSENT_OK = frozenset({"int", "decimal", "money", "percent", "date", "duration", "text"})


def _nullable(t: I.YType, py: Any) -> Any:
    return py | None if t.base in ABSENT_OK else py


def _constrained(t: I.YType, label: str | None) -> Any:
    """The validated type of a fact with a declared `range` or `pattern`: the plain type's
    checks, then the constraint (a value outside is `case.bad-value` naming the range), and
    the JSON Schema's minimum/maximum/pattern."""
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
        return Annotated[str, BeforeValidator(text), WithJsonSchema(
            {"type": "string", "maxLength": MAX_TEXT, "pattern": f"^(?:{c.pattern})$"})]
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

    def num(d: Decimal) -> int | float:
        return int(d) if d == d.to_integral_value() else float(d)
    limit = Decimal(MAX_INT) if b == "int" else MAX_AMOUNT
    bounds: dict[str, Any] = {"minimum": num(lo if lo is not None else -limit)}
    top = min(hi, limit) if hi is not None else limit
    if b == "percent":
        top = min(top, Decimal(1))
    bounds["maximum"] = num(top)
    if b == "int":
        schema: dict[str, Any] = {"type": "integer", **bounds}
    elif b == "decimal":
        schema = {"type": "number", **bounds}
    else:
        number_form, text_form = (_MONEY_SCHEMA if b == "money" else _PERCENT_SCHEMA)["anyOf"]
        schema = {"anyOf": [{**number_form, **bounds}, text_form],
                  "description": f"{c.describe()}"}
    return Annotated[int if b == "int" else Decimal, BeforeValidator(number),
                     WithJsonSchema(schema)]


def _field_type(t: I.YType, name: str, label: str | None = None) -> Any:
    if t.constraint is not None:
        return _constrained(t, label)
    if t.base == "enum":
        names = tuple(m.name for m in t.members)
        return Literal[names] if names else str
    if t.base == "list":
        fields: dict[str, Any] = {}
        for f in t.fields:
            fields[f.name] = (_nullable(f.type, _field_type(f.type, f.name, f.label)),
                              Field(default=None, description=f.label))
        rec = create_model(f"{name}_record", __base__=_Strict, **fields)
        return list[rec]
    if t.base == "duration":
        return DurationT
    if t.ident in IDENTIFIERS:
        return _ident_type(t.ident)
    return SCALARS[t.base]


def _ident_type(kind: str) -> Any:
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
    return Annotated[str, BeforeValidator(check), WithJsonSchema(
        {"type": "string", "pattern": ident.pattern, "description": ident.describe()})]


def _build(tree: dict[str, Any], name: str, labels: dict[str, str]) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            sub = _build(v, f"{name}_{k}", labels)
            fields[k] = (sub, Field(default=None))
        else:
            decl_t, label = v
            fields[k] = (_nullable(decl_t, _field_type(decl_t, k, label)),
                         Field(default=None, description=label))
    return create_model(name, __base__=_Strict, **fields)


def facts_model(book: Rulebook) -> type[BaseModel]:
    """The pydantic model of a case's `facts` for this document version: built once per
    rulebook (building a pydantic model costs milliseconds; validating with it, microseconds)
    and kept with it."""
    model = book.derived.facts_model
    if model is None:
        model = book.derived.facts_model = _facts_model(book)
    return model


def _facts_model(book: Rulebook) -> type[BaseModel]:
    tree: dict[str, Any] = {}
    labels: dict[str, str] = {}
    for path, f in book.facts.items():
        node = tree
        parts = f.path
        for p in parts[:-1]:
            node = node.setdefault(p, {})
        label = f.label or path
        if f.judgment and "判断" not in label:
            label += "（判断）"
        node[parts[-1]] = (f.type, label)
        labels[path] = label
    return _build(tree, "Facts", labels)


DateT = Annotated[dt.date, BeforeValidator(_date)]


class CaseFile(BaseModel):
    """A case as written: which document, when, what is known, what is expected."""

    model_config = ConfigDict(extra="forbid", strict=False)

    document: Annotated[str, BeforeValidator(_text)]
    as_of: DateT | None = None
    title: Annotated[str, BeforeValidator(_text)] | None = None
    note: Annotated[str, BeforeValidator(_text)] | None = None
    facts: dict[str, Any] = {}
    expect: dict[str, Any] | None = None


def case_model(book: Rulebook) -> type[BaseModel]:
    """The pydantic model of a whole case file (for the JSON Schema), kept with the rulebook."""
    model = book.derived.case_model
    if model is None:
        model = book.derived.case_model = _case_model(book)
    return model


def _case_model(book: Rulebook) -> type[BaseModel]:
    facts = facts_model(book)
    return create_model(
        "Case", __base__=_Strict,
        document=(str, Field(description="document id, e.g. " + book.doc.header.id)),
        as_of=(DateT | None,
               Field(default=None, description="evaluation date (2023-04-17 or 令和5年4月17日)")),
        title=(str | None, None), note=(str | None, None),
        facts=(facts, Field(default_factory=facts)),
        expect=(dict[str, Any] | None, Field(default=None,
                                             description="expected outcomes (for tests)")),
    )


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
    try:
        return CaseFile.model_validate(data), []
    except ValidationError as e:
        return None, validation_diagnostics(e, path, text, {(): list(CaseFile.model_fields)})


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
    """A validated model as plain nested dicts, unknowns left out, `null` as
    `values.ABSENT` (observed absence), and values kept as the
    evaluator wants them (Duration, Decimal, date) — `model_dump` would turn a Duration into
    a dict."""
    if isinstance(m, BaseModel):  # `null` given for a field: observed absence
        return {k: ABSENT if v is None else facts_dict(v) for k, v in m
                if v is not None or k in m.model_fields_set}
    if isinstance(m, list):
        return [facts_dict(x) for x in m]
    return m


def validate_facts(book: Rulebook, facts: dict[str, Any], path: str = "<case>",
                   text: str = "") -> BaseModel:
    """Validate raw facts against the document's vocabulary; all errors at once (exit 2)."""
    model = facts_model(book)
    try:
        return model.model_validate(facts)
    except ValidationError as e:
        raise YakkanError(validation_diagnostics(e, path, text, known_fields(model),
                                                 prefix=("facts",)),
                          sources={path: text}) from None


def known_fields(model: type[BaseModel]) -> dict[tuple[str, ...], list[str]]:
    """Field names at each path of a (nested) model, for did-you-mean hints."""
    out: dict[tuple[str, ...], list[str]] = {}

    def visit(m: type[BaseModel], at: tuple[str, ...]) -> None:
        out[at] = list(m.model_fields)
        for name, f in m.model_fields.items():
            models_in(f.annotation, (*at, name))

    def models_in(ann: Any, at: tuple[str, ...]) -> None:
        if isinstance(ann, type) and issubclass(ann, BaseModel):
            visit(ann, at)
            return
        inner = (*at, "*") if get_origin(ann) is list else at
        for arg in get_args(ann):
            models_in(arg, inner)

    visit(model, ())
    return out


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


def validation_diagnostics(e: ValidationError, path: str, text: str,
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


_DATE_TEXT = {"type": "string", "description": "a date: 2023-04-17, 2023年4月17日 or 令和5年4月17日"}


def json_schema(book: Rulebook) -> dict[str, Any]:
    """The JSON Schema of a case file. Dates are strings in any accepted form (a JSON-Schema
    `format: date` would refuse 令和 dates that yakkan reads)."""
    schema = case_model(book).model_json_schema()

    def loosen(node: Any) -> None:
        if isinstance(node, dict):
            if node.get("format") == "date":
                node.pop("format")
                node.update(_DATE_TEXT)
            for v in node.values():
                loosen(v)
        elif isinstance(node, list):
            for v in node:
                loosen(v)
    loosen(schema)
    schema = {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}
    schema["title"] = f"yakkan case for {book.doc.header.id} ({book.doc.header.title})"
    return schema
