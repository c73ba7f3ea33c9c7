"""Recording functions: the interpreter's expressions as generated Python that does, step
for step, what `Evaluator.ev` does over them — the same values, the same records (facts and
node values in the order read, definitions merged as `Evaluator.definition` merges them,
each record of a list with its comparisons), the same errors at the same step — without
walking the tree node by node.

One function is made per top-level expression (a ground's condition, requirement or
proviso; a decision rule's branch condition; a definition's body) the first time it is
evaluated once the rulebook has been evaluated before in the process (`recording_of`: a
one-shot run interprets, a process that evaluates the rulebook again — a server, a batch, a
benchmark — runs the functions). The interpreter stays the reference: the kinds of node the
functions leave to it (quantifiers, `holds`, decision rules) are evaluated by `ev.ev` into
the same record, a typed trace is always the interpreter's own (`evaluate(trace=True)`
makes no use of these functions), and `tests/test_recording.py` holds every record of every
outcome, ground and definition equal to the interpreter's on generated cases of every
bundled version.

Only our own source is compiled: every value taken from the rulebook (paths, names, ground
keys, literals, nodes) reaches a function through its constant tuple `K`, never as text in
the source (the test tokenises every function made).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from yakkan.engine.core import ir as I
from yakkan.engine.core.builtins import call
from yakkan.engine.runtime.evaluate import COMPARING, Comparison, GroundResult, Record
from yakkan.engine.runtime.ops import (
    arith_value,
    compare,
    kleene_and,
    kleene_source,
    literal,
    member,
    negate,
    truth,
)
from yakkan.engine.semantics.program import program_of

if TYPE_CHECKING:
    from yakkan.engine.runtime.evaluate import Evaluator
    from yakkan.engine.semantics.resolve import Rulebook

__all__ = ["Recording", "recording_of"]

# what the generated functions call, by the names the source uses
_RUNTIME: dict[str, Any] = {
    "truth": truth, "kleene_and": kleene_and,
    "compare": compare, "call": call, "member": member, "arith_value": arith_value,
    "negate": negate, "Comparison": Comparison, "Record": Record, "GroundResult": GroundResult,
    "isinstance": isinstance, "dict": dict,
}

Fn = Callable[["Evaluator", dict[str, Any]], Any]


class Recording:
    """A rulebook's recording functions, made on first use and kept with it."""

    def __init__(self, book: Rulebook):
        self.book = book
        self.fns: dict[int, tuple[I.Expr, Fn]] = {}  # id(expression) → (it, its function)
        self.grounds: dict[str, Callable[[Evaluator], bool | None]] = {}  # key → function
        self.sources: list[str] = []  # every function made (for the test)

    def fn(self, e: I.Expr) -> Fn:
        """The recording function of a top-level expression (evaluated with an empty
        environment, as `Evaluator.part` evaluates it)."""
        got = self.fns.get(id(e))
        if got is not None and got[0] is e:
            return got[1]
        src = _Source()
        result = src.value(e)
        fn: Fn = self._load(src, [
            "def expr(ev, env):",
            "    rec = ev.rec",
            "    V, F, facts = rec.values, rec.facts, ev.facts",
            *src.lines,
            f"    return {result}"], "expr", e.nid or str(id(e)))
        self.fns[id(e)] = (e, fn)
        return fn

    def ground(self, key: str) -> Callable[[Evaluator], bool | None]:
        """The recording function of a ground's applicability: what `Evaluator.applies`
        does once it is not memoised — its record begun, its parts evaluated in the order
        the text states them (conditions, requirement, provisos), joined by its
        connectives, its result kept and its record absorbed by the reader's."""
        got = self.grounds.get(key)
        if got is not None:
            return got
        g = program_of(self.book).grounds[key]
        src = _Source()
        src.depth = 2
        parts: dict[int, str] = {}  # id(part) → the local holding its truth value
        whens = []
        for w in g.when:
            whens.append(src.truth(src.value(w)))
            parts[id(w)] = whens[-1]
        req = "None"
        if g.requires is not None:
            req = src.truth(src.value(g.requires))
        unless = []
        for u in g.unless:
            unless.append(src.truth(src.value(u)))
            parts[id(u)] = unless[-1]
        if g.requires is not None:
            parts[id(g.requires)] = req
        v = src.connectives(g.applies, parts)
        k, me = src.const(key), src.const(g)
        fn = self.grounds[key] = self._load(src, [
            "def ground(ev):",
            "    memo = ev.applies_memo",
            f"    memo[{k}] = None",  # a cycle through `holds` reads as unknown
            "    outer, outer_parent = ev.rec, ev.parent",
            "    rec = Record()",
            f"    ev.rec, ev.parent = rec, {k}",
            "    V, F, facts, env = rec.values, rec.facts, ev.facts, {}",
            "    try:",
            *src.lines,
            "    finally:",
            "        ev.rec, ev.parent = outer, outer_parent",
            f"    memo[{k}] = {v}",
            f"    ev.ground_recs[{k}] = rec",
            f"    ev.results[{k}] = GroundResult({me}, {v}, "
            f"kleene_and(({''.join(w + ', ' for w in whens)})), {req}, "
            f"[{', '.join(unless)}], V, F, rec.definitions, rec.relied)",
            "    outer.absorb(rec)",
            f"    return {v}"], "ground", key)
        return fn

    def _load(self, src: _Source, lines: list[str], name: str, where: str) -> Any:
        """Compile one function (our source; the rulebook's values only through `K`)."""
        text = "\n".join([*lines, ""])
        ns: dict[str, Any] = {**_RUNTIME, "K": tuple(src.K)}
        exec(compile(text, f"<yakkan recording {self.book.doc.header.id}: {where}>", "exec"),
             ns)  # our generated source, never rule text
        self.sources.append(text)
        return ns[name]


def recording_of(book: Rulebook) -> Recording | None:
    """The rulebook's recording functions once it has been evaluated before in this process;
    None the first time (that evaluation interprets, and marks the rulebook)."""
    r = book.derived.recording
    if r is None:
        book.derived.recording = Recording(book)
        return None
    assert isinstance(r, Recording)
    return r


class _Source:
    """The body of one recording function being written: each node's value assigned to a
    local, in the order `Evaluator.ev` evaluates the nodes, with what it records."""

    def __init__(self) -> None:
        self.K: list[Any] = []
        self.lines: list[str] = []
        self.n = 0
        self.depth = 1

    def const(self, v: Any) -> str:
        self.K.append(v)
        return f"K[{len(self.K) - 1}]"

    def tmp(self) -> str:
        self.n += 1
        return f"t{self.n}"

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.depth + line)

    def assign(self, expr: str) -> str:
        t = self.tmp()
        self.emit(f"{t} = {expr}")
        return t

    def truth(self, value: str) -> str:
        """`ops.truth` of a value: a local holding it, left as it is where it is a truth
        value already (without a call: nearly always); `truth` raises for anything else."""
        t = self.assign(value)
        self.emit(f"if {t} is not None and {t} is not True and {t} is not False: "
                  f"{t} = truth({t})")
        return t

    def interpreted(self, e: I.Expr) -> str:
        """A node the interpreter evaluates (into the same record)."""
        return self.assign(f"ev.ev({self.const(e)}, env)")

    def connectives(self, e: I.Expr, parts: dict[int, str]) -> str:
        """`Evaluator.connectives`: a ground's applicability from its parts' values (the
        locals in `parts`), and, evaluated here, anything else it holds."""
        if id(e) in parts:
            return parts[id(e)]
        if isinstance(e, I.BoolOp):
            return self.assign(kleene_source(
                e.op, [self.connectives(x, parts) for x in e.operands]))
        if isinstance(e, I.Not):
            x = self.connectives(e.operand, parts)
            return self.assign(f"None if {x} is None else not {x}")
        return self.truth(self.value(e))

    def value(self, e: I.Expr) -> str:
        """Write the evaluation of `e`; the local (or constant) holding its value."""
        match e:
            case I.Ref():
                return self.ref(e)
            case I.BoolOp():
                # every operand evaluated, each read as a truth value before the next
                return self.assign(kleene_source(
                    e.op, [self.truth(self.value(x)) for x in e.operands]))
            case I.Applies():
                t = self.assign(f"ev.applies({self.const(e.ground)})")
                self.emit(f"V[{self.const(e.nid or f'@{id(e)}')}] = {t}")  # `Evaluator.note`
                return t
            case I.Not():
                t = self.truth(self.value(e.operand))
                self.emit(f"{t} = None if {t} is None else not {t}")
                return t
            case I.Compare():
                a, b = self.value(e.left), self.value(e.right)
                t = self.assign(f"None if {a} is None or {b} is None else "
                                f"compare({self.const(e.op)}, {a}, {b})")
                self.emit(f"if ev.sink is not None: ev.sink.append(Comparison("
                          f"{self.const(e)}, [{a}, {b}], {t}))")
                return t
            case I.Lit():
                try:
                    return self.const(literal(e))
                except (ValueError, TypeError, ArithmeticError):
                    return self.interpreted(e)  # the interpreter raises it, in its turn
            case I.IfThen():
                c = self.truth(self.value(e.cond))
                t = self.tmp()
                self.emit(f"if {c} is None:")
                self.depth += 1
                self.emit(f"{t} = None")
                self.depth -= 1
                for head, branch in ((f"elif {c}:", e.then), ("else:", e.orelse)):
                    self.emit(head)
                    self.depth += 1
                    self.emit(f"{t} = {self.value(branch)}")
                    self.depth -= 1
                return t
            case I.Call():
                args = self.assign(f"[{', '.join(self.value(a) for a in e.args)}]")
                t = self.assign(f"call({self.const(e.fn)}, {args})")
                if e.fn in COMPARING:
                    self.emit(f"if ev.sink is not None: ev.sink.append(Comparison("
                              f"{self.const(e)}, {args}, {t}))")
                return t
            case I.MemberOf():
                a = self.value(e.operand)
                opts = [self.value(o) for o in e.options]
                return self.assign(f"member({a}, [{', '.join(opts)}])")
            case I.Arith():
                a, b = self.value(e.left), self.value(e.right)
                return self.assign(f"arith_value({self.const(e.op)}, {a}, {b})")
            case I.Neg():
                return self.assign(f"negate({self.value(e.operand)})")
            case I.Quant() | I.Holds() | I.Priority():
                return self.interpreted(e)
            case _:
                return self.interpreted(e)

    def ref(self, e: I.Ref) -> str:
        """`Evaluator.ref`: a fact (recorded with its value), a definition (merged by
        `Evaluator.definition`), an enum member, a variable, `as_of`."""
        r = e.resolved
        name = ".".join(e.path)
        if r == "fact":  # `ops.fact_at`, written out
            t = self.assign(f"facts.get({self.const(e.path[0])}) if isinstance(facts, dict) "
                            "else None")
            for p in e.path[1:]:
                self.emit(f"{t} = {t}.get({self.const(p)}) if isinstance({t}, dict) else None")
            k = self.const(name)
            self.emit(f"F[{k}] = {t}")
            self.emit(f"V[{k}] = {t}")
            return t
        if r == "definition":
            k = self.const(name)
            t = self.assign(f"ev.definition({k})")
            self.emit(f"V[{k}] = {t}")
            return t
        if r == "enum":
            return self.const(e.path[0])
        if r == "var" or r is None:
            t = self.tmp()
            head = self.const(e.path[0])
            # a name left unresolved is a variable only where the environment holds it
            self.emit(f"{t} = env.get({head})" if r == "var" else
                      f"{t} = env.get({head}) if {head} in env else None")
            for p in e.path[1:]:
                self.emit(f"{t} = {t}.get({self.const(p)}) if isinstance({t}, dict) else None")
            return t
        if r == "builtin" and name == "as_of":
            t = self.assign("ev.as_of")
            self.emit(f"V[{self.const('as_of')}] = {t}")
            return t
        return "None"
