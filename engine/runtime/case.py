"""The case model: a pydantic model generated from a document's fact vocabulary.

A case file (YAML or JSON) names its document, optionally an as-of date, and gives facts
(judgments included) as nested mappings following the fact paths. Every fact may be left
out or `null`: it is then unknown, never false. Unknown fields, wrong types and bad dates
are reported all at once, each with its path, the expected type and a did-you-mean.
"""

from __future__ import annotations

import datetime as dt
import json
import re
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
    create_model,
)

from yakkan.engine.core import ir as I
from yakkan.engine.core.diagnostics import Diagnostic, YakkanError, did_you_mean
from yakkan.engine.core.money import parse_jpy
from yakkan.engine.core.numerals import parse_date
from yakkan.engine.core.periods import Duration, parse_duration
from yakkan.engine.core.values import ABSENT
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.syntax.load import read_text


def _date(v: Any) -> Any:
    if isinstance(v, str):
        return parse_date(v)
    return v


def _money(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return Decimal(v.replace(",", "").strip())
        except ArithmeticError:
            return parse_jpy(v)
    if isinstance(v, float):
        return Decimal(str(v))
    return v


def _decimal(v: Any) -> Any:
    if isinstance(v, str):
        return Decimal(v.replace(",", "").rstrip("%"))
    if isinstance(v, float):
        return Decimal(str(v))
    return v


def _duration(v: Any) -> Any:
    if isinstance(v, Duration):
        return v
    if isinstance(v, bool):
        raise ValueError("a duration such as \"61秒\" or \"30日\" is expected")
    if isinstance(v, str):
        return parse_duration(v)
    raise ValueError("a duration with its unit is expected, such as \"61秒\", \"3分\" or \"30日\"")


DurationT = Annotated[Any, BeforeValidator(_duration)]
SCALARS: dict[str, Any] = {
    "bool": StrictBool,  # "yes", "no", 1 are not booleans: a typo must not become a fact
    "int": int,
    "decimal": Annotated[Decimal, BeforeValidator(_decimal)],
    "percent": Annotated[Decimal, BeforeValidator(_decimal)],
    "money": Annotated[Decimal, BeforeValidator(_money)],
    "date": Annotated[dt.date, BeforeValidator(_date)],
    "text": str,
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# a fact of these types can be stated absent (`null`: no such event, no such value); a
# yes/no fact, an enum and a list always have a value, so `null` for them is an error
ABSENT_OK = frozenset({"int", "decimal", "money", "percent", "date", "duration", "text"})


def _nullable(t: I.YType, py: Any) -> Any:
    return py | None if t.base in ABSENT_OK else py


def _field_type(t: I.YType, name: str) -> Any:
    if t.base == "enum":
        names = tuple(m.name for m in t.members)
        return Literal[names] if names else str
    if t.base == "list":
        fields: dict[str, Any] = {}
        for f in t.fields:
            fields[f.name] = (_nullable(f.type, _field_type(f.type, f.name)),
                              Field(default=None, description=f.label))
        rec = create_model(f"{name}_record", __base__=_Strict, **fields)
        return list[rec]
    if t.base == "duration":
        return DurationT
    return SCALARS[t.base]


def _build(tree: dict[str, Any], name: str, labels: dict[str, str]) -> type[BaseModel]:
    fields: dict[str, Any] = {}
    for k, v in tree.items():
        if isinstance(v, dict):
            sub = _build(v, f"{name}_{k}", labels)
            fields[k] = (sub, Field(default=None))
        else:
            decl_t, label = v
            fields[k] = (_nullable(decl_t, _field_type(decl_t, k)),
                         Field(default=None, description=label))
    return create_model(name, __base__=_Strict, **fields)


def facts_model(book: Rulebook) -> type[BaseModel]:
    """The pydantic model of a case's `facts` for this document version."""
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


class CaseFile(BaseModel):
    """A case as written: which document, when, what is known, what is expected."""

    model_config = ConfigDict(extra="forbid")

    document: str
    as_of: Annotated[dt.date | None, BeforeValidator(_date)] = None
    title: str | None = None
    note: str | None = None
    facts: dict[str, Any] = {}
    expect: dict[str, Any] | None = None


def case_model(book: Rulebook) -> type[BaseModel]:
    facts = facts_model(book)
    return create_model(
        "Case", __base__=_Strict,
        document=(str, Field(description="document id, e.g. " + book.doc.header.id)),
        as_of=(Annotated[dt.date | None, BeforeValidator(_date)],
               Field(default=None, description="evaluation date (2023-04-17 or 令和5年4月17日)")),
        title=(str | None, None), note=(str | None, None),
        facts=(facts, Field(default_factory=facts)),
        expect=(dict[str, Any] | None, Field(default=None,
                                             description="expected outcomes (for tests)")),
    )


class _CaseLoader(yaml.SafeLoader):
    """YAML without implicit timestamps: dates stay text and are read by `parse_date`,
    so 2023-02-30 is a diagnostic, not a crash, and 令和 dates work the same way."""


_CaseLoader.yaml_implicit_resolvers = {
    k: [(tag, rx) for tag, rx in v if tag != "tag:yaml.org,2002:timestamp"]
    for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_case_data(path: str) -> tuple[dict[str, Any], str]:
    """Read a YAML/JSON case file into a mapping. Exit 2 (YakkanError) on bad syntax."""
    text = read_text(Path(path), path)
    try:
        data = json.loads(text) if path.endswith(".json") else yaml.load(text, _CaseLoader)
    except (yaml.YAMLError, json.JSONDecodeError, ValueError) as e:
        mark = getattr(e, "problem_mark", None)
        nlines = max(text.count("\n") + (0 if text.endswith("\n") else 1), 1)
        line = min(mark.line + 1 if mark is not None else getattr(e, "lineno", 1), nlines)
        col = mark.column + 1 if mark is not None else getattr(e, "colno", 1)
        raise YakkanError([Diagnostic(
            code="case.syntax", message=f"the case file is not valid "
            f"{'JSON' if path.endswith('.json') else 'YAML'}: "
            f"{getattr(e, 'problem', None) or e}",
            span=I.Span(file=path, line=line, column=col, end_line=line, end_column=col + 1),
            hint="check the indentation and the brackets around this line",
        )], sources={path: text}) from None
    if not isinstance(data, dict):
        raise YakkanError([Diagnostic(
            code="case.not-a-mapping", span=I.Span(file=path, line=1, column=1, end_line=1,
                                                   end_column=1),
            message=f"`{path}` is not a case: a case file is a mapping with `document` and "
            "`facts`")], sources={path: text})
    return data, text


def case_header(data: dict[str, Any], path: str, text: str) -> \
        tuple[CaseFile | None, list[Diagnostic]]:
    """The case's own fields (document, as_of, title, note, expect) and their errors."""
    try:
        return CaseFile.model_validate(data), []
    except ValidationError as e:
        return None, _diags(e, path, text, {(): list(CaseFile.model_fields)})


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
        raise YakkanError(_diags(e, path, text, _known_fields(model), prefix=("facts",)),
                          sources={path: text}) from None


def _known_fields(model: type[BaseModel]) -> dict[tuple[str, ...], list[str]]:
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


def _line_of(text: str, loc: tuple[Any, ...]) -> int | None:
    """Best-effort line of a YAML path (keys and list indexes), for the diagnostic."""
    if not text or not loc:
        return None
    lines = text.splitlines()
    start, found = 0, None
    for part in loc:
        if isinstance(part, int):
            # the part-th list entry after the key found so far
            base = found if found is not None else -1
            seen = -1
            for i in range(base + 1, len(lines)):
                if lines[i].lstrip().startswith("- "):
                    seen += 1
                    if seen == part:
                        found, start = i, i
                        break
            else:
                # a flow list on the key's line: [ {...}, {...} ]
                if found is not None:
                    continue
            continue
        k = str(part)
        for i in range(start, len(lines)):
            ln = lines[i]
            stripped = ln.lstrip(" -")
            if stripped.startswith(f"{k}:") or f"{{{k}:" in ln or f" {k}:" in ln \
                    or f'"{k}"' in ln:
                found, start = i, i
                break
    return found + 1 if found is not None else None


def _diags(e: ValidationError, path: str, text: str,
           known: dict[tuple[str, ...], list[str]],
           prefix: tuple[str, ...] = ()) -> list[Diagnostic]:
    out = []
    for err in e.errors():
        loc = tuple(err["loc"])
        full = (*prefix, *loc)
        dotted = ".".join(str(x) for x in full)
        line = _line_of(text, full)
        span = None
        if line:
            src = text.splitlines()[line - 1]
            key = str(next((x for x in reversed(full) if not isinstance(x, int)), ""))
            col = src.find(key) + 1 if key and key in src else 1
            span = I.Span(file=path, line=line, column=col, end_line=line,
                          end_column=col + max(len(key), 1))
        if err["type"] == "extra_forbidden":
            parent = tuple("*" if isinstance(x, int) else str(x) for x in loc[:-1])
            cands = known.get(parent, [])
            out.append(Diagnostic(
                code="case.unknown-field", span=span,
                message=f"unknown field `{dotted}`",
                hint=did_you_mean(str(loc[-1]), cands)
                or ("known here: " + ", ".join(cands) if cands else None)))
        elif err["type"] == "missing":
            out.append(Diagnostic(code="case.missing-field", span=span,
                                  message=f"`{dotted}` is required"))
        else:
            msg = str(err["msg"]).removeprefix("Value error, ")
            hint = None
            if err["type"] == "literal_error":
                exp = err.get("ctx", {}).get("expected", "")
                msg = f"expected one of {exp}"
                hint = did_you_mean(str(err.get("input")), re.findall(r"'([^']+)'", exp))
            elif err["type"].startswith("bool"):
                msg = "expected true or false"
                hint = "write true or false without quotes (unknown: leave the field out)"
                if err.get("input") is None:
                    hint = ("`null` states that a value is absent, but a yes/no fact always "
                            "has one: write true or false, or leave the field out if unknown")
            elif err.get("input") is None and err["type"] in ("literal_error", "list_type",
                                                               "model_type"):
                hint = ("`null` states that a value is absent (an event that did not "
                        "happen); this field always has one — leave it out if unknown")
            elif err["type"].startswith(("int", "decimal", "float")):
                msg = "expected a number"
            got = err.get("input")
            out.append(Diagnostic(
                code="case.bad-value", span=span, hint=hint,
                message=f"`{dotted}`: {msg}" + ("" if repr(got) in msg else f" (got {got!r})")))
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


