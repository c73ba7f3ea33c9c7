"""The bundled documents as a newcomer meets them: clean check, canonical layout, outlines
of the versions in force, and the README's first command."""

from __future__ import annotations

import json
import re
from pathlib import Path

from click.testing import CliRunner, Result

from yakkan.cli.main import main

ROOT = Path(__file__).parent.parent


def run(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def test_check_clauses_is_clean_and_reports_the_drafting_slips() -> None:
    r = run("check", str(ROOT / "clauses"), "--format", "json")
    assert r.exit_code == 0, r.stderr
    diags = json.loads(r.stdout)["diagnostics"]
    assert not [d for d in diags if d["severity"] == "error"]
    slips = sorted(d["message"] for d in diags if d["code"] == "resolve.caption-mismatch")
    # 第1条第3項 cites 「第8条（禁止事項）」 and 「第12条（契約者が行う契約の解除）」: the text's slips
    assert len(slips) == 2 and "第10条" in slips[1] + slips[0] and "第15条" in "".join(slips)


def test_fmt_check_clauses() -> None:
    r = run("fmt", "--check", str(ROOT / "clauses"))
    assert r.exit_code == 0, r.stderr


def test_outline_rakuten_lists_27_articles_with_captions() -> None:
    r = run("outline", "rakuten-miitel", "--format", "json")
    units = json.loads(r.stdout)["units"]
    arts = [u for u in units if u["kind"] == "article"]
    assert len(arts) == 27 and all(a["caption"] for a in arts)
    assert arts[22]["citation"] == "第23条" and arts[22]["caption"] == "権利関係"


def test_outline_denwa_shows_each_version() -> None:
    old = json.loads(run("outline", "denwa", "--as-of", "2023-04-10",
                         "--format", "json").stdout)
    new = json.loads(run("outline", "denwa", "--as-of", "令和5年5月1日",
                         "--format", "json").stdout)
    assert (old["version"], new["version"]) == ("2023-04-01", "2023-04-17")
    assert not any("プラン4" in u["text"] for u in old["units"])
    assert any(u["citation"] == "第14条の67第4項" for u in new["units"])
    r = run("outline", "denwa", "--as-of", "1999-01-01")
    assert r.exit_code == 2 and "eval.no-version-in-force" in r.stderr


def test_readme_first_command_runs() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = re.search(r"```sh\n(.*?)\n", readme, re.S)
    assert first is not None
    case = re.search(r"yakkan explain (\S+)", first.group(1))
    assert case is not None and (ROOT / case.group(1)).exists()
    r = run("explain", str(ROOT / case.group(1)))
    assert r.exit_code == 0
    assert "利用契約の申込の承諾: 承諾しないことがある" in r.stdout
    assert "第14条の65第2項第6号" in r.stdout


def test_overlapping_classifications_are_reported(tmp_path: Path) -> None:
    # 第4条の4の4 does not make プラン2 and プラン3 exclusive: a case that is both is reported,
    # while プラン4 with プラン2 is no overlap (「プラン2のうち…」)
    case = tmp_path / "both.yaml"
    case.write_text("document: denwa\nas_of: 2023-05-01\nfacts:\n  service: {kind: type2, "
                    "terminates_at_carrier: true, one_number_per_line: true, "
                    "docomo_corporate_contract: true}\n", encoding="utf-8")
    data = json.loads(run("explain", str(case), "--format", "json").stdout)
    assert [w.get("classes") for w in data["warnings"]] == [["plan2", "plan3"], None]
    assert data["warnings"][1]["code"] == "case.breaks-assumption"  # `assume one_plan`
    alone = json.loads(run("explain", str(ROOT / "examples/cases/denwa-plan4-no-duns.yaml"),
                           "--format", "json").stdout)
    assert alone["warnings"] == []
