"""The case form: generated from a version's vocabulary (`explain.vocabulary_json`), and read
back into a case.

Every fact is one field named `f:<path>` (`f:applicant.duns_issued`); a fact that is a list
of records (`lines`, `calls`) is a table whose cells are `f:<path>.<row>.<field>`, with its
row count in `rows:<path>`. A yes/no fact has three states — はい (`true`), いいえ
(`false`), 不明 (empty: left out of the case, never false); an enum is a select whose
options are the members' Japanese names (empty: 不明); anything else is text as a case file
writes it (`12,345円`, `令和5年4月17日`, `61秒`, `4%`), an empty field being unknown.

The form only carries what a case file says: `form_case` turns it into the same mapping a
case file parses into, and the console validates that with `prepare_data` — the one path of
`yakkan explain` — so a wrong value gets the diagnostic a case file would get (shown beside
its field).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from yakkan.engine.core.labels import FACT_GROUP_LABELS, OTHER_FACTS
from yakkan.engine.core.numerals import normalize_width

PREFIX = "f:"
ROWS = "rows:"
MAX_ROWS = 500  # rows of one list in a form

PLACEHOLDERS = {
    "int": "例: 3", "decimal": "例: 1.5", "money": "例: 12,345円", "percent": "例: 4%",
    "date": "例: 令和5年4月17日", "duration": "例: 61秒", "text": "",
}
TYPE_LABELS = {
    "bool": "はい／いいえ", "int": "整数", "decimal": "数値", "money": "金額", "percent": "割合",
    "date": "日付", "duration": "期間", "text": "文字列", "enum": "選択", "list": "一覧",
}


@dataclass
class FieldView:
    """One input: a fact, or a field of a record in a list."""

    path: str  # applicant.duns_issued; in a record: lines.0.number
    label: str
    judgment: bool
    type: str
    members: list[tuple[str, str]]
    value: str = ""  # as the form holds it: "" unknown, "true"/"false", a member, text
    error: str | None = None

    @property
    def name(self) -> str:
        return PREFIX + self.path

    @property
    def dom_id(self) -> str:
        return "fact-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.path)

    @property
    def placeholder(self) -> str:
        return PLACEHOLDERS.get(self.type, "")

    @property
    def type_label(self) -> str:
        return TYPE_LABELS.get(self.type, self.type)


@dataclass
class ListView:
    """A list of records: one row per record, one column per field."""

    path: str
    label: str
    judgment: bool
    columns: list[FieldView]
    rows: list[list[FieldView]] = field(default_factory=list)
    error: str | None = None

    @property
    def dom_id(self) -> str:
        return "fact-" + re.sub(r"[^A-Za-z0-9_-]", "-", self.path)


@dataclass
class GroupView:
    key: str
    items: list[FieldView | ListView]

    @property
    def heading(self) -> str:
        """The group's Japanese heading ("" where none is known: the path is shown)."""
        return OTHER_FACTS if self.key == "（その他）" else FACT_GROUP_LABELS.get(self.key, "")

    @property
    def judgments(self) -> int:
        return sum(1 for i in self.items if i.judgment)

    @property
    def given(self) -> int:
        return sum(1 for i in self.items if (i.rows if isinstance(i, ListView) else i.value))


def _member_list(spec: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [(str(k), str(v)) for k, v in (spec.get("members") or {}).items()]


def shown(v: Any) -> str:
    """A value of a case file as a form field shows it."""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return ""
    if isinstance(v, dt.date):
        return v.isoformat()
    return str(v)


def _get(facts: Mapping[str, Any], path: str) -> Any:
    cur: Any = facts
    for part in path.split("."):
        if not isinstance(cur, Mapping) or part not in cur:
            return None
        cur = cur[part]
    return cur


def nest(flat: Mapping[str, Any]) -> dict[str, Any]:
    """`{"applicant.duns_issued": false}` → `{"applicant": {"duns_issued": false}}`."""
    out: dict[str, Any] = {}
    for path, v in flat.items():
        cur = out
        parts = path.split(".")
        for p in parts[:-1]:
            nxt = cur.setdefault(p, {})
            if not isinstance(nxt, dict):
                break
            cur = nxt
        else:
            cur[parts[-1]] = v
    return out


def build_form(vocab: Mapping[str, Any], facts: Mapping[str, Any],
               errors: Mapping[str, str] | None = None) -> list[GroupView]:
    """The form of a version (its `vocabulary`), filled with `facts` (a case file's `facts`
    mapping, as parsed), grouped by the first part of each path."""
    errors = errors or {}
    groups: dict[str, GroupView] = {}
    for path, spec in (vocab.get("facts") or {}).items():
        key = path.split(".")[0] if "." in path else "（その他）"
        g = groups.setdefault(key, GroupView(key, []))
        label = str(spec.get("label") or path)
        if spec.get("type") == "list":
            cols = [FieldView(f"{path}.{{i}}.{name}", str(f.get("label") or name),
                              bool(f.get("judgment")), str(f.get("type")), _member_list(f))
                    for name, f in (spec.get("fields") or {}).items()]
            lv = ListView(path, label, bool(spec.get("judgment")), cols,
                          error=errors.get(path))
            records = _get(facts, path)
            for i, rec in enumerate(records if isinstance(records, list) else []):
                row = []
                for name, f in (spec.get("fields") or {}).items():
                    p = f"{path}.{i}.{name}"
                    row.append(FieldView(p, str(f.get("label") or name),
                                         bool(f.get("judgment")), str(f.get("type")),
                                         _member_list(f),
                                         shown(rec.get(name)) if isinstance(rec, Mapping)
                                         else "", errors.get(p)))
                lv.rows.append(row)
            g.items.append(lv)
        else:
            g.items.append(FieldView(path, label, bool(spec.get("judgment")),
                                     str(spec.get("type")), _member_list(spec),
                                     shown(_get(facts, path)), errors.get(path)))
    return list(groups.values())


def _typed(value: str, typ: str) -> Any:
    """A form field's text as a case file would hold it: yes/no as true/false, a whole
    number as a number (a case file's integers are numbers, not text), anything else as
    the text written — the case model says what is wrong with it."""
    s = value.strip()
    if typ == "bool":
        return {"true": True, "false": False}.get(s, s)
    if typ == "int" and re.fullmatch(r"[+-]?[0-9]+", normalize_width(s)):
        return int(normalize_width(s))
    if typ == "decimal" and re.fullmatch(r"[+-]?[0-9]+(\.[0-9]+)?", normalize_width(s)):
        try:
            return Decimal(normalize_width(s))
        except InvalidOperation:
            return s
    return s


def form_facts(vocab: Mapping[str, Any], form: Mapping[str, str],
               action: str = "") -> dict[str, Any]:
    """The `facts` of a case from the form's fields (empty fields left out: unknown), with
    `action` applied: `add:<list>` adds an empty record, `remove:<list>:<row>` drops one."""
    flat: dict[str, Any] = {}
    for path, spec in (vocab.get("facts") or {}).items():
        if spec.get("type") == "list":
            try:
                n = min(int(form.get(ROWS + path, "0") or 0), MAX_ROWS)
            except ValueError:
                n = 0
            records: list[dict[str, Any]] = []
            for i in range(max(n, 0)):
                rec: dict[str, Any] = {}
                for name, f in (spec.get("fields") or {}).items():
                    raw = form.get(f"{PREFIX}{path}.{i}.{name}", "")
                    if raw.strip():
                        rec[name] = _typed(raw, str(f.get("type")))
                records.append(rec)
            if action == f"add:{path}" and len(records) < MAX_ROWS:
                records.append({})
            m = re.fullmatch(rf"remove:{re.escape(path)}:(\d+)", action)
            if m and int(m.group(1)) < len(records):
                del records[int(m.group(1))]
            if records or n:
                flat[path] = records
        else:
            raw = form.get(PREFIX + path, "")
            if raw.strip():
                flat[path] = _typed(raw, str(spec.get("type")))
    return nest(flat)


_PATH_IN_MESSAGE = re.compile(r"`facts\.([^`]+)`")


def field_errors(diagnostics: list[Any]) -> dict[str, str]:
    """Diagnostics that name a fact (`facts.applicant.duns_issued`) by the form path they
    belong beside; a record's field keeps its row (`lines.0.number`)."""
    out: dict[str, str] = {}
    for d in diagnostics:
        m = _PATH_IN_MESSAGE.search(d.message)
        if m:
            text = d.message + (f"（{d.hint}）" if d.hint else "")
            out.setdefault(m.group(1), text)
    return out
