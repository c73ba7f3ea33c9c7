"""The case checker (`runtime/case.py`, no pydantic) reads facts exactly as the pydantic case
model (`runtime/case_model.py`: the JSON Schema, batch's rows) does.

Differentially, over every bundled document version and a vocabulary with declared ranges and
patterns: raw facts built from each version's vocabulary — valid values, values of every
wrong kind, `null`, unknown and non-text keys, a record for a list, a list for a record —
are checked by both. Both accept the same facts and read the same values (same types), or
refuse them with the same errors (type, place, words, context) in the same order, hence the
same diagnostics. The case file's own fields (`case_header`) are held to the pydantic model
they were read with before (written out here as the reference).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, ValidationError
from test_fact_constraints import VOCABULARY

from yakkan.engine.runtime import case as C
from yakkan.engine.runtime.case_model import _pydantic, facts_model
from yakkan.engine.semantics.pipeline import analyse
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.semantics.rulebooks import versions
from yakkan.engine.syntax.load import bundled_ids, load_file

ROOT = Path(__file__).resolve().parents[1]


def _books() -> list[Rulebook]:
    return [b for doc in bundled_ids() for b in versions(doc)]


BOOKS = _books()


@pytest.fixture(scope="module")
def constrained(tmp_path_factory: pytest.TempPathFactory) -> Rulebook:
    folder = tmp_path_factory.mktemp("fc") / "fc"
    folder.mkdir()
    (folder / "2025-01-01.yk").write_text(VOCABULARY, encoding="utf-8")
    src = load_file(str(folder / "2025-01-01.yk"))
    assert src.doc is not None
    book, _ = analyse(src.doc)
    assert book is not None
    return book


# ---- the two readings, side by side ---------------------------------------------------------

def by_pydantic(book: Rulebook, raw: Any) -> tuple[Any, list[dict[str, Any]]]:
    try:
        return C.facts_dict(facts_model(book).model_validate(raw)), []
    except ValidationError as e:
        return None, e.errors(include_url=False)


def by_checker(book: Rulebook, raw: Any) -> tuple[Any, list[dict[str, Any]]]:
    errs: list[dict[str, Any]] = []
    out = C._check_group(C.facts_check(book).group, raw, (), errs)
    return (None, errs) if errs else (out, [])


def comparable(errors: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """An error as both report it: the input by its repr (NaN is not equal to itself), a
    ValueError in the context by its text."""
    return [(e["type"], e["loc"], e["msg"], repr(e["input"]),
             {k: str(v) if isinstance(v, Exception) else v
              for k, v in (e.get("ctx") or {}).items()}) for e in errors]


def same_values(a: Any, b: Any, at: str = "") -> None:
    assert type(a) is type(b), f"{at}: {a!r} vs {b!r}"
    if isinstance(a, dict):
        assert list(a) == list(b), at  # in declaration order, as pydantic gives them
        for k in a:
            same_values(a[k], b[k], f"{at}.{k}")
    elif isinstance(a, list):
        assert len(a) == len(b), at
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            same_values(x, y, f"{at}[{i}]")
    else:
        assert a == b, f"{at}: {a!r} vs {b!r}"


def agree(book: Rulebook, raw: Any) -> bool:
    """Both readings agree on `raw` (asserted); True when they accept it."""
    (want, want_errs), (got, got_errs) = by_pydantic(book, raw), by_checker(book, raw)
    assert comparable(got_errs) == comparable(want_errs), raw
    if want_errs:
        known = C.known_fields(facts_model(book))
        assert known == C.facts_check(book).known
        got_d = C.validation_diagnostics(C.CaseErrors(got_errs), "c.yaml", "", known,
                                         ("facts",))
        want_d = C.validation_diagnostics(C.CaseErrors(want_errs), "c.yaml", "", known,
                                          ("facts",))
        assert got_d == want_d
        return False
    same_values(got, want)
    return True


# ---- what a case may hold -------------------------------------------------------------------

ANY_VALUE = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.integers(-10**16, 10**16),
    st.sampled_from([10**30, 1.5, 2.0, float("nan"), float("inf"), -0.5]),
    st.decimals(allow_nan=True, places=3, min_value=-10**6, max_value=10**6),
    st.sampled_from(["", "yes", "true", "12", "1.5", "4%", "４％", "0.5%", "12,345円", "¥1,000",
                     "61秒", "3分", "30日", "2年", "2023-04-17", "令和5年4月17日", "2023-02-30",
                     "type2", "plan4", "12-345-6789", "98-765-4321", "100-0001", "甲", "a b",
                     "x" * 70, "x" * 100_001, "-5000円", "14.6%", "15%", "１２"]),
    st.text(max_size=6), st.dates(dt.date(1700, 1, 1), dt.date(3100, 1, 1)),
    st.just(dt.datetime(2023, 4, 17, 9, 0)), st.just(b"bytes"), st.just(b"\xff"),
    st.just([1]), st.just({"a": 1}), st.just({1, 2}), st.just((1, 2)),
)
BAD_KEYS = st.sampled_from(["zz", "dunsissued", "service", 1, b"k", True, None])


def mostly(good: st.SearchStrategy[Any], other: st.SearchStrategy[Any] = ANY_VALUE
           ) -> st.SearchStrategy[Any]:
    """`good` nine times in ten, else `other`: most cases then break in one place only."""
    return st.integers(0, 9).flatmap(lambda n: other if n == 0 else good)


def leaf_values(t: Any) -> st.SearchStrategy[Any]:
    """Values for a fact of type `t`: what its kind reads, and anything at all."""
    good: dict[str, list[Any]] = {
        "bool": [True, False], "int": [0, 2, 3, 150, -1], "decimal": [Decimal("1.5"), 2],
        "percent": ["4%", Decimal("0.04"), 0], "money": [1000, "12,345円", Decimal("16.98")],
        "date": ["2023-04-17", dt.date(2023, 5, 1), "令和5年5月1日"], "text": ["甲", "株式会社乙"],
        "duration": ["61秒", "3分"], "enum": [m.name for m in t.members] or ["x"],
    }
    return mostly(st.sampled_from(good.get(t.base, [None])))


def facts_of(node: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    """A mapping of some of the fields of `node` (a group of `case.facts_tree`), now and
    then with a key that is no field, or not a mapping at all."""
    parts: dict[str, st.SearchStrategy[Any]] = {}
    for k, v in node.items():
        if isinstance(v, dict):
            parts[k] = facts_of(v, depth + 1)
        elif v[0].base == "list":
            rec = {f.name: (f.type, f.label) for f in v[0].fields}
            parts[k] = mostly(st.lists(facts_of(rec, depth + 1), max_size=3))
        else:
            parts[k] = leaf_values(v[0])
    keys = st.lists(st.sampled_from(sorted(parts)), unique=True, max_size=5) if parts \
        else st.just([])
    mapping = keys.flatmap(lambda ks: st.fixed_dictionaries(
        {k: parts[k] for k in ks}, optional={"zz": ANY_VALUE} if depth else {}))
    extra = st.tuples(mapping, BAD_KEYS, ANY_VALUE).map(lambda m: {**m[0], m[1]: m[2]})
    return mostly(mapping, st.one_of(extra, ANY_VALUE if depth else st.just({})))


STRATEGIES = [facts_of(C.facts_tree(b)) for b in BOOKS]


@pytest.mark.parametrize("i", range(len(BOOKS)),
                         ids=[f"{b.doc.header.id}-{b.doc.header.version}" for b in BOOKS])
@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(data=st.data())
def test_the_checker_reads_facts_as_the_pydantic_model(i: int, data: st.DataObject) -> None:
    agree(BOOKS[i], data.draw(STRATEGIES[i]))


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow,
                                                   HealthCheck.function_scoped_fixture],
          deadline=None)
@given(data=st.data())
def test_ranges_and_patterns_are_read_alike(constrained: Rulebook, data: st.DataObject) -> None:
    agree(constrained, data.draw(facts_of(C.facts_tree(constrained))))


def test_every_example_case_reads_alike() -> None:
    """The example cases (valid or not) give the same facts, or the same errors, both ways;
    most of them are valid, so the accepting side is exercised too."""
    accepted = 0
    for f in sorted((ROOT / "examples" / "cases").glob("*.yaml")):
        data = yaml.safe_load(f.read_text(encoding="utf-8")) or {}
        book = next((b for b in BOOKS if b.doc.header.id == data.get("document")), None)
        if book is not None and isinstance(data.get("facts"), dict):
            accepted += agree(book, data["facts"])
    assert accepted >= 50


# ---- the case file's own fields -------------------------------------------------------------

class _Reference(BaseModel):
    """`case.CaseFile` as the pydantic model it was."""

    model_config = ConfigDict(extra="forbid", strict=False)

    document: Annotated[str, _pydantic(C._text)]
    as_of: Annotated[dt.date, _pydantic(C._date)] | None = None
    title: Annotated[str, _pydantic(C._text)] | None = None
    note: Annotated[str, _pydantic(C._text)] | None = None
    facts: dict[str, Any] = {}
    expect: dict[str, Any] | None = None


HEADERS = st.fixed_dictionaries({}, optional={
    "document": mostly(st.just("denwa")), "as_of": mostly(st.just("2023-05-01")),
    "title": mostly(st.just("題")), "note": mostly(st.none()),
    "facts": mostly(st.just({"a": 1}), st.one_of(st.just({1: 2, b"k": 3, b"\xff": 4}),
                                                 ANY_VALUE)),
    "expect": mostly(st.just({"outcomes": {}})),
}).flatmap(lambda d: mostly(st.just(d), st.tuples(BAD_KEYS, ANY_VALUE).map(
    lambda kv: {**d, kv[0]: kv[1]})))


@settings(max_examples=400, deadline=None)
@given(data=HEADERS)
def test_the_case_fields_read_as_the_pydantic_model(data: dict[Any, Any]) -> None:
    try:
        want = _Reference.model_validate(data)
        want_diags: list[Any] = []
    except ValidationError as e:
        want = None
        want_diags = C.validation_diagnostics(e, "c.yaml", "",
                                              {(): list(_Reference.model_fields)})
    got, got_diags = C.case_header(data, "c.yaml", "")
    assert got_diags == want_diags
    if want is not None:
        assert got is not None
        same_values(vars(got), want.model_dump())
