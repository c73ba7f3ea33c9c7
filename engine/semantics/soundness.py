"""Soundness lints: where a decision depends on a fact being *unknown*.

Every builtin but one is monotone in what is unknown: giving a fact can only settle an
undetermined outcome, never overturn a decided one — which is what lets yakkan state an
outcome as decided while facts are missing. `known(x)` is the exception: it is false while
x is unknown and true once x is given, so an encoding such as
`if known(applicant.duns) then present(applicant.duns) else applicant.duns_issued` can be
decided from the stand-in and then change when x is given. It is sound only where the two
agree whenever both are known — a domain assumption the text does not state. yakkan cannot
see it unless it is declared (`assume NAME "label" = …`), and then every solver query and
counterfactual respects it and `explain` warns about a case that breaks it.

`lint.known-guard` (warning): a `known(x)` whose x no declared assumption mentions.
"""

from __future__ import annotations

from collections.abc import Iterator

from yakkan.engine.core import ir as I
from yakkan.engine.core.diagnostics import Diagnostic
from yakkan.engine.semantics.resolve import Rulebook


def _expressions(book: Rulebook) -> Iterator[I.Expr]:
    """Every expression a decision or a charge reads (assumptions are not read by one)."""
    for name in book.definitions:
        yield book.definitions[name][0].expr
    for pid in book.order:
        u = book.provisions[pid].unit
        for x in (u.condition, *(c for ch in u.charges
                                 for c in (ch.when, ch.quote_when, ch.amount))):
            if x is not None:
                yield x
        for r in u.rules:
            for x in (r.when, r.requires, *r.unless):
                if x is not None:
                    yield x


def known_guards(book: Rulebook) -> list[Diagnostic]:
    """Each `known(x)` (once per x) that no declared assumption relates to anything."""
    assumed = {".".join(n.path) for a in book.doc.assumptions for n in I.walk(a.expr)
               if isinstance(n, I.Ref)}
    out: list[Diagnostic] = []
    seen: set[str] = set()
    for e in _expressions(book):
        for n in I.walk(e):
            if not (isinstance(n, I.Call) and n.fn == "known" and n.args
                    and isinstance(n.args[0], I.Ref)):
                continue
            name = ".".join(n.args[0].path)
            if name in assumed or name in seen:
                continue
            seen.add(name)
            out.append(Diagnostic(
                code="lint.known-guard", severity="warning", span=n.span,
                message=f"`known({name})` is false while `{name}` is unknown and true once "
                "it is given, so an outcome decided without it can change when it is given",
                hint=f"declare how `{name}` relates to what stands in for it while unknown "
                f"(`assume NAME \"…\" = not known({name}) or …`): solvers, counterfactuals "
                "and explain then respect it"))
    return out
