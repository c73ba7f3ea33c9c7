"""`yakkan explain`: evaluate a case and explain every outcome."""

from __future__ import annotations

import datetime as dt
import json

from yakkan.cli.output import emit
from yakkan.engine.core.diagnostics import Diagnostic, YakkanError
from yakkan.engine.features.explain import explain_case, select_outcomes


def run_explain(case: str, doc: str | None, as_of: dt.date | None, fmt: str,
                output: str | None, color: bool, outcomes: tuple[str, ...] = (),
                trace: bool = False) -> int:
    """Explain a case. `outcomes` (`--outcome`, by name or by the Japanese name the clause
    file gives it) are the question: text, md and html show them in full and every other
    outcome in one line; JSON holds only them."""
    if trace and fmt != "json":
        raise YakkanError([Diagnostic(
            code="usage.trace-needs-json", message="--trace adds the evaluation's trace "
            "events to the JSON output", hint="add --format json")])
    data = explain_case(case, doc, as_of, trace=trace)
    if outcomes:
        select_outcomes(data, outcomes, only=fmt == "json")
    if fmt == "json":
        out = json.dumps(data, ensure_ascii=False, indent=2)
    elif fmt == "text":
        from yakkan.renderers.explain_text import text_report  # not for --format json
        out = text_report(data, color and output is None)
    else:
        from yakkan.renderers.explanation import render_explanation
        out = render_explanation(data, fmt)
    emit(out, output, fmt, styled=fmt == "text")
    return 0
