"""`yakkan lsp`: a language server for `.yk` clause files (stdio, pygls).

What it gives an editor:
* diagnostics as `yakkan check` gives them, on open, change and save;
* hover: on a citation 「…」 (or a citation written in text, 第14条の65第2項第6号), on a
  unit's header line (`item 6 {`), the provision's citation, 見出し and text; on a fact its
  label, type and whether it is a judgment; on a definition its label, expression and where
  it is defined; on an enum member its enum and label;
* go to definition: citations → the cited units, facts → their `fact`/`judgment` line,
  definitions → their `define`, enum members → their declaration;
* find references: what cites a provision (citations that bind to it or to a unit inside it),
  every use of a fact, definition or enum member;
* completion: fact paths (after `applicant.` the fields), definitions, enum members, and
  inside 「 the citations of the document's units and the relative forms (前項, 前各号, 同条…);
* formatting: the canonical layout of `yakkan fmt` (only for a file without errors).

The analysis (`Analysis`) is plain Python over the engine's parse and resolve passes; the
pygls wiring is at the end. Positions are converted between the engine's 1-based character
columns and LSP's 0-based UTF-16 code units.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlparse

from yakkan.engine.core import ir as I
from yakkan.engine.core.diagnostics import Diagnostic
from yakkan.engine.semantics.resolve import Provision, Rulebook
from yakkan.engine.syntax.load import Source, source_of

RELATIVE_CITATIONS = ("前項", "前各項", "前二項", "前条", "前各号", "同項", "同条", "同号",
                      "本条", "次項", "次条", "次表", "前号", "ただし書", "本文")
# a citation written in running text: 第14条の65第2項第6号, 第4条の4の4備考3
_CITE_CHARS = r"[第条項号の0-9０-９一二三四五六七八九十百千備考注表]"
_IDENT = re.compile(r"[^\W\d][\w]*(?:\.[^\W\d][\w]*)*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"?')


# ---- positions ----------------------------------------------------------------------------

def utf16_len(s: str) -> int:
    return len(s.encode("utf-16-le")) // 2


def to_lsp(lines: list[str], line: int, column: int) -> tuple[int, int]:
    """Engine (1-based line, 1-based character column) → LSP (0-based line, UTF-16 unit)."""
    ln = max(line - 1, 0)
    text = lines[ln] if ln < len(lines) else ""
    return ln, utf16_len(text[: max(column - 1, 0)])


def from_lsp(lines: list[str], line: int, character: int) -> int:
    """LSP (0-based line, UTF-16 unit) → 0-based character index in that line."""
    text = lines[line] if 0 <= line < len(lines) else ""
    units = 0
    for i, c in enumerate(text):
        if units >= character:
            return i
        units += 2 if ord(c) > 0xFFFF else 1
    return len(text)


@dataclass
class Range:
    """0-based LSP range (UTF-16 units)."""

    start: tuple[int, int]
    end: tuple[int, int]


def span_range(lines: list[str], span: I.Span) -> Range:
    start = to_lsp(lines, span.line, span.column)
    end = to_lsp(lines, span.end_line, span.end_column)
    if end <= start:
        end = (start[0], start[1] + 1)
    return Range(start, end)


def _contains(span: I.Span | None, line1: int, col1: int) -> bool:
    """Whether the 1-based position lies in the span."""
    if span is None:
        return False
    if (line1, col1) < (span.line, span.column):
        return False
    return (line1, col1) < (span.end_line, span.end_column) or (
        span.line == span.end_line and span.end_column <= span.column
        and (line1, col1) == (span.line, span.column))


# ---- the analysis of one file -------------------------------------------------------------

@dataclass
class Target:
    """What stands under the cursor."""

    kind: str  # provision | fact | definition | enum_member | enum | external
    name: str  # provision id, fact path, definition name, member name, enum name
    span: I.Span | None = None  # where it was found (the use)
    ids: list[str] = field(default_factory=list)  # provisions (for a citation)


@dataclass
class Analysis:
    path: str
    text: str
    source: Source
    diagnostics: list[Diagnostic]
    book: Rulebook | None

    @property
    def lines(self) -> list[str]:
        return self.text.split("\n")

    # ---- lookups ------------------------------------------------------------------------

    def _by_citation(self) -> dict[str, str]:
        assert self.book is not None
        out: dict[str, str] = {}
        for pid in self.book.order:
            out.setdefault(self.book.provisions[pid].citation, pid)
        return out

    def _enum_members(self) -> dict[str, tuple[str, I.EnumMember]]:
        """Member name → (enum or fact path, member)."""
        assert self.book is not None
        out: dict[str, tuple[str, I.EnumMember]] = {}
        for e in self.book.enums.values():
            for m in e.members:
                out.setdefault(m.name, (e.name, m))
        for path, f in self.book.facts.items():
            for m in f.type.members:
                out.setdefault(m.name, (path, m))
            for fd in f.type.fields:
                for m in fd.type.members:
                    out.setdefault(m.name, (f"{path}.{fd.name}", m))
        return out

    def _unit_at_header(self, line1: int) -> str | None:
        """The innermost unit whose header (first line) is `line1`."""
        assert self.book is not None
        found = None
        for pid in self.book.order:
            sp = self.book.provisions[pid].unit.span
            if sp is not None and sp.line == line1:
                found = pid
        return found

    def target_at(self, line: int, character: int) -> Target | None:
        """What the 0-based LSP position points at."""
        if self.book is None:
            return None
        lines = self.lines
        if not 0 <= line < len(lines):
            return None
        text = lines[line]
        idx = from_lsp(lines, line, character)
        line1, col1 = line + 1, idx + 1
        for use in self.book.uses:
            c = use.citation
            if _contains(c.span, line1, col1):
                if c.external and not c.targets:
                    return Target("external", c.external, c.span)
                return Target("provision", c.targets[0] if c.targets else c.raw, c.span,
                              list(c.targets))
        # a citation in running text (a memo, a slip, text): 第14条の65第2項第6号
        for m in re.finditer(rf"第{_CITE_CHARS}+", text):
            if m.start() <= idx < m.end():
                by = self._by_citation()
                for end in range(m.end(), m.start(), -1):
                    pid = by.get(text[m.start():end])
                    if pid and idx < end:
                        sp = I.Span(file=self.path, line=line1, column=m.start() + 1,
                                    end_line=line1, end_column=end + 1)
                        return Target("provision", pid, sp, [pid])
        in_string = any(m.start() <= idx < m.end() for m in _STRING.finditer(text))
        if not in_string:
            for m in _IDENT.finditer(text):
                if m.start() <= idx <= m.end() and m.end() > m.start():
                    t = self._name_target(m.group(), line1, m.start())
                    if t is not None:
                        return t
            pid = self._unit_at_header(line1)
            brace = text.find("{") if "{" in text else len(text)
            if pid is not None and idx < brace:
                start = len(text) - len(text.lstrip())
                sp = I.Span(file=self.path, line=line1, column=start + 1, end_line=line1,
                            end_column=max(len(text[:brace].rstrip()), start + 1) + 1)
                return Target("provision", pid, sp, [pid])
        return None

    def _name_target(self, word: str, line1: int, start: int) -> Target | None:
        assert self.book is not None
        sp = I.Span(file=self.path, line=line1, column=start + 1, end_line=line1,
                    end_column=start + 1 + len(word))
        if word in self.book.facts:
            return Target("fact", word, sp)
        if word in self.book.definitions:
            return Target("definition", word, sp)
        if word in self.book.enums:
            return Target("enum", word, sp)
        members = self._enum_members()
        if word in members:
            return Target("enum_member", word, sp)
        # a field of a record reached through a bound variable (l.removed_on)
        if "." in word:
            last = word.rpartition(".")[2]
            for path in self.book.facts:
                if path.endswith("." + last) or path == last:
                    return Target("fact", path, sp)
        return None

    # ---- hover --------------------------------------------------------------------------

    def provision_markdown(self, pid: str) -> str:
        assert self.book is not None
        p: Provision = self.book.provisions[pid]
        cap = self.book.caption_of(pid)
        head = f"**{p.citation}**" + (f"（{cap}）" if cap else "")
        u = p.unit
        lines = [head]
        if u.status != "encoded":
            lines.append(f"*{u.status}*")
        if p.text:
            lines.append(p.text)
        from yakkan.engine.syntax.format import format_expr
        logic = [f"rule {r.outcome}: {r.force}" for r in u.rules]
        if u.condition is not None:
            logic.append(f"when {format_expr(u.condition)}")
        logic += [f"charge {c.name}" for c in u.charges]
        logic += [f"define {d.name} = {format_expr(d.expr)}" for d in u.definitions]
        if logic:
            lines.append("```\n" + "\n".join(logic) + "\n```")
        return "\n\n".join(lines)

    def hover(self, line: int, character: int) -> tuple[str, Range] | None:
        t = self.target_at(line, character)
        if t is None or self.book is None:
            return None
        md = self._markdown(t)
        if md is None:
            return None
        rng = span_range(self.lines, t.span) if t.span else Range((line, character),
                                                                   (line, character + 1))
        return md, rng

    def _markdown(self, t: Target) -> str | None:
        assert self.book is not None
        b = self.book
        if t.kind == "provision":
            if not t.ids:
                return f"「{t.name}」: unresolved citation"
            return "\n\n---\n\n".join(self.provision_markdown(p) for p in t.ids
                                      if p in b.provisions)
        if t.kind == "external":
            ext = b.externals.get(t.name)
            return f"external document **{ext.title if ext else t.name}**"
        if t.kind == "fact":
            f = b.facts[t.name]
            kind = "judgment（当社の判断）" if f.judgment else "fact"
            ty = f.type.enum_name or f.type.base
            desc = f.type.describe()
            out = [f"{kind} `{t.name}`: `{ty}`", f.label or ""]
            if f.type.base == "enum" and f.type.members:
                out.append("members: " + ", ".join(
                    f"`{m.name}` {m.label or ''}".strip() for m in f.type.members))
            elif f.type.base == "list":
                out.append("fields: " + ", ".join(
                    f"`{fd.name}: {fd.type.enum_name or fd.type.base}` {fd.label or ''}".strip()
                    for fd in f.type.fields))
            elif desc != ty:
                out.append(desc)
            return "\n\n".join(x for x in out if x)
        if t.kind == "definition":
            d, pid = b.definitions[t.name]
            from yakkan.engine.syntax.format import format_expr
            where = f" — {b.cite(pid)}" if pid else ""
            return f"define `{t.name}` {d.label or ''}{where}\n\n```\n{format_expr(d.expr)}\n```"
        if t.kind == "enum":
            e = b.enums[t.name]
            return f"enum `{e.name}` {e.label or ''}\n\n" + ", ".join(
                f"`{m.name}` {m.label or ''}".strip() for m in e.members)
        if t.kind == "enum_member":
            owner, m = self._enum_members()[t.name]
            return f"`{m.name}` {m.label or ''} — member of `{owner}`"
        return None

    # ---- definition and references ------------------------------------------------------

    def definition(self, line: int, character: int) -> list[Range]:
        t = self.target_at(line, character)
        if t is None or self.book is None:
            return []
        spans = self._declaration_spans(t)
        return [span_range(self.lines, s) for s in spans if s.file == self.path]

    def _declaration_spans(self, t: Target) -> list[I.Span]:
        assert self.book is not None
        b = self.book
        if t.kind == "provision":
            return [s for p in t.ids if p in b.provisions
                    and (s := b.provisions[p].unit.span) is not None]
        if t.kind == "fact":
            s = b.facts[t.name].span
        elif t.kind == "definition":
            s = b.definitions[t.name][0].span
        elif t.kind == "enum":
            s = b.enums[t.name].span
        elif t.kind == "enum_member":
            s = self._enum_members()[t.name][1].span
        elif t.kind == "external":
            ext = b.externals.get(t.name)
            s = ext.span if ext else None
        else:
            s = None
        return [s] if s is not None else []

    def references(self, line: int, character: int, include_declaration: bool) -> list[Range]:
        t = self.target_at(line, character)
        if t is None or self.book is None:
            return []
        b = self.book
        out: list[I.Span] = []
        if t.kind == "provision":
            ids = set(t.ids)
            within = {p for p in b.order if any(p == i or p.startswith(i + "/") for i in ids)}
            out += [u.citation.span for u in b.uses if u.citation.span is not None
                    and within & set(u.citation.targets)]
        elif t.kind == "external":
            out += [u.citation.span for u in b.uses if u.citation.span is not None
                    and u.citation.external == t.name]
        else:
            out += self._word_spans(t.name)
        if include_declaration:
            out += self._declaration_spans(t)
        seen: set[tuple[int, int]] = set()
        rs = []
        for s in sorted(out, key=lambda s: (s.line, s.column)):
            if (s.line, s.column) not in seen and s.file == self.path:
                seen.add((s.line, s.column))
                rs.append(span_range(self.lines, s))
        return rs

    def _word_spans(self, word: str) -> list[I.Span]:
        """Every use of a name outside strings and comments (a fact path also where a
        declaration writes it)."""
        out = []
        for n, text in enumerate(self.lines, 1):
            code = text.split("#", 1)[0] if '"' not in text else _strip_strings(text)
            for m in _IDENT.finditer(code):
                if m.group() == word:
                    out.append(I.Span(file=self.path, line=n, column=m.start() + 1,
                                      end_line=n, end_column=m.end() + 1))
        return out

    # ---- completion ---------------------------------------------------------------------

    def completions(self, line: int, character: int) -> list[tuple[str, str, str]]:
        """(label, kind, detail): kind is fact | definition | enum_member | citation."""
        if self.book is None:
            return []
        lines = self.lines
        text = lines[line] if 0 <= line < len(lines) else ""
        before = text[: from_lsp(lines, line, character)]
        b = self.book
        if before.rfind("「") > before.rfind("」"):
            typed = before[before.rfind("「") + 1:]
            cites = [(c, "citation", (b.caption_of(p) or "")) for c, p in self._by_citation()
                     .items() if c.startswith(typed)]
            rel = [(r, "citation", "relative") for r in RELATIVE_CITATIONS if r.startswith(typed)]
            return cites + rel
        m = re.search(r"[\w.]*$", before)
        typed = m.group() if m else ""
        out: list[tuple[str, str, str]] = []
        for path, f in b.facts.items():
            if path.startswith(typed):
                out.append((path, "fact", f.label or ""))
        for name, (d, _pid) in b.definitions.items():
            if name.startswith(typed):
                out.append((name, "definition", d.label or ""))
        for name, (owner, mem) in self._enum_members().items():
            if name.startswith(typed):
                out.append((name, "enum_member", f"{owner}: {mem.label or ''}"))
        return out

    # ---- formatting ---------------------------------------------------------------------

    def formatted(self) -> str | None:
        """The canonical text (`yakkan fmt`), or None for a file with errors."""
        from yakkan.engine.core.diagnostics import has_errors
        from yakkan.engine.syntax.format import _formatted
        if self.source.doc is None or has_errors(self.source.diagnostics):
            return None
        try:
            return _formatted(self.source)
        except RuntimeError:
            return None


def _strip_strings(text: str) -> str:
    """A line with its strings blanked and its comment cut (positions kept)."""
    out = _STRING.sub(lambda m: " " * len(m.group()), text)
    return out.split("#", 1)[0]


def analyse_text(path: str, text: str) -> Analysis:
    """Parse, check and resolve one file's text as an editor holds it."""
    from yakkan.engine.semantics.check import check_sources
    from yakkan.engine.semantics.resolve import resolve
    source = source_of(path, text)
    try:
        diags = check_sources([source])
    except Exception as e:  # the server must not die on a file the engine trips over
        diags = [*source.diagnostics, Diagnostic(code="internal",
                                                 message=f"internal error: {e!s:.300}")]
    book = None
    if source.doc is not None:
        try:
            book = resolve(source.doc)
        except Exception:
            book = None
    return Analysis(path, source.text, source, diags, book)


def uri_to_path(uri: str) -> str:
    p = urlparse(uri)
    if p.scheme == "file":
        return unquote(p.path)
    return uri


# ---- the server (pygls) ------------------------------------------------------------------

def build_server() -> Any:
    from lsprotocol import types as T
    from pygls.lsp.server import LanguageServer

    from yakkan import __version__

    server = LanguageServer("yakkan", str(__version__),
                            text_document_sync_kind=T.TextDocumentSyncKind.Full)
    cache: dict[str, Analysis] = {}
    severity = {"error": T.DiagnosticSeverity.Error, "warning": T.DiagnosticSeverity.Warning,
                "info": T.DiagnosticSeverity.Information}

    def rng(r: Range) -> T.Range:
        return T.Range(start=T.Position(line=r.start[0], character=r.start[1]),
                       end=T.Position(line=r.end[0], character=r.end[1]))

    def refresh(ls: LanguageServer, uri: str) -> None:
        doc = ls.workspace.get_text_document(uri)
        a = analyse_text(uri_to_path(uri), doc.source)
        if a.book is not None or uri not in cache:
            cache[uri] = a
        else:  # keep the last good resolution for hover, with the new diagnostics
            old = cache[uri]
            cache[uri] = Analysis(a.path, old.text, old.source, a.diagnostics, old.book)
        lines = a.lines
        out = []
        for d in a.diagnostics:
            if d.span is not None and d.span.file != a.path:
                continue
            r = span_range(lines, d.span) if d.span else Range((0, 0), (0, 1))
            msg = d.message + (f"\nhint: {d.hint}" if d.hint else "")
            out.append(T.Diagnostic(range=rng(r), message=msg, code=d.code, source="yakkan",
                                    severity=severity.get(d.severity,
                                                          T.DiagnosticSeverity.Error)))
        ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(
            uri=uri, diagnostics=out, version=doc.version))

    def current(ls: LanguageServer, uri: str) -> Analysis | None:
        if uri not in cache:
            refresh(ls, uri)
        return cache.get(uri)

    @server.feature(T.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: LanguageServer, params: T.DidOpenTextDocumentParams) -> None:
        refresh(ls, params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: LanguageServer, params: T.DidChangeTextDocumentParams) -> None:
        refresh(ls, params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: LanguageServer, params: T.DidSaveTextDocumentParams) -> None:
        refresh(ls, params.text_document.uri)

    @server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: LanguageServer, params: T.DidCloseTextDocumentParams) -> None:
        cache.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(
            uri=params.text_document.uri, diagnostics=[]))

    @server.feature(T.TEXT_DOCUMENT_HOVER)
    def hover(ls: LanguageServer, params: T.HoverParams) -> T.Hover | None:
        a = current(ls, params.text_document.uri)
        h = a.hover(params.position.line, params.position.character) if a else None
        if h is None:
            return None
        return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=h[0]),
                       range=rng(h[1]))

    @server.feature(T.TEXT_DOCUMENT_DEFINITION)
    def definition(ls: LanguageServer, params: T.DefinitionParams) -> list[T.Location]:
        uri = params.text_document.uri
        a = current(ls, uri)
        if a is None:
            return []
        return [T.Location(uri=uri, range=rng(r))
                for r in a.definition(params.position.line, params.position.character)]

    @server.feature(T.TEXT_DOCUMENT_REFERENCES)
    def references(ls: LanguageServer, params: T.ReferenceParams) -> list[T.Location]:
        uri = params.text_document.uri
        a = current(ls, uri)
        if a is None:
            return []
        return [T.Location(uri=uri, range=rng(r))
                for r in a.references(params.position.line, params.position.character,
                                      params.context.include_declaration)]

    kinds = {"fact": T.CompletionItemKind.Field, "definition": T.CompletionItemKind.Constant,
             "enum_member": T.CompletionItemKind.EnumMember,
             "citation": T.CompletionItemKind.Reference}

    @server.feature(T.TEXT_DOCUMENT_COMPLETION,
                    T.CompletionOptions(trigger_characters=[".", "「"]))
    def completion(ls: LanguageServer, params: T.CompletionParams) -> T.CompletionList:
        a = current(ls, params.text_document.uri)
        items = a.completions(params.position.line, params.position.character) if a else []
        return T.CompletionList(is_incomplete=False, items=[
            T.CompletionItem(label=label, kind=kinds[k], detail=detail)
            for label, k, detail in items])

    @server.feature(T.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: LanguageServer, params: T.DocumentFormattingParams) -> \
            list[T.TextEdit] | None:
        uri = params.text_document.uri
        doc = ls.workspace.get_text_document(uri)
        a = analyse_text(uri_to_path(uri), doc.source)
        new = a.formatted()
        if new is None or new == doc.source:
            return [] if new is not None else None
        lines = doc.source.split("\n")
        end = (len(lines) - 1, utf16_len(lines[-1]))
        return [T.TextEdit(range=rng(Range((0, 0), end)), new_text=new)]

    return server


def run_lsp() -> int:
    """Serve on stdin/stdout until the client exits."""
    import logging
    logging.basicConfig(level=logging.WARNING)  # pygls logs to stderr, never to stdout
    build_server().start_io()
    return 0

