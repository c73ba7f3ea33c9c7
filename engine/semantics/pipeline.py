"""The pipeline in one place: parse → lower → resolve → graph → check → evaluate → render.

    clauses/*.yk ──parse.syntax_tree──▶ Lark tree ──parse.Lower──▶ ast.Document
      ──resolve.resolve──▶ Rulebook (citations bound to provision ids)
      ──graph.build──▶ networkx.MultiDiGraph
      ──types.check_types, graph.cycles──▶ diagnostics
      ──program.compile_program──▶ DecisionProgram (grounds, overrides, decision rules)
      ──evaluate.evaluate(case, as_of)──▶ Result (outcomes, grounds, typed trace)
      ──explain / charges / diff / renderers──▶ text, JSON, Markdown, HTML, DOCX

Each arrow is one module; nothing flows backwards.
"""

from __future__ import annotations

from pathlib import Path

from yakkan.engine.core.diagnostics import Diagnostic
from yakkan.engine.semantics.resolve import Rulebook, resolve
from yakkan.engine.semantics.types import check_types
from yakkan.engine.syntax import ast as A
from yakkan.engine.syntax.load import Source


def analyse(doc: A.Document) -> tuple[Rulebook, list[Diagnostic]]:
    """resolve → graph (cycles) → types: the rulebook and every diagnostic of these passes."""
    from yakkan.engine.semantics.graph import cycles  # networkx: only when analysing, not per run
    book = resolve(doc)
    return book, [*book.diagnostics, *cycles(book), *check_types(book)]


def semantic_diagnostics(sources: list[Source]) -> list[Diagnostic]:
    """Diagnostics of the passes after lowering, for files that parsed cleanly."""
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
        book, diags = analyse(s.doc)
        out.extend(diags)
        if not any(d.severity == "error" for d in diags):
            from yakkan.engine.semantics.drafting import drafting_findings
            out.extend(drafting_findings(book))  # what the text itself shows: `yakkan check`
    return out
