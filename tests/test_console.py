"""`yakkan serve`: every route of the console and its errors, at the request level
(Starlette's TestClient; no network, no browser — tests/test_console_browser.py drives the
pages in Chromium).

The must-show: `POST /api/explain` with a case as JSON answers exactly what
`yakkan explain CASE --format json` prints for the same case in YAML.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

with warnings.catch_warnings():  # starlette asks for `httpx2`; httpx is what is packaged
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from yakkan.cli.main import main
from yakkan.console import app as console_app
from yakkan.console.app import create_app, normalize_citation
from yakkan.console.forms import form_facts

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "examples" / "cases"
PLAN4 = CASES / "denwa-plan4-no-duns.yaml"
BASE = "http://127.0.0.1"
SAME_ORIGIN = {"Origin": BASE, "Sec-Fetch-Site": "same-origin"}


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), base_url=BASE, raise_server_exceptions=False) as c:
        yield c


def cli(*args: str) -> str:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def case_json(path: Path) -> str:
    """A YAML case file as the JSON a client sends (dates as text)."""
    return json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), ensure_ascii=False,
                      default=str)


def diag_codes(r: Any) -> list[str]:
    return [d["code"] for d in r.json()["diagnostics"]]


# ---- the JSON API -------------------------------------------------------------------------

def test_api_explain_equals_the_cli_byte_for_byte(client: TestClient,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    rel = str(PLAN4.relative_to(ROOT))
    want = cli("explain", rel, "--format", "json")
    r = client.post(f"/api/explain?path={rel}", content=case_json(PLAN4).encode(),
                    headers={"content-type": "application/x-www-form-urlencoded"})  # curl -d
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/json")
    assert r.text == want
    out = r.json()
    app = next(o for o in out["outcomes"] if o["name"] == "application")
    assert app["value"] == "may_refuse"
    assert [g["citation"] for g in app["grounds"]] == ["第14条の65第2項第6号"]


def test_api_explain_without_a_name_differs_only_in_case_path(client: TestClient) -> None:
    want = json.loads(cli("explain", str(PLAN4), "--format", "json"))
    got = client.post("/api/explain", content=case_json(PLAN4).encode()).json()
    assert got["case"]["path"] == "<request>"
    want["case"]["path"] = "<request>"
    assert got == want


def test_api_explain_reads_yaml_with_a_yaml_content_type(client: TestClient) -> None:
    r = client.post("/api/explain", content=PLAN4.read_bytes(),
                    headers={"content-type": "application/yaml"})
    assert r.status_code == 200, r.text
    assert r.json()["outcomes"][0]["value"] == "may_refuse"


def test_api_explain_options_as_the_cli(client: TestClient) -> None:
    body = case_json(PLAN4).encode()
    r = client.post("/api/explain?outcome=application", content=body)
    assert [o["name"] for o in r.json()["outcomes"]] == ["application"]
    r = client.post("/api/explain?outcome=nope", content=body)
    assert r.status_code == 400 and diag_codes(r) == ["usage.unknown-outcome"]
    r = client.post("/api/explain?as_of=令和5年6月1日", content=body)
    assert r.status_code == 200 and r.json()["as_of"] == "2023-06-01"
    r = client.post("/api/explain?as_of=令和5年4月10日", content=body)  # a fact of 04-17 only
    assert r.status_code == 400 and "case.unknown-field" in diag_codes(r)
    r = client.post("/api/explain?format=md", content=body)
    assert r.status_code == 200 and "第14条の65第2項第6号" in r.text
    r = client.post("/api/explain?format=html", content=body)
    assert r.status_code == 200 and r.text.startswith("<!DOCTYPE html>")


def test_api_charge_equals_the_cli(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)
    case = CASES / "charge-rakuten-full-office.yaml"
    rel = str(case.relative_to(ROOT))
    want = cli("charge", rel, "--format", "json")
    r = client.post(f"/api/charge?path={rel}", content=case_json(case).encode())
    assert r.status_code == 200, r.text
    assert r.text == want


def test_api_documents_and_schema(client: TestClient) -> None:
    docs = client.get("/api/documents").json()["documents"]
    assert {d["id"] for d in docs} >= {"denwa", "rakuten-miitel"}
    denwa = next(d for d in docs if d["id"] == "denwa")
    assert [v["version"] for v in denwa["versions"]] == ["2023-04-01", "2023-04-17"]
    r = client.get("/api/schema/denwa?as_of=2023-05-01")
    assert r.status_code == 200
    assert r.text == cli("schema", "denwa", "--as-of", "2023-05-01")
    r = client.get("/api/schema/nope")
    assert r.status_code == 404 and diag_codes(r) == ["io.unknown-document"]


def test_api_diff(client: TestClient) -> None:
    r = client.get("/api/diff/denwa?from=2023-04-10&to=2023-05-01")
    assert r.status_code == 200
    d = r.json()
    assert d["witnesses"] and all(w["verified"] for w in d["witnesses"])
    r = client.get("/api/diff/denwa?from=2023-05-01&to=2023-04-10")
    assert r.status_code == 400 and diag_codes(r) == ["usage.reversed-dates"]


@pytest.mark.parametrize("body,code", [
    (b'{"document": "denwa", "facts": {', "case.syntax"),
    (b'["denwa"]', "case.not-a-mapping"),
    (b'{"document": "denwa", "document": "denwa"}', "case.duplicate-key"),
    (b'{"document": "denwa", "facts": {"applicant": {"duns_isued": false}}}',
     "case.unknown-field"),
    (b'{"document": "denwa", "facts": {"applicant": {"duns_issued": "yes"}}}',
     "case.bad-value"),
    (b'{"document": "denwa", "as_of": "1999-01-01"}', "eval.no-version-in-force"),
    (b'{"document": "../clauses/denwa"}', "case.bad-document"),
    (b'{"document": "/etc/passwd"}', "case.bad-document"),
    (b'{"document": "denwa", "facts": {}}' + b"\xff", "io.not-utf8"),
])
def test_api_bad_input_is_a_4xx_with_the_cli_diagnostics(client: TestClient, body: bytes,
                                                         code: str) -> None:
    r = client.post("/api/explain", content=body)
    assert r.status_code == 400, r.text
    data = r.json()
    assert code in diag_codes(r)
    assert data["status"] == 400 and data["text"] and "Traceback" not in r.text
    for d in data["diagnostics"]:
        assert {"code", "message", "span", "hint"} <= set(d)


def test_api_diagnostics_locate_the_field_and_hint(client: TestClient) -> None:
    body = b'{\n  "document": "denwa",\n  "facts": {"applicant": {"duns_isued": false}}\n}'
    r = client.post("/api/explain?path=mine.json", content=body)
    d = r.json()["diagnostics"][0]
    assert d["code"] == "case.unknown-field"
    assert d["span"]["file"] == "mine.json" and d["span"]["line"] == 3
    assert "duns_issued" in d["hint"]
    assert "mine.json:3:" in r.json()["text"]


def test_a_document_path_never_reaches_the_file_system(client: TestClient,
                                                        tmp_path: Path) -> None:
    folder = tmp_path / "secret"
    folder.mkdir()
    (folder / "x.yk").write_text("document x {", encoding="utf-8")
    for doc in (str(folder), str(folder / "x.yk"), "../../clauses/denwa", "clauses/denwa"):
        r = client.post("/api/explain", content=json.dumps({"document": doc}).encode())
        assert r.status_code == 400 and diag_codes(r) == ["case.bad-document"]
        assert "document x" not in r.text
        r = client.post("/api/explain?doc=" + doc, content=case_json(PLAN4).encode())
        assert r.status_code == 400 and "case.bad-document" in diag_codes(r)
    assert client.get("/api/schema/..%2Fclauses%2Fdenwa").status_code == 404
    assert client.get("/static/..%2F..%2Fpyproject.toml").status_code == 404
    assert client.get("/doc/%2Fetc").status_code == 404


def test_the_configured_clauses_folder_replaces_the_bundled(tmp_path: Path) -> None:
    (tmp_path / "denwa").symlink_to(ROOT / "clauses" / "denwa")
    with TestClient(create_app(str(tmp_path)), base_url=BASE) as c:
        assert [d["id"] for d in c.get("/api/documents").json()["documents"]] == ["denwa"]
        r = c.post("/api/explain", content=case_json(PLAN4).encode())
        assert r.status_code == 200
        r = c.post("/api/explain", content=b'{"document": "rakuten-miitel"}')
        assert r.status_code == 400 and diag_codes(r) == ["case.bad-document"]


def test_an_internal_error_is_a_500_without_traceback(client: TestClient,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*a: Any, **k: Any) -> Any:
        raise RuntimeError("secret detail /home/x")
    monkeypatch.setattr(console_app, "explain_result", boom)
    r = client.post("/api/explain", content=case_json(PLAN4).encode())
    assert r.status_code == 500
    assert diag_codes(r) == ["internal"]
    assert "Traceback" not in r.text and "secret detail" not in r.text


# ---- safe by default ----------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {"Origin": "http://evil.example"},
    {"Origin": "null"},
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "same-site", "Origin": BASE},
])
def test_cross_site_posts_are_refused(client: TestClient, headers: dict[str, str]) -> None:
    for path in ("/api/explain", "/case", "/case/explain", "/batch"):
        r = client.post(path, content=case_json(PLAN4).encode(), headers=headers)
        assert r.status_code == 403, path
        assert "http.cross-site" in r.text


def test_same_origin_posts_are_served(client: TestClient) -> None:
    r = client.post("/api/explain", content=case_json(PLAN4).encode(), headers=SAME_ORIGIN)
    assert r.status_code == 200


def test_a_foreign_host_is_refused() -> None:
    with TestClient(create_app(), base_url="http://rebound.example:8000") as c:
        r = c.get("/api/documents")
        assert r.status_code == 400 and "http.bad-host" in r.text
    with TestClient(create_app(), base_url="http://localhost:8000") as c:
        assert c.get("/api/documents").status_code == 200


def test_a_body_too_large_is_refused() -> None:
    with TestClient(create_app(max_body=1000), base_url=BASE) as c:
        big = b'{"document": "denwa", "title": "' + b"x" * 2000 + b'"}'
        r = c.post("/api/explain", content=big)
        assert r.status_code == 413 and diag_codes(r) == ["http.too-large"]

        def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it comes
            for _ in range(10):
                yield b" " * 500
        r = c.post("/api/explain", content=chunks())
        assert r.status_code == 413
        r = c.post("/case", data={"doc": "denwa", "title": "x" * 5000}, headers=SAME_ORIGIN)
        assert r.status_code == 413


def test_every_response_carries_the_security_headers(client: TestClient) -> None:
    for r in (client.get("/"), client.get("/case?doc=denwa"), client.get("/api/documents"),
              client.get("/static/console.js"), client.get("/nope"),
              client.post("/api/explain", content=b"{")):
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split(
            "script-src")[1].split(";")[0]
        assert "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"


def test_pages_have_no_inline_script_and_no_outside_resource(client: TestClient) -> None:
    import re
    for url in ("/", "/case?doc=denwa&as_of=2023-05-01", "/doc/denwa", "/batch"):
        html = client.get(url).text
        for m in re.finditer(r"<script\b([^>]*)>(.*?)</script>", html, re.S):
            assert 'src="/static/' in m.group(1) and not m.group(2).strip()
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
        assert not re.search(r"\son[a-z]+=", html)


def test_static_files(client: TestClient) -> None:
    r = client.get("/static/console.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    assert "fetch" in r.text and "eval(" not in r.text
    assert client.get("/static/console.css").status_code == 200
    assert client.get("/static/style.css").status_code == 200
    assert client.get("/static/app.py").status_code == 404


def test_values_are_escaped(client: TestClient) -> None:
    xss = "<script>alert(1)</script>"
    r = client.post("/case", data={"doc": "denwa", "as_of": "2023-05-01", "title": xss,
                                   "f:applicant.duns_issued": xss}, headers=SAME_ORIGIN)
    assert r.status_code == 200
    assert xss not in r.text and "&lt;script&gt;" in r.text


# ---- the case view ------------------------------------------------------------------------

PLAN4_FORM = {
    "doc": "denwa", "as_of": "令和5年5月1日", "title": "プラン4",
    "f:service.kind": "type2", "f:service.terminates_at_carrier": "true",
    "f:service.one_number_per_line": "false", "f:service.docomo_corporate_contract": "true",
    "f:applicant.contracts_shared_ip_pbx": "true", "f:applicant.duns_issued": "false",
    "f:applicant.name_matches_docomo_holder": "true", "f:applicant.paying_late": "false",
    "f:applicant.may_pay_late": "false", "f:company.serious_hindrance": "false",
}


def test_home_lists_the_documents(client: TestClient) -> None:
    r = client.get("/")
    assert r.status_code == 200
    assert "電話等サービス契約約款" in r.text and 'href="/diff/denwa"' in r.text


def test_case_form_is_generated_from_the_schema(client: TestClient) -> None:
    r = client.get("/case?doc=denwa&as_of=令和5年5月1日")
    assert r.status_code == 200
    html = r.text
    assert 'name="f:applicant.duns_issued" value="true"' in html
    assert 'name="f:applicant.duns_issued" value="false"' in html
    assert 'name="f:applicant.duns_issued" value=""' in html
    assert ">はい<" in html.replace(">はい</label>", ">はい<") and "不明" in html
    assert "第2種グループ発信サービス</option>" in html  # an enum by its Japanese name
    assert "判断事項（当社の判断）" in html  # judgments marked
    assert 'name="rows:lines"' in html and 'value="add:lines"' in html
    assert "2023-04-17 版" in html  # 令和5年5月1日 picked the amended version
    assert "次に確認すべき事実" in html  # the empty case: everything still needed


def test_case_form_explains_and_the_outcome_follows_the_fact(client: TestClient) -> None:
    r = client.post("/case", data=PLAN4_FORM, headers=SAME_ORIGIN)
    assert r.status_code == 200
    assert "承諾しないことがある" in r.text and "第14条の65第2項第6号" in r.text
    assert 'href="/doc/denwa/report?as_of=2023-05-01#prov-' in r.text  # clause text links
    r = client.post("/case/explain", data={**PLAN4_FORM, "f:applicant.duns_issued": "true"},
                    headers=SAME_ORIGIN)
    assert r.status_code == 200 and r.text.lstrip().startswith('<div id="result">')
    start = r.text.index('id="decision"')
    decision = r.text[start:r.text.index("</section>", start)]
    assert "承諾しないことがある" not in decision and "承諾する" in decision


def test_case_form_shows_a_wrong_value_beside_its_field(client: TestClient) -> None:
    r = client.post("/case", data={"doc": "denwa", "as_of": "2023-05-01",
                                   "f:lines.0.registered_on": "abc", "rows:lines": "1"},
                    headers=SAME_ORIGIN)
    assert r.status_code == 200
    assert "case.bad-value" in r.text and 'class="field-error"' in r.text


def test_case_form_rows_are_added_and_removed(client: TestClient) -> None:
    form = {"doc": "denwa", "as_of": "2023-05-01", "rows:lines": "1",
            "f:lines.0.mobile": "true", "_action": "add:lines"}
    r = client.post("/case", data=form, headers=SAME_ORIGIN)
    assert 'name="rows:lines" value="2"' in r.text
    r = client.post("/case", data={**form, "_action": "remove:lines:0"}, headers=SAME_ORIGIN)
    assert 'name="rows:lines" value="0"' in r.text


def test_form_facts_types() -> None:
    vocab = {"facts": {"a.b": {"type": "bool"}, "n": {"type": "int"},
                       "d": {"type": "decimal"}, "m": {"type": "money"},
                       "xs": {"type": "list", "fields": {"k": {"type": "int"}}}}}
    got = form_facts(vocab, {"f:a.b": "false", "f:n": "１２", "f:d": "1.5", "f:m": "",
                             "rows:xs": "2", "f:xs.1.k": "3"})
    assert got == {"a": {"b": False}, "n": 12, "d": __import__("decimal").Decimal("1.5"),
                   "xs": [{}, {"k": 3}]}


@pytest.mark.parametrize("what,ctype,needle", [
    ("case-yaml", "application/yaml", "duns_issued: false"),
    ("case-json", "application/json", '"duns_issued": false'),
    ("explanation-json", "application/json", '"schema_version": 3'),
    ("explanation-md", "text/markdown", "第14条の65第2項第6号"),
    ("explanation-html", "text/html", "<!DOCTYPE html>"),
])
def test_case_downloads(client: TestClient, what: str, ctype: str, needle: str) -> None:
    r = client.post("/case", data={**PLAN4_FORM, "_action": f"download:{what}"},
                    headers=SAME_ORIGIN)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith(ctype)
    assert "attachment" in r.headers["content-disposition"]
    assert needle in r.text


def test_a_downloaded_case_explains_as_the_form(client: TestClient, tmp_path: Path) -> None:
    r = client.post("/case", data={**PLAN4_FORM, "_action": "download:case-yaml"},
                    headers=SAME_ORIGIN)
    case = tmp_path / "case.yaml"
    case.write_text(r.text, encoding="utf-8")
    out = json.loads(cli("explain", str(case), "--format", "json"))
    assert out["outcomes"][0]["value"] == "may_refuse"


def test_case_upload(client: TestClient) -> None:
    files = {"upload": ("denwa-plan4-no-duns.yaml", PLAN4.read_bytes(), "application/yaml")}
    r = client.post("/case", data={"_action": "upload", "doc": "denwa"}, files=files,
                    headers=SAME_ORIGIN)
    assert r.status_code == 200
    assert "第14条の65第2項第6号" in r.text
    assert 'name="f:applicant.duns_issued" value="false" checked' in r.text
    bad = {"upload": ("x.yaml", b"document: ../clauses/denwa\n", "application/yaml")}
    r = client.post("/case", data={"_action": "upload", "doc": "denwa"}, files=bad,
                    headers=SAME_ORIGIN)
    assert "case.bad-document" in r.text
    bad = {"upload": ("x.yaml", b"document: denwa\nfacts: [\n", "application/yaml")}
    r = client.post("/case", data={"_action": "upload", "doc": "denwa"}, files=bad,
                    headers=SAME_ORIGIN)
    assert "case.syntax" in r.text


def test_case_page_errors(client: TestClient) -> None:
    r = client.get("/case?doc=nope")
    assert r.status_code == 200 and "io.unknown-document" in r.text
    r = client.get("/case?doc=denwa&as_of=昭和2年")
    assert "usage.bad-date" in r.text
    r = client.get("/case?doc=denwa&case={")
    assert "case.syntax" in r.text
    r = client.post("/case", data={**PLAN4_FORM, "_action": "download:nothing"},
                    headers=SAME_ORIGIN)
    assert r.status_code == 400 and "usage.bad-action" in r.text
    r = client.post("/case", data={"doc": "denwa", "_action": "upload"}, headers=SAME_ORIGIN)
    assert r.status_code == 400 and "usage.no-file" in r.text


# ---- the document, amendment and batch views ----------------------------------------------

def test_document_view_search(client: TestClient) -> None:
    r = client.get("/doc/denwa?as_of=2023-05-01&q=第14条の65第2項第6号")
    assert r.status_code == 200
    hits = r.text[r.text.index('id="h-hits"'):]
    assert "第14条の65第2項第6号" in hits and "D-U-N-S" in hits
    r = client.get("/doc/denwa?as_of=2023-05-01&q=第十四条の六十五第２項")
    assert "第14条の65第2項第6号" in r.text[r.text.index('id="h-hits"'):]
    r = client.get("/doc/denwa?q=D-U-N-S 払出")
    assert "検索結果" in r.text and "該当する規定はありません" not in r.text
    r = client.get("/doc/denwa?q=存在しない語句ですよ")
    assert "該当する規定はありません" in r.text
    assert normalize_citation("第十四条の六十五　第２項") == "第14条の65第2項"


def test_document_report(client: TestClient) -> None:
    r = client.get("/doc/denwa/report?as_of=2023-05-01")
    assert r.status_code == 200 and 'id="prov-' in r.text
    assert client.get("/doc/denwa/report?as_of=1999-01-01").status_code == 400


def test_amendment_view_and_its_witnesses(client: TestClient) -> None:
    r = client.get("/diff/denwa")
    assert r.status_code == 200
    html = r.text
    assert "新旧対照表" in html and '<u class="chg">' in html
    assert "改正前で開く" in html and "/diff/denwa/docx?" in html
    import html as htmllib
    import re
    link = htmllib.unescape(re.search(r'class="open-new" href="([^"]+)"', html).group(1))
    r = client.get(link)
    assert r.status_code == 200 and 'id="decision"' in r.text
    r = client.get("/diff/denwa/docx")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert "wordprocessingml" in r.headers["content-type"]
    r = client.get("/diff/denwa/table?old_side=right")
    assert r.status_code == 200 and "新旧対照表" in r.text
    r = client.get("/diff/rakuten-miitel")
    assert r.status_code == 400 and "diff.one-version" in r.text


def test_a_second_request_for_an_amendment_is_not_computed_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The amendment view, its table, its DOCX and /api/diff ask for one diff: the server
    computes it once (`compute_diff` keeps it) and answers every request alike."""
    from yakkan.engine.analysis import diff
    monkeypatch.setattr(diff, "_MEMO", diff._Memo(diff.MEMO_SIZE))
    computed: list[str] = []
    compute = diff._compute

    def counting(*args: Any) -> diff.Diff:
        computed.append(args[0].doc.header.id)
        return compute(*args)
    monkeypatch.setattr(diff, "_compute", counting)
    (tmp_path / "plans").symlink_to(ROOT / "tests" / "fixtures" / "diff" / "plans")
    with TestClient(create_app(str(tmp_path)), base_url=BASE) as c:
        first = c.get("/api/diff/plans")
        assert first.status_code == 200 and first.json()["witnesses"]
        for path in ("/diff/plans", "/diff/plans/table", "/diff/plans/docx"):
            assert c.get(path).status_code == 200, path
        again = c.get("/api/diff/plans")
        assert again.status_code == 200 and again.content == first.content
    assert computed == ["plans"]


def test_batch_view(client: TestClient) -> None:
    assert client.get("/batch?doc=denwa").status_code == 200
    csv = ("id,as_of,service.kind,service.terminates_at_carrier,"
           "service.docomo_corporate_contract,applicant.duns_issued\n"
           "a,2023-05-01,type2,true,true,false\n"
           "b,2023-05-01,type2,true,true,true\n"
           "c,2023-05-01,type9,true,true,true\n")
    files = {"table": ("cases.csv", io.BytesIO(csv.encode()), "text/csv")}
    r = client.post("/batch", data={"doc": "denwa", "format": "csv"}, files=files,
                    headers=SAME_ORIGIN)
    assert r.status_code == 200, r.text
    assert "3 行" in r.text and "入力エラー 1" in r.text
    import re
    token = re.search(r'href="/batch/result/([^"]+)"', r.text).group(1)
    out = client.get(f"/batch/result/{token}")
    assert out.status_code == 200 and "attachment" in out.headers["content-disposition"]
    assert out.text.count("\n") >= 4 and "application.value" in out.text
    assert client.get("/batch/result/nope").status_code == 404
    files = {"table": ("cases.txt", io.BytesIO(b"x"), "text/plain")}
    r = client.post("/batch", data={"doc": "denwa"}, files=files, headers=SAME_ORIGIN)
    assert "batch.bad-input" in r.text


def test_unknown_pages_are_404(client: TestClient) -> None:
    r = client.get("/nope")
    assert r.status_code == 404 and "http.404" in r.text
    r = client.get("/api/nope")
    assert r.status_code == 404 and diag_codes(r) == ["http.404"]
