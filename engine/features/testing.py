"""testing: the `expect:` blocks of case files checked against what the engine decides, and
which provisions a suite of cases reaches (`yakkan test`, `yakkan test --coverage`).

Data only: nothing here prints or writes a file (the CLI does; `renderers/coverage_render.py`
lays the results out).

A case file's `expect:` block (the author's reading of the text) may state:

* `outcomes: {NAME: VALUE}` — the outcome's value (`accept`, `may_refuse`, `undetermined`, …);
* `grounds: {NAME: [CITATION…]}` — each citation is among the applying grounds (a citation
  written without its caption matches one shown with it: 第8条 ⇄ 第8条（禁止事項）);
* `not_applicable: {NAME: [CITATION…]}` — each is among the grounds considered that do not
  apply (exactly as cited);
* `missing: [PATH…]` or `{NAME: [PATH…]}` — facts still needed (of any outcome, or of NAME);
* `charges: {total, total_with_tax, final, complete, total_is_lower_bound, lines: {NAME:
  AMOUNT | quote | undetermined | not_applicable}}` — line names may also stand beside
  `total`, as older cases write them;
* `error: CODE` — the case must not evaluate, with a diagnostic of that code.

Lists are "at least these" (the author names what the text makes them expect, not every
ground the engine lists). Every case is evaluated through `explain_case` — the explanation
JSON of `yakkan explain --format json` — so what is tested is what a reviewer is shown.

Coverage (per document version): every provision carrying logic — a ground (a `rule`, or a
`for each item` 号), a charge and the row it prices, a definition anchored to a unit — with
the cases in which it was decided applying, not applying or undetermined, read from the
grounds lists of the explanation (`grounds`, `base`, `not_applicable`, `undetermined`), its
charges section and the definitions its grounds used; a provision none of them mentions is
`never_reached`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from yakkan.engine.core import ir as I
from yakkan.engine.core.diagnostics import Diagnostic, YakkanError, did_you_mean
from yakkan.engine.core.numerals import to_wareki
from yakkan.engine.semantics.resolve import Rulebook

CASE_SUFFIXES = (".yaml", ".yml", ".json")
EXPECT_KEYS = ("outcomes", "grounds", "not_applicable", "missing", "charges", "error")
CHARGE_FLAGS = ("final", "complete", "total_is_lower_bound")
CHARGE_TOTALS = ("total", "total_with_tax")
LINE_STATUSES = ("quote", "undetermined", "not_applicable")

Status = Literal["passed", "failed", "error"]
State = Literal["applying", "not_applying", "undetermined"]
STATES: tuple[State, ...] = ("applying", "not_applying", "undetermined")
# a provision's coverage status: the best state any case gave it, else never reached
COVERAGE_STATUSES = ("applying", "not_applying", "undetermined", "never_reached")


# ==== the expect block ==========================================================================

class Expect(BaseModel):
    """An `expect:` block as written (unknown keys are refused)."""

    model_config = ConfigDict(extra="forbid")

    outcomes: dict[str, str] = {}
    grounds: dict[str, list[str]] = {}
    missing: list[str] | dict[str, list[str]] = []
    error: str | None = None
    charges: dict[str, Any] | None = None
    not_applicable: dict[str, list[str]] = {}


@dataclass
class CaseFile:
    """A case file with an `expect:` block, read."""

    path: str
    text: str
    raw: dict[str, Any]  # the expect block as read (key order kept)
    expect: Expect
    line: int | None  # the line of `expect:` (YAML) or of `"expect"` (JSON)
    title: str | None = None


@dataclass
class DiffLine:
    """One line of a readable diff: `-` expected (not found), `+` actual (not expected),
    ` ` expected and found, `?` a note on where an expected item is instead."""

    op: Literal["-", "+", " ", "?"]
    text: str


@dataclass
class Mismatch:
    key: str  # where in the expect block: `outcomes.application`, `charges.lines.seats`
    message: str
    expected: Any
    actual: Any
    diff: list[DiffLine] = field(default_factory=list)


@dataclass
class CaseResult:
    path: str
    title: str | None
    status: Status
    mismatches: list[Mismatch] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)  # an unexpected failure
    checks: int = 0  # expectations checked
    seconds: float = 0.0
    document: str | None = None
    version: str | None = None
    expect_line: int | None = None
    explanation: dict[str, Any] | None = None  # the explanation JSON (for coverage)
    error_codes: list[str] = field(default_factory=list)  # codes of the evaluation's error
    sources: dict[str, str] = field(default_factory=dict)  # texts the diagnostics point into

    @property
    def passed(self) -> bool:
        return self.status == "passed"


@dataclass
class Suite:
    results: list[CaseResult]
    skipped: list[str]  # case files without an `expect:` block
    seconds: float = 0.0

    @property
    def passed(self) -> int:
        return sum(r.status == "passed" for r in self.results)

    @property
    def failed(self) -> int:
        return sum(r.status != "passed" for r in self.results)


def _is_case_candidate(p: Path) -> bool:
    """A file found under a folder is a case file to test when it has an `expect` key at
    the top level (read as text: a file that does not parse is still reported)."""
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if p.suffix == ".json":
        return '"expect"' in text
    return re.search(r"(?m)^expect\s*:", text) is not None


def find_cases(paths: list[str]) -> tuple[list[Path], list[str]]:
    """Case files named or found under the folders named (`.yaml`, `.yml`, `.json`), and
    the files found under folders that have no `expect:` block (skipped). A path that does
    not exist is an error (exit 2)."""
    out: list[Path] = []
    skipped: list[str] = []
    bad: list[Diagnostic] = []
    for a in paths:
        p = Path(a)
        if p.is_dir():
            for f in sorted(x for x in p.rglob("*") if x.suffix in CASE_SUFFIXES
                            and x.is_file()):
                (out.append(f) if _is_case_candidate(f) else skipped.append(str(f)))
        elif p.is_file():
            out.append(p)
        else:
            bad.append(Diagnostic(code="io.missing-file", message=f"no such file or folder: "
                                  f"`{a[:200]}`", hint="give case files (YAML or JSON) or "
                                  "folders holding them, e.g. `yakkan test examples/cases`"))
    if bad:
        raise YakkanError(bad)
    seen: set[str] = set()
    uniq = []
    for f in out:
        k = str(f.resolve())
        if k not in seen:
            seen.add(k)
            uniq.append(f)
    return uniq, skipped


def _expect_line(text: str, is_json: bool) -> int | None:
    pat = r'^\s*"expect"\s*:' if is_json else r"^expect\s*:"
    for n, line in enumerate(text.splitlines(), 1):
        if re.match(pat, line):
            return n
    return None


def _load_loose(path: str, text: str) -> dict[str, Any] | None:
    """The file as plain YAML/JSON (duplicate keys allowed): used only to find the expect
    block of a case whose content is meant to be refused (a duplicated key, …)."""
    try:
        data = json.loads(text) if path.endswith(".json") else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def read_case(path: str) -> CaseFile | None:
    """The case file and its expect block, or None when it has none. A file whose expect
    block cannot be read, or is malformed, is an error (exit 2) with a diagnostic."""
    from yakkan.engine.runtime.case import read_case_data
    p = Path(path)
    try:
        data, text = read_case_data(path)
    except YakkanError as e:
        # a case may be malformed on purpose (its expect names the error it must give)
        try:
            text = p.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            raise e from None
        loose = _load_loose(path, text)
        if loose is None or "expect" not in loose:
            raise e from None
        data = loose
    if not isinstance(data, dict) or "expect" not in data:
        return None
    line = _expect_line(text, path.endswith(".json"))
    span = I.Span(file=path, line=line or 1, column=1, end_line=line or 1,
                  end_column=7) if line else None
    raw = data.get("expect")
    if raw is None:  # `expect:` left blank: nothing expected yet (`--update` fills it in)
        raw = {}
    if not isinstance(raw, dict):
        raise YakkanError([Diagnostic(
            code="test.bad-expect", span=span,
            message="`expect` must be a mapping (outcomes, grounds, charges, error, …)",
            hint="e.g. expect: {outcomes: {application: accept}}")], sources={path: text})
    diags = _expect_diags(raw, span)
    if diags:
        raise YakkanError(diags, sources={path: text})
    title = data.get("title")
    return CaseFile(path, text, raw, Expect.model_validate(raw), line,
                    title if isinstance(title, str) else None)


def _expect_diags(raw: dict[str, Any], span: I.Span | None) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    try:
        Expect.model_validate(raw)
    except ValidationError as e:
        for err in e.errors():
            loc = ".".join(str(x) for x in err["loc"] if not str(x).startswith(("list[", "dict[")))
            if err["type"] == "extra_forbidden":
                key = str(err["loc"][0])
                out.append(Diagnostic(code="test.bad-expect", span=span,
                                      message=f"unknown key `expect.{key}`",
                                      hint=did_you_mean(key, EXPECT_KEYS)
                                      or "the keys are " + ", ".join(EXPECT_KEYS)))
            else:
                out.append(Diagnostic(code="test.bad-expect", span=span,
                                      message=f"`expect.{loc}`: {err['msg']}"))
        return _dedup(out)
    ch = raw.get("charges")
    if isinstance(ch, dict):
        lines = ch.get("lines", {})
        if not isinstance(lines, dict):
            out.append(Diagnostic(code="test.bad-expect", span=span,
                                  message="`expect.charges.lines` must map line names to "
                                  "amounts or statuses"))
            lines = {}
        for k, v in ch.items():
            if k in CHARGE_FLAGS and not isinstance(v, bool):
                out.append(Diagnostic(code="test.bad-expect", span=span,
                                      message=f"`expect.charges.{k}` must be true or false"))
            elif k in CHARGE_TOTALS and _amount(v) is None:
                out.append(Diagnostic(code="test.bad-expect", span=span,
                                      message=f"`expect.charges.{k}` must be an amount "
                                      f"(such as '1500' or '16.98'), not {str(v)[:40]!r}"))
        for name, v in {**lines, **{k: v for k, v in ch.items()
                                    if k not in (*CHARGE_FLAGS, *CHARGE_TOTALS, "lines")}}.items():
            if v not in LINE_STATUSES and _amount(v) is None:
                out.append(Diagnostic(code="test.bad-expect", span=span,
                                      message=f"`expect.charges` line `{name}`: expected an "
                                      f"amount or one of {', '.join(LINE_STATUSES)}, got "
                                      f"{str(v)[:40]!r}"))
    return out


def _dedup(diags: list[Diagnostic]) -> list[Diagnostic]:
    seen: set[str] = set()
    out = []
    for d in diags:
        if d.message not in seen:
            seen.add(d.message)
            out.append(d)
    return out


def _amount(v: Any) -> Decimal | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        d = Decimal(str(v).replace(",", ""))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


# ==== running a case ============================================================================

def _cites(citation: str, expected: str) -> bool:
    """An expected citation matches the one shown, or the one shown with its caption."""
    return citation == expected or citation.startswith(expected + "（")


def _short(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, ensure_ascii=False)


def run_case(case: CaseFile) -> CaseResult:
    """Evaluate one case (explain_case, without counterfactuals) and check its expect block."""
    from yakkan.engine.features.explain import explain_case
    t0 = time.perf_counter()
    exp = case.expect
    res = CaseResult(case.path, case.title, "passed", expect_line=case.line)
    try:
        data = explain_case(case.path, with_counterfactuals=False)
    except YakkanError as e:
        res.seconds = time.perf_counter() - t0
        codes = [d.code for d in e.diagnostics]
        res.error_codes = codes
        res.checks = 1
        if exp.error is not None:
            if exp.error not in codes:
                res.status = "failed"
                res.mismatches.append(Mismatch(
                    "error", f"the case fails with {', '.join(codes)}, not {exp.error}",
                    exp.error, codes, [DiffLine("-", exp.error),
                                       *(DiffLine("+", c) for c in codes)]))
            return res
        res.status = "error"
        res.diagnostics = e.diagnostics
        res.sources = dict(e.sources or {})
        return res
    except Exception as e:  # an engine bug: reported with the case, the suite goes on
        res.seconds = time.perf_counter() - t0
        res.status = "error"
        res.diagnostics = [Diagnostic(code="internal", message=f"internal error: "
                                      f"{type(e).__name__}: {str(e)[:500]}",
                                      hint="this is a bug in yakkan; please report it")]
        return res
    res.seconds = time.perf_counter() - t0
    res.explanation = data
    res.document = data.get("document")
    res.version = data.get("version")
    res.mismatches, res.checks = check_expect(exp, data)
    if res.mismatches:
        res.status = "failed"
    return res


def check_expect(exp: Expect, data: dict[str, Any]) -> tuple[list[Mismatch], int]:
    """The mismatches between an expect block and an explanation JSON, and how many
    expectations were checked."""
    out: list[Mismatch] = []
    checks = 0
    outs = {o["name"]: o for o in data.get("outcomes", [])}
    if exp.error is not None:
        out.append(Mismatch("error", f"the case evaluates; expected it to fail with "
                                     f"{exp.error}", exp.error, None,
                            [DiffLine("-", f"error {exp.error}"),
                             DiffLine("+", "evaluated: " + ", ".join(
                                 f"{n}={o['value']}" for n, o in outs.items()
                                 if o["value"] != "not_applicable") or "evaluated")]))
        checks += 1
    if not (exp.outcomes or exp.error or exp.charges):
        out.append(Mismatch("expect", "the expect block expects nothing (give outcomes, "
                                      "charges or error)", None, None))
        checks += 1

    def outcome(name: str, key: str) -> dict[str, Any] | None:
        if name in outs:
            return outs[name]
        out.append(Mismatch(f"{key}.{name}", f"no outcome `{name}`", name, sorted(outs),
                            [DiffLine("-", name),
                             DiffLine("?", "outcomes: " + ", ".join(sorted(outs)))]))
        return None

    for name, value in exp.outcomes.items():
        checks += 1
        o = outcome(name, "outcomes")
        if o is None or o["value"] == value:
            continue
        diff = [DiffLine("-", value), DiffLine("+", o["value"])]
        diff += [DiffLine("?", f"grounds: {g['citation']}") for g in o["grounds"]]
        diff += [DiffLine("?", f"undetermined: {g['citation']}") for g in o["undetermined"]]
        if o.get("missing_facts"):
            diff.append(DiffLine("?", "still needed: " + ", ".join(
                m["path"] for m in o["missing_facts"])))
        out.append(Mismatch(f"outcomes.{name}", f"{name} is {o['value']}, expected {value}",
                            value, o["value"], diff))
    for name, cites in exp.grounds.items():
        checks += len(cites) or 1
        o = outcome(name, "grounds")
        if o is None:
            continue
        got = [g["citation"] for g in o["grounds"]]
        lost = [c for c in cites if not any(_cites(g, c) for g in got)]
        if lost:
            out.append(Mismatch(f"grounds.{name}", f"{name} does not cite "
                                + ", ".join(lost) + (f"; cites {', '.join(got)}" if got
                                                     else "; no ground applies"),
                                cites, got, _list_diff(cites, got, o, _cites)))
    for name, cites in exp.not_applicable.items():
        checks += len(cites) or 1
        o = outcome(name, "not_applicable")
        if o is None:
            continue
        got = [g["citation"] for g in o["not_applicable"]]
        lost = [c for c in cites if c not in got]
        if lost:
            out.append(Mismatch(f"not_applicable.{name}", ", ".join(lost) + " not among "
                                f"{name}'s grounds that do not apply", cites, got,
                                _list_diff(cites, got, o, lambda g, c: g == c, "not_applicable")))
    if isinstance(exp.missing, dict):
        for name, paths in exp.missing.items():
            checks += 1
            o = outcome(name, "missing")
            if o is None:
                continue
            got_m = [m["path"] for m in o["missing_facts"]]
            if not set(paths) <= set(got_m):
                out.append(Mismatch(f"missing.{name}", f"{name} still needs {got_m or 'nothing'}"
                                    f", expected {paths}", paths, got_m,
                                    _plain_diff(paths, got_m)))
    elif exp.missing:
        checks += 1
        got_all = sorted({m["path"] for o in outs.values() for m in o["missing_facts"]})
        if not set(exp.missing) <= set(got_all):
            out.append(Mismatch("missing", f"still needed: {got_all or 'nothing'}, expected "
                                f"{exp.missing}", exp.missing, got_all,
                                _plain_diff(exp.missing, got_all)))
    if exp.charges is not None:
        ms, n = _check_charges(exp.charges, data.get("charges") or {})
        out += ms
        checks += n
    return out, checks


def _list_diff(expected: list[str], got: list[str], o: dict[str, Any], match: Any,
               section: str = "grounds") -> list[DiffLine]:
    diff: list[DiffLine] = []
    where = {"grounds": "applies", "not_applicable": "does not apply",
             "undetermined": "undetermined", "base": "base rule"}
    for c in expected:
        if any(match(g, c) for g in got):
            diff.append(DiffLine(" ", c))
            continue
        diff.append(DiffLine("-", c))
        for sec, said in where.items():
            if sec == section:
                continue
            for g in o.get(sec, []):
                if _cites(g["citation"], c):
                    diff.append(DiffLine("?", f"{g['citation']} {said}: {g['condition']}"))
    for g in got:
        if not any(match(g, c) for c in expected):
            diff.append(DiffLine("+", g))
    return diff


def _plain_diff(expected: list[str], got: list[str]) -> list[DiffLine]:
    return [*(DiffLine(" " if e in got else "-", e) for e in expected),
            *(DiffLine("+", g) for g in got if g not in expected)]


def split_charges(exp: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """An expect.charges mapping as (lines, totals, flags); line names may stand beside
    `total` as older cases write them."""
    rest = dict(exp)
    lines = dict(rest.pop("lines", {}) or {})
    flags = {k: rest.pop(k) for k in CHARGE_FLAGS if k in rest}
    totals = {k: rest.pop(k) for k in CHARGE_TOTALS if k in rest}
    lines.update(rest)
    return lines, totals, flags


def charge_lines(ch: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Line name → {status, amount} from the charges JSON (charged and quote lines,
    undetermined, company_pays, not_applicable)."""
    found: dict[str, dict[str, Any]] = {}
    for sec in ("lines", "undetermined", "company_pays"):
        for ln in ch.get(sec, []):
            found[ln["name"]] = ln
    for ln in ch.get("not_applicable", []):
        found.setdefault(ln["name"], {**ln, "status": "not_applicable", "amount": None})
    return found


def _line_actual(ln: dict[str, Any] | None) -> str:
    if ln is None:
        return "(no such line)"
    if ln["status"] in ("charged", "company_pays"):
        return str(ln.get("amount"))
    return str(ln["status"])


def _check_charges(exp: dict[str, Any], ch: dict[str, Any]) -> tuple[list[Mismatch], int]:
    out: list[Mismatch] = []
    lines, totals, flags = split_charges(exp)
    found = charge_lines(ch)
    checks = 0
    for name, want in lines.items():
        checks += 1
        ln = found.get(name)
        if want in LINE_STATUSES:
            ok = ln is not None and ln["status"] == want
        else:
            ok = (ln is not None and ln["status"] in ("charged", "company_pays")
                  and _amount(ln.get("amount")) == _amount(want))
        if not ok:
            got = _line_actual(ln)
            diff = [DiffLine("-", f"{name}: {want}"), DiffLine("+", f"{name}: {got}")]
            if ln is not None:
                diff.append(DiffLine("?", f"{ln.get('citation')}: {ln.get('condition')}"))
                if ln.get("missing_facts"):
                    diff.append(DiffLine("?", "still needed: " + ", ".join(ln["missing_facts"])))
                if ln.get("error"):
                    diff.append(DiffLine("?", f"error: {ln['error']}"))
            else:
                diff.append(DiffLine("?", "lines: " + ", ".join(sorted(found))))
            out.append(Mismatch(f"charges.lines.{name}", f"charge {name} is {got}, expected "
                                f"{want}", _short(want), got, diff))
    for k, want in totals.items():
        checks += 1
        total = ch.get(k)
        if _amount(total) != _amount(want):
            out.append(Mismatch(f"charges.{k}", f"{k} is {total}, expected {want}",
                                _short(want), total, [DiffLine("-", f"{k}: {want}"),
                                                      DiffLine("+", f"{k}: {total}")]))
    for k, want in flags.items():
        checks += 1
        flag = ch.get(k)
        if flag != want:
            out.append(Mismatch(f"charges.{k}", f"{k} is {_short(flag)}, expected "
                                f"{_short(want)}", want, flag,
                                [DiffLine("-", f"{k}: {_short(want)}"),
                                 DiffLine("+", f"{k}: {_short(flag)}")]))
    return out, checks


def run_suite(paths: list[str]) -> Suite:
    """Every case file with an expect block under `paths`. Unusable input — a path that
    does not exist, an expect block that cannot be read or is malformed — is reported all at
    once before anything runs (YakkanError, exit 2)."""
    t0 = time.perf_counter()
    files, skipped = find_cases(paths)
    cases: list[CaseFile] = []
    diags: list[Diagnostic] = []
    sources: dict[str, str] = {}
    for f in files:
        try:
            c = read_case(str(f))
        except YakkanError as e:
            diags += e.diagnostics
            sources.update(e.sources or {})
            continue
        if c is None:
            skipped.append(str(f))
        else:
            cases.append(c)
    if diags:
        raise YakkanError(diags, sources=sources)
    results = [run_case(c) for c in cases]
    return Suite(results, skipped, time.perf_counter() - t0)


# ==== --update ==================================================================================

def updated_expect(case: CaseFile, res: CaseResult) -> dict[str, Any]:
    """The expect block rewritten to what the engine decides, for a failed case: each
    expectation that failed is replaced by the actual result; those that hold are kept as
    written (an author's "at least these" list stays a list of the author's choice)."""
    raw = dict(case.raw)
    data = res.explanation
    if data is None:  # the case does not evaluate: it expects that error
        if res.error_codes:
            return {"error": res.error_codes[0]}
        return raw
    outs = {o["name"]: o for o in data.get("outcomes", [])}
    if "error" in raw or not (raw.get("outcomes") or raw.get("charges")):
        raw.pop("error", None)
        if not raw.get("outcomes"):
            raw["outcomes"] = {n: o["value"] for n, o in outs.items()
                               if o["value"] != "not_applicable"}
            if "grounds" not in raw:
                raw["grounds"] = {n: [g["citation"] for g in outs[n]["grounds"]]
                                  for n in raw["outcomes"] if outs[n]["grounds"]}
    failed = {m.key for m in res.mismatches}
    if isinstance(raw.get("outcomes"), dict):
        raw["outcomes"] = {n: outs[n]["value"] for n in raw["outcomes"] if n in outs}
    if isinstance(raw.get("grounds"), dict):
        new: dict[str, list[str]] = {}
        for n, cites in raw["grounds"].items():
            if n not in outs:
                continue
            got = [g["citation"] for g in outs[n]["grounds"]]
            new[n] = got if f"grounds.{n}" in failed else cites
        raw["grounds"] = {n: v for n, v in new.items() if v}
    if isinstance(raw.get("not_applicable"), dict):
        na: dict[str, list[str]] = {}
        for n, cites in raw["not_applicable"].items():
            if n in outs:
                got = [g["citation"] for g in outs[n]["not_applicable"]]
                na[n] = [c for c in cites if c in got]
        raw["not_applicable"] = {n: v for n, v in na.items() if v}
    miss = raw.get("missing")
    if isinstance(miss, dict):
        raw["missing"] = {n: [p for p in ps if p in {m["path"] for m in outs[n]["missing_facts"]}]
                          for n, ps in miss.items() if n in outs}
        raw["missing"] = {n: v for n, v in raw["missing"].items() if v}
    elif isinstance(miss, list):
        have = {m["path"] for o in outs.values() for m in o["missing_facts"]}
        raw["missing"] = [p for p in miss if p in have]
    if isinstance(raw.get("charges"), dict):
        raw["charges"] = _updated_charges(raw["charges"], data.get("charges") or {})
    for k in ("grounds", "not_applicable", "missing"):
        if k in raw and not raw[k]:
            del raw[k]
    return raw


def _updated_charges(exp: dict[str, Any], ch: dict[str, Any]) -> dict[str, Any]:
    found = charge_lines(ch)

    def line_value(name: str, want: Any) -> Any:
        ln = found.get(name)
        if ln is None:
            return None
        if ln["status"] in ("charged", "company_pays"):
            same = _amount(want) is not None and _amount(want) == _amount(ln.get("amount"))
            return want if same else str(ln.get("amount"))
        return ln["status"]

    out: dict[str, Any] = {}
    for k, v in exp.items():
        if k == "lines" and isinstance(v, dict):
            out[k] = {n: nv for n, w in v.items() if (nv := line_value(n, w)) is not None}
        elif k in CHARGE_FLAGS:
            out[k] = ch.get(k, v)
        elif k in CHARGE_TOTALS:
            out[k] = v if _amount(v) == _amount(ch.get(k)) else ch.get(k)
        else:
            nv = line_value(k, v)
            if nv is not None:
                out[k] = nv
    return out


@dataclass
class _Layout:
    """How the file writes its expect block: each collection's style, and each entry's
    lines (to keep an entry whose value does not change exactly as written)."""

    flow: dict[tuple[str, ...], bool] = field(default_factory=dict)
    indented: dict[tuple[str, ...], bool] = field(default_factory=dict)
    lines: dict[tuple[str, ...], list[str]] = field(default_factory=dict)


def _layout(text: str) -> _Layout:
    out = _Layout()
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return out
    src = text.splitlines()

    def walk(node: yaml.Node, path: tuple[str, ...], key_col: int, end_line: int) -> None:
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode):
            out.flow[path] = bool(node.flow_style)
        if isinstance(node, yaml.SequenceNode) and not node.flow_style:
            # where the file puts `- ` of a block list: under its key, or indented
            out.indented[path] = node.start_mark.column > key_col
        if isinstance(node, yaml.MappingNode) and not node.flow_style:
            entries = [(k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode)]
            for i, (k, v) in enumerate(entries):
                stop = entries[i + 1][0].start_mark.line if i + 1 < len(entries) else end_line
                here = (*path, str(k.value))
                lines = src[k.start_mark.line:stop]
                while len(lines) > 1 and (not lines[-1].strip()
                                          or lines[-1].lstrip().startswith("#")):
                    lines.pop()
                out.lines[here] = lines
                walk(v, here, k.start_mark.column, stop)
        elif isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                if isinstance(k, yaml.ScalarNode):
                    walk(v, (*path, str(k.value)), k.start_mark.column, end_line)

    if isinstance(root, yaml.MappingNode):
        for k, v in root.value:
            if isinstance(k, yaml.ScalarNode) and k.value == "expect":
                end = v.end_mark.line + (1 if v.end_mark.column else 0)
                walk(v, (), k.start_mark.column, end)
    return out


def _scalar(v: Any) -> str:
    return yaml.safe_dump(v, allow_unicode=True, default_flow_style=True,
                          width=10_000).removesuffix("\n...\n").strip()


def _flow(v: Any) -> str:
    return yaml.safe_dump(v, allow_unicode=True, sort_keys=False, default_flow_style=True,
                          width=10_000).strip()


def _flow_lines(key: str, v: dict[str, Any] | list[Any], indent: int) -> list[str]:
    """`key: {…}` at `indent`, wrapped as PyYAML wraps a flow collection at that depth
    (so a file PyYAML wrote is rewritten as it was); a collection of collections on one
    line."""
    if any(isinstance(x, dict | list) for x in (v.values() if isinstance(v, dict) else v)):
        return [" " * indent + f"{_scalar(key)}: {_flow(v)}"]
    depth = indent // 2
    wrapped: Any = {key: v}
    for i in range(depth):
        wrapped = {f"k{i}": wrapped}
    text = yaml.safe_dump(wrapped, allow_unicode=True, sort_keys=False,
                          default_flow_style=None, indent=2)
    return text.splitlines()[depth:]


def _emit_yaml(value: dict[str, Any], layout: _Layout, old: Any,
               path: tuple[str, ...] = (), indent: int = 2) -> list[str]:
    """Block-style YAML lines of a mapping: an entry whose value is unchanged is kept as
    the file wrote it; a changed one is written in the style the file used there (a new
    one: lists and short mappings of scalars in flow style)."""
    out: list[str] = []
    pad = " " * indent
    for k, v in value.items():
        key = _scalar(k)
        here = (*path, str(k))
        before = old.get(k, _MISSING) if isinstance(old, dict) else _MISSING
        if before is not _MISSING and before == v and here in layout.lines \
                and type(before) is type(v):
            out.extend(layout.lines[here])
            continue
        if not isinstance(v, dict | list):
            out.append(f"{pad}{key}: {_scalar(v)}")
            continue
        flow = layout.flow.get(here)
        if flow is None:
            flow = isinstance(v, list) or (len(v) <= 3 and not any(
                isinstance(x, dict | list) for x in v.values()))
        if flow or not v:
            out.extend(_flow_lines(str(k), v, indent))
        elif isinstance(v, list):
            out.append(f"{pad}{key}:")
            dash = pad + ("  " if layout.indented.get(here) else "")
            out.extend(f"{dash}- {_flow(x) if isinstance(x, dict | list) else _scalar(x)}"
                       for x in v)
        else:
            out.append(f"{pad}{key}:")
            out.extend(_emit_yaml(v, layout, before, here, indent + 2))
    return out


_MISSING = object()


def _rewrite_json(text: str, new: dict[str, Any]) -> str:
    """The JSON text with the value of its top-level `"expect"` replaced, the rest as is."""
    depth, i, n = 0, 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            key = text[i:j + 1]
            k = j + 1
            while k < n and text[k] in " \t\r\n":
                k += 1
            if depth == 1 and key == '"expect"' and k < n and text[k] == ":":
                k += 1
                while k < n and text[k] in " \t\r\n":
                    k += 1
                _value, end = json.JSONDecoder().raw_decode(text, k)
                old = text[k:end]
                if "\n" in old:
                    line_start = text.rfind("\n", 0, i) + 1
                    pad = text[line_start:i] if not text[line_start:i].strip() else ""
                    body = json.dumps(new, ensure_ascii=False, indent=2).replace("\n", "\n" + pad)
                else:
                    body = json.dumps(new, ensure_ascii=False)
                return text[:k] + body + text[end:]
            i = j + 1
            continue
        if c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
        i += 1
    data = json.loads(text)  # no top-level "expect" key found: write it whole
    data["expect"] = new
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


def rewrite_expect(case: CaseFile, new: dict[str, Any]) -> tuple[str, list[str]]:
    """The case file's text with its expect block replaced by `new`, and notes on what was
    not kept. YAML: every line outside the top-level `expect:` block is kept byte for byte
    (comments, key order, quoting, flow style); a one-line flow block stays one line, a block
    stays a block; inside it an entry whose value does not change keeps its lines as written
    (comments included), a changed one is written in the style the file used there (flow
    `{…}`/`[…]` or block; a new one: lists and short mappings in flow style); comments
    inside a rewritten entry are not kept (a note says so). JSON: only the value of the
    top-level `"expect"` is replaced (on one line if it was on one line, else indented as the
    key is)."""
    text = case.text
    if case.path.endswith(".json"):
        return _rewrite_json(text, new), []
    lines = text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if re.match(r"expect\s*:", ln)), None)
    if start is None:  # cannot happen for a file read with an expect block
        return text, ["no top-level `expect:` line found; the file is left as it was"]
    end = start + 1
    while end < len(lines):
        ln = lines[end]
        if ln.strip() and not ln[0].isspace() and not ln.startswith("#"):
            break
        end += 1
    # blank lines and column-0 comments just before the next key belong to that key
    while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
        end -= 1
    head = lines[start]
    inline = head.split(":", 1)[1].strip()
    flow = inline.startswith("{")
    if flow:
        body = "expect: " + _flow(new) + "\n"
        tail = inline.split("}")[-1]
        if "#" in tail:  # a comment after the one-line block stays
            body = body.rstrip("\n") + "  " + tail[tail.index("#"):] + "\n"
    else:
        body = head.rstrip("\r\n") + "\n" + "".join(
            ln + "\n" for ln in _emit_yaml(new, _layout(text), case.raw))
    if end == len(lines) and not text.endswith("\n"):
        body = body.rstrip("\n")

    def comments(ls: list[str]) -> int:
        return sum(1 for ln in ls if ln.lstrip().startswith("#"))

    dropped = comments(lines[start + 1:end]) - comments(body.splitlines()[1:])
    notes = [f"{dropped} comment line(s) inside `expect:` were not kept"] \
        if dropped > 0 else []
    return "".join([*lines[:start], body, *lines[end:]]), notes


# ==== coverage ==================================================================================

@dataclass
class ProvisionCoverage:
    """One provision carrying logic, and what the suite's cases decided about it."""

    id: str
    citation: str
    kind: str
    caption: str | None
    text: str
    roles: list[str]  # `application: may_refuse`, `charge basic_050`, `define plan4`
    cases: dict[str, list[str]] = field(default_factory=lambda: {s: [] for s in STATES})

    @property
    def status(self) -> str:
        for s in STATES:
            if self.cases[s]:
                return s
        return "never_reached"

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "citation": self.citation, "kind": self.kind,
                "caption": self.caption, "text": self.text, "roles": self.roles,
                "status": self.status, "counts": {s: len(self.cases[s]) for s in STATES},
                "cases": {s: list(self.cases[s]) for s in STATES}}


@dataclass
class VersionCoverage:
    document: str
    title: str
    version: str | None
    effective_from: dt.date | None
    effective_until: dt.date | None
    cases: list[str]
    provisions: list[ProvisionCoverage]  # document order
    text_only: int  # encoded units that carry no logic (text, structure)

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(COVERAGE_STATUSES, 0)
        for p in self.provisions:
            out[p.status] += 1
        return out

    @property
    def percent(self) -> float:
        n = len(self.provisions)
        return 100.0 * self.counts()["applying"] / n if n else 100.0

    def as_json(self) -> dict[str, Any]:
        return {
            "document": self.document, "title": self.title, "version": self.version,
            "effective": {"from": self.effective_from.isoformat() if self.effective_from
                          else None,
                          "until": self.effective_until.isoformat() if self.effective_until
                          else None},
            "effective_wareki": to_wareki(self.effective_from) if self.effective_from else None,
            "cases": self.cases, "counts": self.counts(), "total": len(self.provisions),
            "applying_percent": round(self.percent, 1), "text_only": self.text_only,
            "provisions": [p.as_json() for p in self.provisions],
        }


def _universe(book: Rulebook) -> tuple[dict[str, ProvisionCoverage], dict[str, list[str]]]:
    """The provisions of a version that carry logic, and charge name → provision ids."""
    from yakkan.engine.features.charges import compute_charges
    from yakkan.engine.runtime.evaluate import grounds_of
    roles: dict[str, list[str]] = {}

    def add(pid: str | None, role: str) -> None:
        if pid is None or pid not in book.provisions:
            return
        rs = roles.setdefault(pid, [])
        if role not in rs:
            rs.append(role)

    for outcome, gs in grounds_of(book).items():
        for g in gs:
            add(g.id, f"{outcome}: {g.force}" + (f"（{book.cite(g.via)}により準用）"
                                                 if g.via else ""))
    charge_ids: dict[str, list[str]] = {}
    when = book.doc.header.effective_from or dt.date.today()
    for ln in compute_charges(book, {}, when).lines:
        ids = [i for i in (ln.id, ln.row_id) if i]
        charge_ids[ln.name] = ids
        for i in ids:
            add(i, f"charge {ln.name}")
    for name, (_d, pid) in book.definitions.items():
        add(pid, f"define {name}")
    provs: dict[str, ProvisionCoverage] = {}
    for pid in book.order:
        if pid in roles:
            pr = book.provisions[pid]
            provs[pid] = ProvisionCoverage(pid, pr.citation, pr.unit.kind,
                                           book.caption_of(pid), pr.text, roles[pid])
    return provs, charge_ids


def _state(v: Any) -> State:
    return "applying" if v is True else "not_applying" if v is False else "undetermined"


def observations(data: dict[str, Any], charge_ids: dict[str, list[str]],
                 definitions: dict[str, str | None]) -> dict[str, set[State]]:
    """Provision id → the states one case's explanation JSON gives it: its grounds lists
    (each ground's `applies`), its charges (charged, quoted or paid by 当社: applying;
    undetermined; not applicable) and the definitions its grounds used (their value)."""
    seen: dict[str, set[State]] = {}

    def used(defs: list[dict[str, Any]]) -> None:
        for d in defs:
            pid = definitions.get(d.get("name", ""))
            if pid:
                v = d.get("value")
                seen.setdefault(pid, set()).add(
                    _state(v) if isinstance(v, bool) or v is None else "applying")

    for o in data.get("outcomes", []):
        for sec in ("grounds", "base", "not_applicable", "undetermined"):
            for g in o.get(sec, []):
                seen.setdefault(g["id"], set()).add(_state(g.get("applies")))
                used(g.get("definitions", []))
    ch = data.get("charges") or {}
    sections: tuple[tuple[str, State], ...] = (
        ("lines", "applying"), ("company_pays", "applying"), ("undetermined", "undetermined"),
        ("not_applicable", "not_applying"))
    for sec, state in sections:
        for ln in ch.get(sec, []):
            ids = [i for i in (ln.get("id"), ln.get("row_id")) if i] or \
                charge_ids.get(ln["name"], [])
            for i in ids:
                seen.setdefault(i, set()).add(state)
            used(ln.get("definitions", []))
    return seen


def _books_for(results: list[CaseResult]) -> dict[tuple[str, str | None], Rulebook]:
    """Every version of each document the cases use: bundled documents with all their
    versions (an untested version shows as never reached), others as the cases found them."""
    from yakkan.engine.features.explain import prepare
    from yakkan.engine.semantics.rulebooks import versions
    from yakkan.engine.syntax.load import bundled_ids
    bundled = set(bundled_ids())
    books: dict[tuple[str, str | None], Rulebook] = {}
    for r in results:
        if r.document is None or (r.document, r.version) in books:
            continue
        if r.document in bundled:
            for b in versions(r.document):
                books.setdefault((b.doc.header.id, b.doc.header.version), b)
        if (r.document, r.version) not in books:
            b = prepare(r.path).book
            books[(b.doc.header.id, b.doc.header.version)] = b
    return books


def coverage(results: list[CaseResult], extra_docs: list[str] | None = None) -> \
        list[VersionCoverage]:
    """Per document version (oldest first within a document), the provisions carrying logic
    with the cases that decided each applying, not applying or undetermined."""
    from yakkan.engine.semantics.rulebooks import versions
    books = _books_for(results)
    for d in extra_docs or []:
        for b in versions(d):
            books.setdefault((b.doc.header.id, b.doc.header.version), b)
    out: list[VersionCoverage] = []
    for key in sorted(books, key=lambda k: (k[0], books[k].doc.header.effective_from
                                            or dt.date.min)):
        book = books[key]
        h = book.doc.header
        provs, charge_ids = _universe(book)
        defs = {n: pid for n, (_d, pid) in book.definitions.items()}
        cases = []
        for r in results:
            if r.explanation is None or (r.document, r.version) != key:
                continue
            cases.append(r.path)
            for pid, states in observations(r.explanation, charge_ids, defs).items():
                if pid in provs:
                    for s in states:
                        provs[pid].cases[s].append(r.path)
        text_only = sum(1 for pid, p in book.provisions.items()
                        if pid not in provs and p.unit.status == "encoded")
        out.append(VersionCoverage(h.id, h.title, h.version, h.effective_from,
                                   h.effective_until, cases, list(provs.values()), text_only))
    return out


# ==== JSON ======================================================================================

def case_json(r: CaseResult) -> dict[str, Any]:
    return {
        "path": r.path, "title": r.title, "status": r.status, "document": r.document,
        "version": r.version, "checks": r.checks, "seconds": round(r.seconds, 4),
        "expect_line": r.expect_line,
        "mismatches": [{"key": m.key, "message": m.message, "expected": m.expected,
                        "actual": m.actual,
                        "diff": [{"op": d.op, "text": d.text} for d in m.diff]}
                       for m in r.mismatches],
        "diagnostics": [d.model_dump(mode="json") for d in r.diagnostics],
    }


def suite_json(suite: Suite, cov: list[VersionCoverage] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "summary": {"passed": suite.passed, "failed": suite.failed,
                    "errors": sum(r.status == "error" for r in suite.results),
                    "skipped": len(suite.skipped), "seconds": round(suite.seconds, 3)},
        "cases": [case_json(r) for r in suite.results],
        "skipped": suite.skipped,
    }
    if cov is not None:
        out["coverage"] = [v.as_json() for v in cov]
    return out
