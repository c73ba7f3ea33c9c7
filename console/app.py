"""The console's Starlette application: pages for reviewers and drafters, and a JSON API.

JSON API (documented in the README):
  GET  /api/documents           the documents served and their versions
  GET  /api/schema/{doc}        `yakkan schema DOC` (`?as_of=`)
  POST /api/explain             body: a case as JSON (YAML with a YAML content type) →
                                `yakkan explain CASE --format json`, byte for byte
                                (`?as_of=`, `?doc=`, `?outcome=` repeatable, `?path=`)
  POST /api/charge              `yakkan charge CASE --format json` (`?as_of=`, `?doc=`,
                                `?path=`)
  GET  /api/diff/{doc}          `yakkan diff DOC --format json` (`?from=&to=`)
The case's `case.path` in the answer is `<request>`, or the name `?path=` gives (a label
only: nothing is opened). Bad input: 400 (404 for an unknown document) with
`{"status", "diagnostics": [{code, message, span, hint, severity, related}], "text"}` —
the diagnostics the CLI prints, and `text` as it prints them.

Pages: `/` (start), `/case` (the case view), `/doc/{doc}` (the document, searchable),
`/diff/{doc}` (the amendment), `/batch` (a table of cases).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import logging
import re
import secrets
import tempfile
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import jinja2
import yaml
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Route

from yakkan.console.documents import Documents
from yakkan.console.forms import build_form, field_errors, form_facts, nest, shown
from yakkan.console.security import Guard
from yakkan.engine.core.diagnostics import Diagnostic, YakkanError, render_all
from yakkan.engine.core.numerals import normalize_width, parse_date, to_int, to_wareki
from yakkan.engine.features.explain import (
    Prepared,
    charge_json,
    explain_result,
    prepare_data,
    select_outcomes,
    vocabulary_json,
)
from yakkan.engine.runtime.case import DATE_MAX, DATE_MIN, json_schema, parse_case_text
from yakkan.engine.runtime.evaluate import evaluate
from yakkan.engine.semantics.resolve import Rulebook
from yakkan.renderers.env import environment, templates_dir
from yakkan.renderers.terminal import json_safe

log = logging.getLogger("yakkan.console")

REQUEST_SOURCE = "<request>"
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
MAX_RESULTS = 8  # batch results kept for download (the oldest is dropped)


# ---- helpers ------------------------------------------------------------------------------

def console_dir() -> Path:
    return Path(str(resources.files("yakkan.console")))


@functools.cache
def templates() -> jinja2.Environment:
    """The renderers' environment (filters, autoescaping, StrictUndefined), reading the
    console's templates first, then the renderers' (the explanation is included as is)."""
    base = environment()
    assert base.loader is not None
    return base.overlay(loader=jinja2.ChoiceLoader([
        jinja2.FileSystemLoader(str(console_dir() / "templates")), base.loader]))


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(templates().get_template(name).render(**context), status_code=status)


def bad(code: str, message: str, hint: str | None = None) -> YakkanError:
    return YakkanError([Diagnostic(code=code, message=message, hint=hint)])


def parse_day(value: str | None, what: str) -> dt.date | None:
    """A date from a query or a form: 2023-04-17, 2023年4月17日, 令和5年4月17日; empty: None."""
    if value is None or not value.strip():
        return None
    shown_ = value.strip()[:80]
    try:
        d = parse_date(value.strip()[:200])
    except (ValueError, ArithmeticError, OverflowError) as e:
        raise bad("usage.bad-date", f"`{what}`: `{shown_}` is not a date ({str(e)[:200]})",
                  "write 2023-04-17 or 令和5年4月17日") from None
    if not DATE_MIN <= d <= DATE_MAX:
        raise bad("usage.bad-date", f"`{what}`: `{shown_}` is out of range "
                  f"({DATE_MIN.isoformat()} – {DATE_MAX.isoformat()})")
    return d


def status_of(e: YakkanError) -> int:
    return 404 if any(d.code == "io.unknown-document" for d in e.diagnostics) else 400


def diagnostics_json(e: YakkanError, status: int | None = None) -> dict[str, Any]:
    return {"status": status or status_of(e),
            "diagnostics": [d.model_dump(mode="json") for d in e.diagnostics],
            "text": render_all(e.diagnostics, e.sources)}


def json_text(data: Any) -> str:
    """JSON exactly as the CLI prints it (`--format json`): indented, UTF-8, the controls
    json.dumps leaves raw escaped, one final newline."""
    return json_safe(json.dumps(data, ensure_ascii=False, indent=2, default=str)) + "\n"


def json_response(text: str, status: int = 200) -> Response:
    return Response(text, status_code=status, media_type="application/json")


def diag_views(e: YakkanError) -> list[dict[str, Any]]:
    return [{"code": d.code, "message": d.message, "hint": d.hint,
             "where": f"{d.span.line}:{d.span.column}" if d.span else None}
            for d in sorted(e.diagnostics, key=Diagnostic.sort_key)]


def label_of(name: str, file_name_only: bool = False) -> str:
    """A request-given name (`?path=`, an upload's file name) as a label — never opened:
    bounded, printable (`file_name_only`: its last part)."""
    if file_name_only:
        name = re.split(r"[\\/]", name)[-1]
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", "", name[:200]) or REQUEST_SOURCE


def plain_value(v: Any) -> Any:
    """Case data for YAML/JSON downloads: numbers as numbers (Decimal → float keeps the
    written digits for the few places a case allows), dates as text."""
    if isinstance(v, dict):
        return {k: plain_value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain_value(x) for x in v]
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() and "." not in str(v) else float(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


def attachment(body: str | bytes, filename: str, media_type: str) -> Response:
    return Response(body, media_type=media_type, headers={
        "content-disposition": f"attachment; filename*=UTF-8''{quote(filename)}"})


# ---- the application ----------------------------------------------------------------------

class Console:
    """The routes, over the documents served."""

    def __init__(self, docs: Documents):
        self.docs = docs
        self.results: OrderedDict[str, tuple[str, bytes, str]] = OrderedDict()
        self.lock = threading.Lock()

    # -- shared -----------------------------------------------------------------------------

    def prepare(self, data: dict[str, Any], text: str, source: str,
                doc: str | None = None, as_of: dt.date | None = None) -> Prepared:
        """A case through `prepare_data` with only the served documents (by id)."""
        return prepare_data(data, text, source, doc, as_of, documents=self.docs.specs)

    def body_case(self, request: Request, body: bytes) -> tuple[dict[str, Any], str, str]:
        """The request's body as a case (JSON; YAML with a YAML content type)."""
        source = label_of(request.query_params.get("path") or REQUEST_SOURCE)
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as e:
            raise bad("io.not-utf8", f"the request body is not UTF-8 text (byte {e.start})",
                      "send the case as UTF-8 JSON") from None
        ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
        data, text = parse_case_text(text, source, is_json=ctype not in YAML_TYPES)
        return data, text, source

    def clause_href(self, doc: str, as_of: dt.date) -> Callable[[str], str]:
        from yakkan.renderers.report import prov_anchor

        def href(pid: str) -> str:
            return f"/doc/{quote(doc)}/report?{urlencode({'as_of': as_of.isoformat()})}" \
                f"#{prov_anchor(pid)}"
        return href

    def nav(self) -> dict[str, Any]:
        return {"documents": self.docs.ids()}

    # -- JSON API ---------------------------------------------------------------------------

    async def api_documents(self, request: Request) -> Response:
        out = await run_in_threadpool(
            lambda: {"documents": [self.docs.describe(d) for d in self.docs.ids()]})
        return json_response(json_text(out))

    async def api_schema(self, request: Request) -> Response:
        doc = request.path_params["doc"]
        as_of = parse_day(request.query_params.get("as_of"), "as_of")
        book = await run_in_threadpool(self.docs.book, doc, as_of)
        return json_response(json_text(json_schema(book)))

    async def api_explain(self, request: Request) -> Response:
        body = await request.body()
        q = request.query_params
        as_of = parse_day(q.get("as_of"), "as_of")
        outcomes = tuple(q.getlist("outcome"))
        fmt = q.get("format", "json")
        if fmt not in ("json", "md", "html"):
            raise bad("usage.bad-format", f"no format `{fmt[:20]}`", "json, md or html")

        def work() -> str:
            data, text, source = self.body_case(request, body)
            p = self.prepare(data, text, source, q.get("doc"), as_of)
            out = explain_result(p, evaluate(p.book, p.facts, p.as_of))
            if outcomes:
                select_outcomes(out, outcomes, only=fmt == "json")
            if fmt == "json":
                return json_text(out)
            from yakkan.renderers.explanation import render_explanation
            return render_explanation(out, fmt)
        out = await run_in_threadpool(work)
        if fmt == "html":
            return HTMLResponse(out)
        if fmt == "md":
            return PlainTextResponse(out, media_type="text/markdown; charset=utf-8")
        return json_response(out)

    async def api_charge(self, request: Request) -> Response:
        body = await request.body()
        q = request.query_params
        as_of = parse_day(q.get("as_of"), "as_of")

        def work() -> str:
            data, text, source = self.body_case(request, body)
            return json_text(charge_json(self.prepare(data, text, source, q.get("doc"),
                                                      as_of)))
        return json_response(await run_in_threadpool(work))

    async def api_diff(self, request: Request) -> Response:
        doc = request.path_params["doc"]
        d = await run_in_threadpool(self.diff, doc, request.query_params.get("from"),
                                    request.query_params.get("to"))
        from yakkan.engine.analysis.diff import diff_json
        return json_response(json_text(diff_json(d)))

    # -- the case view ----------------------------------------------------------------------

    async def home(self, request: Request) -> Response:
        docs = await run_in_threadpool(lambda: [self.docs.describe(d)
                                                for d in self.docs.ids()])
        return page("console_home.html.j2", docs=docs, **self.nav())

    async def case_get(self, request: Request) -> Response:
        """`/case?doc=&as_of=&case=` — `case`: a case as JSON (its `facts`, `title`), as the
        amendment view's witness links give it."""
        q = request.query_params
        doc = q.get("doc") or (self.docs.ids()[0] if self.docs.ids() else "")
        facts: dict[str, Any] = {}
        title = ""
        diags: list[dict[str, Any]] = []
        raw = q.get("case")
        if raw:
            try:
                data, _ = parse_case_text(raw, "case", is_json=True)
                got = data.get("facts")
                facts = got if isinstance(got, dict) else {}
                title = str(data.get("title") or "")
            except YakkanError as e:
                diags = diag_views(e)
        view = await run_in_threadpool(self.case_view, doc, q.get("as_of", ""), title,
                                       facts, True)
        if diags:
            view["diagnostics"] = diags + view["diagnostics"]
        return page("console_case.html.j2", **view, **self.nav())

    async def case_post(self, request: Request) -> Response:
        """The form submitted: evaluate it; `_action` adds or removes a record, downloads
        the case or its explanation, or reads an uploaded case file."""
        form = await request.form(max_fields=20_000)
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        action = fields.get("_action", "")
        if action == "upload":
            upload = form.get("upload")
            if not isinstance(upload, UploadFile):
                raise bad("usage.no-file", "choose a case file (YAML or JSON) to upload")
            content = await upload.read()
            view = await run_in_threadpool(self.uploaded, fields, upload.filename or "",
                                           content)
            return page("console_case.html.j2", **view, **self.nav())
        view = await run_in_threadpool(self.form_view, fields, action)
        if action.startswith("download:"):
            return self.download(view, action.removeprefix("download:"))
        return page("console_case.html.j2", **view, **self.nav())

    async def case_fragment(self, request: Request) -> Response:
        """The result section only (the page's script replaces it as facts change)."""
        form = await request.form(max_fields=20_000)
        fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
        view = await run_in_threadpool(self.form_view, fields, "")
        return page("_console_result.html.j2", **view)

    def form_view(self, fields: Mapping[str, str], action: str) -> dict[str, Any]:
        doc = fields.get("doc", "")
        as_of = fields.get("as_of", "")
        try:
            book = self.docs.book(doc, parse_day(as_of, "as_of"))
            facts = form_facts(vocabulary_json(book), fields, action)
        except YakkanError:
            facts = {}
        return self.case_view(doc, as_of, fields.get("title", ""), facts, True)

    def uploaded(self, fields: Mapping[str, str], filename: str,
                 content: bytes) -> dict[str, Any]:
        """A case file uploaded: read as a case file is (its `document:` must be a served
        document's id), shown in the form and explained."""
        source = label_of(filename or "upload.yaml", file_name_only=True)
        try:
            try:
                text = content.decode("utf-8")
            except UnicodeDecodeError as e:
                raise bad("io.not-utf8", f"`{source}` is not UTF-8 text (byte {e.start})",
                          "save the file as UTF-8") from None
            data, text = parse_case_text(text, source)
        except YakkanError as e:
            view = self.case_view(fields.get("doc", ""), fields.get("as_of", ""), "", {},
                                  False)
            view["diagnostics"] = diag_views(e)
            return view
        doc = data.get("document") if isinstance(data.get("document"), str) else ""
        if doc not in self.docs.specs:  # a path, or no document: say so as for a case file
            view = self.case_view(fields.get("doc", ""), fields.get("as_of", ""), "", {},
                                  False)
            try:
                self.prepare(data, text, source)
            except YakkanError as e:
                view["diagnostics"] = diag_views(e)
            return view
        as_of = data.get("as_of")
        got = data.get("facts")
        facts = got if isinstance(got, dict) else {}
        return self.case_view(str(doc), shown(as_of) if as_of is not None else
                              fields.get("as_of", ""), str(data.get("title") or ""), facts,
                              True, source=source, text=text, data=data)

    def case_view(self, doc: str, as_of_text: str, title: str, facts: dict[str, Any],
                  evaluate_it: bool, source: str = "フォームの入力", text: str | None = None,
                  data: dict[str, Any] | None = None) -> dict[str, Any]:
        """Everything the case page shows: the pickers, the form (filled with `facts`), the
        diagnostics, the explanation and the next questions."""
        view: dict[str, Any] = {
            "doc": doc, "as_of": as_of_text, "title": title, "groups": [],
            "diagnostics": [], "explanation": None, "e": None, "needed": [],
            "version": None, "case_data": None, "explanation_json": None,
            "clause_href": None}
        try:
            when = parse_day(as_of_text, "as_of")
            book = self.docs.book(doc, when or dt.date.today())
        except YakkanError as e:
            view["diagnostics"] = diag_views(e)
            return view
        h = book.doc.header
        view["version"] = {"version": h.version, "title": h.title,
                           "effective_from": h.effective_from,
                           "as_of": (when or dt.date.today()).isoformat(),
                           "as_of_wareki": to_wareki(when or dt.date.today())}
        vocab = vocabulary_json(book)
        case: dict[str, Any] = data if data is not None else {
            "document": doc, **({"as_of": as_of_text.strip()} if as_of_text.strip() else {}),
            **({"title": title} if title else {}), "facts": facts}
        view["case_data"] = case
        errors: dict[str, str] = {}
        if evaluate_it:
            if text is None:
                text = json.dumps(plain_value(case), ensure_ascii=False, indent=2)
            try:
                p = self.prepare(case, text, source)
                out = explain_result(p, evaluate(p.book, p.facts, p.as_of))
                view["explanation_json"] = out
                from yakkan.renderers.explanation import explanation_view
                view["e"] = explanation_view(out)
                view["needed"] = next_questions(out)
                view["clause_href"] = self.clause_href(doc, p.as_of)
            except YakkanError as e:
                view["diagnostics"] = diag_views(e)
                errors = field_errors(e.diagnostics)
        view["groups"] = build_form(vocab, facts, errors)
        return view

    def download(self, view: dict[str, Any], what: str) -> Response:
        stem = re.sub(r"[^\w.-]", "_", view["doc"] or "case")[:40]
        case = plain_value(view["case_data"] or {})
        if what == "case-yaml":
            return attachment(yaml.safe_dump(case, allow_unicode=True, sort_keys=False),
                              f"{stem}-case.yaml", "application/yaml")
        if what == "case-json":
            return attachment(json.dumps(case, ensure_ascii=False, indent=2) + "\n",
                              f"{stem}-case.json", "application/json")
        out = view["explanation_json"]
        if out is None:
            return page("console_case.html.j2", status=400, **view, **self.nav())
        if what == "explanation-json":
            return attachment(json_text(out), f"{stem}-explanation.json", "application/json")
        if what in ("explanation-md", "explanation-html"):
            from yakkan.renderers.explanation import render_explanation
            fmt = what.rsplit("-", 1)[1]
            return attachment(render_explanation(out, fmt) + "\n", f"{stem}-explanation.{fmt}",
                              "text/markdown; charset=utf-8" if fmt == "md"
                              else "text/html; charset=utf-8")
        raise bad("usage.bad-action", f"nothing to download as `{what[:40]}`")

    # -- the document view ------------------------------------------------------------------

    async def doc_page(self, request: Request) -> Response:
        doc = request.path_params["doc"]
        q = request.query_params
        as_of = parse_day(q.get("as_of"), "as_of")
        words = (q.get("q") or "").strip()[:200]

        def work() -> dict[str, Any]:
            from yakkan.renderers.report import prov_anchor
            book = self.docs.book(doc, as_of)
            books = self.docs.versions(doc)
            return {"doc": doc, "book": book, "header": book.doc.header,
                    "versions": [b.doc.header for b in books], "q": words,
                    "as_of": as_of.isoformat() if as_of else "",
                    "hits": search_units(book, words) if words else None,
                    "prov_anchor": prov_anchor,
                    "report_href": f"/doc/{quote(doc)}/report?" + urlencode(
                        {"as_of": (book.doc.header.effective_from or dt.date.today())
                         .isoformat()})}
        view = await run_in_threadpool(work)
        return page("console_doc.html.j2", **view, **self.nav())

    async def doc_report(self, request: Request) -> Response:
        doc = request.path_params["doc"]
        as_of = parse_day(request.query_params.get("as_of"), "as_of")

        def work() -> str:
            from yakkan.renderers.report import render_report
            return render_report(self.docs.book(doc, as_of), "html")
        return HTMLResponse(await run_in_threadpool(work))

    # -- the amendment view -----------------------------------------------------------------

    def diff_dates(self, doc: str, from_text: str | None,
                   to_text: str | None) -> tuple[dt.date, dt.date]:
        books = self.docs.versions(doc)
        starts = [b.doc.header.effective_from for b in books if b.doc.header.effective_from]
        if len(starts) < 2 and not (from_text and to_text):
            raise bad("diff.one-version", f"`{doc}` has one version encoded: there is no "
                      "amendment to compare")
        from_ = parse_day(from_text, "from") or starts[-2]
        to = parse_day(to_text, "to") or starts[-1]
        if to < from_:
            raise bad("usage.reversed-dates", f"`from` {from_} is after `to` {to}",
                      "the old version's date comes first")
        return from_, to

    def diff(self, doc: str, from_text: str | None, to_text: str | None) -> Any:
        """The amendment's semantic diff, each request's own copy: `compute_diff` keeps the
        last few computed in this process, so only the first request for one waits for it."""
        from yakkan.engine.analysis.diff import diff_versions
        from_, to = self.diff_dates(doc, from_text, to_text)
        return diff_versions(self.docs.spec(doc), from_, to, semantic=True)

    async def diff_page(self, request: Request) -> Response:
        doc = request.path_params["doc"]
        q = request.query_params
        old_side = q.get("old_side", "left") if q.get("old_side") in ("left", "right") \
            else "left"

        def work() -> dict[str, Any]:
            from yakkan.engine.analysis.diff import witness_json
            from yakkan.renderers.diff_render import context, runs_html
            d = self.diff(doc, q.get("from"), q.get("to"))
            from_, to = self.diff_dates(doc, q.get("from"), q.get("to"))
            cx = context(d, "html", old_side)
            witnesses = []
            for view, w in zip(cx["witnesses"], d.witnesses(), strict=True):
                raw = witness_json(d, w)
                case = json.dumps({"title": f"改正の事例 {view['n']}（{w.outcome}）",
                                   "facts": nest(raw["facts"])}, ensure_ascii=False,
                                  default=str)
                view["old_href"] = "/case?" + urlencode(
                    {"doc": doc, "as_of": from_.isoformat(), "case": case})
                view["new_href"] = "/case?" + urlencode(
                    {"doc": doc, "as_of": to.isoformat(), "case": case})
                witnesses.append(view)
            qs = urlencode({"from": from_.isoformat(), "to": to.isoformat(),
                            "old_side": old_side})
            return {**cx, "runs": runs_html, "doc": doc, "witness_links": witnesses,
                    "from_date": from_.isoformat(), "to_date": to.isoformat(),
                    "versions": [b.doc.header for b in self.docs.versions(doc)],
                    "docx_href": f"/diff/{quote(doc)}/docx?{qs}",
                    "table_href": f"/diff/{quote(doc)}/table?{qs}"}
        view = await run_in_threadpool(work)
        return page("console_diff.html.j2", **view, **self.nav())

    async def diff_table(self, request: Request) -> Response:
        doc = request.path_params["doc"]
        q = request.query_params
        old_side = "right" if q.get("old_side") == "right" else "left"

        def work() -> str:
            from yakkan.renderers.diff_render import render_diff
            out = render_diff(self.diff(doc, q.get("from"), q.get("to")), "html", old_side)
            assert isinstance(out, str)
            return out
        return HTMLResponse(await run_in_threadpool(work))

    async def diff_docx(self, request: Request) -> Response:
        doc = request.path_params["doc"]
        q = request.query_params
        old_side = "right" if q.get("old_side") == "right" else "left"

        def work() -> bytes:
            from yakkan.renderers.diff_render import docx_bytes
            return docx_bytes(self.diff(doc, q.get("from"), q.get("to")), old_side)
        data = await run_in_threadpool(work)
        stem = re.sub(r"[^\w.-]", "_", doc)[:40]
        return attachment(data, f"{stem}-新旧対照表.docx", "application/vnd.openxmlformats-"
                          "officedocument.wordprocessingml.document")

    # -- the batch view ---------------------------------------------------------------------

    async def batch_get(self, request: Request) -> Response:
        return page("console_batch.html.j2", summary=None, diagnostics=[], token=None,
                    doc=request.query_params.get("doc", ""), as_of="", fmt="csv",
                    **self.nav())

    async def batch_post(self, request: Request) -> Response:
        form = await request.form(max_fields=20_000)
        doc = str(form.get("doc") or "")
        as_of_text = str(form.get("as_of") or "")
        fmt = str(form.get("format") or "csv")
        upload = form.get("table")
        content = await upload.read() if isinstance(upload, UploadFile) else b""
        name = (upload.filename or "") if isinstance(upload, UploadFile) else ""
        view: dict[str, Any] = {"summary": None, "diagnostics": [], "token": None,
                                "doc": doc, "as_of": as_of_text, "fmt": fmt}
        try:
            view.update(await run_in_threadpool(self.run_batch, doc, as_of_text, fmt, name,
                                                content))
        except YakkanError as e:
            view["diagnostics"] = diag_views(e)
        return page("console_batch.html.j2", **view, **self.nav())

    def run_batch(self, doc: str, as_of_text: str, fmt: str, name: str,
                  content: bytes) -> dict[str, Any]:
        from yakkan.engine.features.batch import run_batch
        if fmt not in ("csv", "jsonl", "parquet"):
            raise bad("usage.bad-format", f"no output format `{fmt[:20]}`",
                      "csv, jsonl or parquet")
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if ext not in ("csv", "jsonl", "parquet"):
            raise bad("batch.bad-input", "upload a table of cases: a .csv, .jsonl or .parquet "
                      "file", "yakkan batch DOC --template cases.csv writes an empty one")
        if not content:
            raise bad("batch.bad-input", "the uploaded table is empty")
        spec = self.docs.spec(doc)
        as_of = parse_day(as_of_text, "as_of")
        with tempfile.TemporaryDirectory(prefix="yakkan-batch-") as tmp:
            src = Path(tmp) / f"input.{ext}"  # our name: nothing of the upload's name is used
            src.write_bytes(content)
            dst = Path(tmp) / f"output.{fmt}"
            summary = run_batch(spec, str(src), str(dst), as_of=as_of)
            out = dst.read_bytes()
        token = secrets.token_urlsafe(16)
        stem = re.sub(r"[^\w.-]", "_", doc)[:40]
        with self.lock:
            self.results[token] = (f"{stem}-decisions.{fmt}", out,
                                   {"csv": "text/csv; charset=utf-8",
                                    "jsonl": "application/x-ndjson",
                                    "parquet": "application/vnd.apache.parquet"}[fmt])
            while len(self.results) > MAX_RESULTS:
                self.results.popitem(last=False)
        return {"summary": summary, "token": token}

    async def batch_result(self, request: Request) -> Response:
        with self.lock:
            hit = self.results.get(request.path_params["token"])
        if hit is None:
            raise HTTPException(404, "this result is no longer kept: run the batch again")
        return attachment(hit[1], hit[0], hit[2])

    # -- static files -----------------------------------------------------------------------

    async def static(self, request: Request) -> Response:
        name = request.path_params["name"]
        files = {"console.js": (console_dir() / "static" / "console.js",
                                "text/javascript; charset=utf-8"),
                 "console.css": (console_dir() / "static" / "console.css",
                                 "text/css; charset=utf-8"),
                 "style.css": (templates_dir() / "style.css", "text/css; charset=utf-8")}
        if name not in files:  # a fixed table: no path from the request is opened
            raise HTTPException(404, "no such file")
        path, media = files[name]
        return FileResponse(path, media_type=media)


def next_questions(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The facts still needed, ranked by how many undetermined outcomes list them among the
    facts that could settle them (the next question to ask first), judgments after facts
    at equal counts."""
    found: dict[str, dict[str, Any]] = {}
    for o in data.get("outcomes", []):
        if o.get("value") != "undetermined":
            continue
        for m in [*o.get("missing_facts", []), *o.get("missing_records", [])]:
            e = found.setdefault(m["path"], {
                "path": m["path"], "label": m.get("label") or m["path"],
                "judgment": bool(m.get("judgment")), "outcomes": [],
                "dom_id": "fact-" + re.sub(r"[^A-Za-z0-9_-]", "-", m["path"])})
            e["outcomes"].append(o.get("label") or o["name"])
    return sorted(found.values(), key=lambda e: (-len(e["outcomes"]), e["judgment"],
                                                 e["path"]))


_KANJI_NUM = re.compile(r"([〇一二三四五六七八九十百千]+)")


def normalize_citation(s: str) -> str:
    """A citation as typed — full-width or kanji numerals, spaces — in one form."""
    s = re.sub(r"\s+", "", normalize_width(s))
    return _KANJI_NUM.sub(lambda m: str(to_int(m.group(1))), s)


def search_units(book: Rulebook, query: str) -> list[dict[str, Any]]:
    """Units of a version matching a citation (第14条の65第2項第6号: that unit and those
    under it) or words (every word in the citation, caption or text)."""
    from yakkan.renderers.report import prov_anchor
    q = normalize_citation(query)
    rows = []
    for pid in book.order:
        p = book.provisions[pid]
        rows.append((pid, p.citation, p.unit.caption, p.unit.full_text or ""))
    hits = [r for r in rows if normalize_citation(r[1]) == q]
    if hits:
        under = [r for r in rows if r[0].startswith(hits[0][0] + "/")]
        hits += under
    else:
        cites = [r for r in rows if normalize_citation(r[1]).startswith(q)] \
            if re.match(r"^(第|附則|別表)", q) else []
        if cites:
            hits = cites
        else:
            words = [normalize_width(w) for w in query.split() if w]
            hits = [r for r in rows if all(w in normalize_width(
                f"{r[1]} {r[2] or ''} {r[3]}") for w in words)]
    return [{"id": pid, "citation": cite, "caption": cap, "text": text,
             "anchor": prov_anchor(pid)} for pid, cite, cap, text in hits[:200]]


def create_app(clauses: str | None = None, hosts: set[str] | None = None,
               max_body: int | None = None) -> Any:
    """The console as an ASGI application (`yakkan serve` runs it with uvicorn): the
    documents served are the bundled ones, or the folders of `clauses`; `hosts`: names the
    server answers to besides 127.0.0.1 and localhost."""
    docs = Documents.load(clauses)
    c = Console(docs)

    async def on_yakkan_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, YakkanError)
        status = status_of(exc)
        if request.url.path.startswith("/api/"):
            return json_response(json_text(diagnostics_json(exc, status)), status)
        return page("console_error.html.j2", status=status, diagnostics=diag_views(exc),
                    **c.nav())

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        e = bad(f"http.{exc.status_code}", str(exc.detail))
        if request.url.path.startswith("/api/"):
            return json_response(json_text(diagnostics_json(e, exc.status_code)),
                                 exc.status_code)
        return page("console_error.html.j2", status=exc.status_code,
                    diagnostics=diag_views(e), **c.nav())

    async def on_internal_error(request: Request, exc: Exception) -> Response:
        """The last resort: an engine bug is a 500 with no traceback (logged here)."""
        log.error("internal error on %s", request.url.path, exc_info=exc)
        e = YakkanError([Diagnostic(code="internal", message=f"internal error: "
                                    f"{type(exc).__name__}",
                                    hint="this is a bug in yakkan; please report it")])
        if request.url.path.startswith("/api/"):
            return json_response(json_text(diagnostics_json(e, 500)), 500)
        return page("console_error.html.j2", status=500, diagnostics=diag_views(e),
                    **c.nav())

    routes = [
        Route("/", c.home),
        Route("/case", c.case_get, methods=["GET"]),
        Route("/case", c.case_post, methods=["POST"]),
        Route("/case/explain", c.case_fragment, methods=["POST"]),
        Route("/doc/{doc}", c.doc_page),
        Route("/doc/{doc}/report", c.doc_report),
        Route("/diff/{doc}", c.diff_page),
        Route("/diff/{doc}/table", c.diff_table),
        Route("/diff/{doc}/docx", c.diff_docx),
        Route("/batch", c.batch_get, methods=["GET"]),
        Route("/batch", c.batch_post, methods=["POST"]),
        Route("/batch/result/{token}", c.batch_result),
        Route("/static/{name}", c.static),
        Route("/api/documents", c.api_documents),
        Route("/api/schema/{doc}", c.api_schema),
        Route("/api/explain", c.api_explain, methods=["POST"]),
        Route("/api/charge", c.api_charge, methods=["POST"]),
        Route("/api/diff/{doc}", c.api_diff),
        Route("/favicon.ico", lambda r: Response(status_code=204)),
        Route("/index.html", lambda r: RedirectResponse("/")),
    ]
    app = Starlette(routes=routes, exception_handlers={
        YakkanError: on_yakkan_error, HTTPException: on_http_error,
        Exception: on_internal_error})
    app.state.console = c
    if max_body is not None:
        return Guard(app, hosts=hosts, max_body=max_body)
    return Guard(app, hosts=hosts)
