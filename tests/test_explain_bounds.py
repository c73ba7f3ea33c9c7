"""An undetermined outcome says what bounds it in every format, and a search for a change
that found none says so (issue #12: never an empty section, never a bare 'undetermined')."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from click.testing import CliRunner

from yakkan.cli.main import main

CASES = Path(__file__).resolve().parents[1] / "examples" / "cases"


def _without_liable_by_law(tmp_path: Path) -> Path:
    data = yaml.safe_load((CASES / "rakuten-liability-exempt.yaml").read_text(encoding="utf-8"))
    data["facts"]["damages"].pop("liable_by_law")
    data.pop("expect", None)
    out = tmp_path / "case.yaml"
    out.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return out


def test_md_and_html_state_the_bounds_of_an_undetermined_outcome(tmp_path: Path) -> None:
    case = _without_liable_by_law(tmp_path)
    for fmt in ("md", "html"):
        r = CliRunner().invoke(main, ["explain", str(case), "--outcome", "liability",
                                      "--format", fmt])
        assert r.exit_code == 0, r.output
        assert "取りうる結論" in r.output, fmt
        line = next(x for x in r.output.splitlines() if "取りうる結論" in x)
        assert "第17条第2項" in line and "免責" in line, line  # duty if it applies, else exemption


def test_a_search_that_found_nothing_says_so(tmp_path: Path) -> None:
    """Every fact of this refusal is known and no change of one or two facts turns it: the
    page says that, where the list of changes would be."""
    for path in sorted(CASES.glob("*.yaml")):
        r = CliRunner().invoke(main, ["explain", str(path), "--format", "json"])
        if r.exit_code != 0:
            continue
        data = json.loads(r.output)
        hit = [o for o in data["outcomes"] if (o.get("counterfactual_search") or {})
               .get("status") in ("none", "budget", "nothing_to_change")]
        if not hit:
            continue
        md = CliRunner().invoke(main, ["explain", str(path), "--format", "md"]).output
        assert "### 結論を変える変更\n" in md or "## 結論を変える変更\n" in md, path.stem
        assert ("変わりません" in md or "見つかりませんでした" in md
                or "変えられる事実を読んでいません" in md), path.stem
        return
    raise AssertionError("no example case whose search found nothing")


def test_a_search_stopped_at_its_budget_says_so_even_when_it_found_one() -> None:
    """The search is bounded: stopped at the budget, it says so (with what it found, there may
    be other changes of the same size); within the budget, it does not."""
    from yakkan.engine.core.labels import search_note
    from yakkan.engine.features.counterfactual import search
    from yakkan.engine.features.explain import prepare
    from yakkan.engine.runtime.evaluate import evaluate

    p = prepare(str(CASES / "denwa-plan4-no-duns.yaml"))
    o = evaluate(p.book, p.facts, p.as_of).outcomes["application"]
    full = search(p.book, p.facts, p.as_of, o)
    assert full.status == "found" and not full.budget_reached and full.tried > 2
    cut = search(p.book, p.facts, p.as_of, o, budget=full.tried - 1)
    assert cut.budget_reached and cut.tried == full.tried - 1
    note = search_note({"status": cut.status, "budget": cut.budget, "max_changes": 2,
                        "tried": cut.tried, "budget_reached": cut.budget_reached})
    assert f"上限（{full.tried - 1}通り）" in note
    assert "上限" not in search_note({"status": full.status, "budget": full.budget,
                                      "max_changes": 2, "tried": full.tried,
                                      "budget_reached": full.budget_reached})
