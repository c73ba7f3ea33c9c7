"""The case model as pydantic models: the JSON Schema of a case file (`yakkan schema`, the
console's form) and batch's validation of rows (`features/batch.py`).

A case file itself is checked by `case.validate_facts` and `case.case_header` without
pydantic (building these models costs a process tens of milliseconds: more than explaining
a case). Both read every value with the same readers (`case.reader_of`, `_count`, `_date`, …)
and report the same errors in the same order, with the same messages — a differential test
holds them equal (tests/test_case_checker.py). This module is imported only when a model is
asked for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Annotated, Any, Literal, get_args, get_origin

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    WithJsonSchema,
    create_model,
)
from pydantic_core import PydanticCustomError

from yakkan.engine.core import ir as I
from yakkan.engine.core.periods import Duration
from yakkan.engine.core.textnorm import IDENTIFIERS
from yakkan.engine.runtime import case as C
from yakkan.engine.semantics.resolve import Rulebook

_MONEY_SCHEMA: dict[str, list[dict[str, Any]]] = {"anyOf": [
    {"type": "number", "minimum": 0, "maximum": int(C.MAX_AMOUNT)},
    {"type": "string", "pattern": r"^\s*([¥￥]\s*[0-9０-９,，.．]+|[0-9０-９,，.．万億]+\s*円)\s*$",
     "description": "an amount with its unit: 12,345円 or ¥12,345"}]}
_PERCENT_SCHEMA: dict[str, list[dict[str, Any]]] = {"anyOf": [
    {"type": "number", "minimum": 0, "maximum": 1, "description": "a fraction: 0.04 is 4%"},
    {"type": "string", "pattern": r"^\s*[0-9]+(\.[0-9]+)?\s*[%％]\s*$",
     "description": "a percentage: 4%"}]}
_DURATION_SCHEMA = {"type": "string", "description": "a duration with its unit: 61秒, 3分, 30日"}
_DATE_TEXT = {"type": "string", "description": "a date: 2023-04-17, 2023年4月17日 or 令和5年4月17日"}


def _pydantic(read: Callable[[Any], Any]) -> Any:
    """A reader as a pydantic before-validator: its `ValueProblem` becomes the custom error
    `yakkan_value` (message and hint in its context, read back by `case.validation_diagnostics`)."""
    def before(v: Any) -> Any:
        try:
            return read(v)
        except C.ValueProblem as e:
            raise PydanticCustomError("yakkan_value", "{message}",
                                      {"message": e.message, "hint": e.hint}) from None
    return BeforeValidator(before)


SCALARS: dict[str, Any] = {
    "bool": StrictBool,  # "yes", "no", 1 are not booleans: a typo must not become a fact
    "int": Annotated[int, _pydantic(C._count), WithJsonSchema(
        {"type": "integer", "minimum": 0, "maximum": C.MAX_INT})],
    "decimal": Annotated[Decimal, _pydantic(C._decimal), WithJsonSchema(
        {"type": "number", "minimum": -int(C.MAX_AMOUNT), "maximum": int(C.MAX_AMOUNT)})],
    "percent": Annotated[Decimal, _pydantic(C._percent), WithJsonSchema(_PERCENT_SCHEMA)],
    "money": Annotated[Decimal, _pydantic(C._money), WithJsonSchema(_MONEY_SCHEMA)],
    "date": Annotated[dt.date, _pydantic(C._date)],
    "text": Annotated[str, _pydantic(C._text), WithJsonSchema(
        {"type": "string", "maxLength": C.MAX_TEXT})],
}
DurationT = Annotated[Duration, _pydantic(C._duration), WithJsonSchema(_DURATION_SCHEMA)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _nullable(t: I.YType, py: Any) -> Any:
    return py | None if t.base in C.ABSENT_OK else py


def _constrained(t: I.YType, label: str | None) -> Any:
    """The validated type of a fact with a declared `range` or `pattern` (`case.reader_of`
    reads it) and its JSON Schema's minimum/maximum/pattern."""
    c = t.constraint
    assert c is not None
    read = C._constrained(t, label)
    if c.pattern is not None:
        return Annotated[str, _pydantic(read), WithJsonSchema(
            {"type": "string", "maxLength": C.MAX_TEXT, "pattern": f"^(?:{c.pattern})$"})]
    lo, hi = t.value_bounds()
    b = t.base

    def num(d: Decimal) -> int | float:
        return int(d) if d == d.to_integral_value() else float(d)
    limit = Decimal(C.MAX_INT) if b == "int" else C.MAX_AMOUNT
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
    return Annotated[int if b == "int" else Decimal, _pydantic(read), WithJsonSchema(schema)]


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
        ident = IDENTIFIERS[t.ident]
        return Annotated[str, _pydantic(C._ident_reader(t.ident)), WithJsonSchema(
            {"type": "string", "pattern": ident.pattern, "description": ident.describe()})]
    return SCALARS[t.base]


def _build(tree: dict[str, Any], name: str) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            sub = _build(v, f"{name}_{k}")
            fields[k] = (sub, Field(default=None))
        else:
            decl_t, label = v
            fields[k] = (_nullable(decl_t, _field_type(decl_t, k, label)),
                         Field(default=None, description=label))
    return create_model(name, __base__=_Strict, **fields)


def facts_model(book: Rulebook) -> type[BaseModel]:
    """The pydantic model of a case's `facts` for this document version: built once per
    rulebook and kept with it."""
    model = book.derived.facts_model
    if model is None:
        model = book.derived.facts_model = _build(C.facts_tree(book), "Facts")
    return model


DateT = Annotated[dt.date, _pydantic(C._date)]


def case_model(book: Rulebook) -> type[BaseModel]:
    """The pydantic model of a whole case file (for the JSON Schema), kept with the rulebook."""
    model = book.derived.case_model
    if model is None:
        facts = facts_model(book)
        model = book.derived.case_model = create_model(
            "Case", __base__=_Strict,
            document=(str, Field(description="document id, e.g. " + book.doc.header.id)),
            as_of=(DateT | None, Field(default=None,
                                       description="evaluation date (2023-04-17 or 令和5年4月17日)")),
            title=(str | None, None), note=(str | None, None),
            facts=(facts, Field(default_factory=facts)),
            expect=(dict[str, Any] | None, Field(default=None,
                                                 description="expected outcomes (for tests)")),
        )
    return model


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

