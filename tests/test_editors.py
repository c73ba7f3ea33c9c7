"""editors/: the TextMate grammar tokenises every bundled clause file with no character left
unscoped and no `invalid` scope, and the VS Code manifest wires the grammar and the server.

No TextMate engine for Python is among the project's dependencies, so this file carries a
small tokenizer of its own: line by line, the earliest match among the patterns in scope
wins (ties: the end pattern of the open rule, then the first pattern listed), with `match`,
`begin`/`end`, `captures`, `beginCaptures`/`endCaptures` and `include` of the repository —
the subset the grammar uses. Patterns are compiled with Python's `re`; the grammar keeps to
syntax Oniguruma (VS Code's engine) reads the same way."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
VSCODE = ROOT / "editors" / "vscode"
GRAMMAR = VSCODE / "syntaxes" / "yakkan.tmLanguage.json"
CLAUSES = sorted((ROOT / "clauses").glob("*/*.yk"))
# standard TextMate scope roots (the themes colour these)
KNOWN_ROOTS = ("comment", "string", "constant", "keyword", "storage", "support", "variable",
               "entity", "punctuation", "markup", "meta")


@dataclass
class Rule:
    name: str | None
    match: re.Pattern[str] | None
    begin: re.Pattern[str] | None
    end: re.Pattern[str] | None
    captures: dict[str, str]
    begin_captures: dict[str, str]
    end_captures: dict[str, str]
    patterns: list[Rule]


def _names(caps: dict[str, Any] | None) -> dict[str, str]:
    return {k: v["name"] for k, v in (caps or {}).items() if "name" in v}


class Grammar:
    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.scope = data["scopeName"]
        self.root = self._list(data["patterns"])

    def _list(self, pats: list[dict[str, Any]]) -> list[Rule]:
        out: list[Rule] = []
        for p in pats:
            if "include" in p:
                ref = p["include"]
                assert ref.startswith("#"), f"only repository includes are used: {ref}"
                out.extend(self._list([self.data["repository"][ref[1:]]]))
            elif "match" in p or "begin" in p:
                out.append(self._rule(p))
            else:  # a group of patterns
                out.extend(self._list(p["patterns"]))
        return out

    def _rule(self, p: dict[str, Any]) -> Rule:
        return Rule(
            name=p.get("name"),
            match=re.compile(p["match"]) if "match" in p else None,
            begin=re.compile(p["begin"]) if "begin" in p else None,
            end=re.compile(p["end"]) if "end" in p else None,
            captures=_names(p.get("captures")),
            begin_captures=_names(p.get("beginCaptures") or p.get("captures")),
            end_captures=_names(p.get("endCaptures") or p.get("captures")),
            patterns=self._list(p.get("patterns", [])) if "begin" in p else [])

    def tokenize(self, text: str) -> list[tuple[int, int, str, tuple[str, ...]]]:
        """(line, column, text, scopes) for every character run of `text`."""
        out: list[tuple[int, int, str, tuple[str, ...]]] = []
        stack: list[Rule] = []
        for n, line in enumerate(text.split("\n"), 1):
            pos = 0

            def scopes(extra: tuple[str | None, ...] = ()) -> tuple[str, ...]:
                return tuple(s for s in (self.scope, *(r.name for r in stack), *extra) if s)

            def emit(a: int, b: int, m: re.Match[str] | None, caps: dict[str, str],
                     extra: tuple[str | None, ...] = (), line: str = line,
                     n: int = n) -> None:
                if b <= a:
                    return
                if m is None or not caps:
                    out.append((n, a, line[a:b], scopes(extra)))
                    return
                # captures: each character gets the innermost capture group covering it
                for i in range(a, b):
                    cap = None
                    for g, name in caps.items():
                        gi = int(g)
                        if m.start(gi) != -1 and m.start(gi) <= i < m.end(gi):
                            cap = name
                    out.append((n, i, line[i], scopes((*extra, cap))))

            while pos <= len(line):
                rules = stack[-1].patterns if stack else self.root
                best: tuple[int, int, str, Rule, re.Match[str]] | None = None
                if stack and stack[-1].end is not None:
                    m = stack[-1].end.search(line, pos)
                    if m:
                        best = (m.start(), -1, "end", stack[-1], m)
                for i, r in enumerate(rules):
                    rx = r.match or r.begin
                    assert rx is not None
                    m = rx.search(line, pos)
                    if m and (best is None or (m.start(), i) < (best[0], best[1])):
                        best = (m.start(), i, "match" if r.match else "begin", r, m)
                if best is None:
                    emit(pos, len(line), None, {})
                    break
                start, _, how, r, m = best
                emit(pos, start, None, {})
                if how == "end":
                    emit(m.start(), m.end(), m, r.end_captures)
                    stack.pop()
                elif how == "begin":
                    stack.append(r)
                    emit(m.start(), m.end(), m, r.begin_captures)
                else:
                    emit(m.start(), m.end(), m, r.captures, (r.name,))
                if m.end() == pos and how == "match":
                    emit(pos, pos + 1, None, {})
                    pos += 1
                else:
                    pos = m.end()
                if pos >= len(line) and how != "begin":
                    break
        return out


@pytest.fixture(scope="module")
def grammar() -> Grammar:
    return Grammar(json.loads(GRAMMAR.read_text(encoding="utf-8")))


def _problems(g: Grammar, text: str) -> list[str]:
    bad = []
    for line, col, s, scopes in g.tokenize(text):
        if not s.strip():
            continue
        where = f"{line}:{col + 1 + len(s) - len(s.lstrip())} {s.strip()!r}"
        if scopes == (g.scope,):
            bad.append(f"{where}: no scope")
        for sc in scopes[1:]:
            if sc.startswith("invalid") or not sc.startswith(KNOWN_ROOTS) \
                    or not sc.endswith(".yakkan"):
                bad.append(f"{where}: unknown scope {sc}")
    return bad


@pytest.mark.parametrize("path", CLAUSES, ids=[f"{p.parent.name}/{p.stem}" for p in CLAUSES])
def test_the_grammar_tokenises_every_bundled_clause_file(grammar: Grammar, path: Path) -> None:
    problems = _problems(grammar, path.read_text(encoding="utf-8"))
    assert problems == [], "\n".join(problems[:20])


def test_there_are_clause_files() -> None:
    assert len(CLAUSES) >= 3


def _scope_of(g: Grammar, line: str, piece: str) -> tuple[str, ...]:
    col = line.index(piece)
    for _n, c, _s, scopes in g.tokenize(line):
        if c <= col < c + len(_s):
            return scopes
    raise AssertionError(piece)


def test_the_grammar_gives_the_expected_scopes(grammar: Grammar) -> None:
    g = grammar
    line = ('    item 6 { when plan4 and not applicant.duns_issued  # 第6号\n'
            '      rule application: may_refuse for each item }')
    first, second = line.split("\n")
    assert _scope_of(g, first, "item")[-1] == "keyword.other.unit.yakkan"
    assert _scope_of(g, first, "6")[-1] == "constant.numeric.yakkan"
    assert _scope_of(g, first, "when")[-1] == "keyword.control.yakkan"
    assert _scope_of(g, first, "and")[-1] == "keyword.operator.logical.yakkan"
    assert _scope_of(g, first, "applicant.duns_issued")[-1] == "variable.other.path.yakkan"
    assert _scope_of(g, first, "# 第6号")[-1] == "comment.line.number-sign.yakkan"
    assert _scope_of(g, second, "may_refuse")[-1] == "support.constant.force.yakkan"
    assert _scope_of(g, second, "rule")[-1] == "storage.type.declaration.yakkan"
    cite = 'notwithstanding 「前項」 text "本文「で」す\\"" amount 1500円 * 30日 effective 令和5年4月17日'
    assert _scope_of(g, cite, "前項")[-1] == "entity.name.tag.citation.yakkan"
    assert _scope_of(g, cite, "「")[-1] == "punctuation.definition.citation.begin.yakkan"
    # a 「 inside a string is text, not a citation
    assert _scope_of(g, cite, "で")[-1] == "string.quoted.double.yakkan"
    assert _scope_of(g, cite, '\\"')[-1] == "constant.character.escape.yakkan"
    assert _scope_of(g, cite, "1500円")[-1] == "constant.numeric.money.yakkan"
    assert _scope_of(g, cite, "30日")[-1] == "constant.numeric.duration.yakkan"
    assert _scope_of(g, cite, "令和5年")[-1] == "constant.numeric.date.yakkan"
    # an unknown character is caught by the check
    assert _problems(g, "article 1 { ＠ }") == ["1:13 '＠': no scope"]


def test_the_vscode_manifest_wires_the_grammar_and_the_server() -> None:
    pkg = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    lang = pkg["contributes"]["languages"][0]
    assert lang["id"] == "yakkan" and lang["extensions"] == [".yk"]
    assert (VSCODE / lang["configuration"]).is_file()
    gram = pkg["contributes"]["grammars"][0]
    assert gram["language"] == "yakkan" and gram["scopeName"] == "source.yakkan"
    assert (VSCODE / gram["path"]).resolve() == GRAMMAR.resolve()
    assert "onLanguage:yakkan" in pkg["activationEvents"]
    main = (VSCODE / pkg["main"]).read_text(encoding="utf-8")
    assert "vscode-languageclient/node" in main and "vscode-languageclient" in pkg["dependencies"]
    cmd = pkg["contributes"]["configuration"]["properties"]["yakkan.server.command"]["default"]
    assert cmd == ["yakkan", "lsp"]
    json.loads((VSCODE / "language-configuration.json").read_text(encoding="utf-8"))
