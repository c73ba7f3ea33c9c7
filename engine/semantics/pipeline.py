"""The pipeline in one place: parse → lower → resolve → graph → check → evaluate → render.

    clauses/*.yk ──parse.syntax_tree──▶ Lark tree ──parse.Lower──▶ ast.Document
      ──resolve.resolve──▶ Rulebook (citations bound to provision ids)
      ──PASSES (below): graph, types, program, soundness, drafting──▶ diagnostics, DecisionProgram
      ──evaluate.evaluate(case, as_of)──▶ Result (outcomes, grounds, typed trace)
      ──explain / charges / diff / renderers──▶ text, JSON, Markdown, HTML, DOCX

Each arrow is one module; nothing flows backwards.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from yakkan.engine.core.diagnostics import Diagnostic
from yakkan.engine.semantics.resolve import Rulebook, resolve
from yakkan.engine.syntax import ast as A
from yakkan.engine.syntax.load import Source


@dataclass(frozen=True)
class Pass:
    """One pass over a resolved rulebook: what it turns into what, and when it runs.

    `run` returns the pass's diagnostics; a pass that derives a form (the graph, the
    program) keeps it with the rulebook (`Rulebook.derived`, `Rulebook.program`), never
    changing what an earlier pass produced. `clean_only`: runs only when every pass before
    it found no error (drafting findings read a rulebook that type-checks)."""

    name: str
    turns: str
    run: Callable[[Rulebook], list[Diagnostic]]
    clean_only: bool = False


def _cycles(book: Rulebook) -> list[Diagnostic]:
    from yakkan.engine.semantics.graph import cycles  # networkx: only when analysing
    return cycles(book)


def _types(book: Rulebook) -> list[Diagnostic]:
    from yakkan.engine.semantics.types import check_types
    return check_types(book)


def _program(book: Rulebook) -> list[Diagnostic]:
    from yakkan.engine.semantics.program import program_of
    program_of(book)  # kept with the rulebook: every backend runs this program
    return []


def _soundness(book: Rulebook) -> list[Diagnostic]:
    from yakkan.engine.semantics.soundness import known_guards
    return known_guards(book)


def _drafting(book: Rulebook) -> list[Diagnostic]:
    from yakkan.engine.semantics.drafting import drafting_findings
    return drafting_findings(book)


# The passes after `resolve` (ast.Document → Rulebook), in order. `check` runs them all
# (`semantic_diagnostics`); the compiler and its cache (`rulebooks._compile`) run the same
# tuple up to and including `program` (`COMPILE`), so what is cached is what check saw.
PASSES: tuple[Pass, ...] = (
    Pass("graph", "Rulebook → networkx dependency graph; cycles among definitions", _cycles),
    Pass("types", "Rulebook → type diagnostics (every expression, every fact)", _types),
    Pass("program", "Rulebook → DecisionProgram (grounds, overrides, decision rules)",
         _program, clean_only=True),
    Pass("soundness", "Rulebook → where a decision reads a fact being unknown (known())",
         _soundness, clean_only=True),
    Pass("drafting", "Rulebook → drafting defects read off the text (draft.*)", _drafting,
         clean_only=True),
)
COMPILE = tuple(p.name for p in PASSES[: [p.name for p in PASSES].index("program") + 1])


def analyse(doc: A.Document, upto: str | None = "types") -> tuple[Rulebook, list[Diagnostic]]:
    """resolve, then the declared passes in order up to `upto` (all of them for None): the
    rulebook and every diagnostic found. A `clean_only` pass is skipped once an error has
    been found."""
    book = resolve(doc)
    diags = list(book.diagnostics)
    for p in PASSES:
        if p.clean_only and any(d.severity == "error" for d in diags):
            break
        diags.extend(p.run(book))
        if p.name == upto:
            break
    return book, diags


def semantic_diagnostics(sources: list[Source]) -> list[Diagnostic]:
    """Diagnostics of every pass after lowering, for files that parsed cleanly."""
    out: list[Diagnostic] = []
    for s in sources:
        assert s.doc is not None
        folder = Path(s.path).parent
        if folder.parent.name == "clauses" and folder.name != s.doc.header.id:
            out.append(Diagnostic(
                code="check.id-mismatch", severity="error", span=s.doc.header.span,
                message=f"the document id `{s.doc.header.id}` differs from its folder "
                f"`{folder.name}`", hint=f"write `document {folder.name} …`: the folder name "
                "is the id users give"))
        out.extend(analyse(s.doc, upto=None)[1])
    return out
