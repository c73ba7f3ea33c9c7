"""Witness cases as files (`--witness-dir`, engine/analysis/witness_cases.py): every case the
semantic diff or the static checks show is written as a case file that `yakkan explain`
runs and that reproduces what the diff (or the check) claims; md and html link to them; the
text output names the witness facts by their Japanese labels."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from yakkan.cli import diff as cli_diff
from yakkan.cli.main import main
from yakkan.engine.analysis.diff import Diff, diff_versions
from yakkan.renderers.diff_render import render_diff

OLD, NEW = dt.date(2023, 4, 1), dt.date(2023, 4, 17)


@pytest.fixture(scope="module")
def denwa() -> Diff:
    return diff_versions("denwa", OLD, NEW)


def _diff_cli(d: Diff, monkeypatch: pytest.MonkeyPatch, args: list[str]) -> Result:
    """`yakkan diff denwa --from … --to … ARGS`, on the diff computed once for the module."""
    monkeypatch.setattr(cli_diff, "diff_versions", lambda *a, **k: d)
    r = CliRunner().invoke(main, ["diff", "denwa", "--from", OLD.isoformat(), "--to",
                                  NEW.isoformat(), *args])
    assert r.exit_code == 0, r.output
    return r


def _run(args: list[str]) -> dict[str, Any]:
    r = CliRunner().invoke(main, [*args, "--format", "json"])
    assert r.exit_code == 0, (args, r.output)
    data: dict[str, Any] = json.loads(r.stdout)
    return data


def test_every_diff_witness_file_reproduces_what_the_diff_claims(
        denwa: Diff, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "diff.json"
    r = _diff_cli(denwa, monkeypatch, ["--format", "json", "-o", str(out),
                                       "--witness-dir", str(tmp_path / "cases")])
    claims = json.loads(out.read_text(encoding="utf-8"))
    files = sorted((tmp_path / "cases").glob("*.yaml"))
    n_outcomes, n_charges = len(claims["witnesses"]), len(claims["charge_witnesses"])
    assert n_outcomes and n_charges, "the must-show diff has witnesses of both kinds"
    assert len(files) == 2 * (n_outcomes + n_charges)  # one per version each
    assert f"wrote {len(files)} witness case file(s)" in r.stderr
    for f in files:
        case = yaml.safe_load(f.read_text(encoding="utf-8"))
        m = re.fullmatch(r"(c?)(\d+)-(.+)-(old|new)\.yaml", f.name)
        assert m, f.name
        n, side = int(m.group(2)) - 1, m.group(4)
        assert case["as_of"] == (OLD if side == "old" else NEW).isoformat()
        if m.group(1):  # a charge witness: `yakkan charge` prices the line as the diff says
            w = claims["charge_witnesses"][n]
            report = _run(["charge", str(f)])
            charged = {ln["name"]: ln for ln in report["lines"]}
            claim = w[side]
            if claim["status"] == "charged":
                line = charged[w["charge"]]
                assert line["status"] == "charged", (f.name, line)
                assert float(line["amount"]) == float(claim["amount"]), (f.name, line)
            else:  # not charged: listed as not applicable, never among the charged lines
                assert w["charge"] not in charged, f.name
                assert w["charge"] in {ln["name"] for ln in report["not_applicable"]}, f.name
        else:  # an outcome witness: `yakkan explain` decides as the diff says
            w = claims["witnesses"][n]
            outcomes = {o["name"]: o["value"] for o in _run(["explain", str(f)])["outcomes"]}
            assert outcomes[w["outcome"]] == w[side]["value"], f.name
            assert case["expect"]["outcomes"] == {w["outcome"]: w[side]["value"]}
    # and `yakkan test` checks the expect blocks the files carry
    t = CliRunner().invoke(main, ["test", str(tmp_path / "cases")])
    assert t.exit_code == 0 and f"{len(files)} passed, 0 failed" in t.output, t.output


def test_md_and_html_link_the_written_files(denwa: Diff, tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    for fmt in ("md", "html"):
        out = tmp_path / "out" / f"diff.{fmt}"
        out.parent.mkdir(exist_ok=True)
        _diff_cli(denwa, monkeypatch, ["--format", fmt, "-o", str(out),
                                       "--witness-dir", str(tmp_path / "cases")])
        text = out.read_text(encoding="utf-8")
        hrefs = re.findall(r"\]\(([^)]+\.yaml)\)" if fmt == "md" else r'href="([^"]+\.yaml)"',
                           text)
        written = sorted((tmp_path / "cases").glob("*.yaml"))
        assert len(set(hrefs)) == len(written), (fmt, len(hrefs), len(written))
        assert all((out.parent / h).resolve() in {p.resolve() for p in written} for h in hrefs)
        assert "事例ファイル" in text
    # without --witness-dir there is nothing to link
    assert "事例ファイル" not in str(render_diff(denwa, "md"))


def test_the_text_output_labels_witness_facts_in_japanese(denwa: Diff) -> None:
    text = str(render_diff(denwa, "text"))
    part = text[text.index("判断が変わる事例"):]
    assert "「グループ発信サービスの種類（第1種グループ発信サービス／第2種グループ発信サービス）」 = " \
        in part
    assert not re.search(r"^\s+service\.kind = ", part, re.M)  # no bare fact path


FIXTURE = """document gapdemo "事例ファイルの試験" {
  version "1"
  effective 2020-01-01
}

fact a: bool "事実A"
fact b: bool "事実B"

article 1 "責任" {
  paragraph 1 {
    text "Aのときは、当社は責任を負います。"
    rule liability: duty when a
  }
  paragraph 2 {
    text "Bのときは、当社は責任を負いません。"
    rule liability: exemption when b
  }
}
"""


def test_check_writes_each_static_witness_as_a_case_file_explain_runs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "clauses" / "gapdemo.yk"
    src.parent.mkdir()
    src.write_text(FIXTURE, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    r = CliRunner().invoke(main, ["check", "clauses/gapdemo.yk", "--witness-dir", "cases",
                                  "--format", "json"])
    assert r.exit_code == 0, r.output
    found = [x for x in json.loads(r.stdout)["static"] if x["witness"] is not None]
    assert [x["code"] for x in found] == ["static.conflict"]
    path = Path(found[0]["case_file"])
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert case["document"] == "../clauses/gapdemo.yk" and case["facts"] == found[0]["witness"]
    result = _run(["explain", str(path)])
    liability = next(o for o in result["outcomes"] if o["name"] == "liability")
    # the conflict the check claims: the duty and the exemption both apply to the case
    assert {g["citation"] for g in liability["grounds"]} == {"第1条第1項", "第1条第2項"}
