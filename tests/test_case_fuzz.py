"""Fuzzing case files generated from `yakkan schema`: an invalid case never decides anything.

Valid case files are generated from the JSON Schema that `yakkan schema DOC` prints (our own
strategies over its `$defs`, `anyOf`, `enum`, `type`, `minimum`/`maximum` and the string
kinds yakkan documents: dates, durations, amounts, percentages), written as YAML or JSON.
Each is then broken — one value of the wrong type or out of range (`true` for a count, a
value just outside a fact's declared `range`,
`"12"` or `12.0` for an integer, `-1` seats, `0` for a date, `"4%"` where a plain number is
expected, `yes` for a yes/no fact …), or its structure (an unknown key, a list for a record,
a duplicated key, nesting beyond the bound) — and given to `yakkan charge` / `yakkan
explain`. The property: exit 2 with a located diagnostic (`file:line:col: error[…]`), never
an outcome or a bill (no fail-open), never exit 70 (no crash).

The default run is short and derandomised; `pytest -m fuzz_long` runs a nightly-size one.
Both report how many inputs they tried.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from conftest import write_summary
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from yakkan.cli.main import main

DOCS = [("denwa", "2023-05-01"), ("rakuten-miitel", "2025-06-01")]
SHORT, LONG = 25, 1500
STATS: dict[str, int] = {"tried": 0, "valid": 0, "invalid": 0, "crashes": 0, "fail_open": 0}
LOCATED = re.compile(r"^.+:\d+:\d+: error\[[a-z.-]+\]: ", re.M)


@pytest.fixture(autouse=True)
def _no_disk_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("YAKKAN_CACHE", "off")


@pytest.fixture(scope="module", autouse=True)
def _report(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    line = (f"case fuzz: {STATS['tried']} inputs tried ({STATS['valid']} valid, "
            f"{STATS['invalid']} invalid): {STATS['crashes']} crashes, "
            f"{STATS['fail_open']} fail-open")
    write_summary(request, line)
    (Path(__file__).parent / "artifacts").mkdir(exist_ok=True)
    (Path(__file__).parent / "artifacts" / "case-fuzz.json").write_text(
        json.dumps(STATS) + "\n", encoding="utf-8")


def schema_of(doc: str, day: str) -> dict[str, Any]:
    r = CliRunner().invoke(main, ["schema", doc, "--as-of", day])
    assert r.exit_code == 0, r.output
    return dict(json.loads(r.stdout))


SCHEMAS = {doc: schema_of(doc, day) for doc, day in DOCS}


# ---- what a schema node is ----------------------------------------------------------------

def deref(root: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = root["$defs"][node["$ref"].rsplit("/", 1)[1]]
    return node


def kind(root: dict[str, Any], node: dict[str, Any]) -> str:
    """integer, decimal, money, percent, date, duration, text, enum, bool, object, array."""
    node = deref(root, node)
    if "anyOf" in node:
        arms = [deref(root, a) for a in node["anyOf"] if a.get("type") != "null"]
        if len(arms) == 2:
            pattern = arms[1].get("pattern", "")
            return "money" if "円" in pattern else "percent"
        return kind(root, arms[0])
    if "enum" in node:
        return "enum"
    t = node.get("type")
    if t == "string":
        desc = node.get("description", "")
        return "date" if desc.startswith("a date") else \
            "duration" if desc.startswith("a duration") else \
            "identifier" if "pattern" in node else "text"
    return {"integer": "integer", "number": "decimal", "boolean": "bool", "object": "object",
            "array": "array"}[t]


def nullable(root: dict[str, Any], node: dict[str, Any]) -> bool:
    return any(a.get("type") == "null" for a in deref(root, node).get("anyOf", []))


def valid(root: dict[str, Any], node: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
    node = deref(root, node)
    k = kind(root, node)
    if k == "object":
        props = node.get("properties", {})
        return st.fixed_dictionaries({}, optional={
            name: valid(root, sub, depth + 1) for name, sub in props.items()})
    if k == "array":
        return st.lists(valid(root, node["items"], depth + 1), max_size=3)
    if k == "enum":
        values = node["enum"]
        return st.sampled_from(values)
    if k == "identifier":  # a typed identifier (a D-U-N-S® Number): what its pattern allows
        arm = next(deref(root, a) for a in node.get("anyOf", [node]) if a.get("type") != "null")
        ident = st.from_regex(arm["pattern"], fullmatch=True)
        return st.one_of(ident, st.none()) if nullable(root, node) else ident
    lo, hi = bounds(root, node)  # a declared range (`range 1..2`): valid values stay inside
    if k == "integer":
        ints = st.integers(max(lo, 0) if lo is not None else 0,
                           min(hi, 500) if hi is not None else 500)
        return st.one_of(ints, st.none()) if nullable(root, node) else ints
    base: st.SearchStrategy[Any] = {
        "bool": st.booleans(),
        "decimal": st.decimals(0, 10_000, places=2),
        "money": st.one_of(st.integers(0, 10**7),
                           st.integers(0, 10**7).map(lambda n: f"{n:,}円")),
        "percent": st.one_of(st.decimals(0, 1, places=3),
                             st.decimals(0, 100, places=1).map(lambda d: f"{d}%")),
        "date": st.dates(dt.date(2020, 1, 1), dt.date(2030, 12, 31)).map(str),
        "duration": st.integers(0, 4000).map(lambda n: f"{n}秒"),
        "text": st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)),
                        max_size=8),
    }[k]
    return st.one_of(base, st.none()) if nullable(root, node) else base


def bounds(root: dict[str, Any], node: dict[str, Any]) -> tuple[Any, Any]:
    """The schema's minimum and maximum of a number (its number arm), if it has them."""
    node = deref(root, node)
    arms = [deref(root, a) for a in node.get("anyOf", [node]) if a.get("type") != "null"]
    while len(arms) == 1 and "anyOf" in arms[0]:
        arms = [deref(root, a) for a in arms[0]["anyOf"]]
    num = next((a for a in arms if a.get("type") in ("integer", "number")), {})
    return num.get("minimum"), num.get("maximum")


def outside(root: dict[str, Any], node: dict[str, Any]) -> list[Any]:
    """Values just outside a declared range (the vocabulary's `range`), as bad values."""
    lo, hi = bounds(root, node)
    k = kind(root, node)
    if k != "integer":
        return []
    out = [lo - 1] if lo is not None and lo > -10**12 else []
    return out + ([hi + 1] if hi is not None and hi < 10**12 else [])


# wrong values for each kind: every one must be refused
BAD: dict[str, list[Any]] = {
    "integer": [True, False, "12", 12.0, -1, 10**13, "4%", [1], {"a": 1}, "十二"],
    "decimal": [True, "abc", "1.5", "4%", 10**16, [], {"x": 1}],
    "money": [True, -5, "abc", "12", -0.5, "-100円", 10**16, "1e999999円"],
    "percent": [4, -0.1, "abc", True, "4", "-4%"],
    "date": [0, 20230401, True, "2023-02-30", "9999-12-31", "abc", 1.5, "0001-01-01"],
    "duration": [61, True, "abc", "99999999999日", -1],
    "bool": ["yes", "no", "on", "off", 1, 0, "true", "False", None],
    "enum": ["zzz", 1, True, None, ["a"]],
    "text": [1, True, ["a"], {"a": 1}],
    "identifier": [1, True, "", "12-345-67890", "abc", ["a"]],
    "object": ["x", 1, [], True, None],
    "array": [{"a": 1}, "x", 1, None, True],
}


def leaves(value: Any, at: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path inside `value` (mappings and lists), the root excluded."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield (*at, k)
            yield from leaves(v, (*at, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield (*at, i)
            yield from leaves(v, (*at, i))


def node_at(root: dict[str, Any], path: tuple[Any, ...]) -> dict[str, Any]:
    node = deref(root, root["$defs"]["Facts"])
    for p in path:
        node = deref(root, node)
        if "anyOf" in node:
            node = next(a for a in node["anyOf"] if a.get("type") != "null")
            node = deref(root, node)
        node = node["items"] if isinstance(p, int) else node["properties"][p]
    return node


def set_at(d: Any, path: tuple[Any, ...], value: Any) -> None:
    for p in path[:-1]:
        d = d[p]
    d[path[-1]] = value


class _Dumper(yaml.SafeDumper):
    """Every string double-quoted: `0o17` or `yes` written as text stay text in any YAML."""


_Dumper.add_representer(str, lambda d, s: d.represent_scalar("tag:yaml.org,2002:str", s,
                                                             style='"'))


def to_text(case: dict[str, Any], as_json: bool) -> str:
    plain = json.loads(json.dumps(case, default=_plain))  # Decimals as numbers, as written
    if as_json:
        return json.dumps(plain, ensure_ascii=False, indent=1)
    return str(yaml.dump(plain, Dumper=_Dumper, allow_unicode=True, sort_keys=False))


def _plain(v: Any) -> Any:
    return int(v) if v == v.to_integral_value() else float(v)


@st.composite
def cases(draw: st.DrawFn, broken: bool) -> tuple[str, str, str, str]:
    """(document, text, suffix, what was broken) for a valid or a broken case."""
    doc, day = draw(st.sampled_from(DOCS))
    root = SCHEMAS[doc]
    facts = draw(valid(root, root["$defs"]["Facts"]))
    case = {"document": doc, "as_of": day, "facts": facts}
    as_json = draw(st.booleans())
    what = "valid"
    if broken:
        paths = list(leaves(facts))
        how = draw(st.sampled_from(["value", "value", "value", "unknown-key", "duplicate",
                                    "deep", "root"] if paths else
                                   ["unknown-key", "duplicate", "deep", "root"]))
        if how == "value":
            path = draw(st.sampled_from(paths))
            at = node_at(root, path)
            k = kind(root, at)
            bad = draw(st.sampled_from(BAD[k] + outside(root, at) * 3))
            set_at(facts, path, bad)
            what = f"{'.'.join(map(str, path))} ({k}) = {bad!r}"
        elif how == "unknown-key":
            target = draw(st.sampled_from([()] + [p for p in paths
                                                  if isinstance(_get(facts, p), dict)]))
            holder = _get(facts, target)
            holder["zz_unknown_" + draw(st.sampled_from(["a", "seats", "duns_isued"]))] = 1
            what = f"unknown key under {target}"
        elif how == "deep":
            deep: Any = 1
            for _ in range(200):
                deep = [deep]
            facts["zz_deep"] = deep
            what = "200-deep nesting"
        elif how == "root":
            case["facts"] = draw(st.sampled_from(["x", [1, 2], 3]))
            what = f"facts = {case['facts']!r}"
        text = to_text(case, as_json)
        if how == "duplicate":  # the document named twice: the last would win silently
            other = "rakuten-miitel" if doc == "denwa" else "denwa"
            text = (text.rstrip()[:-1].rstrip() + f',\n "document": "{other}"\n}}\n'
                    if as_json else text + f"document: {other}\n")
            what = "duplicate document key"
        return doc, text, ".json" if as_json else ".yaml", what
    return doc, to_text(case, as_json), ".json" if as_json else ".yaml", what


def _get(d: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        d = d[p]
    return d


def run_case(tmp: Path, text: str, suffix: str, command: str) -> Any:
    path = tmp / f"case{suffix}"
    path.write_text(text, encoding="utf-8")
    return CliRunner().invoke(main, [command, str(path), "--format", "json"])


def check_invalid(tmp: Path, text: str, suffix: str, what: str, command: str) -> None:
    STATS["tried"] += 1
    STATS["invalid"] += 1
    r = run_case(tmp, text, suffix, command)
    if r.exit_code not in (2,):
        if r.exit_code == 0 or '"final"' in r.stdout or '"outcomes"' in r.stdout:
            STATS["fail_open"] += 1
        else:
            STATS["crashes"] += 1
    assert r.exit_code == 2, f"{what}: exit {r.exit_code}\n{text}\n{r.output}"
    assert r.stdout == "", f"{what}: output on an invalid case\n{r.stdout[:500]}"
    assert "Traceback" not in r.stderr and "internal" not in r.stderr, r.stderr
    assert LOCATED.search(r.stderr), f"{what}: no located diagnostic\n{r.stderr}"


def check_valid(tmp: Path, text: str, suffix: str) -> None:
    STATS["tried"] += 1
    STATS["valid"] += 1
    r = run_case(tmp, text, suffix, "charge")
    if r.exit_code != 0:
        STATS["crashes"] += 1
    assert r.exit_code == 0, f"a schema-valid case is refused:\n{text}\n{r.output}"


_SETTINGS = dict(deadline=None, derandomize=True, database=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                        HealthCheck.function_scoped_fixture])


@settings(max_examples=SHORT, **_SETTINGS)  # type: ignore[arg-type]
@given(cases(broken=True), st.sampled_from(["charge", "explain"]))
def test_broken_cases_are_refused(tmp_path_factory: pytest.TempPathFactory,
                                  c: tuple[str, str, str, str], command: str) -> None:
    _doc, text, suffix, what = c
    check_invalid(tmp_path_factory.mktemp("fuzz"), text, suffix, what, command)


@settings(max_examples=SHORT // 2, **_SETTINGS)  # type: ignore[arg-type]
@given(cases(broken=False))
def test_schema_valid_cases_are_read(tmp_path_factory: pytest.TempPathFactory,
                                     c: tuple[str, str, str, str]) -> None:
    _doc, text, suffix, _ = c
    check_valid(tmp_path_factory.mktemp("fuzz"), text, suffix)


@pytest.mark.fuzz_long
@settings(max_examples=LONG, **_SETTINGS)  # type: ignore[arg-type]
@given(cases(broken=True), st.sampled_from(["charge", "explain"]))
def test_broken_cases_are_refused_long(tmp_path_factory: pytest.TempPathFactory,
                                       c: tuple[str, str, str, str], command: str) -> None:
    _doc, text, suffix, what = c
    check_invalid(tmp_path_factory.mktemp("fuzz"), text, suffix, what, command)


@pytest.mark.fuzz_long
@settings(max_examples=LONG // 3, **_SETTINGS)  # type: ignore[arg-type]
@given(cases(broken=False))
def test_schema_valid_cases_are_read_long(tmp_path_factory: pytest.TempPathFactory,
                                          c: tuple[str, str, str, str]) -> None:
    _doc, text, suffix, _ = c
    check_valid(tmp_path_factory.mktemp("fuzz"), text, suffix)
