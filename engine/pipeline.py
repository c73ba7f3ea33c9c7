"""The pipeline in one place: parse → lower → resolve → graph → check → evaluate → render.

    clauses/*.yk ──parse.syntax_tree──▶ Lark tree ──parse.Lower──▶ ast.Document
      ──resolve.resolve──▶ Rulebook (citations bound to provision ids)
      ──graph.build──▶ networkx.MultiDiGraph
      ──types.check──▶ diagnostics
      ──evaluate.evaluate(case, as_of)──▶ Result (outcomes, grounds, traces)
      ──explain / charges / diff / renderers──▶ text, JSON, Markdown, HTML, DOCX

Each arrow is one module; nothing flows backwards.
"""

from __future__ import annotations

from yakkan.engine.diagnostics import Diagnostic
from yakkan.engine.graph import cycles
from yakkan.engine.load import Source
from yakkan.engine.resolve import resolve
from yakkan.engine.types import check_types


def semantic_diagnostics(sources: list[Source]) -> list[Diagnostic]:
    """Diagnostics of the passes after lowering, for files that parsed cleanly."""
    out: list[Diagnostic] = []
    for s in sources:
        assert s.doc is not None
        book = resolve(s.doc)
        out.extend(book.diagnostics)
        out.extend(cycles(book))
        out.extend(check_types(book))
    return out
