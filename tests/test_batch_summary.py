"""`yakkan batch … --summary FILE.html`: the figures of the HTML page are the terminal
summary's — rows in, decided, undetermined, rejected (adding up), each outcome's values, the
most frequent refusal grounds and missing facts (drawn as inline SVG bars) — and, with
`--compare`, the transitions per outcome and per provision. The page is Japanese, loads
nothing and escapes what it shows; the terminal summary is Japanese too (names first, each
code in （） after its name)."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

from click.testing import CliRunner
from test_batch import _write_jsonl, example_rows

from yakkan.cli.main import main
from yakkan.engine.features.batch import summary_labels


class _Page(HTMLParser):
    """Every element with a `data-key`: the number it shows (a table row's last cell, a
    bar's `data-n` and its count label), and the texts of the page."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, str] = {}  # table rows: data-key → text of the last cell
        self.bars: dict[str, dict[str, list[tuple[str, int]]]] = {}  # chart → bars
        self.bar_text: dict[str, list[str]] = {}  # data-key → texts inside the bar
        self.tags: list[str] = []
        self.text: list[str] = []
        self._row: str | None = None
        self._cell: list[str] = []
        self._chart: str | None = None
        self._bar: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "svg":
            self._chart = (a.get("id") or "").removeprefix("chart-")
            self.bars[self._chart] = {"bars": []}
        elif tag == "g" and a.get("class") == "bar":
            assert self._chart is not None
            self._bar = a["data-key"] or ""
            self.bars[self._chart]["bars"].append((self._bar, int(a["data-n"] or "-1")))
            self.bar_text[self._bar] = []
        elif tag == "tr" and "data-key" in a:
            self._row = a["data-key"]
        elif tag == "td":
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag == "svg":
            self._chart = None
        elif tag == "g":
            self._bar = None
        elif tag == "td" and self._row is not None:
            self.rows[self._row] = "".join(self._cell).strip()
        elif tag == "tr":
            self._row = None

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        self._cell.append(data)
        if self._bar is not None:
            self.bar_text[self._bar].append(data.strip())


def _page(path: Path) -> _Page:
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    return p


def _section(out: str, head: str) -> list[str]:
    """The lines of one table of the terminal summary (after its heading)."""
    lines = out.splitlines()
    start = next(i for i, x in enumerate(lines) if x.startswith(head))
    rows = []
    for x in lines[start + 1:]:
        if not x.strip():
            break
        rows.append(x.strip())
    return rows


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def test_the_html_summary_shows_the_terminal_summary_figures(tmp_path: Path) -> None:
    rows = [r for _, r in example_rows("denwa")]
    rows[1] = {**rows[1], "service.kind": "type9"}  # rejected, never dropped
    src, out = tmp_path / "in<b>&.jsonl", tmp_path / "out.jsonl"  # a name to escape
    html = tmp_path / "summary.html"
    _write_jsonl(src, rows)
    res = CliRunner().invoke(main, ["batch", "denwa", str(src), "-o", str(out),
                                    "--summary", str(html), "--top", "5"])
    assert res.exit_code == 0, res.output
    term = res.output
    head = re.match(r"入力 ([\d,]+)行：判断 ([\d,]+)・未確定 ([\d,]+)・不受理（入力誤り） ([\d,]+)\n",
                    term)
    assert head
    n, d, u, r = (_int(x) for x in head.groups())
    assert n == len(rows) and r == 1 and d + u + r == n
    page = _page(html)
    assert {k: int(page.rows[k]) for k in ("rows", "decided", "undetermined", "rejected")} \
        == {"rows": n, "decided": d, "undetermined": u, "rejected": r}
    labels = summary_labels("denwa")
    # each outcome's values: under `名前（code）`, lines `n  値（code）`
    values: dict[str, int] = {}
    outcome = None
    for line in _section(term, "判断対象ごとの結論:"):
        count = re.fullmatch(r"([\d,]+)\s+(.+)（(\S+)）", line)
        if count is None:
            head_ = re.fullmatch(r"(.+)（(\S+)）", line)
            assert head_ and head_[1] == labels.outcomes[head_[2]], line
            outcome = head_[2]
            continue
        assert outcome is not None
        values[f"{outcome}:{count[3]}"] = _int(count[1])
    assert values and {k: int(v) for k, v in page.rows.items() if k.count(":") == 1
                       and not k.startswith("error:")} == values
    # the bars: the terminal's top grounds and missing facts, in the same order
    grounds = [re.fullmatch(r"([\d,]+)\s+(\S+) — (.+)（(\S+)）", x) for x in
               _section(term, "承諾しない等の根拠（上位5件）:")]
    want_g = [(f"{m[4]}:{m[2]}", _int(m[1])) for m in grounds if m]
    assert len(want_g) == 5 and page.bars["grounds"]["bars"] == want_g
    assert all(re.fullmatch(r"第[0-9]+条.*", g[2]) for g in grounds if g)  # citations
    missing = [re.fullmatch(r"([\d,]+)\s+(.+)（(\S+)）", x) for x in
               _section(term, "不足している事実（上位5件）:")]
    want_m = [(m[3], _int(m[1])) for m in missing if m]
    assert len(want_m) == 5 and page.bars["missing"]["bars"] == want_m
    # a missing fact by its Japanese label, in the terminal and on the page's bars
    for m in missing:
        assert m and labels.facts[m[3]].startswith(m[2].rstrip("…")), m
    for key, count in want_m:
        texts = page.bar_text[key]
        assert str(count) in texts
        assert any(labels.facts[key].startswith(t.rstrip("…")) for t in texts if t), texts
    assert page.rows["error:case.invalid-fact"] == "1"
    assert _section(term, "不受理（入力誤り）の内訳:") == ["1  事実の値が不正（case.invalid-fact）"]
    # Japanese, self-contained, escaped
    body = "".join(page.text)
    assert "一括判断の結果" in body and "承諾しないことがある" in body and "不足している事実" in body
    assert "script" not in page.tags and "<b>" not in html.read_text(encoding="utf-8")
    assert "in<b>&.jsonl" in body  # shown as text, not markup


def test_the_compare_summary_shows_the_transitions_per_outcome_and_provision(
        tmp_path: Path) -> None:
    rows = [r for _, r in example_rows("denwa")]
    src, html = tmp_path / "in.jsonl", tmp_path / "impact.html"
    _write_jsonl(src, rows)
    res = CliRunner().invoke(main, ["batch", "denwa", str(src), "--compare", "2023-04-10",
                                    "2023-04-20", "--summary", str(html)])
    assert res.exit_code == 0, res.output
    m = re.match(r"比較 ([\d,]+)行（2023-04-01版 → 2023-04-17版）：結論が変わる ([\d,]+)・"
                 r"変わらない ([\d,]+)・不受理（入力誤り） ([\d,]+)\n", res.output)
    assert m
    page = _page(html)
    assert [int(page.rows[k]) for k in ("rows", "changed", "unchanged", "rejected")] == \
        [_int(x) for x in m.groups()]
    trans: dict[str, int] = {}
    per_outcome: dict[str, int] = {}
    for line in _section(res.output, "結論の変化:"):
        t = re.fullmatch(r"([\d,]+)\s+.+（(\S+)）: .+（(\S+)） → .+（(\S+)）", line)
        assert t, line
        trans[f"{t[2]}:{t[3]}:{t[4]}"] = _int(t[1])
        per_outcome[t[2]] = per_outcome.get(t[2], 0) + _int(t[1])
    assert trans and {k: int(v) for k, v in page.rows.items() if k.count(":") == 2} == trans
    assert dict(page.bars["transitions"]["bars"]) == per_outcome
    prov = [x.split(maxsplit=1) for x in _section(res.output, "一方の版でのみ適用される条項")]
    assert prov and page.bars["provisions"]["bars"] == [(c, _int(n)) for n, c in prov]
    body = "".join(page.text)
    assert "改正の影響" in body and "承諾しないことがある" in body


def test_a_summary_that_is_not_html_or_has_no_folder_is_exit_2(tmp_path: Path) -> None:
    src = tmp_path / "in.jsonl"
    _write_jsonl(src, [{"id": 1}])
    for bad, code in ((tmp_path / "s.txt", "batch.format"),
                      (tmp_path / "no" / "s.html", "io.unwritable")):
        res = CliRunner().invoke(main, ["batch", "denwa", str(src), "-o",
                                        str(tmp_path / "o.jsonl"), "--summary", str(bad)])
        assert res.exit_code == 2 and code in res.output, res.output
        assert not (tmp_path / "o.jsonl").exists()  # checked before the run
