"""The walks of the expression IR handle every node kind, and mypy proves it.

Each walk dispatches with `match` over the closed union `ir.Expr` and ends in
`case _: assert_never(e)`: mypy then rejects a walk that leaves a kind out (the value that
reaches `assert_never` is not `Never`). Three checks:

* mypy, run on a generated module, reports each left-out kind, and nothing for a complete
  match (so the checking is really on, with the project's configuration);
* each walk named in `WALKS` is written that way (read from its source);
* each walk, called on a minimal node of every kind of the union, answers (or refuses the
  kind by design: the formatter has no syntax for the compiled program's nodes, z3 does not
  encode an outcome's decision rule as a value).
"""

from __future__ import annotations

import ast
import datetime as dt
import inspect
import re
import subprocess
import sys
import textwrap
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from yakkan.engine.analysis import smt
from yakkan.engine.core import ir as I
from yakkan.engine.runtime import evaluate
from yakkan.engine.semantics.program import program_of
from yakkan.engine.semantics.resolve import Rulebook, resolve
from yakkan.engine.semantics.types import TypeChecker
from yakkan.engine.syntax import exprtext, format
from yakkan.engine.syntax.parse import parse_document

ROOT = Path(__file__).resolve().parents[1]
KINDS: tuple[type[I.Node], ...] = typing.get_args(I.ExprNode)

# every dispatch over the union: (owner, function name, parameter matched on)
WALKS: list[tuple[Any, str, str]] = [
    (I, "children", "e"),
    (evaluate.Evaluator, "ev", "e"),
    (TypeChecker, "typeof", "e"),
    (exprtext, "_t", "e"),
    (format, "precedence", "e"),
    (format, "_expr", "e"),
    (smt.Encoder, "ev", "e"),
]


def test_the_union_is_the_declared_one() -> None:
    assert set(typing.get_args(I.Expr)) == set(KINDS)
    assert len(KINDS) >= 14 and all(issubclass(k, I.Node) for k in KINDS)


# ---- mypy rejects a match that leaves a kind out -------------------------------------------


def _match(name: str, kinds: tuple[type, ...]) -> str:
    cases = " | ".join(f"I.{k.__name__}()" for k in kinds)
    return textwrap.dedent(f"""
        def {name}(e: I.Expr) -> str:
            match e:
                case {cases}:
                    return "handled"
                case _:
                    assert_never(e)
        """)


def test_mypy_reports_a_left_out_kind(tmp_path: Path) -> None:
    body = ["from typing import assert_never", "", "from yakkan.engine.core import ir as I",
            _match("complete", KINDS)]
    for k in KINDS:
        body.append(_match(f"without_{k.__name__}", tuple(x for x in KINDS if x is not k)))
    # the closed word sets (engine/core/kinds.py): a misspelt value is a type error
    body += ["from yakkan.engine.core.kinds import Force, Value", "",
             "def value_typo(v: Value) -> bool:", '    return v == "acept"', "",
             "def value_ok(v: Value) -> bool:", '    return v == "accept"', "",
             "def force_typo(f: Force) -> bool:", '    return f == "refuze"', ""]
    mod = tmp_path / "walks.py"
    mod.write_text("\n".join(body), encoding="utf-8")
    # the project's own type check (tools/typecheck.py: the package as installed, with
    # pyproject's [tool.mypy]), given the generated module besides; its cache is shared
    res = subprocess.run([sys.executable, str(ROOT / "tools" / "typecheck.py"),
                          f"--cache-dir={ROOT / '.mypy_cache'}", str(mod)],
                         capture_output=True, text=True, timeout=600, cwd=ROOT)
    lines = mod.read_text(encoding="utf-8").splitlines()

    def function_at(n: int) -> str:
        return next(m.group(1) for line in reversed(lines[:n])
                    if (m := re.match(r"def (\w+)", line)))

    errors: dict[str, str] = {}
    for m in re.finditer(r"walks\.py:(\d+): error: (.*)", res.stdout):
        errors[function_at(int(m.group(1)))] = m.group(2)
    assert "complete" not in errors, res.stdout
    assert "value_ok" not in errors, res.stdout
    for typo in ("value_typo", "force_typo"):
        assert "Non-overlapping" in errors.get(typo, ""), f"{typo} not caught:\n{res.stdout}"
    for k in KINDS:
        msg = errors.get(f"without_{k.__name__}")
        assert msg is not None, f"mypy did not see that {k.__name__} is left out:\n{res.stdout}"
        assert "assert_never" in msg and f'"{k.__name__}"' in msg, msg
    assert res.returncode == 1, res.stdout + res.stderr


# ---- every walk is such a match ----------------------------------------------------------------


@pytest.mark.parametrize(("owner", "name", "param"), WALKS,
                         ids=[f"{getattr(o, '__name__', o)}.{n}" for o, n, _ in WALKS])
def test_walk_is_an_exhaustive_match(owner: Any, name: str, param: str) -> None:
    fn = getattr(owner, name)
    tree = ast.parse(textwrap.dedent(inspect.getsource(fn)))
    func = tree.body[0]
    assert isinstance(func, ast.FunctionDef)
    arg = next(a for a in func.args.args if a.arg == param)
    assert arg.annotation is not None and ast.unparse(arg.annotation) in ("I.Expr", "Expr"), \
        f"{name}({param}: …) must take the closed union I.Expr"
    matches = [n for n in func.body if isinstance(n, ast.Match)
               and isinstance(n.subject, ast.Name) and n.subject.id == param]
    assert matches, f"{name} does not dispatch with `match {param}:`"
    last = matches[0].cases[-1]
    assert isinstance(last.pattern, ast.MatchAs) and last.pattern.pattern is None
    assert ast.unparse(last.body[-1]) == f"assert_never({param})"


# ---- every walk answers for every kind ------------------------------------------------------

DOC = """\
document t "t" {}
fact n: int "数"
fact items: list { x: int "x" } "一覧"
article 1 {
  text "数が1を超えるときは、承諾します。"
  rule application: accept when n > 1
}
"""


@pytest.fixture(scope="module")
def book() -> Rulebook:
    doc, diags = parse_document(DOC, "t.yk")
    assert doc is not None and not diags
    return resolve(doc)


def minimal(kind: type[I.Node], book: Rulebook) -> I.Node:
    """A small well-formed node of `kind` (its operands resolved as the passes leave them)."""
    def n() -> I.Ref:
        return I.Ref(path=["n"], resolved="fact")

    def one() -> I.Lit:
        return I.Lit(type="int", value=1)

    cmp = I.Compare(op=">", left=n(), right=one())
    ground = next(iter(program_of(book).grounds))
    made: dict[type[I.Node], I.Node] = {
        I.Lit: one(),
        I.Ref: n(),
        I.Not: I.Not(operand=cmp),
        I.BoolOp: I.BoolOp(op="and", operands=[cmp, cmp.model_copy()]),
        I.Compare: cmp,
        I.MemberOf: I.MemberOf(operand=n(), options=[one()]),
        I.Arith: I.Arith(op="+", left=n(), right=one()),
        I.Neg: I.Neg(operand=n()),
        I.Call: I.Call(fn="len", args=[I.Ref(path=["items"], resolved="fact")]),
        I.Quant: I.Quant(q="count", var="i", source=I.Ref(path=["items"], resolved="fact")),
        I.Holds: I.Holds(cite=I.Citation(raw="第1条")),
        I.IfThen: I.IfThen(cond=cmp, then=one(), orelse=n()),
        I.Applies: I.Applies(ground=ground),
        I.Priority: I.Priority(branches=[I.Branch(cond=cmp, value="accept")],
                               default="not_applicable"),
    }
    assert set(made) == set(KINDS), "give the new node kind a minimal instance here"
    return made[kind]


def _calls(book: Rulebook) -> dict[str, Callable[[Any], Any]]:
    checker = TypeChecker(book)
    space = smt.FactSpace([book])
    encoder = smt.Encoder(space, book, dt.date(2024, 1, 1))
    ev = evaluate.Evaluator(book, {"n": 2, "items": []}, dt.date(2024, 1, 1))

    def encode(e: Any) -> Any:
        """The z3 value of `e`, or the `Unsupported` the encoder declines it with (the
        semantic diff then decides by the interpreter); any other exception is a bug."""
        try:
            return encoder.ev(e, {})
        except smt.Unsupported as x:
            return x

    return {
        "evaluate": lambda e: ev.ev(e, {}),
        "types": lambda e: checker.typeof(e, {}),
        "exprtext": exprtext.to_text,
        "format": format.format_expr,
        "smt": encode,
    }


# the kinds a walk refuses by design, and how
REFUSED: dict[tuple[str, type[I.Node]], type[Exception]] = {
    ("format", I.Applies): format.FormatError,  # compiled-program nodes have no syntax
    ("format", I.Priority): format.FormatError,
}


@pytest.mark.parametrize("kind", KINDS, ids=[k.__name__ for k in KINDS])
def test_every_walk_handles_every_kind(kind: type[I.Node], book: Rulebook) -> None:
    with smt.fresh_context():
        for walk, call in _calls(book).items():
            node = minimal(kind, book)
            refused = REFUSED.get((walk, kind))
            if refused is not None:
                with pytest.raises(refused):
                    call(node)
                continue
            got = call(node)
            if kind is I.Priority and walk == "smt":
                assert isinstance(got, smt.Unsupported)  # a decision rule is no value
            elif walk != "smt":  # (the encoder may decline a node: `Unsupported`, by design)
                assert not isinstance(got, Exception), f"{walk} refused {kind.__name__}: {got}"
            if walk in ("exprtext", "format"):
                assert isinstance(got, str) and got
            if walk == "types":
                assert isinstance(got, str) and got != "any"


# ---- the closed word sets and their one Japanese table each ---------------------------------


def test_every_word_of_a_closed_set_has_its_japanese_label() -> None:
    from yakkan.engine.core import kinds, labels
    from yakkan.engine.syntax import ast as A

    assert typing.get_args(A.Force) == kinds.FORCES  # the AST's forces are the kinds' set
    assert set(labels.FORCE_LABELS) == set(kinds.FORCES)
    assert set(labels.VALUE_LABELS) == set(kinds.VALUES)
    assert set(labels.CHARGE_STATUS_LABELS) == set(kinds.LINE_STATUSES)
    assert set(kinds.VALUE_OF) == set(kinds.FORCES)
    assert set(kinds.VALUE_OF.values()) <= set(kinds.VALUES)
    assert set(kinds.FORCES_AGAINST) <= set(kinds.FORCES)
    assert set(kinds.VALUES_AGAINST) <= set(kinds.VALUES)
