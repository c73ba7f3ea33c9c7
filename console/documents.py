"""The documents a console serves: each by id, read from a bundled document or from a folder
of the configured clauses directory. A request names a document by its id only; the id is
looked up in this fixed table, so nothing a request says reaches the file system.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from yakkan.engine.core.diagnostics import Diagnostic, YakkanError, did_you_mean
from yakkan.engine.core.numerals import to_wareki
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.engine.semantics.rulebooks import rulebook_for, versions
from yakkan.engine.syntax.load import bundled_ids


@dataclass(frozen=True)
class Documents:
    """id → where the document is read from (a bundled id, or a clause folder)."""

    specs: dict[str, str]

    @classmethod
    def load(cls, clauses: str | None = None) -> Documents:
        """The bundled documents, or (with `clauses`) the folders of that directory that
        hold `.yk` files — the folder name is the id, as for the bundled ones."""
        if clauses is None:
            return cls({i: i for i in bundled_ids()})
        root = Path(clauses)
        if not root.is_dir():
            raise YakkanError([Diagnostic(
                code="io.no-clauses", message=f"`{clauses}` is not a folder",
                hint="--clauses names a folder with one sub-folder of .yk files per document "
                     "(like clauses/ in the repository)")])
        specs = {p.name: str(p.resolve()) for p in sorted(root.iterdir())
                 if p.is_dir() and any(p.glob("*.yk"))}
        if not specs:
            raise YakkanError([Diagnostic(
                code="io.no-clauses", message=f"no document folders (with .yk files) in "
                f"`{clauses}`", hint="--clauses names a folder such as clauses/, whose "
                "sub-folders (one per document) hold the versions")])
        return cls(specs)

    def ids(self) -> list[str]:
        return sorted(self.specs)

    def spec(self, doc: str) -> str:
        """Where `doc` is read from; an `io.unknown-document` diagnostic (404) otherwise."""
        try:
            return self.specs[doc]
        except KeyError:
            shown = doc[:80]
            raise YakkanError([Diagnostic(
                code="io.unknown-document", message=f"unknown document `{shown}`",
                hint=did_you_mean(shown, self.specs) or
                "documents: " + ", ".join(self.ids()))]) from None

    def book(self, doc: str, as_of: dt.date | None) -> Rulebook:
        """The version of `doc` in force on `as_of` (the newest when None)."""
        return rulebook_for(self.spec(doc), as_of)

    def versions(self, doc: str) -> list[Rulebook]:
        return versions(self.spec(doc))

    def describe(self, doc: str) -> dict[str, Any]:
        """A document and its versions (`GET /api/documents`)."""
        books = self.versions(doc)
        newest = books[-1].doc.header

        def day(d: dt.date | None) -> str | None:
            return d.isoformat() if d else None
        return {
            "id": doc, "title": newest.title,
            "versions": [{"version": b.doc.header.version,
                          "title": b.doc.header.title,
                          "effective_from": day(b.doc.header.effective_from),
                          "effective_from_wareki": to_wareki(b.doc.header.effective_from)
                          if b.doc.header.effective_from else None,
                          "effective_until": day(b.doc.header.effective_until)}
                         for b in books]}
