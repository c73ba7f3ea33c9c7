"""sql: the decision program compiled to SQL — DuckDB by default, Spark SQL through a dialect.

SQL's NULL is Kleene's unknown (`NULL AND FALSE` is false, `NULL OR TRUE` is true), so the
program's three-valued conditions map onto SQL directly. The table this compiles against
has the **canonical batch layout** (see `features/batch.py`): one column per fact path
(`applicant.duns_issued`), NULL where the fact is unknown, and for each fact that may be
stated as absent (`core/values.ABSENT`: a line never removed) a boolean companion column
`<path>__absent`; a list fact is a list of structs whose fields follow the same rule; the
row's evaluation date is the column `__as_of`.

Every value compiles to a pair: the SQL of the value (NULL when unknown or absent) and the
SQL of "is observed absent" (never NULL; omitted where the fact cannot be absent). The
operations follow `runtime/ops.py` exactly — an absent value orders nothing and equals only
absence, arithmetic on it stays absent, unknown wins over absent — and a differential test
holds the result equal to the interpreter's, row by row.

The query computes definitions and grounds in layers (each a CTE over the previous one, in
dependency order), then for every outcome: its value (Kleene-exact over the decision rule's
branches: stated only when every open branch gives the same value), the citations of the
applying grounds (an effect's ground set aside by an applying override left out), of the
undetermined grounds, and the missing facts (those the unknown grounds of the open branches
read, as `DecisionProgram.reads` lists them).

What cannot be compiled — a duration fact, a builtin with no SQL counterpart — raises
`NotCompilable` naming the node and its place in the rule file; nothing is guessed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import assert_never

from yakkan.engine.core import ir as I
from yakkan.engine.core.periods import Duration
from yakkan.engine.runtime.ops import literal
from yakkan.engine.semantics.program import UNDETERMINED, DecisionProgram, direct_reads, program_of
from yakkan.engine.semantics.resolve import Rulebook

__all__ = [
    "ABSENT_SUFFIX",
    "DUCKDB",
    "SPARK",
    "Dialect",
    "NotCompilable",
    "SqlProgram",
    "compile_sql",
    "sql_type",
]

ABSENT_SUFFIX = "__absent"
AS_OF = "__as_of"
DECIMAL = "DECIMAL(38,10)"
# fact types that may be stated as absent (as `runtime/case.ABSENT_OK`)
_MAY_BE_ABSENT = frozenset({"int", "decimal", "money", "percent", "date", "duration", "text"})
_CHUNK = 6  # conditions per lookup of `_selected` (a constant list of 2**6 subsets)


class NotCompilable(Exception):
    """A construct the SQL backend does not translate, with where it stands."""


# ---- dialects ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dialect:
    """What differs between the SQL engines yakkan compiles for."""

    name: str
    ident_quote: str
    arrow_lambda: bool  # `x -> e` (Spark) or `lambda x: e` (DuckDB ≥ 1.3)
    transform: str
    filter: str
    length: str
    list_sum: str | None  # None: `aggregate`
    list_min: str
    list_max: str
    backslash_escapes: bool  # Spark SQL string literals treat `\\` as an escape

    def ident(self, name: str) -> str:
        q = self.ident_quote
        return q + name.replace(q, q + q) + q

    def string(self, s: str) -> str:
        if self.backslash_escapes:  # Spark: 'a''b' is two literals ('ab'); escape instead
            return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + s.replace("'", "''") + "'"

    def lam(self, var: str, body: str) -> str:
        return f"{var} -> {body}" if self.arrow_lambda else f"lambda {var}: {body}"

    def list_of(self, items: list[str]) -> str:
        if self.name == "spark":
            return f"array({', '.join(items)})"
        return f"[{', '.join(items)}]"

    def add_days(self, d: str, n: str) -> str:
        if self.name == "spark":
            return f"date_add({d}, {n})"
        return f"CAST({d} + to_days(CAST({n} AS INTEGER)) AS DATE)"

    def add_months(self, d: str, n: int) -> str:
        if self.name == "spark":
            return f"add_months({d}, {n})"
        return f"CAST({d} + INTERVAL {n} MONTH AS DATE)"

    def day_of_month(self, d: str) -> str:
        return f"dayofmonth({d})" if self.name == "spark" else f"day({d})"

    def days_between(self, a: str, b: str) -> str:
        """Days from `a` to `b` (b − a)."""
        if self.name == "spark":
            return f"datediff({b}, {a})"
        return f"date_diff('day', {a}, {b})"

    def sum(self, xs: str, zero: str) -> str:
        if self.list_sum is not None:
            return f"coalesce({self.list_sum}({xs}), {zero})"
        return f"aggregate({xs}, {zero}, (acc, y) -> acc + y)"

    # -- what the batch paths' row checks (features/batch_native) need besides --

    @property
    def text(self) -> str:
        """The type of a text column."""
        return "STRING" if self.name == "spark" else "VARCHAR"

    def text_list(self) -> str:
        return "ARRAY<STRING>" if self.name == "spark" else "VARCHAR[]"

    def full_match(self, x: str, pattern: str) -> str:
        """TRUE when all of `x` matches the regular expression `pattern` (RE2 and Java
        regular expressions agree on the patterns yakkan writes)."""
        if self.name == "spark":
            return f"({x} RLIKE {self.string('^(?:' + pattern + ')$')})"
        return f"regexp_full_match({x}, {self.string(pattern)})"

    def remove_all(self, x: str, pattern: str) -> str:
        """`x` with every match of `pattern` removed."""
        flags = "" if self.name == "spark" else ", 'g'"
        return f"regexp_replace({x}, {self.string(pattern)}, ''{flags})"

    def any_of(self, xs: str, var: str, cond: str) -> str:
        """TRUE when some element `var` of the list `xs` satisfies `cond` (NULL for NULL)."""
        return f"({self.length}({self.filter}({xs}, {self.lam(var, cond)})) > 0)"

    def record(self, fields: list[tuple[str, str]]) -> str:
        """A struct of named fields."""
        if self.name == "spark":
            return "named_struct(" + ", ".join(f"{self.string(n)}, {v}" for n, v in fields) + ")"
        return "struct_pack(" + ", ".join(f"{self.ident(n)} := {v}" for n, v in fields) + ")"

    def unnest(self, xs: str) -> str:
        return f"explode({xs})" if self.name == "spark" else f"unnest({xs})"

    def element_at(self, xs: str, i: str) -> str:
        """The `i`-th element of the list `xs`, counting from 1."""
        return f"element_at({xs}, {i})" if self.name == "spark" else f"{xs}[{i}]"

    def concat_lists(self, xs: list[str]) -> str:
        return f"concat({', '.join(xs)})" if self.name == "spark" else \
            f"list_concat({', '.join(xs)})"


DUCKDB = Dialect("duckdb", '"', False, "list_transform", "list_filter", "len", "list_sum",
                 "list_min", "list_max", False)
SPARK = Dialect("spark", "`", True, "transform", "filter", "size", None, "array_min",
                "array_max", True)


def sql_type(t: I.YType, dialect: Dialect = DUCKDB) -> str:
    """The column type of a fact in the canonical batch layout."""
    b = t.base
    if b == "bool":
        return "BOOLEAN"
    if b == "int":
        return "BIGINT"
    if b in ("decimal", "money", "percent"):
        return DECIMAL
    if b == "date":
        return "DATE"
    if b in ("text", "enum", "duration"):  # a duration as written (61秒)
        return "STRING" if dialect.name == "spark" else "VARCHAR"
    if b == "list":
        fields = []
        for f in t.fields:
            fields.append(f"{dialect.ident(f.name)} {sql_type(f.type, dialect)}")
            if f.type.base in _MAY_BE_ABSENT:
                fields.append(f"{dialect.ident(f.name + ABSENT_SUFFIX)} BOOLEAN")
        sep = ": " if dialect.name == "spark" else " "
        inner = ", ".join(x.replace(" ", sep, 1) if dialect.name == "spark" else x
                          for x in fields)
        return f"ARRAY<STRUCT<{inner}>>" if dialect.name == "spark" else f"STRUCT({inner})[]"
    raise NotCompilable(f"no column type for a {b} fact")


# ---- values -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class SV:
    """A compiled value: `v` the SQL of the value (NULL when unknown or absent); `absent` the
    SQL that is TRUE when it is observed absent (None: it never is); `duration` a literal
    duration (only an argument of `period_end` takes one)."""

    v: str
    absent: str | None = None
    duration: Duration | None = None
    always_unknown: bool = False  # a fact the table has no column for (`compile_sql`)

    def unknown(self) -> str:
        if self.absent is None:
            return f"({self.v} IS NULL)"
        return f"({self.v} IS NULL AND NOT {self.absent})"


_NULL = SV("NULL")


def _where(e: I.Node) -> str:
    return f" at {e.span}" if e.span is not None else ""


# ---- the compiler -----------------------------------------------------------------------------

@dataclass
class SqlProgram:
    """The compiled query of one rulebook version, over a relation in the canonical layout.

    `query(relation)` gives a SELECT of `__row`, `__as_of` and, for every outcome `o`, the
    columns `o.value`, `o.grounds`, `o.undetermined` and `o.missing`."""

    book: Rulebook
    dialect: Dialect
    layers: list[list[tuple[str, str]]] = field(default_factory=list)  # (column, SQL)
    outputs: list[tuple[str, str]] = field(default_factory=list)
    outcomes: list[str] = field(default_factory=list)

    def query(self, relation: str, passthrough: tuple[str, ...] = ("__row", AS_OF),
              only: str | None = None) -> str:
        """`only`: a condition on the row; the lists are built only where it holds (NULL
        elsewhere) — for a relation some of whose rows are another program's."""
        d = self.dialect
        ctes = []
        prev = relation
        for i, layer in enumerate(self.layers):
            cols = ", ".join(f"{sql} AS {d.ident(name)}" for name, sql in layer)
            ctes.append(f"__l{i} AS (SELECT *, {cols} FROM {prev})")
            prev = f"__l{i}"
        keep = ", ".join(d.ident(c) for c in passthrough)

        def guarded(name: str, sql: str) -> str:
            return sql if only is None or name.endswith(".value") else \
                f"CASE WHEN {only} THEN {sql} END"

        outs = ", ".join(f"{guarded(name, sql)} AS {d.ident(name)}"
                         for name, sql in self.outputs)
        head = ("WITH " + ",\n".join(ctes) + "\n") if ctes else ""
        return f"{head}SELECT {keep}, {outs} FROM {prev}"


def compile_sql(book: Rulebook, dialect: Dialect = DUCKDB,
                outcomes: list[str] | None = None,
                unknown: frozenset[str] = frozenset()) -> SqlProgram:
    """The rulebook's decision program as one SQL query (all outcomes, or the named ones).

    `unknown`: facts the input has no column for (nor an `__absent` one) — unknown on every
    row, so the program is compiled with them as such: a quantifier over such a list is
    unknown outright (the relation still has the column, NULL, in the canonical layout)."""
    return _Compiler(book, program_of(book), dialect, unknown).run(outcomes)


class _Compiler:
    def __init__(self, book: Rulebook, program: DecisionProgram, dialect: Dialect,
                 unknown: frozenset[str] = frozenset()):
        self.book = book
        self.p = program
        self.d = dialect
        self.unknown = unknown
        self.def_absent: dict[str, bool] = {}
        self.depth = 0  # lambda nesting
        self.top = 0  # the first layer of the outcomes' helper columns

    def col(self, name: str) -> str:
        return self.d.ident(name)

    # -- the query --
    def run(self, outcomes: list[str] | None) -> SqlProgram:
        names = list(self.p.decisions) if outcomes is None else outcomes
        for n in names:
            if n not in self.p.decisions:
                raise NotCompilable(f"no outcome {n!r} in this version")
        grounds = self._needed_grounds(names)
        order = self._plan(grounds)
        out = SqlProgram(self.book, self.d, outcomes=names)
        level: dict[str, int] = {}
        for kind, item in order:
            deps = self._deps(kind, item)
            lv = 1 + max((level[x] for x in deps if x in level), default=-1)
            level[f"{kind}:{item}"] = lv
            while len(out.layers) <= lv:
                out.layers.append([])
            if kind == "d":
                sv = self.expr(self.p.definitions[item], {})
                out.layers[lv].append((f"d:{item}", sv.v))
                self.def_absent[item] = sv.absent is not None
                if sv.absent is not None:
                    out.layers[lv].append((f"d:{item}{ABSENT_SUFFIX}", sv.absent))
            else:
                g = self.p.grounds[item]
                try:
                    out.layers[lv].append((f"g:{item}", self.expr(g.applies, {}).v))
                except NotCompilable as err:
                    raise NotCompilable(f"{err} (in {g.citation})") from None
        self.top = len(out.layers)
        for n in names:
            self._outcome(n, out)
        return out

    def _needed_grounds(self, names: list[str]) -> list[str]:
        need: set[str] = set()
        stack = [k for n in names for k in self.p.decisions[n].grounds]
        while stack:
            k = stack.pop()
            if k in need:
                continue
            need.add(k)
            stack.extend(self._ground_cites(k))
        return [k for k in self.p.grounds if k in need]

    def _ground_cites(self, k: str) -> set[str]:
        _f, defs, gs = direct_reads(self.p.grounds[k].applies)
        gs = set(gs)
        seen: set[str] = set()
        stack = list(defs)
        while stack:
            d = stack.pop()
            if d in seen:
                continue
            seen.add(d)
            _f2, dd, dg = direct_reads(self.p.definitions[d])
            gs |= dg
            stack.extend(dd)
        return gs

    def _deps(self, kind: str, item: str) -> set[str]:
        e = self.p.definitions[item] if kind == "d" else self.p.grounds[item].applies
        _f, defs, gs = direct_reads(e)
        return {f"d:{x}" for x in defs} | {f"g:{x}" for x in gs}

    def _plan(self, grounds: list[str]) -> list[tuple[str, str]]:
        """Definitions and grounds in dependency order (depth-first, cycle-safe)."""
        out: list[tuple[str, str]] = []
        done: set[str] = set()
        visiting: set[str] = set()

        def visit(kind: str, item: str) -> None:
            key = f"{kind}:{item}"
            if key in done:
                return
            if key in visiting:
                raise NotCompilable(f"a cycle through {key}")
            visiting.add(key)
            for dep in sorted(self._deps(kind, item)):
                k2, _, i2 = dep.partition(":")
                visit(k2, i2)
            visiting.discard(key)
            done.add(key)
            out.append((kind, item))

        for k in grounds:
            visit("g", k)
        return out

    def _outcome(self, name: str, out: SqlProgram) -> None:
        """An outcome's four output columns, over three helper layers: the branch conditions;
        which branches are still open; which value it is (or undetermined)."""
        d = self.p.decisions[name]
        rule = d.rule
        col = self.col
        n = len(rule.branches)
        c = [f"c:{name}:{i}" for i in range(n)]
        helpers: list[list[tuple[str, str]]] = [[], [], []]
        for i, b in enumerate(rule.branches):
            helpers[0].append((c[i], self.expr(b.cond, {}).v))
        # branch i is reached when no earlier branch holds; open when reached and not false
        for i in range(n):
            prev = " AND ".join(f"NOT coalesce({col(x)}, FALSE)" for x in c[:i]) or "TRUE"
            helpers[1].append((f"r:{name}:{i}", f"({prev})"))
        none_holds = " AND ".join(f"NOT coalesce({col(x)}, FALSE)" for x in c) or "TRUE"
        values: dict[str, list[str]] = {}
        for i, b in enumerate(rule.branches):
            values.setdefault(b.value, []).append(
                f"({col(f'r:{name}:{i}')} AND coalesce({col(c[i])}, TRUE))")
        values.setdefault(rule.default, []).append(f"({none_holds})")
        vnames = list(values)
        for j, v in enumerate(vnames):
            helpers[1].append((f"h:{name}:{j}", "(" + " OR ".join(values[v]) + ")"))
        only = {v: " AND ".join([col(f"h:{name}:{j}")] + [f"NOT {col(f'h:{name}:{k}')}"
                                                          for k in range(len(vnames)) if k != j])
                for j, v in enumerate(vnames)}
        whens = " ".join(f"WHEN {cond} THEN {self.d.string(v)}" for v, cond in only.items())
        helpers[2].append((f"{name}.value", f"CASE {whens} ELSE {self.d.string(UNDETERMINED)} END"))
        for lv, cols in enumerate(helpers):
            while len(out.layers) <= self.top + lv:
                out.layers.append([])
            out.layers[self.top + lv].extend(cols)
        undetermined = f"({col(f'{name}.value')} = {self.d.string(UNDETERMINED)})"
        rest = [k for k in d.grounds if k not in d.base]
        aside: dict[str, list[str]] = {}
        if d.kind == "effect":
            for w, k in d.overrides:
                aside.setdefault(k, []).append(col(f"g:{w}"))
        # (condition, citation): listed where the condition is TRUE (not FALSE, not NULL)
        applying: list[tuple[str, str]] = []
        for k in rest:
            cond = col(f"g:{k}")
            for w in aside.get(k, []):
                cond += f" AND NOT coalesce({w}, FALSE)"
            applying.append((cond, self.p.grounds[k].citation))
        unknown = [(f"{col(f'g:{k}')} IS NULL", self.p.grounds[k].citation) for k in rest]
        # missing facts: read by an unknown ground of an open branch, still unknown; in order
        cands: list[tuple[str, str]] = []  # (fact path, condition)
        for i, b in enumerate(rule.branches):
            keys = list(dict.fromkeys(x.ground for x in I.walk(b.cond)
                                      if isinstance(x, I.Applies)))
            for k in keys:
                for path in self.p.reads[k]:
                    cands.append((path, f"({col(f'r:{name}:{i}')} AND {col(c[i])} IS NULL AND "
                                        f"{col(f'g:{k}')} IS NULL AND "
                                        f"{self._fact_unknown(path)})"))
        missing = []
        for j, (path, cond) in enumerate(cands):
            earlier = [x for p2, x in cands[:j] if p2 == path]
            if earlier:
                cond = f"{cond} AND NOT ({' OR '.join(earlier)})"
            missing.append(f"CASE WHEN {cond} THEN {self.d.string(path)} END")
        # only an undetermined outcome has missing facts: the list is built for those rows
        # only (a CASE evaluates its branch for the rows that take it)
        missing_col = (f"CASE WHEN {undetermined} THEN {self._present(missing)} "
                       f"ELSE {self._empty()} END") if missing else self._empty()
        out.outputs += [
            (f"{name}.value", col(f"{name}.value")),
            (f"{name}.grounds", self._selected(applying)),
            (f"{name}.undetermined", self._selected(unknown)),
            (f"{name}.missing", missing_col),
        ]

    def _empty(self) -> str:
        return "CAST([] AS VARCHAR[])" if self.d.name != "spark" else \
            "CAST(array() AS ARRAY<STRING>)"

    def _present(self, items: list[str]) -> str:
        """The non-null members of a list of CASE expressions, in order."""
        if not items:
            return self._empty()
        v = f"__v{self.depth}"
        return (f"{self.d.filter}({self.d.list_of(items)}, "
                f"{self.d.lam(v, f'{v} IS NOT NULL')})")

    def _selected(self, items: list[tuple[str, str]]) -> str:
        """The constant texts of `items` whose condition is TRUE, in order — as a lookup:
        the conditions, up to `_CHUNK` at a time, make the bits of an index into a constant
        list of every subset (no list is built and filtered row by row)."""
        if not items:
            return self._empty()
        d = self.d
        parts = []
        for at in range(0, len(items), _CHUNK):
            chunk = items[at:at + _CHUNK]
            index = " + ".join(f"CASE WHEN {cond} THEN {1 << i} ELSE 0 END"
                               for i, (cond, _text) in enumerate(chunk))
            subsets = [d.list_of([d.string(t) for i, (_c, t) in enumerate(chunk) if m >> i & 1])
                       if m else self._empty() for m in range(1 << len(chunk))]
            parts.append(d.element_at(d.list_of(subsets), f"(1 + {index})"))
        return parts[0] if len(parts) == 1 else d.concat_lists(parts)

    def _fact_unknown(self, path: str) -> str:
        decl = self.book.facts.get(path)
        if decl is None:
            return "TRUE"
        sv = self._fact(path, decl.type)
        return "TRUE" if sv.always_unknown else sv.unknown()

    def _fact(self, path: str, t: I.YType) -> SV:
        if path in self.unknown:
            return SV(f"CAST(NULL AS {sql_type(t, self.d)})", always_unknown=True)
        absent = (f"coalesce({self.col(path + ABSENT_SUFFIX)}, FALSE)"
                  if t.base in _MAY_BE_ABSENT else None)
        return SV(self.col(path), absent)

    # -- expressions --
    def expr(self, e: I.Expr, env: dict[str, tuple[str, I.YType | None]]) -> SV:
        match e:
            case I.Lit():
                return self.lit(e)
            case I.Ref():
                return self.ref(e, env)
            case I.BoolOp():
                parts = [self.expr(x, env).v for x in e.operands]
                return SV("(" + f" {e.op.upper()} ".join(parts) + ")")
            case I.Not():
                return SV(f"(NOT {self.expr(e.operand, env).v})")
            case I.Compare():
                return self.compare(e, env)
            case I.MemberOf():
                a = self.expr(e.operand, env)
                opts = [self.expr(o, env) for o in e.options]
                if any(o.absent is not None for o in opts):
                    raise NotCompilable(f"a choice among values that may be absent{_where(e)}")
                inn = f"({a.v} IN ({', '.join(o.v for o in opts)}))"
                if a.absent is None:
                    return SV(inn)
                some_unknown = " OR ".join(f"{o.v} IS NULL" for o in opts) or "FALSE"
                return SV(f"(CASE WHEN {a.unknown()} THEN NULL WHEN {a.absent} THEN "
                          f"(CASE WHEN {some_unknown} THEN NULL ELSE FALSE END) ELSE {inn} END)")
            case I.Arith():
                return self.arith(e, env)
            case I.Neg():
                a = self.expr(e.operand, env)
                return SV(f"(-{a.v})", a.absent)
            case I.Call():
                return self.call(e, env)
            case I.Quant():
                return self.quant(e, env)
            case I.Holds():
                return self.expr(e.lowered, env) if e.lowered is not None else _NULL
            case I.IfThen():
                c = self.expr(e.cond, env).v
                t, f = self.expr(e.then, env), self.expr(e.orelse, env)
                v = f"(CASE WHEN {c} THEN {t.v} WHEN NOT {c} THEN {f.v} END)"
                if t.absent is None and f.absent is None:
                    return SV(v)
                ta, fa = t.absent or "FALSE", f.absent or "FALSE"
                return SV(v, f"(CASE WHEN {c} THEN {ta} WHEN NOT {c} THEN {fa} ELSE FALSE END)")
            case I.Applies():
                return SV(self.col(f"g:{e.ground}"))
            case I.Priority():
                raise NotCompilable(f"a decision rule inside an expression{_where(e)}")
            case _:
                assert_never(e)

    def lit(self, e: I.Lit) -> SV:
        v = literal(e)
        if isinstance(v, Duration):
            return SV("NULL", None, v)
        if isinstance(v, bool):
            return SV("TRUE" if v else "FALSE")
        if isinstance(v, int):
            return SV(str(v))
        if isinstance(v, Decimal):
            return SV(f"CAST({self.d.string(str(v))} AS {DECIMAL})")
        if isinstance(v, dt.date):
            return SV(f"DATE {self.d.string(v.isoformat())}")
        if isinstance(v, str):
            return SV(self.d.string(v))
        raise NotCompilable(f"a literal {v!r}{_where(e)}")

    def ref(self, e: I.Ref, env: dict[str, tuple[str, I.YType | None]]) -> SV:
        r = e.resolved
        if r == "var" or (r is None and e.path[0] in env):
            if e.path[0] not in env:
                return _NULL
            var, t = env[e.path[0]]
            if len(e.path) == 1:
                return SV(var)
            if len(e.path) > 2 or t is None:
                raise NotCompilable(f"a nested record field {'.'.join(e.path)}{_where(e)}")
            f = next((f for f in t.fields if f.name == e.path[1]), None)
            if f is None:
                return _NULL
            if f.type.base == "duration":
                raise NotCompilable(f"the duration field {'.'.join(e.path)}{_where(e)}")
            field_absent = (f"coalesce({var}.{self.col(f.name + ABSENT_SUFFIX)}, FALSE)"
                            if f.type.base in _MAY_BE_ABSENT else None)
            return SV(f"{var}.{self.col(f.name)}", field_absent)
        name = ".".join(e.path)
        if r == "fact":
            decl = self.book.facts[name]
            if decl.type.base == "duration":
                raise NotCompilable(f"the duration fact {name}{_where(e)}")
            return self._fact(name, decl.type)
        if r == "definition":
            return SV(self.col(f"d:{name}"), self.col(f"d:{name}{ABSENT_SUFFIX}")
                      if self.def_absent.get(name, False) else None)
        if r == "enum":
            return SV(self.d.string(e.path[0]))
        if r == "builtin" and name == "as_of":
            return SV(self.col(AS_OF))
        return _NULL

    def compare(self, e: I.Compare, env: dict[str, tuple[str, I.YType | None]]) -> SV:
        a, b = self.expr(e.left, env), self.expr(e.right, env)
        if a.duration is not None or b.duration is not None or "duration" in (e.left.ty,
                                                                               e.right.ty):
            raise NotCompilable(f"a comparison of durations{_where(e)}")
        op = "=" if e.op == "==" else "<>" if e.op == "!=" else e.op
        if str(e.left.ty).startswith("id:") or str(e.right.ty).startswith("id:"):
            # typed identifiers equal when their digits do (a Parquet column is read as
            # written: its hyphens and full-width digits are not yet the canonical form)
            plain = f"({self._id_digits(a.v)} {op} {self._id_digits(b.v)})"
        else:
            plain = f"({a.v} {op} {b.v})"
        if a.absent is None and b.absent is None:
            return SV(plain)
        aa, ba = a.absent or "FALSE", b.absent or "FALSE"
        both = f"({aa} AND {ba})"
        when_absent = both if e.op == "==" else f"(NOT {both})" if e.op == "!=" else "FALSE"
        return SV(f"(CASE WHEN {a.unknown()} OR {b.unknown()} THEN NULL "
                  f"WHEN {aa} OR {ba} THEN {when_absent} ELSE {plain} END)")

    def arith(self, e: I.Arith, env: dict[str, tuple[str, I.YType | None]]) -> SV:
        a, b = self.expr(e.left, env), self.expr(e.right, env)
        lt, rt = e.left.ty, e.right.ty
        if a.duration is not None or b.duration is not None:
            raise NotCompilable(f"arithmetic with a duration{_where(e)}")
        if lt == "date" and rt == "date" and e.op == "-":
            v = self.d.days_between(b.v, a.v)
        elif lt == "date" and rt == "int" and e.op in "+-":
            v = self.d.add_days(a.v, b.v if e.op == "+" else f"(-{b.v})")
        elif lt in ("date", "duration") or rt in ("date", "duration"):
            raise NotCompilable(f"date arithmetic {lt} {e.op} {rt}{_where(e)}")
        elif e.op == "/":
            v = f"(CAST({a.v} AS {DECIMAL}) / NULLIF(CAST({b.v} AS {DECIMAL}), 0))"
        else:
            v = f"({a.v} {e.op} {b.v})"
        return self._strict(v, [a, b])

    def _id_digits(self, v: str) -> str:
        """An identifier's digits: full-width digits and dashes read as ASCII, hyphens and
        spaces dropped (`core/textnorm.canonical_id` keeps the same digits)."""
        src, dst = "０１２３４５６７８９‐‑‒–—―−－ｰ﹣", "0123456789----------"
        return (f"regexp_replace(translate({v}, {self.d.string(src)}, {self.d.string(dst)}),"
                f" {self.d.string('[- ]')}, '', 'g')" if self.d.name == "duckdb" else
                f"regexp_replace(translate({v}, {self.d.string(src)}, {self.d.string(dst)}),"
                f" {self.d.string('[- ]')}, '')")

    def _name_key(self, v: str) -> str:
        """`core/textnorm.name_key` in SQL: the same replacements, translation, removal of
        spaces and 法人格 table, in the same order."""
        from yakkan.engine.core.textnorm import (
            CORPORATE_FORMS,
            SPACES,
            WIDTH_FROM,
            WIDTH_PAIRS,
            WIDTH_TO,
        )

        s = self.d.string
        for a, b in WIDTH_PAIRS:
            v = f"replace({v}, {s(a)}, {s(b)})"
        v = f"translate({v}, {s(WIDTH_FROM)}, {s(WIDTH_TO)})"
        v = f"translate({v}, {s(SPACES)}, '')"
        for short, full in CORPORATE_FORMS:
            v = f"replace({v}, {s(short)}, {s(full)})"
        return v

    def _strict(self, v: str, args: list[SV]) -> SV:
        """Kleene-strict: unknown in → unknown out; else absent in → absent out."""
        absents = [x.absent for x in args if x.absent is not None]
        if not absents:
            return SV(v)
        known = " AND ".join(f"NOT {x.unknown()}" for x in args)
        any_absent = " OR ".join(absents)
        return SV(f"(CASE WHEN {any_absent} THEN NULL ELSE {v} END)",
                  f"({known} AND ({any_absent}))")

    def call(self, e: I.Call, env: dict[str, tuple[str, I.YType | None]]) -> SV:
        args = [self.expr(a, env) for a in e.args]
        fn = e.fn
        if fn == "known":
            a = args[0]
            return SV(f"({a.v} IS NOT NULL" + (f" OR {a.absent})" if a.absent else ")"))
        if fn == "present":
            a = args[0]
            if a.absent is None:
                return SV(f"(CASE WHEN {a.v} IS NULL THEN NULL ELSE TRUE END)")
            return SV(f"(CASE WHEN {a.absent} THEN FALSE WHEN {a.v} IS NULL THEN NULL "
                      "ELSE TRUE END)")
        if fn == "same_name":  # `core/textnorm.name_key`, the same table in SQL
            a, b = args
            plain = f"({self._name_key(a.v)} = {self._name_key(b.v)})"
            absents = [x.absent for x in args if x.absent is not None]
            if not absents:
                return SV(plain)
            # as `==`: unknown wins; else an absent name is the same as no name (false)
            return SV(f"(CASE WHEN {a.unknown()} OR {b.unknown()} THEN NULL "
                      f"WHEN {' OR '.join(absents)} THEN FALSE ELSE {plain} END)")
        if fn == "len":  # (Spark's size(NULL) is -1, not unknown: guard it)
            xs = args[0].v
            return SV(f"(CASE WHEN {xs} IS NULL THEN NULL ELSE {self.d.length}({xs}) END)")
        if fn == "add_days":
            return self._strict(self.d.add_days(args[0].v, args[1].v), args)
        if fn == "days_between":
            v = f"greatest({self.d.days_between(args[0].v, args[1].v)} + 1, 0)"
            return self._strict(v, args)
        if fn in ("min", "max"):
            g = "least" if fn == "min" else "greatest"
            nulls = " OR ".join(f"{a.v} IS NULL" for a in args)
            return self._strict(f"(CASE WHEN {nulls} THEN NULL ELSE {g}("
                                f"{', '.join(a.v for a in args)}) END)", args)
        if fn == "period_end":
            start, dur = args
            if dur.duration is None:
                raise NotCompilable(f"period_end of a period that is not written as a fixed "
                                    f"number of days or months{_where(e)}")
            du = dur.duration
            if du.seconds == 0 and du.months == 0 and du.days > 0:
                return self._strict(self.d.add_days(start.v, str(du.days - 1)), [start])
            if du.seconds == 0 and du.days == 0 and du.months > 0:
                shifted = self.d.add_months(start.v, du.months)
                v = (f"(CASE WHEN {self.d.day_of_month(shifted)} < "
                     f"{self.d.day_of_month(start.v)} THEN {shifted} "
                     f"ELSE {self.d.add_days(shifted, '-1')} END)")
                return self._strict(v, [start])
            raise NotCompilable(f"period_end of {du}{_where(e)}")
        raise NotCompilable(f"the builtin {fn}() has no SQL translation yet{_where(e)}")

    def quant(self, e: I.Quant, env: dict[str, tuple[str, I.YType | None]]) -> SV:
        src = self.expr(e.source, env)
        if src.always_unknown and e.q in ("any", "all", "count"):  # unknown on every row
            return SV("CAST(NULL AS BOOLEAN)" if e.q != "count" else "CAST(NULL AS BIGINT)")
        decl = self.book.facts.get(".".join(e.source.path))
        t = decl.type if decl is not None else None
        self.depth += 1
        x = f"__x{self.depth}"
        inner = {**env, e.var: (x, t)}
        try:
            where = self.expr(e.where, inner).v if e.where is not None else None
            body = self.expr(e.body, inner) if e.body is not None else None
        finally:
            self.depth -= 1
        d = self.d
        lst = src.v

        def count(pred: str) -> str:
            return f"{d.length}({d.filter}({lst}, {d.lam(x, pred)}))"

        where_unknown = f"{count(f'({where}) IS NULL')} > 0" if where is not None else "FALSE"
        selected = f"{d.filter}({lst}, {d.lam(x, where)})" if where is not None else lst

        def count_in(xs: str, pred: str) -> str:
            return f"{d.length}({d.filter}({xs}, {d.lam(x, pred)}))"

        q = e.q
        if q in ("any", "all"):
            assert body is not None or q == "any"
            b = body.v if body is not None else "TRUE"
            neutral = "FALSE" if q == "any" else "TRUE"
            item = (f"(CASE WHEN ({where}) IS NULL THEN NULL WHEN {where} THEN {b} "
                    f"ELSE {neutral} END)") if where is not None else b
            # one pass over the list, the body evaluated once per element: each element as
            # 0 (false), 1 (unknown) or 2 (true); Kleene's OR of them is their maximum, AND
            # their minimum (an empty list: false for any, true for all)
            codes = f"{d.transform}({lst}, {d.lam(x, f'coalesce(CAST({item} AS INT) * 2, 1)')})"
            agg, empty = (d.list_max, 0) if q == "any" else (d.list_min, 2)
            return SV(f"(CASE WHEN {lst} IS NULL THEN NULL ELSE CASE coalesce({agg}({codes}), "
                      f"{empty}) WHEN 2 THEN TRUE WHEN 0 THEN FALSE END END)")
        if q == "count":
            if body is None:
                n = f"{d.length}({selected})"
                return SV(f"(CASE WHEN {lst} IS NULL THEN NULL WHEN {where_unknown} THEN NULL "
                          f"ELSE {n} END)")
            return SV(f"(CASE WHEN {lst} IS NULL THEN NULL WHEN {where_unknown} THEN NULL "
                      f"WHEN {count_in(selected, f'({body.v}) IS NULL')} > 0 THEN NULL "
                      f"ELSE {count_in(selected, body.v)} END)")
        if body is None:
            raise NotCompilable(f"{q} without a value{_where(e)}")
        unknown_body = f"{count_in(selected, body.unknown())} > 0"
        kept = (f"{d.filter}({selected}, {d.lam(x, f'NOT {body.absent}')})"
                if body.absent is not None else selected)
        values = f"{d.transform}({kept}, {d.lam(x, body.v)})"
        if q == "sum":
            zero = "CAST(0 AS BIGINT)" if e.body is not None and e.body.ty == "int" else \
                f"CAST(0 AS {DECIMAL})"
            agg = d.sum(values, zero)
        else:
            agg = f"{d.list_min if q == 'min' else d.list_max}({values})"
        return SV(f"(CASE WHEN {lst} IS NULL THEN NULL WHEN {where_unknown} THEN NULL "
                  f"WHEN {unknown_body} THEN NULL ELSE {agg} END)")
