"""Conditions are written once per expression as templates whose holes a case fills
(`exprtext.to_text`, `jatext.ja_text`): the filled template is the text written directly
with the case's values, on every condition of every example case."""

from __future__ import annotations

from pathlib import Path

from yakkan.engine.core import ir as I
from yakkan.engine.features.explain import prepare
from yakkan.engine.features.jatext import ja_text, vocabulary
from yakkan.engine.runtime.evaluate import evaluate
from yakkan.engine.syntax import exprtext

CASES = sorted((Path(__file__).resolve().parents[1] / "examples" / "cases").glob("*.yaml"))


def _conditions() -> list[tuple[object, I.Expr, dict]]:
    out = []
    for path in CASES[::3]:
        try:
            p = prepare(str(path))
        except Exception:  # the examples that are input errors by design
            continue
        r = evaluate(p.book, p.facts, p.as_of)
        for o in r.outcomes.values():
            for g in (*o.grounds, *o.base, *o.not_applicable, *o.undetermined):
                for c in (*g.ground.when, g.ground.requires, *g.ground.unless):
                    if c is not None:
                        out.append((p.book, c, g.values))
    return out


def test_a_filled_template_is_the_text_written_with_the_values() -> None:
    conds = _conditions()
    assert len(conds) > 500
    valued = 0
    for _book, c, values in conds:
        for vals in (values, None, {}):
            got = exprtext.to_text(c, vals)
            assert got == exprtext._t(c, vals, None, 0)
            assert "\x00" not in got
        valued += "［" in exprtext.to_text(c, values)
    assert valued > 100  # values were substituted, not only bare conditions compared


def test_the_japanese_template_shows_a_value_only_where_the_case_gave_one() -> None:
    conds = _conditions()
    shown = 0
    for book, c, values in conds:
        bare = ja_text(c, None, vocabulary(book))
        filled = ja_text(c, values, vocabulary(book))
        assert "\x00" not in bare + filled
        # the filled text is the bare text with 「［value］」 after some names
        stripped, depth = [], 0
        for ch in filled:
            if ch == "［":
                depth += 1
            elif ch == "］":
                depth -= 1
            elif depth == 0:
                stripped.append(ch)
        assert "".join(stripped) == bare.replace("［", "").replace("］", "") or "［" in bare
        shown += filled != bare
    assert shown > 100
