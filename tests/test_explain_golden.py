"""Golden explanations: what a reviewer reads for a few representative cases, in text and
JSON. Refresh with `pytest --update-golden` and review the diff — they are reviewed
artefacts: each golden was read against the clause text when it was written."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import Golden

from yakkan.cli.main import main

ROOT = Path(__file__).parent.parent
GOLDEN = Path(__file__).parent / "golden" / "explain"
CASES = [
    "denwa-plan4-no-duns",          # may_refuse under 第14条の65第2項第6号, 備考3 unmet
    "rakuten-app-refuse-09-abroad",  # may_refuse under 第4条第2項第9号
    "rakuten-app-undetermined-judgment",  # undetermined: the judgment still needed
]


@pytest.mark.parametrize("name", CASES)
def test_explain_text(name: str, golden: Golden, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    r = CliRunner().invoke(main, ["explain", f"examples/cases/{name}.yaml", "--no-color"])
    assert r.exit_code == 0, r.stderr
    golden(GOLDEN / f"{name}.txt", r.stdout)


@pytest.mark.parametrize("name", CASES[:1])
def test_explain_json(name: str, golden: Golden, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    r = CliRunner().invoke(main, ["explain", f"examples/cases/{name}.yaml", "--format", "json",
                                  "--outcome", "application"])
    assert r.exit_code == 0, r.stderr
    data = json.loads(r.stdout)
    assert {"document", "version", "as_of", "outcomes"} <= set(data)
    o = data["outcomes"][0]
    assert {"name", "value", "grounds", "not_applicable", "missing_facts",
            "counterfactuals"} <= set(o)
    g = o["grounds"][0]
    assert {"id", "citation", "text", "force", "condition", "facts", "relied_on"} <= set(g)
    golden(GOLDEN / f"{name}.json", json.dumps(data, ensure_ascii=False, indent=2) + "\n")


@pytest.mark.parametrize("name", CASES)
def test_explain_md(name: str, golden: Golden, monkeypatch: pytest.MonkeyPatch) -> None:
    """The page a reviewer reads, in Markdown: the question in full, the rest in one line."""
    monkeypatch.chdir(ROOT)
    r = CliRunner().invoke(main, ["explain", f"examples/cases/{name}.yaml", "--format", "md"])
    assert r.exit_code == 0, r.stderr
    golden(GOLDEN / f"{name}.md", r.stdout)


CHARGE_CASES = [
    "charge-rakuten-interest-and-surcharge",  # 延滞利息・割増金・月額（下限額 ～）
    "charge-rakuten-full-office",  # per-call and per-number breakdown
]


@pytest.mark.parametrize("name", CHARGE_CASES)
def test_charge_text(name: str, golden: Golden, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    r = CliRunner().invoke(main, ["charge", f"examples/cases/{name}.yaml"])
    assert r.exit_code == 0, r.stderr
    golden(GOLDEN / f"{name}.charge.txt", r.stdout)
