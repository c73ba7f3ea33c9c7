"""The example cases exercise every refusal ground, deemed event, duty and charge line of
every bundled document version at least once (the issue's coverage requirement).

For each version, every example case in force for it is evaluated (cases that expect an
error are skipped); a ground counts as covered when it applies in some case, a charge when
some case charges it (charged, quoted or paid by the company)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml

from yakkan.engine.features.charges import compute_charges
from yakkan.engine.features.explain import prepare
from yakkan.engine.runtime.evaluate import evaluate, grounds_of
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.semantics.rulebooks import versions
from yakkan.engine.syntax.load import bundled_ids

CASES = sorted((Path(__file__).parent.parent / "examples" / "cases").glob("*.yaml"))

FORCES = {"may_refuse", "refuse", "requirement", "deemed", "duty", "may", "prohibition",
          "approve", "accept"}
CHARGED = ("charged", "quote", "company_pays")

VersionKey = tuple[str, str | None]
GroundKey = tuple[str, str, str, str | None]  # outcome, ground id, force, 準用 via
ChargeKey = tuple[str, str, str | None]  # provision id, charge name, row id


def _key(book: Rulebook) -> VersionKey:
    return (book.doc.header.id, book.doc.header.version)


def _label(book: Rulebook) -> str:
    return f"{book.doc.header.id}@{book.doc.header.version}"


def _bundled_versions() -> list[Rulebook]:
    return [b for doc in bundled_ids() for b in versions(doc)]


def _expects_error(path: Path) -> bool:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return bool((data.get("expect") or {}).get("error"))


def _covered() -> dict[VersionKey, tuple[set[GroundKey], set[ChargeKey], int]]:
    """Version → the grounds that apply and the charges charged in its cases, and how many
    cases it has."""
    out: dict[VersionKey, tuple[set[GroundKey], set[ChargeKey], int]] = {}
    for path in CASES:
        if _expects_error(path):
            continue
        p = prepare(str(path))
        result = evaluate(p.book, p.facts, p.as_of)
        grounds, charges, n = out.get(_key(p.book), (set(), set(), 0))
        for o in result.outcomes.values():
            # the grounds that decide the outcome, and its base (accept/approve) grounds
            # whose condition holds
            for r in [*o.grounds, *o.base]:
                if r.applies is True:
                    g = r.ground
                    grounds.add((g.outcome, g.id, g.force, g.via))
        for ln in compute_charges(p.book, p.facts, p.as_of, result).lines:
            if ln.status in CHARGED:
                charges.add((ln.id, ln.name, ln.row_id))
        out[_key(p.book)] = (grounds, charges, n + 1)
    return out


@pytest.fixture(scope="module")
def covered() -> dict[VersionKey, tuple[set[GroundKey], set[ChargeKey], int]]:
    return _covered()


BOOKS = _bundled_versions()


@pytest.mark.parametrize("book", BOOKS, ids=[_label(b) for b in BOOKS])
def test_every_ground_and_charge_is_exercised(
        book: Rulebook, covered: dict[VersionKey, tuple[set[GroundKey], set[ChargeKey], int]],
) -> None:
    grounds, charges, n = covered.get(_key(book), (set(), set(), 0))
    assert n, f"{_label(book)}: no example case is of this version"
    missing_grounds = [
        f"{g.outcome} {g.citation} ({g.force})"
        for gs in grounds_of(book).values() for g in gs
        if g.force in FORCES and len(g.when) > 0
        and (g.outcome, g.id, g.force, g.via) not in grounds]
    every = compute_charges(book, {}, book.doc.header.effective_from or dt.date.today())
    missing_charges = [f"{ln.name} {ln.citation}" + (f" {ln.row}" if ln.row else "")
                       for ln in every.lines if (ln.id, ln.name, ln.row_id) not in charges]
    assert not missing_grounds and not missing_charges, (
        f"{_label(book)} ({n} cases): {len(missing_grounds)} grounds and "
        f"{len(missing_charges)} charges are never exercised\n  grounds: "
        + "\n    ".join(["", *missing_grounds]) + "\n  charges: "
        + "\n    ".join(["", *missing_charges]))

