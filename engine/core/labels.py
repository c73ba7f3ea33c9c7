"""The Japanese words of yakkan's outputs: one table per concept, for every reader.

Every text, Markdown and HTML output a person reads takes its wording from here — the force
of a rule, the value of an outcome, the state of a requirement, how a counterfactual search
ended, a charge's period, tax category and status — so the same thing is never called two
names in two outputs. JSON keeps the English codes (the keys of these tables); the engine's
explanation JSON carries the Japanese beside them where a reader of the JSON needs it
(`force_label`).

Outcome *names* and enum *members* are not here: their Japanese names belong to the clause
file (`outcome application "…"`, `enum Kind { type2 "…" }`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from yakkan.engine.core.money import format_jpy
from yakkan.engine.core.values import ABSENT

# a rule's legal force (`rule NAME: FORCE`)
FORCE_LABELS: dict[str, str] = {
    "accept": "承諾する（義務）",
    "may_refuse": "承諾しないことがある（裁量）",
    "refuse": "承諾しない",
    "approve": "承認する（義務）",
    "may": "することがある（裁量）",
    "deemed": "みなす",
    "requirement": "要件",
    "duty": "義務",
    "prohibition": "禁止",
    "permission": "できる",
    "exemption": "免責",
    "declaration": "宣言・定義",
}

# the same values for a decision the text makes as 承認 (「…を承認します」, 利用権の譲渡の承認)
APPROVAL_VALUE_LABELS: dict[str, tuple[str, str]] = {
    "refuse": ("承認しない", "bad"),
    "may_refuse": ("承認しないことがある", "warn"),
}

# an outcome's value → (Japanese, tone). INVARIANT: covers every value the decision program
# gives (`semantics/program.py`); a renderer meeting another value fails loudly.
# tone: good | warn | bad | unknown (colours and badges)
VALUE_LABELS: dict[str, tuple[str, str]] = {
    "accept": ("承諾する", "good"),
    "approve": ("承認する", "good"),
    "may_refuse": ("承諾しないことがある", "warn"),
    "refuse": ("承諾しない", "bad"),
    "undetermined": ("未確定（事実が不足）", "unknown"),
    "not_applicable": ("該当なし", "good"),
    "may": ("することがある", "warn"),
    "deemed": ("みなす", "warn"),
    "duty": ("義務がある", "warn"),
    "prohibited": ("禁止される", "bad"),
    "requirement_unmet": ("要件を満たさない", "bad"),
    "permission": ("することができる", "good"),
    "exemption": ("免責（責任を負わない）", "warn"),
    "declaration": ("宣言・定義", "unknown"),
}

# a requirement (「…を要します」「…が必要です」) read as a requirement, for one ground and for an
# outcome all of whose grounds are requirements: the value `not_applicable` of such an
# outcome is either 充足 (a requirement concerns the case and is met) or 対象外 (none does)
REQUIREMENT_LABELS: dict[str, tuple[str, str]] = {
    "met": ("充足（要件を満たす）", "good"),
    "unmet": ("不充足（要件を満たさない）", "bad"),
    "unknown": ("未確定（充足するかどうか事実が不足）", "unknown"),
    "not_concerned": ("対象外（この事例に係る要件ではない）", "good"),
    # an undetermined requirement outcome's other bound: it is not unmet
    "met_or_not_concerned": ("充足又は対象外", "good"),
}
REQUIREMENT_SHORT: dict[str, str] = {
    "met": "充足", "unmet": "不充足", "unknown": "未確定", "not_concerned": "対象外",
    "met_or_not_concerned": "充足又は対象外"}

# how a ground stands in one case (explanation pages): applies / set out as the base rule /
# unknown / does not apply
GROUND_STATE_LABELS: dict[str, str] = {
    "applies": "適用される",
    "base": "基本の定め",
    "unknown": "不明（事実が不足）",
    "na": "適用されない",
}

# charges: the period of a line (`per`), its subtotal, its tax category and its status
PER_LABELS: dict[str, str] = {"month": "月額", "once": "一回", "use": "利用ごと",
                              "call": "通話ごと", "line": "回線ごと", "year": "年額"}
PERIOD_LABELS: dict[str, str] = {"monthly": "月額", "one_time": "一時金", "usage": "従量",
                                 "other": "その他"}
TAX_LABELS: dict[str, str] = {"excluded": "税別", "included": "税込", "not_taxable": "不課税"}
CHARGE_STATUS_LABELS: dict[str, str] = {
    "charged": "請求", "quote": "別途お見積り", "undetermined": "未確定",
    "not_applicable": "対象外", "error": "評価エラー", "company_pays": "当社負担"}

# the console's headings for the facts of a case file, grouped by the first part of their
# path (`applicant.duns_issued` → applicant). A prefix not listed keeps its path as the
# heading (shown as code). Stopgap: these words belong in the clause file beside each
# fact's label, once the language can name a group of facts.
FACT_GROUP_LABELS: dict[str, str] = {
    "applicant": "申込者", "service": "サービス", "company": "当社の業務",
    "change": "変更", "transfer": "利用権の譲渡", "transferee": "譲受人",
    "contractor": "契約者", "contract": "契約", "registration": "登録", "call": "通話",
    "ids": "ID等", "info": "秘密情報", "conduct": "禁止される行為", "damages": "損害",
    "support": "サポート", "user": "利用者", "takedown": "削除の要請", "debt": "料金等の債務",
    "suspension": "利用停止", "notice": "通知", "evasion": "料金等の支払いを免れる行為",
    "sharing": "会社名等の共有", "party": "反社会的勢力等",
}
OTHER_FACTS = "その他の事実"  # facts whose path has one part (`lines`, `full_seats`)

# a duration's unit as the text writes it (30日, 61秒) — also the DSL's own spelling
UNIT_LABELS: dict[str, str] = {"second": "秒", "minute": "分", "hour": "時間", "day": "日",
                               "month": "ヶ月", "year": "年"}
# arithmetic as conditions and figures are written out in Japanese (4.60円 × 2,000時間)
ARITH_LABELS: dict[str, str] = {"+": "＋", "-": "−", "*": "×", "/": "÷"}

# the values a counterfactual search looks for, by what it asks
SEARCH_TARGET = "承諾する・承認する・該当なし（要件なら充足又は対象外）"  # what it looks for


def value_label(code: str) -> str:
    """The Japanese of an outcome value (KeyError for a value the table does not know)."""
    return VALUE_LABELS[code][0]


def truth_label(v: Any) -> str:
    """A yes/no value as a reviewer reads it: はい / いいえ / 不明."""
    if v is None:
        return "不明"
    return "はい" if v else "いいえ"


def date_label(d: dt.date) -> str:
    """2023年4月17日."""
    return f"{d.year}年{d.month}月{d.day}日"


def search_note(search: dict[str, Any] | None, value: str | None = None) -> str:
    """How the search for a change that turns an outcome ended — said for every outcome
    shown in full, so the section is never empty: `search` is the explanation JSON's
    `counterfactual_search` (None: not searched for this outcome) and `value` the outcome's
    value code."""
    if search is None:
        return ("この判断対象については、結論を変える事実の変更を探していません（探すのは申込・"
                "承認の判断と、承諾しない・要件を満たさない・禁止される結論です）。")
    status = search.get("status")
    n, tried = search.get("max_changes"), search.get("tried")
    if status == "found" and search.get("budget_reached"):
        return (f"次のいずれかの変更で結論が変わります（いずれも変更した事例を評価して確かめま"
                f"した）。探索の上限（{search.get('budget')}通り）に達して止めたため、ほかにも"
                "同じ大きさの変更がありえます。")
    if status == "found":
        return (f"次のいずれかの変更で結論が変わります（{n}個までの事実の変更のうち最小のもの。"
                "いずれも変更した事例を評価して確かめました）。")
    if status == "none":
        return (f"{n}個までの事実の変更では、結論は{SEARCH_TARGET}のいずれにも変わりません"
                f"（{tried}通りをすべて評価して確かめました）。")
    if status == "budget":
        return (f"探索の上限（{search.get('budget')}通り）までに、結論を{SEARCH_TARGET}に"
                "変える変更は見つかりませんでした（それ以上は探していません）。")
    if status == "nothing_to_change":
        return "この結論を決めた根拠は、変えられる事実を読んでいません（変更の余地がありません）。"
    if status == "not_asked":
        shown = VALUE_LABELS.get(value or "", (value or "", ""))[0]
        return f"結論は既に「{shown}」であり、これを変える変更は探していません。"
    raise KeyError(f"no wording for the counterfactual search status `{status}`")


def number_label(v: Decimal | int) -> str:
    """A number without trailing zeros (50000, not 5E+4; 17.98)."""
    return format(v.normalize(), "f") if isinstance(v, Decimal) else str(v)


def show(v: Any, base: str | None = None, members: dict[str, str] | None = None) -> str:
    """A value — at run time or as the explanation JSON holds it — as a reviewer reads it:
    はい／いいえ／不明, なし (observed absence), 1,500円, 4%, 2023年4月17日, 61秒, an enum
    member by its label, N件 for a list. `base` is the fact's type (`money`, `percent`,
    `date`, `enum`, …) where known; `members` the labels of its enum members."""
    if v is None:
        return "不明"
    if v is ABSENT or (isinstance(v, dict) and v.get("absent") is True and len(v) == 1):
        return "なし"
    if isinstance(v, bool):
        return truth_label(v)
    if members and isinstance(v, str) and v in members:
        return members[v]
    try:
        if base == "money":
            return format_jpy(Decimal(str(v)))
        if base == "percent":
            return number_label(Decimal(str(v)) * 100) + "%"
        if base in ("int", "decimal") and isinstance(v, str):
            return number_label(Decimal(v))
    except ArithmeticError:
        return str(v)
    if base == "date" and isinstance(v, str):
        try:
            return date_label(dt.date.fromisoformat(v))
        except ValueError:
            return v
    if isinstance(v, dt.date):
        return date_label(v)
    if isinstance(v, Decimal | int):
        return number_label(v)
    if isinstance(v, list | tuple):
        return f"{len(v)}件"
    if isinstance(v, dict):
        return "、".join(f"{k}: {show(x)}" for k, x in v.items())
    return str(v)
