"""`yakkan lsp` driven end to end over stdio by a minimal JSON-RPC client of our own
(Content-Length framing, a reader thread): diagnostics while typing, hover, go to
definition, references, completion and formatting."""

from __future__ import annotations

import json
import queue
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
DENWA = ROOT / "clauses" / "denwa" / "2023-04-17.yk"
TIMEOUT = 60.0


class Client:
    """Just enough of an LSP client: requests wait for their response; notifications
    are kept until a test asks for them."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "yakkan.cli.main", "lsp"], cwd=ROOT,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.inbox: queue.Queue[dict[str, Any]] = queue.Queue()
        self.notes: list[dict[str, Any]] = []
        self.next_id = 0
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        out = self.proc.stdout
        assert out is not None
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value.strip())
            assert length is not None
            self.inbox.put(json.loads(out.read(length).decode("utf-8")))

    def _send(self, msg: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **msg}, ensure_ascii=False).encode("utf-8")
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def notify(self, method: str, params: Any) -> None:
        self._send({"method": method, "params": params})

    def request(self, method: str, params: Any) -> Any:
        self.next_id += 1
        rid = self.next_id
        self._send({"id": rid, "method": method, "params": params})
        while True:
            msg = self.inbox.get(timeout=TIMEOUT)
            if msg.get("id") == rid and "method" not in msg:
                assert "error" not in msg, msg
                return msg.get("result")
            self._keep(msg)

    def _keep(self, msg: dict[str, Any]) -> None:
        if "method" in msg and "id" in msg:  # a request from the server: answer it
            self._send({"id": msg["id"], "result": None})
        else:
            self.notes.append(msg)

    def notification(self, method: str, where: Callable[[Any], bool]) -> Any:
        """The first notification `method` whose params satisfy `where` (consumed)."""
        while True:
            for i, n in enumerate(self.notes):
                if n.get("method") == method and where(n.get("params")):
                    return self.notes.pop(i)["params"]
            self._keep(self.inbox.get(timeout=TIMEOUT))

    def open(self, uri: str, text: str, version: int = 1) -> None:
        self.notify("textDocument/didOpen", {"textDocument": {
            "uri": uri, "languageId": "yakkan", "version": version, "text": text}})

    def diagnostics(self, uri: str, version: int | None = None) -> list[dict[str, Any]]:
        p = self.notification("textDocument/publishDiagnostics",
                              lambda p: p["uri"] == uri and (version is None
                                                             or p.get("version") == version))
        return list(p["diagnostics"])


@pytest.fixture(scope="module")
def client() -> Iterator[Client]:
    c = Client()
    init = c.request("initialize", {"processId": None, "rootUri": ROOT.as_uri(),
                                    "capabilities": {}})
    caps = init["capabilities"]
    assert caps["hoverProvider"] and caps["definitionProvider"]
    assert caps["referencesProvider"] and caps["documentFormattingProvider"]
    assert "「" in caps["completionProvider"]["triggerCharacters"]
    c.notify("initialized", {})
    yield c
    c.request("shutdown", None)
    c.notify("exit", None)
    assert c.proc.wait(timeout=TIMEOUT) == 0


def _pos(text: str, needle: str, offset: int = 0) -> dict[str, int]:
    """LSP position of `needle` (+ offset characters) in `text` (all BMP: UTF-16 = chars)."""
    i = text.index(needle) + offset
    line = text.count("\n", 0, i)
    return {"line": line, "character": i - (text.rfind("\n", 0, i) + 1)}


@pytest.fixture(scope="module")
def denwa(client: Client) -> tuple[str, str]:
    uri = DENWA.as_uri()
    text = DENWA.read_text(encoding="utf-8")
    client.open(uri, text)
    diags = client.diagnostics(uri)
    assert [d for d in diags if d["severity"] == 1] == []  # `yakkan check clauses` is clean
    return uri, text


def test_diagnostics_for_a_malformed_file_while_typing(client: Client, tmp_path: Path) -> None:
    f = tmp_path / "draft.yk"
    uri = f.as_uri()
    bad = 'document draft "試案" {\n  version "2024-01-01"\n}\n\narticle 1 {\n  text "第1条" \n  rule application accept\n}\n'
    client.open(uri, bad)
    diags = client.diagnostics(uri, 1)
    assert diags, "a syntax error is reported"
    d = diags[0]
    assert d["severity"] == 1 and d["source"] == "yakkan"
    assert d["code"].startswith("parse.")
    assert d["range"]["start"]["line"] == 6  # the `rule` line (0-based)
    # the user types the missing colon: the diagnostics go away
    good = bad.replace("rule application accept", "rule application: accept")
    client.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": 2}, "contentChanges": [{"text": good}]})
    assert [x for x in client.diagnostics(uri, 2) if x["severity"] == 1] == []
    # an unknown fact is a resolve/type error as `yakkan check` reports it
    worse = good.replace("rule application: accept",
                         "rule application: accept when applicant.duns_isued")
    client.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": worse}]})
    errs = [x for x in client.diagnostics(uri, 3) if x["severity"] == 1]
    assert errs and "applicant.duns_isued" in errs[0]["message"]
    assert errs[0]["range"]["start"]["line"] == 6


def test_hover_on_item_6_shows_the_provision_text(client: Client, denwa: tuple[str, str]) -> None:
    uri, text = denwa
    pos = _pos(text, "    item 6 {", 6)
    h = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": pos})
    value = h["contents"]["value"]
    assert "**第14条の65第2項第6号**（契約者指定番号発信サービス利用契約申込の承諾）" in value
    assert "D-U-N-S® Numberの払出を受けていないとき。" in value
    assert "when plan4 and not applicant_duns_issued" in value
    assert h["range"]["start"] == {"line": pos["line"], "character": 4}


def test_hover_on_a_citation_in_text_and_on_a_fact(client: Client,
                                                  denwa: tuple[str, str]) -> None:
    uri, text = denwa
    pos = _pos(text, "第14条の65第2項第5号（承諾しないことがある）", 3)
    h = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": pos})
    assert h["contents"]["value"].startswith("**第14条の65第2項第5号**")
    assert "第6種シェアードIP-PBXサービスを契約しないとき。" in h["contents"]["value"]
    pos = _pos(text, "then present(applicant.duns) else applicant.duns_issued", 40)
    h = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": pos})
    v = h["contents"]["value"]
    assert v.startswith("fact `applicant.duns_issued`: `bool`")
    assert "D-U-N-S® Numberの払出を受けている" in v
    pos = _pos(text, "judgment company.serious_hindrance", 12)
    h = client.request("textDocument/hover", {"textDocument": {"uri": uri}, "position": pos})
    assert h["contents"]["value"].startswith("judgment（当社の判断） `company.serious_hindrance`")


def test_definition_of_a_fact_a_definition_a_citation_and_an_enum_member(
        client: Client, denwa: tuple[str, str]) -> None:
    uri, text = denwa
    lines = text.split("\n")

    def goto(needle: str, offset: int) -> str:
        res = client.request("textDocument/definition", {
            "textDocument": {"uri": uri}, "position": _pos(text, needle, offset)})
        assert res and res[0]["uri"] == uri
        return str(lines[res[0]["range"]["start"]["line"]])

    assert goto("then present(applicant.duns) else applicant.duns_issued", 40).startswith(
        "fact applicant.duns_issued: bool")
    assert "define plan4" in goto("when plan4 and not applicant_duns_issued", 6)
    # 「第4条の4の4（第2種グループ発信サービスの区別）」 → article 4_4_4
    assert goto("「第4条の4の4（第2種グループ発信サービスの区別）」", 3).lstrip().startswith(
        "article 4_4_4")
    member = next(ln for ln in lines if "service.kind == type2" in ln)
    res = client.request("textDocument/definition", {"textDocument": {"uri": uri}, "position": {
        "line": lines.index(member), "character": member.index("type2") + 1}})
    assert lines[res[0]["range"]["start"]["line"]].startswith("enum Kind")


def test_references_to_a_provision_and_a_fact(client: Client, denwa: tuple[str, str]) -> None:
    uri, text = denwa
    lines = text.split("\n")
    # article 4_4_4 is cited from 第4条の2 注1
    pos = _pos(text, "article 4_4_4", 2)
    refs = client.request("textDocument/references", {
        "textDocument": {"uri": uri}, "position": pos, "context": {"includeDeclaration": False}})
    assert refs
    assert any("第4条の4の4" in lines[r["range"]["start"]["line"]] for r in refs)
    pos = _pos(text, "then present(applicant.duns) else applicant.duns_issued", 40)
    refs = client.request("textDocument/references", {
        "textDocument": {"uri": uri}, "position": pos, "context": {"includeDeclaration": True}})
    found = [lines[r["range"]["start"]["line"]] for r in refs]
    assert any(s.startswith("fact applicant.duns_issued") for s in found)
    assert any("then present(applicant.duns) else applicant.duns_issued" in s for s in found)


def test_completion_of_fact_paths_enum_members_and_citations(
        client: Client, denwa: tuple[str, str]) -> None:
    uri, text = denwa
    pos = _pos(text, "then present(applicant.duns) else applicant.duns_issued", len("then present(applicant.duns) else applicant."))
    res = client.request("textDocument/completion", {"textDocument": {"uri": uri}, "position": pos})
    labels = {i["label"] for i in res["items"]}
    assert {"applicant.duns_issued", "applicant.paying_late"} <= labels
    assert all(label.startswith("applicant.") for label in labels)
    line = next(ln for ln in text.split("\n") if "service.kind == type2" in ln)
    at = {"line": text.split("\n").index(line), "character": line.index("type2") + 3}
    res = client.request("textDocument/completion", {"textDocument": {"uri": uri}, "position": at})
    assert "type2" in {i["label"] for i in res["items"]}
    pos = _pos(text, "「第4条の4の4（第2種", 4)  # after 「第4条
    res = client.request("textDocument/completion", {"textDocument": {"uri": uri}, "position": pos})
    cites = {i["label"] for i in res["items"]}
    assert "第4条の4の4" in cites and "第14条の65" not in cites


def test_formatting_through_fmt(client: Client, tmp_path: Path) -> None:
    f = tmp_path / "messy.yk"
    uri = f.as_uri()
    messy = ('document messy "整形" {\n    version "2024-01-01"\n}\n'
             'article 1 {   text "本文。"   }\n')
    client.open(uri, messy)
    client.diagnostics(uri, 1)
    edits = client.request("textDocument/formatting", {
        "textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": True}})
    assert len(edits) == 1
    new = edits[0]["newText"]
    assert new != messy and 'article 1 {\n  text "本文。"\n}\n' in new
    assert edits[0]["range"]["start"] == {"line": 0, "character": 0}
