"""Case files: strict validation with clear diagnostics (exit 2, never a traceback), and
evaluation that never raises on any schema-valid case of the bundled documents."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yakkan.cli.main import main
from yakkan.engine.core import ir as I
from yakkan.engine.core.diagnostics import YakkanError
from yakkan.engine.core.periods import Duration
from yakkan.engine.features.charges import compute_charges
from yakkan.engine.runtime.case import facts_dict, validate_facts
from yakkan.engine.runtime.evaluate import evaluate
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.semantics.rulebooks import rulebook_for

CASE = """document: denwa
as_of: 2023-05-01
facts:
  service: {kind: type2, terminates_at_carrier: true}
  applicant:
    duns_isued: false
    paying_late: "sometimes"
  lines:
    - {registered_on: 2023-02-30}
"""


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def test_unknown_field_and_bad_values_all_at_once(tmp_path: Path) -> None:
    f = tmp_path / "case.yaml"
    f.write_text(CASE, encoding="utf-8")
    r = run("explain", str(f))
    assert r.exit_code == 2
    err = r.stderr
    assert "Traceback" not in err
    assert "unknown field `facts.applicant.duns_isued`" in err
    assert "did you mean `duns_issued`?" in err
    assert "facts.applicant.paying_late" in err  # wrong type, with its path
    assert "facts.lines.0.registered_on" in err  # an impossible date
    assert f"{f}:6:" in err  # the line of the typo'd field


def test_missing_case_file_and_bad_yaml(tmp_path: Path) -> None:
    r = run("explain", str(tmp_path / "nope.yaml"))
    assert r.exit_code == 2 and "io.missing-file" in r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("document: denwa\nfacts: [\n", encoding="utf-8")
    r = run("explain", str(bad))
    assert r.exit_code == 2 and "case.syntax" in r.stderr and "Traceback" not in r.stderr


def test_date_without_version_is_an_error(tmp_path: Path) -> None:
    f = tmp_path / "case.yaml"
    f.write_text("document: denwa\nfacts: {}\n", encoding="utf-8")
    r = run("explain", str(f), "--as-of", "1999-01-01")
    assert r.exit_code == 2
    assert "eval.no-version-in-force" in r.stderr and "2023-04-01" in r.stderr
    r = run("explain", str(f), "--as-of", "2023-02-30")
    assert r.exit_code == 2 and "not a date" in r.stderr


def test_unknown_document(tmp_path: Path) -> None:
    f = tmp_path / "case.yaml"
    f.write_text("document: denwaa\nfacts: {}\n", encoding="utf-8")
    r = run("explain", str(f))
    assert r.exit_code == 2 and "did you mean `denwa`?" in r.stderr


def test_schema_is_json_schema() -> None:
    r = run("schema", "denwa", "--as-of", "2023-05-01")
    assert r.exit_code == 0
    assert '"duns_issued"' in r.stdout and '"additionalProperties": false' in r.stdout


# ---- evaluation never raises on schema-valid cases ------------------------------------

def _value(t: I.YType) -> st.SearchStrategy[Any]:
    if t.base == "bool":
        return st.booleans()
    if t.base == "enum":
        return st.sampled_from([m.name for m in t.members])
    if t.base == "int":  # inside a declared range (`range 1..2`)
        lo, hi = t.value_bounds()
        return st.integers(max(int(lo or 0), 0), min(int(hi), 300) if hi is not None else 300)
    if t.base == "percent":  # a percentage is written with its sign ("4%" is 0.04)
        return st.decimals(0, 100, places=2).map(lambda d: f"{d}%")
    if t.base in ("decimal", "money"):  # numbers, as YAML and JSON give them (text is refused)
        return st.decimals(0, 200000, places=2)
    if t.base == "date":
        return st.dates(dt.date(2022, 1, 1), dt.date(2026, 12, 31)).map(str)
    if t.base == "duration":
        return st.integers(0, 4000).map(lambda n: f"{n}秒")
    if t.ident == "duns":
        return st.integers(0, 10**9 - 1).map(lambda n: f"{n:09d}")
    if t.base == "text":
        return st.text(max_size=5)
    fields = {f.name: _value(f.type) for f in t.fields}
    return st.lists(st.fixed_dictionaries({}, optional=fields), max_size=3)


def _facts(book: Rulebook) -> st.SearchStrategy[dict[str, Any]]:
    flat = st.fixed_dictionaries({}, optional={p: _value(f.type) for p, f in book.facts.items()})

    def nest(d: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for path, v in d.items():
            node = out
            parts = path.split(".")
            for p in parts[:-1]:
                node = node.setdefault(p, {})
            node[parts[-1]] = v
        return out
    return flat.map(nest)


@pytest.mark.parametrize("doc, day", [("denwa", dt.date(2023, 4, 10)),
                                      ("denwa", dt.date(2023, 5, 1)),
                                      ("rakuten-miitel", dt.date(2025, 6, 1))])
def test_evaluation_never_raises(doc: str, day: dt.date) -> None:
    try:
        book = rulebook_for(doc, day)
    except Exception as e:  # the document is not bundled yet: that is a failure too
        pytest.fail(f"{doc} does not load: {e}")

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(_facts(book))
    def check(raw: dict[str, Any]) -> None:
        facts = facts_dict(validate_facts(book, raw))
        result = evaluate(book, facts, day)
        for o in result.outcomes.values():
            assert o.value in {"accept", "approve", "may_refuse", "refuse", "undetermined",
                               "not_applicable", "may", "deemed", "duty", "prohibited",
                               "requirement_unmet", "permission", "exemption", "declaration"}
        compute_charges(book, facts, day, result)

    check()


def test_durations_and_money_from_strings() -> None:
    book = rulebook_for("denwa", dt.date(2023, 5, 1))
    m = validate_facts(book, {"calls": [{"duration": "61秒"}, {"duration": "3分"}]})
    calls = facts_dict(m)["calls"]
    assert calls[0]["duration"] == Duration(seconds=61)
    assert calls[1]["duration"] == Duration(seconds=180)
    # a bare number has no unit (61 what?): an error, as is a quoted boolean
    with pytest.raises(YakkanError):
        validate_facts(book, {"calls": [{"duration": 61}]})
    with pytest.raises(YakkanError):
        validate_facts(book, {"applicant": {"duns_issued": "yes"}})


# ---- YAML through libyaml: the same data, the reference loader's words for errors -----------


def test_libyaml_reads_every_example_as_the_reference_loader_does(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from yakkan.engine.runtime import case as C

    assert C._FastCaseLoader is not None, "PyYAML without libyaml: the fast path is off"
    texts = [p.read_text(encoding="utf-8")
             for p in sorted((Path(__file__).parents[1] / "examples" / "cases").glob("*.yaml"))]
    fast = [C._read_yaml(t, construct=True) for t in texts]
    monkeypatch.setattr(C, "_FastCaseLoader", None)
    assert fast == [C._read_yaml(t, construct=True) for t in texts]


@pytest.mark.parametrize(("text", "words", "line", "col"), [
    ("facts: [1, 2", "expected ',' or ']', but got '<stream end>'", 1, 13),
    ("facts:\n  - x\n - y", "expected <block end>", 3, 2),
    ("a: \x07", "unacceptable character U+0007: special characters are not allowed", 1, 4),
])
def test_a_yaml_error_is_reported_in_the_reference_loaders_words(
        tmp_path: Path, text: str, words: str, line: int, col: int) -> None:
    f = tmp_path / "case.yaml"
    f.write_text(text, encoding="utf-8")
    r = CliRunner().invoke(main, ["explain", str(f)])
    assert r.exit_code == 2, r.output
    assert "case.syntax" in r.output and words in r.output, r.output
    assert f"case.yaml:{line}:{col}:" in r.output, r.output
