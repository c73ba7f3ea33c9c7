"""compiled: the decision program as generated Python — the fast backend.

The tracing interpreter (`evaluate.py`) is the reference and the source of explanations; it
walks the IR node by node and records what each ground read. Deciding a case does not need
that record, so this backend turns the same program (`semantics/program.py`) into Python
functions once per rulebook:

* **straight-line code** — one function per outcome (and one for all of them) that reads the
  facts it needs once, computes the definitions, the grounds (in dependency order) and the
  decision rules, and returns every ground's applicability and each outcome's possible
  values; `ops.py` gives each value operation the meaning the interpreter gives it;
* **one function per ground** over the values of the others, so a changed case is re-decided
  by re-running only the grounds that read a changed fact (and those citing them through
  `holds`) — what the counterfactual search does thousands of times.

The generated source is our code: every value that comes from a rule file — a literal, a
fact's name, an enum member, a citation — is a constant in a table the functions index
(`K[3]`); the source holds only our identifiers, operators and integers (a test tokenises
it to prove that), and it is regenerated from the program in each process, never read back
from disk. A construct the generator does not handle raises `NotCompilable` and the caller
uses the interpreter; a differential test holds the two backends equal.
"""

from __future__ import annotations

import datetime as dt
import graphlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, assert_never

from yakkan.engine.core import ir as I
from yakkan.engine.core.builtins import call
from yakkan.engine.core.kinds import Value
from yakkan.engine.core.values import ABSENT
from yakkan.engine.runtime.ops import (
    EvalError,
    arith,
    compare,
    fact_at,
    fold,
    kleene_source,
    literal,
    possible,
    truth,
)
from yakkan.engine.semantics.program import (
    UNDETERMINED,
    DecisionProgram,
    direct_reads,
    ground_parts,
    program_of,
)
from yakkan.engine.semantics.resolve import Rulebook

__all__ = ["Compiled", "Decided", "NotCompilable", "broken_assumptions", "compiled_of"]

# types whose comparison Python's own operators perform exactly as `ops.compare` does
# (everything but durations; an enum's values are its members' names)
_INDIRECT_TYPES = {"duration", "any", "list", "record", "outcome"}
_PY_OP = {"==": "==", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


class NotCompilable(Exception):
    """The program uses something the generator does not handle (the interpreter does)."""


@dataclass(slots=True)
class Decided:
    """One outcome as the compiled backend decides it: the same value, possible values,
    applying grounds (not set aside), undetermined grounds and missing facts as the
    interpreter's `OutcomeResult` (ground keys; `Compiled.citation` names them)."""

    name: str
    value: Value
    possible: tuple[Value, ...]
    applying: tuple[str, ...]
    undetermined: tuple[str, ...]
    missing: tuple[str, ...]
    open: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _member(e: I.Expr, code: str) -> bool:
    """Whether `e` is an enum member, generated as a constant (`K[3]`)."""
    return isinstance(e, I.Ref) and e.resolved == "enum" and code.startswith("K[")


def _gives_truth(e: I.Expr) -> bool:
    """Whether the code generated for `e` gives true, false or None whatever its type
    annotation says (an assumption's expression is not annotated): `_truth` is not needed."""
    return isinstance(e, I.BoolOp | I.Not | I.Compare | I.MemberOf | I.Applies) or (
        isinstance(e, I.Call) and e.fn in ("known", "present"))


def _tuple(items: list[str]) -> str:
    return f"({', '.join(items)}{',' if len(items) == 1 else ''})"


# what generated code may name besides its constant table
_RUNTIME: dict[str, Any] = {
    "ABSENT": ABSENT, "_cmp": compare, "_arith": arith, "_call": call, "_fold": fold,
    "_truth": truth, "isinstance": isinstance, "dict": dict,
}


# ---- the generator ----------------------------------------------------------------------------

@dataclass
class _Fn:
    """The source of one generated function being built."""

    name: str
    params: str
    lines: list[str] = field(default_factory=list)
    prefixes: dict[tuple[str, ...], str] = field(default_factory=dict)
    defs: dict[str, str] = field(default_factory=dict)  # definition → local
    grounds: dict[str, str] = field(default_factory=dict)  # ground key → local
    memo: dict[str, str] = field(default_factory=dict)  # node id → local (top level only)
    # generated expression → the local already holding it, one table per open block (an
    # `if` branch, a loop body): a value computed inside a block is reused only inside it
    same: list[dict[str, str]] = field(default_factory=lambda: [{}])
    n: int = 0

    def tmp(self, prefix: str = "t") -> str:
        self.n += 1
        return f"{prefix}{self.n}"


class _Generator:
    """Python source for a decision program: constants in `K`, no rule text in the code."""

    def __init__(self, program: DecisionProgram):
        self.p = program
        self.K: list[Any] = []
        self._kidx: dict[tuple[type, Any], int] = {}
        self.fn: _Fn = _Fn("", "")
        self.indent = 1
        # what each ground and definition reads directly: facts, definitions, grounds
        self.def_deps = {n: direct_reads(e) for n, e in program.definitions.items()}
        self.ground_deps = {k: direct_reads(*ground_parts(g)) for k, g in program.grounds.items()}

    # constants
    def const(self, v: Any) -> str:
        try:
            key: tuple[type, Any] = (type(v), v)
            hash(key)
        except TypeError:
            self.K.append(v)
            return f"K[{len(self.K) - 1}]"
        if key not in self._kidx:
            self._kidx[key] = len(self.K)
            self.K.append(v)
        return f"K[{self._kidx[key]}]"

    def maybe_none(self, v: str) -> bool:
        """Whether a generated operand can be unknown (a constant other than None cannot)."""
        if v.startswith("K[") and v.endswith("]"):
            return self.K[int(v[2:-1])] is None
        return v != "A"

    def emit(self, line: str) -> None:
        self.fn.lines.append("    " * self.indent + line)

    def assign(self, expr: str) -> str:
        """A local holding `expr`: the one computed earlier in this block or an enclosing
        one when the same expression was (`service.kind == type2` in three definitions),
        else a new one. Generated expressions have no side effects, and the locals they read
        are assigned once, so the earlier value is the same value."""
        for table in self.fn.same:
            if expr in table:
                return table[expr]
        t = self.fn.tmp()
        self.emit(f"{t} = {expr}")
        self.fn.same[-1][expr] = t
        return t

    def enter(self) -> None:
        """Open a block (an `if` branch, a loop body)."""
        self.indent += 1
        self.fn.same.append({})

    def leave(self) -> None:
        """Close a block: what it computed is not known to be computed after it."""
        self.indent -= 1
        self.fn.same.pop()

    # functions
    def function(self, name: str, grounds: list[str], decisions: list[str],
                 local_grounds: bool = True, values: tuple[I.Expr, ...] = (),
                 decided: bool = False) -> str:
        """A function computing `grounds` (in dependency order) and the decision rules of
        `decisions`; other grounds it needs come from its argument `G`. With `values`
        (expressions that cite no ground: the document's assumptions), a function returning
        their values instead; with `decided` (one decision), one returning the one value
        its rule takes, or None where it may take several (`ops.possible`'s only value)."""
        self.fn = _Fn(name, "F, A, G")
        self.indent = 1
        extra: set[str] = set()
        for e in values:
            _f, ds, gs = direct_reads(e)
            if gs:
                raise NotCompilable("an expression outside a ground that cites a ground")
            extra |= ds
        for kind, item in self.plan(grounds, extra):
            if kind == "d":
                v = self.expr(self.p.definitions[item], {})
                self.fn.defs[item] = self.assign(v) if v.startswith("K[") else v
                continue
            g = self.p.grounds[item]
            for part in (*g.when, *([g.requires] if g.requires is not None else []), *g.unless):
                self.expr(part, {})  # evaluated as the interpreter does (errors alike)
            local = self.fn.tmp("g")
            self.emit(f"{local} = {self.truth_of(g.applies, {})}")
            if not local_grounds:
                self.emit(f"G[{self.const(item)}] = {local}")
            self.fn.grounds[item] = local
        outs: list[str] = []
        for name_ in decisions:  # each decision rule's branch conditions
            conds = [self.truth_of(b.cond, {}) for b in self.p.decisions[name_].rule.branches]
            outs.append(_tuple(conds))
        if values:
            self.emit(f"return {_tuple([self.expr(e, {}) for e in values])}")
        elif decided:
            self.decided_value(conds, self.p.decisions[decisions[0]].rule)
        else:
            self.emit(f"return {_tuple([self.fn.grounds[k] for k in grounds])}, "
                      f"{_tuple(outs)}")
        head = [f"def {name}({self.fn.params}):"]
        head += ["    " + ln for ln in self._fact_reads()]
        return "\n".join(head + self.fn.lines) + "\n"

    def decided_value(self, conds: list[str], rule: I.Priority) -> None:
        """Return the one value a rule takes from its branch conditions' values (`conds`),
        or None where it may take several: `ops.possible` read for one value, written out."""
        one = self.fn.tmp("o")
        self.emit(f"{one} = None")
        for c, b in zip(conds, rule.branches, strict=True):
            v = self.const(b.value)
            self.emit(f"if {c} is not False:")
            self.emit(f"    if {one} is None:")
            self.emit(f"        {one} = {v}")
            self.emit(f"    elif {one} != {v}:")
            self.emit("        return None")
            self.emit(f"    if {c} is True:")
            self.emit(f"        return {one}")
        d = self.const(rule.default)
        self.emit(f"return {d} if {one} is None or {one} == {d} else None")

    def defs_for(self, grounds: list[str], extra: set[str] | None = None) -> set[str]:
        """The definitions computing `grounds` (and the definitions `extra`) needs (through
        other definitions too)."""
        need: set[str] = set()
        stack = [d for k in grounds for d in self.ground_deps[k][1]] + list(extra or ())
        while stack:
            d = stack.pop()
            if d not in need:
                need.add(d)
                stack.extend(self.def_deps[d][1])
        return need

    def plan(self, grounds: list[str], extra: set[str] | None = None) -> list[tuple[str, str]]:
        """Definitions and grounds in the order they can be computed: ("d", name) and
        ("g", key) items; grounds outside `grounds` are inputs (read from `G`); `extra`:
        definitions wanted besides those the grounds read."""
        mine = set(grounds)
        graph: dict[tuple[str, str], set[tuple[str, str]]] = {}
        for k in grounds:
            _f, ds, gs = self.ground_deps[k]
            graph[("g", k)] = {("d", d) for d in ds} | {("g", x) for x in gs & mine}
        for d in self.defs_for(grounds, extra):
            _f, ds, gs = self.def_deps[d]
            graph[("d", d)] = {("d", x) for x in ds} | {("g", x) for x in gs & mine}
        try:
            return list(graphlib.TopologicalSorter(graph).static_order())
        except graphlib.CycleError as err:
            raise NotCompilable(f"a cycle among grounds and definitions: {err}") from err

    def _fact_reads(self) -> list[str]:
        out: list[str] = []
        for prefix, local in self.fn.prefixes.items():
            if len(prefix) == 1:
                out.append(f"{local} = F.get({self.const(prefix[0])})")
            else:
                up = self.fn.prefixes[prefix[:-1]]
                out.append(f"{local} = {up}.get({self.const(prefix[-1])}) "
                           f"if isinstance({up}, dict) else None")
        return out

    def fact(self, path: tuple[str, ...]) -> str:
        for i in range(1, len(path) + 1):
            if path[:i] not in self.fn.prefixes:
                self.fn.prefixes[path[:i]] = self.fn.tmp("f")
        return self.fn.prefixes[path]

    def truth_of(self, e: I.Expr, env: dict[str, str]) -> str:
        v = self.expr(e, env)
        return v if e.ty == "bool" or _gives_truth(e) else self.assign(f"_truth({v})")

    def expr(self, e: I.Expr, env: dict[str, str]) -> str:
        """A Python expression (a local or a constant) holding `e`'s value; the statements
        computing it are emitted first. A node shared by two parts of a ground (its `when`
        and its applicability) is computed once."""
        nid = e.nid if not env and self.indent == 1 else None
        if nid is not None and nid in self.fn.memo:
            return self.fn.memo[nid]
        v = self._expr(e, env)
        if nid is not None:
            self.fn.memo[nid] = v
        return v

    def _expr(self, e: I.Expr, env: dict[str, str]) -> str:
        match e:
            case I.Lit():
                return self.const(literal(e))
            case I.Ref():
                return self.ref(e, env)
            case I.BoolOp():
                return self.assign(kleene_source(
                    e.op, [self.truth_of(x, env) for x in e.operands]))
            case I.Not():
                v = self.truth_of(e.operand, env)
                return self.assign(f"None if {v} is None else not {v}")
            case I.Compare():
                a, b = self.expr(e.left, env), self.expr(e.right, env)
                op = self.const(e.op)
                member = _member(e.left, a) or _member(e.right, b)
                if member and e.op in ("==", "!="):
                    # an enum member (a constant name) against a value: Python's own `==`
                    # is `ops.compare`'s (observed absence equals no member)
                    fast = f"({a} {_PY_OP[e.op]} {b})"
                elif e.left.ty == e.right.ty and e.left.ty not in _INDIRECT_TYPES \
                        and e.left.ty is not None:
                    fast = f"(_cmp({op}, {a}, {b}) if ({a} is ABSENT or {b} is ABSENT) " \
                           f"else ({a} {_PY_OP[e.op]} {b}))"
                else:
                    fast = f"_cmp({op}, {a}, {b})"
                unknown = " or ".join(f"{v} is None" for v in (a, b) if self.maybe_none(v))
                return self.assign(f"None if ({unknown}) else {fast}" if unknown else fast)
            case I.MemberOf():
                a = self.expr(e.operand, env)
                opts = [self.expr(o, env) for o in e.options]
                known = self.assign(f"[o for o in ({', '.join(opts)},) if o is not None]")
                some_unknown = " or ".join(f"{o} is None" for o in opts)
                return self.assign(f"None if {a} is None else (True if {a} in {known} else "
                                   f"(None if ({some_unknown}) else False))")
            case I.Arith():
                a, b = self.expr(e.left, env), self.expr(e.right, env)
                return self.assign(
                    f"None if ({a} is None or {b} is None) else (ABSENT if ({a} is ABSENT or "
                    f"{b} is ABSENT) else _arith({self.const(e.op)}, {a}, {b}))")
            case I.Neg():
                v = self.expr(e.operand, env)
                return self.assign(f"{v} if ({v} is None or {v} is ABSENT) else -{v}")
            case I.Call():
                args = [self.expr(a, env) for a in e.args]
                if e.fn == "known":  # `builtins.call`'s two non-strict builtins, inline
                    return self.assign(f"{args[0]} is not None")
                if e.fn == "present":
                    return self.assign(f"None if {args[0]} is None else {args[0]} is not ABSENT")
                return self.assign(f"_call({self.const(e.fn)}, [{', '.join(args)}])")
            case I.Quant():
                return self.quant(e, env)
            case I.Holds():
                if e.lowered is None:
                    return "None"
                return self.truth_of(e.lowered, env)
            case I.IfThen():
                c = self.truth_of(e.cond, env)
                out = self.fn.tmp()
                self.emit(f"if {c} is None:")
                self.emit(f"    {out} = None")
                self.emit(f"elif {c}:")
                self.enter()
                self.emit(f"{out} = {self.expr(e.then, env)}")
                self.leave()
                self.emit("else:")
                self.enter()
                self.emit(f"{out} = {self.expr(e.orelse, env)}")
                self.leave()
                return out
            case I.Applies():
                local = self.fn.grounds.get(e.ground)
                return local if local is not None else self.assign(f"G[{self.const(e.ground)}]")
            case I.Priority():
                raise NotCompilable("a decision rule inside an expression")
            case _:
                assert_never(e)

    def ref(self, e: I.Ref, env: dict[str, str]) -> str:
        r = e.resolved
        if r == "var" or (r is None and e.path[0] in env):
            if e.path[0] not in env:
                return "None"
            v = env[e.path[0]]
            for p in e.path[1:]:
                v = self.assign(f"{v}.get({self.const(p)}) if isinstance({v}, dict) else None")
            return v
        name = ".".join(e.path)
        if r == "fact":
            return self.fact(tuple(e.path))
        if r == "definition":
            if name not in self.fn.defs:
                raise NotCompilable(f"definition {name} used before it is computed")
            return self.fn.defs[name]
        if r == "enum":
            return self.const(e.path[0])
        if r == "builtin" and name == "as_of":
            return "A"
        return "None"

    def quant(self, e: I.Quant, env: dict[str, str]) -> str:
        src = self.expr(e.source, env)
        out, items, res, rec = (self.fn.tmp("q"), self.fn.tmp("s"), self.fn.tmp("r"),
                                self.fn.tmp("x"))
        early = e.q in ("count", "sum", "min", "max")
        self.emit(f"{out} = None")
        self.emit(f"if {src} is not None:")
        self.enter()
        self.emit(f"{items} = () if {src} is ABSENT else {src}")
        self.emit(f"{res} = []")
        self.emit(f"for {rec} in {items}:")
        self.enter()
        inner = {**env, e.var: rec}
        if e.where is not None:
            w = self.truth_of(e.where, inner)
            self.emit(f"if {w} is None:")
            self.emit(f"    {res} = None" if early else f"    {res}.append(None)")
            self.emit("    break" if early else "    continue")
            self.emit(f"if not {w}:")
            self.emit("    continue")
        body = self.expr(e.body, inner) if e.body is not None else "True"
        self.emit(f"{res}.append({body})")
        self.leave()
        self.emit(f"if {res} is not None:")
        self.emit(f"    {out} = _fold({self.const(e.q)}, {e.body is not None}, {res})")
        self.leave()
        return out


# ---- the compiled program ---------------------------------------------------------------------

@dataclass(frozen=True)
class _Layout:
    """Where one outcome's grounds stand in a generated function's result."""

    name: str
    at: int  # the index of its branch conditions in the result
    rest: tuple[tuple[str, int], ...]  # (ground key, index) of the grounds but the base ones
    set_aside: tuple[tuple[int, int, str], ...]  # (overrider, overridden index, overridden key)
    rule: I.Priority
    values: tuple[Value, ...]
    branch_grounds: tuple[tuple[str, ...], ...]  # the grounds each branch's condition reads
    default: Value  # the rule's value when no branch holds

    @staticmethod
    def of(program: DecisionProgram, name: str, grounds: list[str], at: int) -> _Layout:
        d = program.decisions[name]
        idx = {k: i for i, k in enumerate(grounds)}
        return _Layout(
            name, at, tuple((k, idx[k]) for k in d.grounds if k not in d.base),
            tuple((idx[w], idx[k], k) for w, k in d.overrides) if d.kind == "effect" else (),
            d.rule, tuple(b.value for b in d.rule.branches),
            tuple(tuple(n.ground for n in I.walk(b.cond) if isinstance(n, I.Applies))
                  for b in d.rule.branches), d.rule.default)

    def decided(self, gv: tuple[bool | None, ...], conds: tuple[bool | None, ...],
                facts: dict[str, Any], program: DecisionProgram) -> Decided:
        values = possible(conds, self.values, self.default)
        value = values[0] if len(values) == 1 else UNDETERMINED
        applying: tuple[str, ...]
        if self.set_aside:
            aside = {k for w, i, k in self.set_aside if gv[w] is True and gv[i] is True}
            applying = tuple(k for k, i in self.rest if gv[i] is True and k not in aside)
        else:
            applying = tuple([k for k, i in self.rest if gv[i] is True])
        unknown = tuple([k for k, i in self.rest if gv[i] is None]) \
            if None in gv else ()
        if value != UNDETERMINED:
            return Decided(self.name, value, values, applying, unknown, ())
        g = {k: gv[i] for k, i in self.rest}
        missing: dict[str, None] = {}
        open_: list[tuple[str, tuple[str, ...]]] = []
        for v, branch, c in zip(self.values, self.branch_grounds, conds, strict=True):
            if c is False:
                continue
            keys = () if c is True else tuple(k for k in branch if g.get(k, True) is None)
            open_.append((v, keys))
            for k in keys:
                for path in program.reads[k]:
                    if path not in missing and fact_at(facts, path.split(".")) is None:
                        missing[path] = None
            if c is True:
                break
        else:
            open_.append((self.default, ()))
        return Decided(self.name, value, values, applying, unknown, tuple(missing),
                       tuple(open_))


@dataclass(frozen=True)
class _Entry:
    fn: Any
    grounds: tuple[str, ...]
    layouts: dict[str, _Layout]


class Compiled:
    """A rulebook's decision program as Python functions (see the module docstring)."""

    def __init__(self, book: Rulebook):
        self.book = book
        self.program = program_of(book)
        p = self.program
        gen = _Generator(p)
        self._gen = gen
        # the grounds each ground cites (`holds`), directly or through a definition
        deps: dict[str, set[str]] = {}
        self.reads: dict[str, set[str]] = {}  # facts each reads, through definitions too
        for k in p.grounds:
            facts, _d, gs = gen.ground_deps[k]
            for d in gen.defs_for([k]):
                facts = facts | gen.def_deps[d][0]
                gs = gs | gen.def_deps[d][2]
            deps[k], self.reads[k] = gs, facts
        self.deps = deps
        try:
            self.order: list[str] = list(graphlib.TopologicalSorter(deps).static_order())
        except graphlib.CycleError as err:
            raise NotCompilable(f"grounds cite each other in a cycle: {err}") from err
        self.index = {k: i for i, k in enumerate(self.order)}
        self.outcomes = list(p.decisions)
        self.citers: dict[str, set[str]] = {k: set() for k in self.order}
        for k, ds in deps.items():
            for d in ds:
                self.citers[d].add(k)
        self.sources: dict[str, str] = {}
        self._fns: dict[str, _Entry] = {}
        self._ground_fns: dict[str, Any] = {}
        self._conds: dict[str, _Entry] = {}
        self._affected: dict[frozenset[str], list[str]] = {}
        self._affected_in: dict[tuple[str, str], list[str]] = {}
        self._affected_each: dict[tuple[str, tuple[str, ...]], tuple[list[str], ...]] = {}
        self._closures: dict[str, list[str]] = {}
        self._values: dict[str, Any] = {}  # outcome → its `rule_value` function
        self._rule_facts: dict[str, bool] = {}  # outcome → `rule_reads_facts`
        self._fresh: dict[str, tuple[frozenset[str], Any]] = {}  # outcome → `value`'s
        self._shared: dict[tuple[str, tuple[str, ...]], tuple[list[str], frozenset[str]]] = {}
        self._read_by_assumptions: dict[frozenset[str], tuple[int, ...]] = {}
        self._each_assumption: dict[int, Any] = {}
        self._parts: dict[str, tuple[list[str], Any]] = {}
        self._assumption_names = [a.name for a in book.doc.assumptions]
        self._assumptions: Any = None
        # each assumption's facts (through definitions too), and the paths holding one
        self._assumption_facts: list[tuple[set[str], set[str]]] | None = None

    # building
    def _load(self, name: str, source: str) -> Any:
        """Compile one generated function (our source; constants only through `K`)."""
        self.sources[name] = source
        ns: dict[str, Any] = {**_RUNTIME, "K": tuple(self._gen.K)}
        code = compile(source, f"<yakkan compiled {self.book.doc.header.id}:{name}>", "exec")
        exec(code, ns)  # our generated source (see the module docstring), never rule text
        return ns[name]

    def _closure(self, grounds: list[str]) -> list[str]:
        need: set[str] = set()
        stack = list(grounds)
        while stack:
            k = stack.pop()
            if k not in need:
                need.add(k)
                stack.extend(self.deps[k])
        return sorted(need, key=self.index.__getitem__)

    def closure(self, outcome: str) -> list[str]:
        """The grounds deciding `outcome` needs (its own and those they cite), in dependency
        order: the keys of `ground_values(…, outcome)`. Kept per outcome; read only."""
        done = self._closures.get(outcome)
        if done is None:
            done = self._closures[outcome] = self._closure(
                list(self.program.decisions[outcome].grounds))
        return done

    def function(self, outcome: str | None) -> _Entry:
        """The straight-line function for one outcome (None: all of them)."""
        key = outcome or "*"
        if key not in self._fns:
            outs = self.outcomes if outcome is None else [outcome]
            grounds = self._closure([k for o in outs for k in self.program.decisions[o].grounds])
            name = "decide_all" if outcome is None else f"decide_{self.outcomes.index(outcome)}"
            fn = self._load(name, self._gen.function(name, grounds, outs))
            self._fns[key] = _Entry(fn, tuple(grounds), {
                o: _Layout.of(self.program, o, grounds, i) for i, o in enumerate(outs)})
        return self._fns[key]

    def ground_fn(self, key: str) -> Any:
        """A function computing one ground over `G` (the values of the grounds it cites)."""
        if key not in self._ground_fns:
            name = f"ground_{self.index[key]}"
            src = self._gen.function(name, [key], [], local_grounds=False)
            self._ground_fns[key] = self._load(name, src)
        return self._ground_fns[key]

    # running
    def run(self, facts: dict[str, Any], as_of: dt.date, outcome: str | None = None) -> \
            tuple[_Entry, tuple[bool | None, ...], tuple[tuple[bool | None, ...], ...]]:
        """The raw values: every needed ground's applicability (in `entry.grounds` order)
        and each decision rule's branch conditions."""
        entry = self.function(outcome)
        gv, cv = _run(entry.fn, facts, as_of, None)
        return entry, gv, cv

    def decide(self, facts: dict[str, Any], as_of: dt.date,
               outcomes: list[str] | None = None) -> dict[str, Decided]:
        """The outcomes (all, or the named ones) of one case, with their grounds."""
        one = outcomes[0] if outcomes is not None and len(outcomes) == 1 else None
        entry, gv, cv = self.run(facts, as_of, one)
        if one is not None:
            lay = entry.layouts[one]
            return {one: lay.decided(gv, cv[0], facts, self.program)}
        out: dict[str, Decided] = {}
        for n in outcomes if outcomes is not None else self.outcomes:
            lay = entry.layouts[n]
            out[n] = lay.decided(gv, cv[lay.at], facts, self.program)
        return out

    def value(self, facts: dict[str, Any], as_of: dt.date, outcome: str,
              g: dict[str, bool | None] | None = None) -> Value:
        """One outcome's value decided from scratch — every ground it needs run anew on
        `facts`, then its rule — without the lists of grounds `decide` makes (a
        counterfactual's confirmation). `g`, if given, holds the values of grounds already
        decided for these `facts` and `as_of` (another outcome's decision of the same case),
        and is filled with the others'. Where it holds at most half the grounds needed, they
        are all run by one straight-line function (twice as fast as a function per ground:
        a value `g` held is computed again, the same); else only the others, each by its
        own function, in dependency order."""
        steps = self._fresh.get(outcome)
        if steps is None:
            need = self.closure(outcome)
            name = f"fresh_{self.outcomes.index(outcome)}"
            steps = self._fresh[outcome] = (frozenset(need), self._load(
                name, self._gen.function(name, need, [outcome], local_grounds=False,
                                         decided=True)))
        keys, straight = steps
        if g is None:
            g = {}
        try:
            if not g or 2 * len(keys & g.keys()) <= len(keys):
                v: Value | None = straight(facts, as_of, g)
            else:  # (each ground's own function and the rule's: made when first run)
                for k in self.closure(outcome):
                    if k not in g:
                        self.ground_fn(k)(facts, as_of, g)
                v = self._value_fn(outcome)(facts, as_of, g)
        except (TypeError, ArithmeticError, ValueError) as err:
            raise EvalError(str(err)) from err
        return UNDETERMINED if v is None else v

    def ground_values(self, facts: dict[str, Any], as_of: dt.date,
                      outcome: str | None = None) -> dict[str, bool | None]:
        """Ground key → applicability, for the grounds `outcome` (or every outcome) needs."""
        entry, gv, _cv = self.run(facts, as_of, outcome)
        return dict(zip(entry.grounds, gv, strict=True))

    # incremental
    def affected(self, paths: set[str]) -> list[str]:
        """The grounds to re-run when the facts at `paths` change: those reading one of
        them, and those citing an affected ground (dependency order). Kept per set of
        paths: a counterfactual search asks for the same sets again and again."""
        key = frozenset(paths)
        done = self._affected.get(key)
        if done is not None:
            return done
        hit = {k for k in self.order if self.reads[k] & paths}
        stack = list(hit)
        while stack:
            for c in self.citers[stack.pop()]:
                if c not in hit:
                    hit.add(c)
                    stack.append(c)
        done = self._affected[key] = sorted(hit, key=self.index.__getitem__)
        return done

    def affected_in(self, outcome: str, path: str) -> list[str]:
        """The grounds `outcome` needs (`closure`) that a change of the fact at `path`
        affects (`affected`), in dependency order. Kept; read only."""
        key = (outcome, path)
        done = self._affected_in.get(key)
        if done is None:
            needed = set(self.closure(outcome))
            done = self._affected_in[key] = [k for k in self.affected({path}) if k in needed]
        return done

    def affected_each(self, outcome: str, paths: tuple[str, ...]) -> tuple[list[str], ...]:
        """`affected_in` of each of `paths` (the facts a search changes: the same for every
        case that reads the same facts). Kept; read only."""
        key = (outcome, paths)
        done = self._affected_each.get(key)
        if done is None:
            if len(self._affected_each) > 10_000:  # sets of facts of cases long gone
                self._affected_each.clear()
            done = self._affected_each[key] = tuple([self.affected_in(outcome, p)
                                                     for p in paths])
        return done

    def shared_in(self, outcome: str, paths: tuple[str, ...]) -> tuple[list[str], frozenset[str]]:
        """For changes of the facts at `paths` made together: the grounds `outcome` needs
        that more than one of them affects (`affected_in`; dependency order), and every
        ground they affect. Kept; read only."""
        key = (outcome, paths)
        done = self._shared.get(key)
        if done is None:
            seen: set[str] = set()
            shared: set[str] = set()
            for p in paths:
                for k in self.affected_in(outcome, p):
                    (shared if k in seen else seen).add(k)
            done = self._shared[key] = (sorted(shared, key=self.index.__getitem__),
                                        frozenset(seen))
        return done

    def rerun(self, g: dict[str, bool | None], facts: dict[str, Any], as_of: dt.date,
              grounds: list[str]) -> None:
        """Re-run `grounds` (from `affected`, dependency order) for changed `facts` over the
        ground values `g` of the unchanged case (`ground_values`), in place; a ground `g`
        does not hold (outside the outcome's grounds) is left out."""
        try:
            for k in grounds:
                if k in g:
                    self.ground_fn(k)(facts, as_of, g)
        except (TypeError, ArithmeticError, ValueError) as err:
            raise EvalError(str(err)) from err

    def rule_values(self, outcome: str, g: dict[str, bool | None],
                    facts: dict[str, Any] | None, as_of: dt.date) -> tuple[Value, ...]:
        """The possible values of `outcome`'s decision rule over the ground values `g`.
        `facts` may be None when the rule reads no fact (`rule_reads_facts`)."""
        entry = self.conds_fn(outcome)
        lay = entry.layouts[outcome]
        return possible(_run(entry.fn, facts, as_of, g)[1][0], lay.values, lay.default)

    def rule_value(self, outcome: str, as_of: dt.date) -> Callable[
            [dict[str, bool | None], dict[str, Any] | None], Value | None]:
        """`outcome`'s decision rule as a function of the ground values `g` (and the facts,
        None when the rule reads none: `rule_reads_facts`) giving the one value it takes
        (`ops.possible`'s only value), or None where it may take several."""
        fn = self._value_fn(outcome)

        def value(g: dict[str, bool | None], facts: dict[str, Any] | None) -> Value | None:
            v: Value | None = _run(fn, facts, as_of, g)
            return v

        return value

    def _value_fn(self, outcome: str) -> Any:
        fn = self._values.get(outcome)
        if fn is None:
            name = f"value_{self.outcomes.index(outcome)}"
            source = self._gen.function(name, [], [outcome], decided=True)
            self._rule_facts[outcome] = bool(self._gen.fn.prefixes)
            fn = self._values[outcome] = self._load(name, source)
        return fn

    def rule_reads_facts(self, outcome: str) -> bool:
        """Whether `outcome`'s decision rule reads a fact besides its grounds' values."""
        self._value_fn(outcome)
        return self._rule_facts[outcome]

    def conds_fn(self, outcome: str) -> _Entry:
        """A function computing one decision rule's branch conditions over `G`."""
        if outcome not in self._conds:
            name = f"conds_{self.outcomes.index(outcome)}"
            fn = self._load(name, self._gen.function(name, [], [outcome]))
            self._conds[outcome] = _Entry(fn, (), {outcome: _Layout.of(
                self.program, outcome, list(self.program.decisions[outcome].grounds), 0)})
        return self._conds[outcome]

    def citation(self, key: str) -> str:
        return self.program.grounds[key].citation

    def requirement_parts(self, outcome: str, facts: dict[str, Any], as_of: dt.date) -> \
            list[tuple[str, bool | None, bool | None]]:
        """For each ground of `outcome` that states what it requires: (ground key, its
        condition's value, the requirement's value) — what `GroundResult.when_value` and
        `requires_value` hold in the interpreter (a requirement is `met` when it holds and
        its condition does not fail). `EvalError` on a run-time error, `NotCompilable`
        where a part cites a ground."""
        if outcome not in self._parts:
            d = self.program.decisions[outcome]
            keys = [k for k in d.grounds if self.program.grounds[k].requires is not None]
            exprs: list[I.Expr] = []
            for k in keys:
                g = self.program.grounds[k]
                when: I.Expr = (I.Lit(type="bool", value=True) if not g.when else g.when[0]
                                if len(g.when) == 1 else I.BoolOp(op="and",
                                                                  operands=list(g.when)))
                assert g.requires is not None
                exprs += [when, g.requires]
            name = f"parts_{self.outcomes.index(outcome)}"
            fn = self._load(name, self._gen.function(name, [], [], values=tuple(exprs))) \
                if exprs else None
            self._parts[outcome] = (keys, fn)
        keys, fn = self._parts[outcome]
        if fn is None:
            return []
        vals = _run(fn, facts, as_of, None)
        return [(k, truth(vals[2 * i]), truth(vals[2 * i + 1])) for i, k in enumerate(keys)]

    def assumptions_read(self, paths: set[str]) -> bool:
        """Whether one of the document's assumptions reads a fact at one of `paths`
        (`assumptions_reading`): a change of facts no assumption reads breaks none that the
        case did not break already."""
        return bool(self.assumptions_reading(paths))

    def assumptions_reading(self, paths: set[str]) -> tuple[int, ...]:
        """The document's assumptions (by index) that read a fact at one of `paths` (or a
        fact holding one, or held by one), directly or through a definition. Kept per set
        of paths."""
        key = frozenset(paths)
        done = self._read_by_assumptions.get(key)
        if done is None:
            if self._assumption_facts is None:
                self._assumption_facts = []
                for a in self.book.doc.assumptions:
                    facts, defs, _g = direct_reads(a.expr)
                    for d in self._gen.defs_for([], defs):
                        facts = facts | self._gen.def_deps[d][0]
                    self._assumption_facts.append(
                        (facts, {h for f in facts for h in _holders(f)}))
            done = self._read_by_assumptions[key] = tuple(
                i for i, (read, holding) in enumerate(self._assumption_facts)
                if any(p in read or p in holding or any(h in read for h in _holders(p))
                       for p in paths))
        return done

    def assumption_broken(self, i: int, facts: dict[str, Any], as_of: dt.date) -> bool:
        """Whether the case breaks the document's `i`th assumption (its expression is
        false), as `broken_assumptions` finds it; an error raises `EvalError`."""
        fn = self._each_assumption.get(i)
        if fn is None:
            fn = self._each_assumption[i] = self._load(f"assumption_{i}", self._gen.function(
                f"assumption_{i}", [], [], values=(self.book.doc.assumptions[i].expr,)))
        return _run(fn, facts, as_of, None)[0] is False

    def broken_assumptions(self, facts: dict[str, Any], as_of: dt.date) -> list[str]:
        """The document's assumptions (`assume`) the case breaks, as
        `evaluate.broken_assumptions` finds them (a differential test holds the two equal);
        an error raises `EvalError`, and the caller asks the interpreter (which counts an
        assumption it cannot evaluate as broken, one by one)."""
        names = self._assumption_names
        if not names:
            return []
        if self._assumptions is None:
            self._assumptions = self._load("assumptions", self._gen.function(
                "assumptions", [], [], values=tuple(a.expr for a in self.book.doc.assumptions)))
        vals = _run(self._assumptions, facts, as_of, None)
        return [n for n, v in zip(names, vals, strict=True) if v is False]


def _holders(path: str) -> list[str]:
    """The paths holding a fact path: `a` and `a.b` for `a.b.c`."""
    parts = path.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _run(fn: Any, facts: dict[str, Any] | None, as_of: dt.date, g: dict[str, bool | None] | None
         ) -> Any:
    """A generated function run on a case: what the interpreter reports as `EvalError`
    (a value of the wrong kind, arithmetic on it) is `EvalError` here too."""
    try:
        return fn(facts, as_of, g)
    except (TypeError, ArithmeticError, ValueError) as err:
        raise EvalError(str(err)) from err


def broken_assumptions(book: Rulebook, facts: dict[str, Any], as_of: dt.date) -> list[str]:
    """The assumptions the case breaks: compiled, or by the interpreter (the reference)
    where the program does not compile or the case makes the compiled function fail."""
    try:
        return compiled_of(book).broken_assumptions(facts, as_of)
    except (NotCompilable, EvalError):
        from yakkan.engine.runtime.evaluate import broken_assumptions as interpreted
        return interpreted(book, facts, as_of)


def compiled_of(book: Rulebook) -> Compiled:
    """The rulebook's compiled program, built once per process and kept with it."""
    c = book.derived.compiled
    if not isinstance(c, Compiled):
        c = book.derived.compiled = Compiled(book)
    return c
