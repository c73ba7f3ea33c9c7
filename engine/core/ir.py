"""The typed expression IR: the one language every backend walks.

Conditions, definitions and amounts of every provision are trees of these nodes. The
interpreter (`yakkan.engine.runtime.evaluate`) walks them with tracing; an SMT encoder
(`yakkan.engine.analysis.smt`) and, later, a SQL compiler walk the same trees. Nodes are pure data:
no callables, no Python source, nothing is ever `eval`-ed.

INVARIANT: every node is JSON-serialisable with `model_dump(mode="json")`, and equality
ignores source spans (see `Node.__eq__`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal, assert_never, get_args

from yakkan.engine.core.datamodel import Data, Span, field
from yakkan.engine.core.kinds import Value

__all__ = ["Span"]  # re-exported: where every pass imports it from


class Node(Data):
    """Base of every AST and IR node: a source span that equality and dumps ignore."""

    span: Span | None = field(default=None, exclude=True, repr=False)
    # set by the compile pass (`semantics/program.py`) on the program's own copy of a tree:
    # a stable id (`<root>/<pre-order index>`) that traces and backends name the node by,
    # and its type as the checker infers it
    nid: str | None = field(default=None, exclude=True, repr=False)
    ty: str | None = field(default=None, exclude=True, repr=False)

    def __eq__(self, other: object) -> bool:
        if type(self) is not type(other):
            return NotImplemented
        assert isinstance(other, Node)
        return self.model_dump() == other.model_dump()

    __hash__ = None


# ---- value types -----------------------------------------------------------

BaseType = Literal[
    "bool", "int", "decimal", "money", "percent", "date", "duration", "text", "enum", "list"
]
BASE_TYPES: tuple[BaseType, ...] = get_args(BaseType)
SCALAR_TYPES: tuple[str, ...] = (
    "bool", "int", "decimal", "money", "percent", "date", "duration", "text",
)
DurationUnit = Literal["second", "minute", "hour", "day", "month", "year"]
DURATION_UNITS: tuple[DurationUnit, ...] = get_args(DurationUnit)
# the operators and quantifiers of expressions
BoolOpName = Literal["and", "or"]
BOOL_OPS: tuple[BoolOpName, ...] = get_args(BoolOpName)
CompareOp = Literal["==", "!=", "<", "<=", ">", ">="]
COMPARE_OPS: tuple[CompareOp, ...] = get_args(CompareOp)
ArithOp = Literal["+", "-", "*", "/"]
ARITH_OPS: tuple[ArithOp, ...] = get_args(ArithOp)
Quantifier = Literal["all", "any", "count", "sum", "min", "max"]
QUANTIFIERS: tuple[Quantifier, ...] = get_args(Quantifier)


class EnumMember(Node):
    name: str
    label: str | None = None


class Constraint(Node):
    """What a fact's values may be, declared after its type and label: `range LOW..HIGH` or
    `range LOW..` (a number: bounds included, written as literals of the fact's type — `-100`,
    `1.5`, `1500円`, `5%`; a negative lower bound is how a vocabulary allows negative counts and
    amounts) or `pattern "REGEX"` (a text: the whole value matches). The resolver checks it
    (`type.bad-range`, `type.empty-range`, `type.bad-pattern`); the case model, the JSON
    Schema, batch and the solver enforce it."""

    minimum: Lit | None = None
    maximum: Lit | None = None
    pattern: str | None = None

    def low(self) -> Decimal | None:
        return bound_value(self.minimum) if self.minimum is not None else None

    def high(self) -> Decimal | None:
        return bound_value(self.maximum) if self.maximum is not None else None

    def describe(self) -> str:
        """The constraint as written in the vocabulary (`range 1..2`, `pattern "…"`)."""
        if self.pattern is not None:
            return f'pattern "{self.pattern}"'
        lo = bound_text(self.minimum) if self.minimum is not None else ""
        hi = bound_text(self.maximum) if self.maximum is not None else ""
        return f"range {lo}..{hi}"


def bound_value(b: Lit) -> Decimal:
    """A range bound as the value it bounds: `5%` is 0.05, `1500円` is 1500."""
    v = b.value
    assert isinstance(v, int | Decimal) and not isinstance(v, bool)
    d = Decimal(v)
    return d / 100 if b.type == "percent" else d


def bound_text(b: Lit) -> str:
    """A range bound as written (`-100`, `1.5`, `1500円`, `5%`)."""
    v = b.value
    assert isinstance(v, int | Decimal) and not isinstance(v, bool)
    s = format(Decimal(v), "f") if isinstance(v, Decimal) else str(v)
    if b.type == "decimal" and "." not in s:
        s += ".0"
    return s + {"money": "円", "percent": "%"}.get(b.type, "")


class FieldDecl(Node):
    """A field of a record in a list fact (e.g. one registered line)."""

    name: str
    type: YType
    label: str | None = None
    judgment: bool = False


class YType(Node):
    """A fact's type. `enum_name` names a declared enum; `members` holds inline ones;
    `ident` a typed identifier (`duns`, `core/textnorm.IDENTIFIERS`): a text whose values are
    validated against the identifier's pattern and kept in its canonical form."""

    base: BaseType
    enum_name: str | None = None
    members: list[EnumMember] = []
    fields: list[FieldDecl] = []
    ident: str | None = None
    constraint: Constraint | None = None

    def value_bounds(self) -> tuple[Decimal | None, Decimal | None]:
        """The least and greatest value a case may give (None: no bound of that side): the
        declared range, and without one counts, amounts and percentages are 0 or more."""
        c = self.constraint
        lo = c.low() if c is not None else None
        hi = c.high() if c is not None else None
        if lo is None and self.base in ("int", "money", "percent"):
            lo = Decimal(0)
        return lo, hi

    def describe(self) -> str:
        if self.base == "enum":
            names = ", ".join(m.name for m in self.members)
            return f"one of {names}" if names else f"enum {self.enum_name}"
        if self.base == "list":
            return "a list of records"
        if self.ident:
            return self.ident
        return self.base


# ---- citations ---------------------------------------------------------------


class Citation(Node):
    """A reference as the text makes it, e.g. 「第14条の65第2項第7号」 or 「前項」.

    `targets` is filled by the resolver with provision ids; empty before resolution.
    """

    raw: str
    targets: list[str] = field(default_factory=list, exclude=True)
    external: str | None = field(default=None, exclude=True)


# ---- expressions ---------------------------------------------------------------


class Lit(Node):
    kind: Literal["lit"] = "lit"
    type: Literal["bool", "int", "decimal", "money", "percent", "date", "duration", "text"]
    value: bool | int | Decimal | dt.date | str
    unit: DurationUnit | None = None


class Ref(Node):
    """A name: fact path, definition, period, bound variable or enum member.

    The checker decides which (`resolved` is one of fact / definition / period / var / enum).
    """

    kind: Literal["ref"] = "ref"
    path: list[str]
    resolved: str | None = field(default=None, exclude=True)


class Not(Node):
    kind: Literal["not"] = "not"
    operand: Expr


class BoolOp(Node):
    kind: Literal["boolop"] = "boolop"
    op: BoolOpName
    operands: list[Expr]


class Compare(Node):
    kind: Literal["compare"] = "compare"
    op: CompareOp
    left: Expr
    right: Expr


class MemberOf(Node):
    kind: Literal["member"] = "member"
    operand: Expr
    options: list[Expr]


class Arith(Node):
    kind: Literal["arith"] = "arith"
    op: ArithOp
    left: Expr
    right: Expr


class Neg(Node):
    kind: Literal["neg"] = "neg"
    operand: Expr


class Call(Node):
    """A call of a builtin from the fixed table in `yakkan.engine.core.builtins`."""

    kind: Literal["call"] = "call"
    fn: str
    args: list[Expr]


class Quant(Node):
    """all/any/count/sum/min/max over a list fact, binding `var` to each record."""

    kind: Literal["quant"] = "quant"
    q: Quantifier
    var: str
    source: Ref
    body: Expr | None = None
    where: Expr | None = None


class Holds(Node):
    """True where any ground of the cited provisions applies (Kleene).

    The compile pass fills `lowered`: the disjunction of `Applies` of the cited grounds (or
    the cited unit's own condition), which is what every backend evaluates."""

    kind: Literal["holds"] = "holds"
    cite: Citation
    lowered: Expr | None = field(default=None, exclude=True, repr=False)


class Applies(Node):
    """Whether the program's ground `ground` applies (Kleene). Only in a compiled program."""

    kind: Literal["applies"] = "applies"
    ground: str


class Branch(Node):
    cond: Expr
    value: Value


class Priority(Node):
    """An outcome's decision rule: the value of the first branch whose condition is true.

    Kleene-exact over its branches: an unknown condition before the first true one makes
    the value one of several (each unknown branch's value, and the first true one's — or
    `default` when none is true). The value is determinate only when that set has one
    member. Only in a compiled program."""

    kind: Literal["priority"] = "priority"
    branches: list[Branch]
    default: Value


class IfThen(Node):
    kind: Literal["if"] = "if"
    cond: Expr
    then: Expr
    orelse: Expr


# the closed set of expression node types, for dispatch that must handle every kind
Expr = (Lit | Ref | Not | BoolOp | Compare | MemberOf | Arith | Neg | Call | Quant | Holds
        | IfThen | Applies | Priority)
ExprNode = Expr  # the same union (`Expr` was pydantic's discriminated form of it)


def children(e: Expr) -> list[Expr]:
    """The direct sub-expressions of `e`, in source order (an exhaustive match: mypy rejects
    a node kind left out)."""
    match e:
        case Not() | Neg():
            return [e.operand]
        case BoolOp():
            return list(e.operands)
        case Compare() | Arith():
            return [e.left, e.right]
        case MemberOf():
            return [e.operand, *e.options]
        case Call():
            return list(e.args)
        case Quant():
            return [x for x in (e.source, e.body, e.where) if x is not None]
        case IfThen():
            return [e.cond, e.then, e.orelse]
        case Holds():
            return [e.lowered] if e.lowered is not None else []
        case Priority():
            return [b.cond for b in e.branches]
        case Lit() | Ref() | Applies():
            return []
        case _:
            assert_never(e)


def walk(e: Expr) -> list[Expr]:
    """Every node of `e`, pre-order, without recursion (deep trees are safe)."""
    out: list[Expr] = []
    stack = [e]
    while stack:
        n = stack.pop()
        out.append(n)
        stack.extend(reversed(children(n)))
    return out
