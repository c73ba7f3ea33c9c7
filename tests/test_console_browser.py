"""`yakkan serve` end to end in headless Chromium: the console served by uvicorn in a thread
on a free port, driven with Playwright (Debian's /usr/bin/chromium, as tests/test_browser.py),
every request outside 127.0.0.1 blocked and recorded, console errors (a CSP violation, a
script error) recorded. Screenshots of each page go to tests/artifacts/console-*.png.

The reviewer's path: choose denwa and 2023-05-01, fill a プラン4 application without a
D-U-N-S number, see 承諾しないことがある under 第14条の65第2項第6号, switch the fact to
はい and see the outcome change (the page's script re-renders the explanation, no reload);
then the drafter's: open the amendment view and follow a witness into the case view.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlparse

import pytest
from chromium import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS, playwright_sync_api

pytestmark = pytest.mark.browser

TIMEOUT = 20_000  # ms for one expectation
DIFF_TIMEOUT = 180_000  # ms for the amendment page, which computes the semantic diff


@pytest.fixture(scope="module")
def sync_api() -> Any:
    return playwright_sync_api()


@pytest.fixture(scope="module")
def console() -> Iterator[str]:
    """`yakkan serve`'s application under uvicorn, on 127.0.0.1 at a free port."""
    import uvicorn

    from yakkan.console.app import create_app
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the console did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def page(sync_api: Any, console: str) -> Iterator[Any]:
    outside: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            context = browser.new_context(viewport={"width": 1440, "height": 1000},
                                          locale="ja-JP", accept_downloads=False)
            context.set_default_timeout(TIMEOUT)
            pg = context.new_page()

            def route(r: Any) -> None:
                if urlparse(r.request.url).hostname == "127.0.0.1":
                    r.continue_()
                else:
                    outside.append(r.request.url)
                    r.abort()
            pg.route("**/*", route)
            pg.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            pg.on("pageerror", lambda e: errors.append(str(e)))
            yield pg
            assert outside == [], f"requests outside the console: {outside}"
            assert errors == [], f"console errors (CSP, script): {errors}"
        finally:
            browser.close()


def shot(page: Any, name: str, at: str | None = None) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    if at is not None:
        page.locator(at).first.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"console-{name}.png"), full_page=False)


def tri(page: Any, path: str, value: str) -> None:
    """Click はい / いいえ / 不明 of a yes/no fact, opening its group first."""
    fid = "fact-" + path.replace(".", "-")
    group = page.locator(f"details.fact-group:has(#{fid})")
    if group.get_attribute("open") is None:
        group.locator("> summary").click()
    cls = {"true": "tri-yes", "false": "tri-no", "": "tri-unknown"}[value]
    page.locator(f"#{fid} label.{cls}").click()


def test_reviewer_and_drafter_paths(page: Any, console: str, sync_api: Any) -> None:
    expect = sync_api.expect
    page.goto(console + "/")
    expect(page.locator("h1")).to_contain_text("約款")
    shot(page, "home")

    # choose denwa and 2023-05-01
    page.select_option("#pick-doc", "denwa")
    page.fill("#pick-as-of", "2023-05-01")
    page.click("form.picker button[type=submit]")
    page.wait_for_url("**/case?*")
    expect(page.locator("#page-head")).to_contain_text("2023-04-17 版")
    shot(page, "case-empty")

    # a プラン4 application without a D-U-N-S number
    page.select_option('select[name="f:service.kind"]', "type2")
    for path, v in [("service.terminates_at_carrier", "true"),
                    ("service.one_number_per_line", "false"),
                    ("service.docomo_corporate_contract", "true"),
                    ("applicant.contracts_shared_ip_pbx", "true"),
                    ("applicant.name_matches_docomo_holder", "true"),
                    ("applicant.paying_late", "false"),
                    ("applicant.may_pay_late", "false"),
                    ("company.serious_hindrance", "false"),
                    ("applicant.duns_issued", "false")]:
        tri(page, path, v)
    decision = page.locator("#result #decision")
    expect(decision).to_contain_text("承諾しないことがある")
    expect(decision.get_by_role("link", name="第14条の65第2項第6号", exact=True)).to_be_visible()
    expect(page.locator("#live-status")).to_have_text("更新しました")
    shot(page, "case-plan4-no-duns", "#result #decision")

    # the fact switched to はい: the outcome changes without a reload
    url = page.url
    tri(page, "applicant.duns_issued", "true")
    expect(decision).not_to_contain_text("承諾しないことがある")
    expect(decision).to_contain_text("承諾する")
    assert page.url == url
    shot(page, "case-plan4-duns", "#result #decision")

    # the amendment view; a witness opens in the case view
    # the semantic diff is computed on this request (~10 s alone, far longer on a busy
    # machine): a bound against a hang, not a speed test
    page.goto(console + "/diff/denwa", timeout=DIFF_TIMEOUT)
    expect(page.locator("h1")).to_contain_text("新旧対照表")
    expect(page.locator("table.shinkyu u.chg").first).to_be_visible()
    shot(page, "amendment")
    link = page.locator("tr.witness a.open-new").first
    link.click()
    page.wait_for_url("**/case?*")
    expect(page.locator("#result #decision")).to_be_visible()
    expect(page.locator("#page-head")).to_contain_text("改正の事例")
    shot(page, "witness-case", "#result #decision")
