"""Headless Chromium for the browser tests (test_browser.py, test_console_browser.py):
Debian's /usr/bin/chromium driven by Playwright — never Playwright's own download.
Skipped when Chromium or Playwright is missing, unless `CI` is set: then it fails
(`.ci/install-browser` installs Chromium and the CJK fonts)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI is set: the browser test must run; see .ci/install-browser)")
    pytest.skip(reason)


def playwright_sync_api() -> Any:
    """Playwright's sync API, once Chromium is known to be there (else skip or fail)."""
    if not CHROMIUM.exists():
        unavailable(f"{CHROMIUM} is missing: run .ci/install-browser (Debian's chromium)")
    try:
        from playwright import sync_api
    except ImportError:
        unavailable("playwright is not installed (pip install -e '.[test]')")
    return sync_api
