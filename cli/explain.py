"""`yakkan explain`: evaluate a case and explain every outcome."""

from __future__ import annotations

import datetime as dt
import json

from yakkan.cli.output import emit
from yakkan.engine.core.diagnostics import Diagnostic, YakkanError, did_you_mean
from yakkan.engine.features.explain import explain_case
from yakkan.renderers.explain_text import text_report


def run_explain(case: str, doc: str | None, as_of: dt.date | None, fmt: str,
                output: str | None, color: bool, outcomes: tuple[str, ...] = (),
                trace: bool = False) -> int:
    if trace and fmt != "json":
        raise YakkanError([Diagnostic(
            code="usage.trace-needs-json", message="--trace adds the evaluation's trace "
            "events to the JSON output", hint="add --format json")])
    data = explain_case(case, doc, as_of, trace=trace)
    if outcomes:
        names = [o["name"] for o in data["outcomes"]]
        unknown = [n for n in outcomes if n not in names]
        if unknown:
            raise YakkanError([Diagnostic(
                code="usage.unknown-outcome", message=f"no outcome `{unknown[0]}` in "
                f"{data['document']} {data['version']}",
                hint=did_you_mean(unknown[0], names) or "outcomes: " + ", ".join(names))])
        data["outcomes"] = [o for o in data["outcomes"] if o["name"] in outcomes]
    if fmt == "json":
        out = json.dumps(data, ensure_ascii=False, indent=2)
    elif fmt == "text":
        out = text_report(data, color and output is None, full=bool(outcomes))
    else:
        from yakkan.renderers.explanation import render_explanation
        out = render_explanation(data, fmt)
    emit(out, output, fmt, styled=fmt == "text")
    return 0
