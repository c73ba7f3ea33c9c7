"""types: the type checker of the expression IR (after resolve, before evaluation).

Types are the fact vocabulary's: bool, int, decimal, money, percent, date, duration, text,
an enum (by name, or `fact:<path>` for an inline one), list. Conditions must be bool,
amounts money; enum members must belong to the enum they are compared with.
"""

from __future__ import annotations

from typing import assert_never

from yakkan.engine.core import ir as I
from yakkan.engine.core.builtins import BUILTINS, NAMES
from yakkan.engine.core.diagnostics import Diagnostic, did_you_mean
from yakkan.engine.core.textnorm import IDENTIFIERS
from yakkan.engine.semantics.resolve import Rulebook

NUMERIC = {"int", "decimal", "money", "percent"}
ANY = "any"


class TypeChecker:
    def __init__(self, book: Rulebook):
        self.book = book
        self.diags: list[Diagnostic] = []
        self.def_types: dict[str, str] = {}
        self.members = book.enum_members()
        self.enum_of_type: dict[str, set[str]] = {}
        for name, e in book.enums.items():
            self.enum_of_type[name] = {m.name for m in e.members}
        for path, f in book.facts.items():
            if f.type.members and not f.type.enum_name:
                self.enum_of_type[f"fact:{path}"] = {m.name for m in f.type.members}

    def err(self, code: str, msg: str, node: object, hint: str | None = None) -> None:
        self.diags.append(Diagnostic(code=code, message=msg, span=getattr(node, "span", None),
                                     hint=hint))

    def fact_type(self, t: I.YType, path: str) -> str:
        if t.base == "enum":
            return t.enum_name or f"fact:{path}"
        if t.ident:  # a typed identifier compares with its own kind only (`id:duns`)
            return f"id:{t.ident}"
        return t.base

    def type_of(self, e: I.Expr, scope: dict[str, I.YType]) -> str:
        """The type of a node of a checked tree (the compile pass records it on the node)."""
        return self.typeof(e, scope)

    def typeof(self, e: I.Expr, scope: dict[str, I.YType]) -> str:
        match e:
            case I.Lit():
                return e.type
            case I.Ref():
                return self.ref_type(e, scope)
            case I.Not():
                self.want_bool(e.operand, scope, "the operand of `not`")
                return "bool"
            case I.BoolOp():
                for x in e.operands:
                    self.want_bool(x, scope, f"an operand of `{e.op}`")
                return "bool"
            case I.Compare():
                a, b = self.typeof(e.left, scope), self.typeof(e.right, scope)
                self.compatible(a, b, e, e.left, e.right)
                return "bool"
            case I.MemberOf():
                a = self.typeof(e.operand, scope)
                for o in e.options:
                    self.compatible(a, self.typeof(o, scope), e, e.operand, o)
                return "bool"
            case I.Arith():
                a, b = self.typeof(e.left, scope), self.typeof(e.right, scope)
                return self.arith(e, a, b)
            case I.Neg():
                return self.typeof(e.operand, scope)
            case I.Call():
                return self.call_type(e, scope)
            case I.Quant():
                return self.quant_type(e, scope)
            case I.Holds():
                return "bool"
            case I.IfThen():
                self.want_bool(e.cond, scope, "the condition of `if`")
                a, b = self.typeof(e.then, scope), self.typeof(e.orelse, scope)
                return a if a != ANY else b
            case I.Applies():
                # only in a compiled program, where the checked tree's `holds` is lowered
                return "bool"
            case I.Priority():
                # only in a compiled program: an outcome's decision rule
                return "outcome"
            case _:
                assert_never(e)

    def ref_type(self, e: I.Ref, scope: dict[str, I.YType]) -> str:
        name = ".".join(e.path)
        if e.resolved == "var":
            t = scope.get(e.path[0])
            if t is None:
                return ANY
            if len(e.path) == 1:
                return "record"
            f = next((f for f in t.fields if f.name == e.path[1]), None)
            return self.fact_type(f.type, f"{name}") if f else ANY
        if e.resolved == "fact":
            return self.fact_type(self.book.facts[name].type, name)
        if e.resolved == "definition":
            return self.definition_type(name)
        if e.resolved == "enum":
            return f"member:{name}"
        if e.resolved == "builtin":
            return "date"
        return ANY

    def call_type(self, e: I.Call, scope: dict[str, I.YType]) -> str:
        for arg in e.args:
            self.typeof(arg, scope)
        if e.fn not in NAMES:
            self.err("type.unknown-function", f"`{e.fn}` is not a builtin", e,
                     did_you_mean(e.fn, NAMES) or "builtins: " + ", ".join(NAMES))
            return ANY
        if e.fn in ("known", "present"):
            return "bool"
        if e.fn == "same_name":
            if len(e.args) != 2:
                self.err("type.arity", f"`same_name` takes two names, not {len(e.args)}", e,
                         "write `same_name(a, b)`: it compares two names")
            for arg in e.args:
                t = self.typeof(arg, scope)
                if t not in ("text", ANY):
                    self.err("type.mismatch", f"`same_name` compares names (text), not "
                             f"{self.show(t)}", arg)
        res = BUILTINS[e.fn][1]
        return ANY if res == "any" else res

    def quant_type(self, e: I.Quant, scope: dict[str, I.YType]) -> str:
        src = self.book.facts.get(".".join(e.source.path))
        inner = dict(scope)
        if src is not None:
            if src.type.base != "list":
                # reported once here; the variable stays untyped (any), so its uses in the
                # body do not cascade into mismatches of a "record"
                self.err("type.not-a-list", f"`{'.'.join(e.source.path)}` is not a list",
                         e.source)
                inner.pop(e.var, None)
            else:
                inner[e.var] = src.type
        if e.where is not None:
            self.want_bool(e.where, inner, "a `where` clause")
        body = self.typeof(e.body, inner) if e.body is not None else "bool"
        if e.q in ("all", "any"):
            if e.body is not None and body not in ("bool", ANY):
                self.err("type.not-bool", f"the body of `{e.q}` is {body}, not bool", e.body)
            return "bool"
        if e.q == "count":
            return "int"
        return body

    def definition_type(self, name: str) -> str:
        if name not in self.def_types:
            self.def_types[name] = ANY  # cycles read as any (reported by the graph)
            d, _ = self.book.definitions[name]
            self.def_types[name] = self.typeof(d.expr, {})
        return self.def_types[name]

    def want_bool(self, e: I.Expr | None, scope: dict[str, I.YType], what: str) -> None:
        if e is None:
            return
        t = self.typeof(e, scope)
        if t not in ("bool", ANY):
            self.err("type.not-bool", f"{what} must be true/false, but is {self.show(t)}", e,
                     "compare it with something, e.g. `x > 0` or `x == member`")

    def show(self, t: str) -> str:
        if t.startswith("id:"):
            return IDENTIFIERS[t[3:]].label if t[3:] in IDENTIFIERS else t
        if t.startswith("member:"):
            return f"the enum member `{t[7:]}`"
        if t.startswith("fact:"):
            return f"the enum of `{t[5:]}`"
        return t

    def compatible(self, a: str, b: str, e: object, left: object, right: object) -> None:
        if ANY in (a, b) or a == b:
            return
        if a in NUMERIC and b in NUMERIC:
            return
        for enum_t, member_t, node in ((a, b, right), (b, a, left)):
            if member_t.startswith("member:") and enum_t in self.enum_of_type:
                m = member_t[7:]
                if m not in self.enum_of_type[enum_t]:
                    self.err("type.enum-member",
                             f"`{m}` is not a member of {self.show(enum_t)}", node,
                             did_you_mean(m, self.enum_of_type[enum_t])
                             or "members: " + ", ".join(sorted(self.enum_of_type[enum_t])))
                return
        if a.startswith("member:") and b.startswith("member:"):
            return
        hint = None
        if a.startswith("id:") or b.startswith("id:"):
            hint = "an identifier equals only an identifier of its kind (its canonical form)"
        self.err("type.mismatch", f"cannot compare {self.show(a)} with {self.show(b)}", e,
                 hint)

    def arith(self, e: I.Arith, a: str, b: str) -> str:
        if ANY in (a, b):
            return ANY
        if a == "date" and b in ("duration", "int") and e.op in "+-":
            return "date"
        if a == b == "date" and e.op == "-":
            return "int"
        if a == b == "duration" and e.op in "+-":
            return "duration"
        if a in NUMERIC and b in NUMERIC:
            if "money" in (a, b):
                return "money"
            return "decimal" if "decimal" in (a, b) or "percent" in (a, b) or e.op == "/" \
                else "int"
        self.err("type.mismatch", f"cannot compute {self.show(a)} {e.op} {self.show(b)}", e)
        return ANY


def check_types(book: Rulebook) -> list[Diagnostic]:
    c = TypeChecker(book)
    for name in book.definitions:
        c.definition_type(name)
    for a in book.doc.assumptions:
        c.want_bool(a.expr, {}, "an assumption")
    for pid in book.order:
        u = book.provisions[pid].unit
        c.want_bool(u.condition, {}, "a unit's condition")
        for r in u.rules:
            c.want_bool(r.when, {}, "a rule's `when`")
            c.want_bool(r.requires, {}, "a rule's `requires`")
            for x in r.unless:
                c.want_bool(x, {}, "a rule's `unless`")
        for ch in u.charges:
            c.want_bool(ch.when, {}, "a charge's `when`")
            c.want_bool(ch.quote_when, {}, "a charge's `quote when`")
            if ch.amount is not None:
                t = c.typeof(ch.amount, {})
                if t not in ("money", "decimal", "int", ANY):
                    c.err("type.not-money", f"the amount of `{ch.name}` is {c.show(t)}, "
                          "not money", ch.amount)
        for p in u.periods:
            c.typeof(p.expr, {})
        for cv in u.covers:
            c.want_bool(cv, {}, "a table's `covers`")
    return c.diags
