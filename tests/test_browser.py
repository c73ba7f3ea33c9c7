"""End to end in headless Chromium: the report of the bundled rakuten-miitel document and
the explanation page of an example case, served from a local http.server, opened with
Playwright (Debian's /usr/bin/chromium — never Playwright's own download), links clicked,
screenshots saved to tests/artifacts/ (desktop and phone).

Skipped when Chromium or Playwright is missing, unless `CI` is set: then it fails.
`.ci/install-browser` installs Chromium and the CJK fonts.
"""

from __future__ import annotations

import functools
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

import pytest
from chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, playwright_sync_api

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "cases" / "rakuten-app-refuse-05-may-default.yaml"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def sync_api() -> Any:
    return playwright_sync_api()


def _yakkan(*args: str) -> None:
    env = {**os.environ, "NO_COLOR": "1"}
    res = subprocess.run([sys.executable, "-m", "yakkan.cli.main", *args], cwd=ROOT,
                         capture_output=True, text=True, env=env, timeout=300, check=False)
    assert res.returncode == 0, res.stderr


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The two pages, written by the CLI, served on 127.0.0.1 at a free port."""
    root = tmp_path_factory.mktemp("site")
    assert (ROOT / "clauses" / "rakuten-miitel").is_dir(), "the bundled rakuten-miitel is missing"
    _yakkan("report", "rakuten-miitel", "--format", "html", "-o", str(root / "report.html"))
    assert EXAMPLE.exists(), f"the example case {EXAMPLE.name} is missing"
    _yakkan("explain", str(EXAMPLE.relative_to(ROOT)), "--format", "html",
            "-o", str(root / "explanation.html"))

    class Quiet(SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(sync_api: Any) -> Iterator[Any]:
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


class Visit:
    """A page with every request outside 127.0.0.1 blocked and recorded, and console
    errors (a CSP violation, a script) recorded."""

    def __init__(self, browser: Any, url: str, phone: bool = False):
        opts: dict[str, Any] = {"viewport": PHONE if phone else DESKTOP, "locale": "ja-JP"}
        if phone:
            opts.update(device_scale_factor=2, is_mobile=True, has_touch=True)
        self.context = browser.new_context(**opts)
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._route)
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error"
                     else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.goto(url, wait_until="load")

    def _route(self, route: Any) -> None:
        host = urlparse(route.request.url).hostname
        if host == "127.0.0.1":
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def shot(self, name: str, full_page: bool = False) -> Path:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path = ARTIFACTS / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        assert path.stat().st_size > 10_000
        return path

    def target_in_view(self, anchor: str) -> bool:
        return bool(self.page.evaluate(
            """id => { const el = document.getElementById(id); if (!el) return false;
                       const r = el.getBoundingClientRect();
                       return r.top >= -2 && r.top < window.innerHeight; }""", anchor))

    def hash(self) -> str:
        return unquote(self.page.evaluate("location.hash"))

    def no_horizontal_scroll(self) -> bool:
        return bool(self.page.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth + 1"))

    def close(self) -> None:
        assert not self.outside, f"requests outside 127.0.0.1: {self.outside[:5]}"
        assert not self.errors, f"console errors: {self.errors[:5]}"
        self.context.close()


def _click_internal_link(v: Visit, selector: str) -> str:
    link = v.page.locator(selector).first
    href = link.get_attribute("href")
    assert href and href.startswith("#"), href
    anchor = href[1:]
    before = v.hash()
    link.click()
    v.page.wait_for_function("h => decodeURIComponent(location.hash) === h", arg=href)
    assert v.hash() == href != before
    assert v.page.evaluate("id => document.getElementById(id) !== null", anchor)
    assert v.target_in_view(anchor), f"#{anchor} is not scrolled into view"
    return anchor


def test_report_in_chromium(browser: Any, site: str) -> None:
    v = Visit(browser, f"{site}/report.html")
    page = v.page
    assert "楽天コネクト" in page.title()
    assert page.locator("h1").inner_text().startswith("楽天コネクト")
    assert page.locator("html").get_attribute("lang") == "ja"
    v.shot("report-desktop")
    # a reference out of 第4条第2項 (「前項」) to 第4条第1項
    anchor = _click_internal_link(
        v, '[id="prov-article-4.paragraph-2"] > .unit-row .refs a.chip')
    assert anchor == "prov-article-4.paragraph-1"
    v.shot("report-desktop-after-link")
    # a table-of-contents entry, then the diagnostics summary link
    _click_internal_link(v, 'nav.toc a[href="#prov-article-13"]')
    _click_internal_link(v, '.stats a[href="#diagnostics"]')
    assert page.locator("#diagnostics .diag-sev").count() >= 1
    # printing: the sidebar is not sticky, folded details print
    page.emulate_media(media="print")
    assert page.locator("#graph details.fold .edge-list").first.is_visible()
    page.emulate_media(media="screen")
    v.close()

    p = Visit(browser, f"{site}/report.html", phone=True)
    assert p.no_horizontal_scroll(), "the report scrolls sideways on a phone"
    p.shot("report-phone")
    _click_internal_link(p, '[id="prov-article-4.paragraph-2"] > .unit-row .refs a.chip')
    p.shot("report-phone-after-link")
    p.close()


def test_explanation_in_chromium(browser: Any, site: str) -> None:
    v = Visit(browser, f"{site}/explanation.html")
    page = v.page
    decision = page.locator("#decision .decision").first
    assert "承諾しないことがある" in decision.locator(".value-ja").inner_text()
    assert decision.locator(".value-en").count() == 0  # Japanese only (issue #19)
    assert decision.is_visible()
    box = decision.bounding_box()
    assert box is not None and box["y"] < DESKTOP["height"], "the decision is not on screen"
    v.shot("explanation-desktop")
    anchor = _click_internal_link(v, "#decision .decision-why a")
    ground = page.locator(f'[id="{anchor}"]')
    assert "第4条第2項第5号" in ground.inner_text()
    assert ground.locator("mark.judgment").count() >= 1
    v.shot("explanation-desktop-after-link")
    v.close()

    p = Visit(browser, f"{site}/explanation.html", phone=True)
    assert p.no_horizontal_scroll(), "the explanation scrolls sideways on a phone"
    p.shot("explanation-phone")
    _click_internal_link(p, "#decision .decision-why a")
    p.shot("explanation-phone-after-link")
    p.close()
