"""The closed sets of words the engine decides with: forces, outcome values, charge-line states.

Each is a `Literal` type, so mypy (with `strict_equality`) rejects an `==` with a word
outside the set — a typo such as `value == "acept"` is a type error, not a silent `False`
(`in` over a tuple of plain strings is not checked: use the typed tuples below).
They stay strings because they are also the codes of the JSON outputs and of the DSL.
The Japanese wording of each word is in `labels.py` (one table per concept).
"""

from __future__ import annotations

from typing import Literal, TypeVar, get_args

# the legal force of an effect, as the DSL spells it (`rule … { refuse when … }`)
Force = Literal[
    "accept", "may_refuse", "refuse", "approve", "may", "deemed", "requirement", "duty",
    "prohibition", "permission", "exemption", "declaration",
]
FORCES: tuple[Force, ...] = get_args(Force)

# the value of a decided (or undecided) outcome
Value = Literal[
    "accept", "approve", "may_refuse", "refuse", "undetermined", "not_applicable",
    "prohibited", "requirement_unmet", "deemed", "duty", "may", "permission", "exemption",
    "declaration",
]
VALUES: tuple[Value, ...] = get_args(Value)

# forces that speak against an application, and the values they give
FORCES_AGAINST: tuple[Force, ...] = ("refuse", "requirement", "may_refuse")
VALUES_AGAINST: tuple[Value, ...] = ("refuse", "may_refuse", "requirement_unmet", "prohibited")

# the state of one charge line after pricing a case
LineStatus = Literal["charged", "quote", "undetermined", "not_applicable", "error",
                     "company_pays"]
LINE_STATUSES: tuple[LineStatus, ...] = get_args(LineStatus)

# the value an effect of each force gives its outcome when it decides it
VALUE_OF: dict[Force, Value] = {
    "accept": "accept", "approve": "approve", "may_refuse": "may_refuse", "refuse": "refuse",
    "may": "may", "deemed": "deemed", "requirement": "requirement_unmet", "duty": "duty",
    "prohibition": "prohibited", "permission": "permission", "exemption": "exemption",
    "declaration": "declaration",
}


W = TypeVar("W", bound=str)


def one_of(value: object, words: tuple[W, ...]) -> W:
    """`value` as the word of the closed set `words` it equals (a parser token becomes the
    plain string); ValueError for anything else. Where a node is built from a word the grammar
    or a table already restricts, this gives mypy its type and keeps the check at run time.

    >>> one_of("and", ("and", "or"))
    'and'
    """
    for w in words:
        if value == w:
            return w
    raise ValueError(f"{str(value)[:40]!r} is not one of {', '.join(words)}")
