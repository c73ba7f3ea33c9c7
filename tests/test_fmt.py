"""`yakkan fmt`: one canonical layout, idempotent, and faithful to the AST.

Two properties, checked on every bundled clause file, on the fixtures in `golden/fmt/` and
on random ASTs (hypothesis):

* round trip — `parse(format(ast)) == ast` (spans aside);
* idempotence — `format(parse(format(parse(x)))) == format(parse(x))`.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yakkan.cli.main import main
from yakkan.engine.core import ir as I
from yakkan.engine.core.diagnostics import has_errors
from yakkan.engine.syntax import ast as A
from yakkan.engine.syntax.format import QUANTIFIERS, FormatError, format_document, format_expr
from yakkan.engine.syntax.parse import KEYWORDS, PAYERS, PERIODS, TAX_CATEGORIES, parse_document

Golden = Callable[[Path, str], None]

ROOT = Path(__file__).parent.parent
FMT = Path(__file__).parent / "golden" / "fmt"
FIXTURES = sorted(FMT.glob("*.yk"))
CORPUS = sorted({*ROOT.glob("clauses/**/*.yk"), *FIXTURES,
                 *(Path(__file__).parent / "fixtures").glob("**/*.yk")})


def parse_clean(text: str, file: str = "t.yk") -> A.Document:
    doc, diags = parse_document(text, file)
    assert doc is not None and not has_errors(diags), [d.message for d in diags]
    return doc


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8").removeprefix("\ufeff")


@pytest.mark.parametrize("path", CORPUS, ids=[str(p.relative_to(ROOT)) for p in CORPUS])
def test_round_trip_and_idempotence(path: Path) -> None:
    # every file of the corpus parses cleanly: a clause file or fixture that stops parsing
    # fails here (it is never skipped)
    doc = parse_clean(read(path), str(path))
    once = format_document(doc)
    again = parse_clean(once, str(path))
    assert again == doc
    assert format_document(again) == once


def test_corpus_includes_fixtures() -> None:
    assert len(FIXTURES) >= 3  # the suite runs even before any clause file exists


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_canonical_layout_golden(path: Path, golden: Golden) -> None:
    golden(path.with_suffix(".out"), format_document(parse_clean(read(path), path.name)))


def test_comments_kept_in_place() -> None:
    out = format_document(parse_clean(read(FMT / "comments.yk")))
    lines = out.splitlines()
    assert lines[0] == "# 先頭のコメント: 文書のもの（ヘッダーの前）" and lines[1] == "#"
    # an end-of-line comment stays with the node that starts on its line
    assert lines[lines.index("fact a: bool \"a\"") - 1] == "# a の行末"
    assert lines[-2:] == ["# 最後のコメント 1", "# 最後のコメント 2（# の後に空白なし）"]
    assert lines[lines.index("    define either = a or b") - 1] == "    # 項の中の定義の前"
    assert out.count("#") == read(FMT / "comments.yk").count("#")


@pytest.mark.parametrize(("src", "printed"), [
    ("a or b or c", "a or b or c"),
    ("(a or b) or c", "(a or b) or c"),          # parenthesised: kept as written
    ("a or (b or c)", "a or (b or c)"),
    ("((a and b)) or c", "(a and b) or c"),  # and inside or keeps its parentheses
    ("a and b or c", "(a and b) or c"),
    ("not (a and b)", "not (a and b)"),
    ("not a == b", "not a == b"),
    ("(not a) == b", "(not a) == b"),
    ("a - (b - c) - d", "a - (b - c) - d"),
    ("(a - b) - c", "a - b - c"),
    ("-(a * b) / -c", "-(a * b) / -c"),
    ("--a", "- -a"),
    ("min(a, b) + max(1, 2, 3)", "min(a, b) + max(1, 2, 3)"),
    ("min((x in [1]), 2)", "min((x in [1]), 2)"),
    ("max((x in [1] or y), 2)", "max((x in [1] or y), 2)"),
    ("max((x.y in [1] or y), 2)", "max(x.y in [1] or y, 2)"),
    ("min(x in xs: x.n)", "min(x in xs: x.n)"),
    ("+a", "a"),
    ("(a + b) in [1, 2]", "a + b in [1, 2]"),
    ("(a == b) in [true]", "(a == b) in [true]"),
    ("(if a then 1 else 2) + 3", "(if a then 1 else 2) + 3"),
    ("3 + if a then 1 else 2", "3 + (if a then 1 else 2)"),
    ("if a then if b then 1 else 2 else 3", "if a then if b then 1 else 2 else 3"),
    ('"a\\"b\\\\c\\nd"', '"a\\"b\\\\c\\nd"'),
    ("1_500円 + 14.60% + 2.50", "1500円 + 14.60% + 2.50"),
    ("令和元年5月1日", "2019-05-01"),
    ("3か月 + 3箇月", "3ヶ月 + 3ヶ月"),
])
def test_expression_printing(src: str, printed: str) -> None:
    doc = parse_clean(f'document x "t" {{}}\ndefine d = {src}\n')
    assert format_expr(doc.definitions[0].expr) == printed
    assert parse_clean(format_document(doc)) == doc


@pytest.mark.parametrize("expr", [
    I.BoolOp(op="or", operands=[I.Ref(path=["a"])]),
    I.Lit(type="int", value=-1),
    I.Call(fn="min", args=[I.Ref(path=["a"])]),  # one argument reads as the quantifier
    I.Ref(path=["not a name"]),
    I.Holds(cite=I.Citation(raw="第1条」")),
])
def test_unprintable_nodes_fail_loudly(expr: Any) -> None:
    with pytest.raises(FormatError):
        format_expr(expr)


# ---- the command -------------------------------------------------------------------------


def fmt(*args: str) -> Any:
    result = CliRunner().invoke(main, ["fmt", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    return result


def test_cli_rewrites_only_what_changes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    messy = tmp_path / "messy.yk"
    messy.write_bytes(read(FMT / "sample.yk").replace("\n", "\r\n").encode("utf-8"))
    tidy = tmp_path / "tidy.yk"
    tidy.write_text(format_document(parse_clean(read(FMT / "sample.yk"))), encoding="utf-8")
    os.utime(tidy, (1_000_000, 1_000_000))

    result = fmt("--check", "messy.yk", "tidy.yk")
    assert result.exit_code == 1
    assert result.stdout == "would reformat messy.yk\n"
    assert b"\r\n" in messy.read_bytes()                # --check writes nothing

    result = fmt("messy.yk", "tidy.yk")
    assert result.exit_code == 0
    assert result.stdout == "reformatted messy.yk\n"
    assert messy.read_bytes() == tidy.read_bytes()
    assert tidy.stat().st_mtime == 1_000_000            # unchanged files are not rewritten

    assert fmt("--check", str(tmp_path)).exit_code == 0


def test_cli_strips_bom(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    tidy = format_document(parse_clean(read(FMT / "sample.yk")))
    (tmp_path / "bom.yk").write_bytes(b"\xef\xbb\xbf" + tidy.encode("utf-8"))
    assert fmt("--check", "bom.yk").exit_code == 1
    assert fmt("bom.yk").exit_code == 0
    assert (tmp_path / "bom.yk").read_text(encoding="utf-8") == tidy


def test_cli_leaves_broken_files_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    broken = 'document x "t" {\n  effective 2023-02-30\n}\narticle 1 {  text "a"  }\n'
    (tmp_path / "broken.yk").write_text(broken, encoding="utf-8")
    result = fmt("broken.yk")
    assert result.exit_code == 1
    assert "broken.yk:2:13: error[lower.bad-date]" in result.stderr
    assert (tmp_path / "broken.yk").read_text(encoding="utf-8") == broken


def test_cli_unusable_paths_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "empty").mkdir()
    (tmp_path / "sjis.yk").write_bytes('document x "約款" {}\n'.encode("shift_jis"))
    for args, code in ((["missing.yk"], "io.missing-file"), (["empty"], "io.no-clauses"),
                       (["sjis.yk"], "io.not-utf8"), (["--check", "missing.yk"],
                                                      "io.missing-file")):
        result = fmt(*args)
        assert result.exit_code == 2, result.output
        assert code in result.stderr


# ---- random ASTs ---------------------------------------------------------------------------

RESERVED = {*KEYWORDS, "where", "document", "list", "enum"}
name = st.one_of(
    st.from_regex(r"[a-z_][a-z0-9_]{0,6}", fullmatch=True),
    st.sampled_from(["申込者", "プラン2", "回線", "料金_額", "ｘ", "Kind", "n050"]),
).filter(lambda s: s not in RESERVED)
path = st.lists(name, min_size=1, max_size=3)
line_text = st.text(st.characters(exclude_categories=["Cs"]), max_size=12)
comment = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\n"),
                  max_size=12).map(str.strip)
comments = st.lists(comment, max_size=2)
citation = st.builds(I.Citation, raw=st.text(
    st.characters(exclude_categories=["Cs"], exclude_characters="」\n"), max_size=10))
decimal = st.decimals(min_value=0, max_value=10**7, places=2, allow_nan=False,
                      allow_infinity=False).map(lambda d: d.copy_abs())


def opt(s: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | s


literal = st.one_of(
    st.builds(I.Lit, type=st.just("bool"), value=st.booleans()),
    st.builds(I.Lit, type=st.just("int"), value=st.integers(0, 10**12)),
    st.builds(I.Lit, type=st.just("decimal"), value=decimal),
    st.builds(I.Lit, type=st.just("money"), value=decimal),
    st.builds(I.Lit, type=st.just("percent"), value=decimal),
    st.builds(I.Lit, type=st.just("duration"), value=st.integers(0, 10**6),
              unit=st.sampled_from(I.DURATION_UNITS)),
    st.builds(I.Lit, type=st.just("date"),
              value=st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31))),
    st.builds(I.Lit, type=st.just("text"), value=line_text),
)
leaf = st.one_of(literal, st.builds(I.Ref, path=path), st.builds(I.Holds, cite=citation))


def compound(sub: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.builds(I.Not, operand=sub),
        st.builds(I.BoolOp, op=st.sampled_from(["and", "or"]),
                  operands=st.lists(sub, min_size=2, max_size=4)),
        st.builds(I.Compare, op=st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
                  left=sub, right=sub),
        st.builds(I.MemberOf, operand=sub, options=st.lists(sub, min_size=1, max_size=3)),
        st.builds(I.Arith, op=st.sampled_from(["+", "-", "*", "/"]), left=sub, right=sub),
        st.builds(I.Neg, operand=sub),
        st.builds(I.Call, fn=name, args=st.lists(sub, max_size=3)),
        st.builds(I.Call, fn=st.sampled_from(QUANTIFIERS),   # min(a, b), max(a, b)
                  args=st.lists(sub, min_size=2, max_size=3)),
        st.builds(I.Quant, q=st.sampled_from(["all", "any", "count", "sum", "min", "max"]),
                  var=name, source=st.builds(I.Ref, path=path), body=opt(sub),
                  where=opt(sub)),
        st.builds(I.IfThen, cond=sub, then=sub, orelse=sub),
    )


# deferred: the strategies' reprs stay short (hypothesis prints them on failure)
_EXPR = st.recursive(leaf, compound, max_leaves=10)
expr = st.deferred(lambda: _EXPR)

SCALARS = st.sampled_from(I.SCALAR_TYPES).map(lambda b: I.YType(base=b))
members = st.lists(st.builds(I.EnumMember, name=name, label=opt(line_text)), min_size=1,
                   max_size=3, unique_by=lambda m: m.name)
ytype = st.recursive(
    SCALARS | st.builds(I.YType, base=st.just("enum"),
                        enum_name=name.filter(lambda n: n not in I.SCALAR_TYPES))
    | st.builds(I.YType, base=st.just("enum"), members=members),
    lambda sub: st.builds(I.YType, base=st.just("list"), fields=st.lists(
        st.builds(I.FieldDecl, name=name, type=sub, label=opt(line_text),
                  judgment=st.booleans()), min_size=1, max_size=3)),
    max_leaves=4,
)

definition = st.builds(A.Definition, name=name, label=opt(line_text), expr=expr,
                       comments=comments)
correction = st.builds(A.Correction, seed=line_text, encoded=line_text, reason=line_text)
rule = st.builds(
    A.Rule, outcome=name, force=st.sampled_from(list(A.FORCE_LABELS)),
    source=st.none() | st.builds(A.EachItem)
    | st.builds(A.Mutatis, cite=citation, outcome=opt(name)),
    when=opt(expr), requires=opt(expr), unless=st.lists(expr, max_size=2))
charge = st.builds(
    A.Charge, name=name, label=opt(line_text), amount=opt(expr), when=opt(expr),
    tax=opt(st.sampled_from(TAX_CATEGORIES)), per=opt(st.sampled_from(PERIODS)),
    payer=opt(st.sampled_from(PAYERS)),
    lower_bound=st.booleans(), quote_when=opt(expr), memos=st.lists(line_text, max_size=2),
    row=opt(citation), assumptions=st.lists(line_text, max_size=2))
key = st.one_of(st.from_regex(r"[1-9][0-9]?(_[1-9][0-9]?){0,2}", fullmatch=True),
                st.sampled_from(["ア", "イ", "(ア)", "(イ)", "(7)", "プラン4", "備考", "第1表"]))
kind = st.sampled_from(A.UNIT_KINDS)


def leaf_unit() -> st.SearchStrategy[A.Unit]:
    return st.one_of(
        st.builds(A.Unit, kind=kind, key=key, caption=opt(line_text),
                  status=st.just("deleted"), text=line_text, comments=comments),
        st.builds(A.Unit, kind=kind, key=opt(key), caption=opt(line_text),
                  status=st.just("omitted"), text=opt(line_text), comments=comments),
        st.builds(A.Unit, kind=kind, key=key, range_end=key, status=st.just("omitted"),
                  text=opt(line_text), comments=comments),
    )


def encoded_unit(children: st.SearchStrategy[list[A.Unit]]) -> st.SearchStrategy[A.Unit]:
    return st.builds(
        A.Unit, kind=kind, key=opt(key), caption=opt(line_text), text=opt(line_text),
        proviso=opt(line_text), label=opt(line_text), unit_kind=opt(name),
        condition=opt(expr), rules=st.lists(rule, max_size=2), charges=st.lists(charge, max_size=2),
        definitions=st.lists(definition, max_size=2),
        periods=st.lists(st.builds(A.PeriodDef, name=name, expr=expr), max_size=2),
        refs=st.lists(st.builds(A.RefStmt, verb=st.sampled_from(
            ["cites", "notwithstanding", "mutatis", "amends"]),
            cites=st.lists(citation, min_size=1, max_size=3)), max_size=2),
        readings=st.lists(st.builds(A.Reading, in_doc=citation, original=line_text,
                                    replacement=line_text,
                                    except_=st.lists(citation, max_size=2)), max_size=2),
        precedences=st.lists(st.builds(A.Precedence, winner=citation, loser=citation,
                                       except_=st.lists(citation, max_size=2)), max_size=2),
        corrections=st.lists(correction, max_size=2), memos=st.lists(line_text, max_size=2),
        slips=st.lists(line_text, max_size=2), children=children, comments=comments)


def _unit_key(u: A.Unit) -> tuple[str, str]:
    return (u.kind, u.key if u.key is not None else f"<none {id(u)}>")


def _distinct(us: list[A.Unit]) -> list[A.Unit]:
    """Siblings with distinct keys (a repeated key is an error of its own)."""
    seen: set[tuple[str, str]] = set()
    out = []
    for u in us:
        if _unit_key(u) not in seen:
            seen.add(_unit_key(u))
            out.append(u)
    return out


def _units(depth: int) -> st.SearchStrategy[list[A.Unit]]:
    flat = st.lists(leaf_unit() | encoded_unit(st.just([])), max_size=2)
    if depth == 0:
        return flat.map(_distinct)
    # one unit carries the nesting down to `depth`; its siblings are flat
    deep = encoded_unit(units(depth - 1).filter(bool))
    return st.tuples(flat, deep, flat).map(lambda t: _distinct([*t[0], t[1], *t[2]]))


def units(depth: int) -> st.SearchStrategy[list[A.Unit]]:
    """Sibling units, one of them nesting exactly `depth` levels below; keys distinct."""
    return st.deferred(lambda: _units(depth))


@st.composite
def header(draw: st.DrawFn) -> A.Header:
    start = draw(opt(st.dates(dt.date(1873, 1, 1), dt.date(2100, 12, 31))))
    until = None
    if start is not None and draw(st.booleans()):
        until = draw(st.dates(start, dt.date(2100, 12, 31)))
    seed = draw(opt(line_text))
    return A.Header(
        id=draw(st.from_regex(r"[A-Za-z][A-Za-z0-9_-]{0,10}", fullmatch=True)),
        title=draw(line_text), version=draw(opt(line_text)),
        effective_from=start, effective_until=until, number=draw(opt(line_text)),
        issuer=draw(opt(line_text)), seed=seed,
        seed_column=draw(opt(name)) if seed is not None else None,
        language=draw(opt(name)), memos=draw(st.lists(line_text, max_size=2)))


documents = st.builds(
    A.Document, header=header(),
    externals=st.lists(st.builds(A.External, name=name, title=line_text,
                                 aliases=st.lists(line_text, max_size=2), comments=comments),
                       max_size=2),
    enums=st.lists(st.builds(A.EnumDecl, name=name, label=opt(line_text), members=members,
                             comments=comments), max_size=2),
    facts=st.lists(st.builds(A.FactDecl, path=path, type=ytype, label=opt(line_text),
                             judgment=st.booleans(), comments=comments), max_size=3),
    definitions=st.lists(definition, max_size=2),
    units=st.integers(0, 4).flatmap(units),
    corrections=st.lists(correction, max_size=2),
    comments=comments, trailing_comments=comments,
)


@settings(max_examples=50, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(documents)
def test_random_documents_round_trip(doc: A.Document) -> None:
    text = format_document(doc)
    again = parse_clean(text, "random.yk")
    assert again == doc, text
    assert format_document(again) == text


@settings(max_examples=300, deadline=None)
@given(expr)
def test_random_expressions_round_trip(e: Any) -> None:
    doc = A.Document(header=A.Header(id="x", title="t"),
                     definitions=[A.Definition(name="d", expr=e)])
    again = parse_clean(format_document(doc))
    assert again == doc, format_expr(e)


def test_strategy_reaches_every_expression_kind() -> None:
    """The expression strategy can produce every IR node the grammar expresses."""
    seen: set[str] = set()

    @settings(max_examples=300, deadline=None, database=None)
    @given(expr)
    def collect(e: Any) -> None:
        seen.update(type(n).__name__ for n in I.walk(e))

    collect()
    assert seen >= {"Lit", "Ref", "Not", "BoolOp", "Compare", "MemberOf", "Arith", "Neg",
                    "Call", "Quant", "Holds", "IfThen"}


def test_decimal_literals_keep_their_point() -> None:
    e = I.Lit(type="decimal", value=Decimal(3))
    assert format_expr(e) == "3.0"
    assert parse_clean(f'document x "t" {{}}\ndefine d = {format_expr(e)}\n') \
        .definitions[0].expr == e
