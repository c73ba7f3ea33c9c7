"""The typed trace of one evaluation: what the interpreter did, event by event.

OPA records typed trace events (enter, eval, fail, note, with parent ids) and derives its
explanations by filtering them; OpenFisca keeps a tree of `TraceNode`s. yakkan's interpreter
emits one `Event` per step that an explanation can cite, each naming the program node it is
about (a stable id: a ground key, a node's `nid`, an outcome) and its parent (the ground or
outcome being evaluated when it happened):

* `enter` — a ground's applicability is evaluated (node: the ground key);
* `fact` — a fact is read (node: the reading node's id; detail: the fact path);
* `definition` — a definition's value is used (detail: its name);
* `value` — the value of a node worth showing (a quantifier, a `holds`, an `applies`);
* `ground` — a ground's applicability, once known (node: the ground key);
* `override` — a ground set aside by one that overrides it (detail: the overrider's key);
* `decide` — an outcome's value (node: the outcome; value: the values it may take).

The trace is a flat list in evaluation order; `children(parent)` and `of_kind(kind)` are the
filters the explanation, the charge report and a console use. Values are runtime values
(`core/values.jsonable` turns them into JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from yakkan.engine.core.values import jsonable


class EventKind(StrEnum):
    ENTER = "enter"
    FACT = "fact"
    DEFINITION = "definition"
    VALUE = "value"
    GROUND = "ground"
    OVERRIDE = "override"
    DECIDE = "decide"


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    node: str
    parent: str | None
    value: Any = None
    detail: str | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": self.kind.value, "node": self.node,
                               "parent": self.parent, "value": jsonable(self.value)}
        if self.detail is not None:
            out["detail"] = self.detail
        return out


@dataclass
class Trace:
    events: list[Event] = field(default_factory=list)

    def emit(self, kind: EventKind, node: str, parent: str | None, value: Any = None,
             detail: str | None = None) -> None:
        self.events.append(Event(kind, node, parent, value, detail))

    def of_kind(self, kind: EventKind) -> list[Event]:
        return [e for e in self.events if e.kind is kind]

    def children(self, parent: str) -> list[Event]:
        return [e for e in self.events if e.parent == parent]

    def as_json(self) -> list[dict[str, Any]]:
        return [e.as_json() for e in self.events]
