"""`yakkan test` laid out: per-case results with readable diffs (terminal text), JUnit XML for
CI systems, and provision coverage as text and as a self-contained HTML page.

Every string that comes from a case or clause file is shown through `term_safe` on a terminal
and autoescaped in HTML; in JUnit XML, characters XML 1.0 cannot hold are replaced."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from typing import Any

import click

from yakkan.engine.core.diagnostics import render_all
from yakkan.engine.features.testing import (
    COVERAGE_STATUSES,
    CaseResult,
    Suite,
    VersionCoverage,
)
from yakkan.renderers.env import render
from yakkan.renderers.terminal import line_safe, term_safe

STATUS_JA = {
    "applying": "適用あり（applying）",
    "not_applying": "適用なしのみ（not applying）",
    "undetermined": "未確定のみ（undetermined）",
    "never_reached": "未到達（never reached）",
}
_OP_COLOR = {"-": "red", "+": "green", "?": "yellow", " ": None}
_OP_LABEL = {"-": "- ", "+": "+ ", "?": "  ", " ": "  "}


def summary_line(suite: Suite) -> str:
    """`N passed, N failed` (`, N skipped` when case files without `expect:` were found)."""
    s = f"{suite.passed} passed, {suite.failed} failed"
    return s + (f", {len(suite.skipped)} skipped" if suite.skipped else "")


def _style(s: str, color: bool, **kw: Any) -> str:
    return click.style(s, **kw) if color else s


def case_failure_text(r: CaseResult, color: bool = False) -> str:
    """One failed case: where its expect block is, each mismatch with the expected (-) and
    actual (+) citations or values, and notes (?) on where an expected ground is instead."""
    where = f"{r.path}:{r.expect_line}" if r.expect_line else r.path
    head = f"{'FAIL' if r.status == 'failed' else 'ERROR'} {where}"
    if r.title:
        head += f" — {r.title}"
    out = [_style(line_safe(head), color, bold=True)]
    if r.document:
        out.append(f"  {line_safe(r.document)} {line_safe(r.version or '')}")
    for m in r.mismatches:
        key = "expect" if m.key == "expect" else f"expect.{m.key}"
        out.append(f"  {line_safe(key)}: {line_safe(m.message)}")
        for d in m.diff:
            text = "    " + _OP_LABEL[d.op] + ("… " if d.op == "?" else "") + line_safe(d.text)
            col = _OP_COLOR[d.op]
            out.append(_style(text, color, fg=col) if col else text)
    if r.diagnostics:
        out.append("  the case does not evaluate (and its expect block names no error):")
        body = term_safe(render_all(r.diagnostics, r.sources or None))
        out.extend("    " + ln for ln in body.splitlines())
    return "\n".join(out)


def results_text(suite: Suite, color: bool = False, verbose: bool = False) -> str:
    """One line per case (✓ / ✗), the diffs of the failed ones, and the summary line."""
    out: list[str] = []
    for r in suite.results:
        if r.passed:
            if verbose:
                out.append(_style("✓", color, fg="green") + f" {line_safe(r.path)}")
        else:
            out.append(_style("✗", color, fg="red") + f" {line_safe(r.path)}")
    failed = [r for r in suite.results if not r.passed]
    if failed:
        out.append("")
        for r in failed:
            out.append(case_failure_text(r, color))
            out.append("")
    out.append(summary_line(suite))
    return "\n".join(out)


# ---- JUnit XML ---------------------------------------------------------------------------------

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _x(s: str) -> str:
    return _XML_BAD.sub("\ufffd", s)


def junit_xml(suite: Suite) -> str:
    """JUnit XML (the Ant/Jenkins dialect CI systems read): one `testsuite` per document
    version, one `testcase` per case file; a failed expectation is a `failure` with the diff,
    a case that does not evaluate an `error`."""
    root = ET.Element("testsuites", name="yakkan test", tests=str(len(suite.results)),
                      failures=str(sum(r.status == "failed" for r in suite.results)),
                      errors=str(sum(r.status == "error" for r in suite.results)),
                      skipped=str(len(suite.skipped)), time=f"{suite.seconds:.3f}")
    groups: dict[str, list[CaseResult]] = {}
    for r in suite.results:
        name = f"{r.document}@{r.version}" if r.document else "(not evaluated)"
        groups.setdefault(name, []).append(r)
    for name, rs in groups.items():
        ts = ET.SubElement(root, "testsuite", name=_x(name), tests=str(len(rs)),
                           failures=str(sum(r.status == "failed" for r in rs)),
                           errors=str(sum(r.status == "error" for r in rs)), skipped="0",
                           time=f"{sum(r.seconds for r in rs):.3f}")
        for r in rs:
            stem = r.path.rsplit("/", 1)[-1]
            tc = ET.SubElement(ts, "testcase", classname=_x(name), name=_x(stem),
                               file=_x(r.path), time=f"{r.seconds:.3f}")
            if r.status == "failed":
                f = ET.SubElement(tc, "failure", type="expectation",
                                  message=_x("; ".join(m.message for m in r.mismatches)[:2000]))
                f.text = _x(case_failure_text(r))
            elif r.status == "error":
                e = ET.SubElement(tc, "error", type=r.diagnostics[0].code if r.diagnostics
                                  else "error",
                                  message=_x("; ".join(d.message for d in r.diagnostics)[:2000]))
                e.text = _x(case_failure_text(r))
    if suite.skipped:
        ts = ET.SubElement(root, "testsuite", name="(no expect block)", tests=str(
            len(suite.skipped)), failures="0", errors="0", skipped=str(len(suite.skipped)))
        for p in suite.skipped:
            tc = ET.SubElement(ts, "testcase", classname="skipped", name=_x(p), file=_x(p))
            ET.SubElement(tc, "skipped", message="no expect: block")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") \
        + "\n"


# ---- coverage ----------------------------------------------------------------------------------

def _version_head(v: VersionCoverage) -> str:
    eff = ""
    if v.effective_from:
        eff = f"（{v.effective_from.isoformat()}～{v.effective_until.isoformat() if v.effective_until else ''}）"
    return f"{v.document} {v.version or ''}{eff} {v.title}"


def coverage_text(cov: list[VersionCoverage], color: bool = False, full: bool = False) -> str:
    """Per version: the counts, then every provision not decided applying by any case
    (never reached first), each with its citation, what logic it carries and how the cases
    decided it; with `full`, the applying ones too."""
    out: list[str] = []
    if not cov:
        return "no case was evaluated: no provision coverage"
    for v in cov:
        c = v.counts()
        n = len(v.provisions)
        out.append(_style(line_safe(_version_head(v)), color, bold=True))
        out.append(f"  {len(v.cases)} case(s); {n} provision(s) with logic: "
                   f"{c['applying']} applying in some case ({v.percent:.0f}%), "
                   f"{c['not_applying']} only not applying, {c['undetermined']} only "
                   f"undetermined, {c['never_reached']} never reached; {v.text_only} unit(s) "
                   "carry text only")
        order = ["never_reached", "undetermined", "not_applying"] + (["applying"] if full else [])
        for st in order:
            ps = [p for p in v.provisions if p.status == st]
            if not ps:
                continue
            col = {"never_reached": "red", "undetermined": "yellow",
                   "not_applying": "yellow", "applying": "green"}[st]
            out.append("  " + _style(STATUS_JA[st], color, fg=col) + f": {len(ps)}")
            for p in ps:
                counts = ", ".join(f"{k} {len(p.cases[k])}" for k in p.cases if p.cases[k])
                out.append(f"    {line_safe(p.citation)}  [{line_safe('; '.join(p.roles))}]"
                           + (f"  ({counts})" if counts else ""))
        out.append("")
    return "\n".join(out).rstrip("\n")


def coverage_html(cov: list[VersionCoverage], suite: Suite | None = None) -> str:
    """The coverage page: self-contained (inline CSS, no script), autoescaped."""
    versions = []
    for v in cov:
        d = v.as_json()
        d["head"] = _version_head(v)
        d["pct"] = f"{v.percent:.0f}"
        versions.append(d)
    summary = None
    if suite is not None:
        summary = {"passed": suite.passed, "failed": suite.failed,
                   "line": summary_line(suite),
                   "failed_cases": [{"path": r.path, "title": r.title,
                                     "messages": [m.message for m in r.mismatches]
                                     + [d.message for d in r.diagnostics]}
                                    for r in suite.results if not r.passed]}
    return render("coverage.html.j2", versions=versions, summary=summary,
                  statuses=COVERAGE_STATUSES, status_ja=STATUS_JA)
