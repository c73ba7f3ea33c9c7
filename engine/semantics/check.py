"""check: every diagnostic the passes find — parse, lower, resolve, types, lint.

`yakkan check PATH…|DOC` exits 0 when no errors are found, 1 for findings (errors in the
rule files), 2 for unusable input (missing file, not UTF-8, unknown document id).
"""

from __future__ import annotations

from yakkan.engine.core.diagnostics import (
    Diagnostic,
    has_errors,
)
from yakkan.engine.syntax.load import Source


def check_sources(sources: list[Source]) -> list[Diagnostic]:
    """All diagnostics of the given files: syntax and lowering, then semantic passes."""
    diags: list[Diagnostic] = [d for s in sources for d in s.diagnostics]
    parsed = [s for s in sources if s.doc is not None and not has_errors(s.diagnostics)]
    if parsed:
        from yakkan.engine.semantics.pipeline import semantic_diagnostics
        diags.extend(semantic_diagnostics(parsed))
    return sorted(diags, key=Diagnostic.sort_key)


