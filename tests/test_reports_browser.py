"""Open the HTML report in headless Chromium (via Playwright) and check what a reader sees.

Skipped unless /usr/bin/chromium and the `playwright` package are installed (Playwright's own
browser download is not used: the system Chromium is launched through `executable_path`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from auditor.reports.base import render
from tests.report_fixtures import build_result

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _skip_reason() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} not installed (apt-get install -y chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright not installed (pip install playwright)"
    return None


pytestmark = pytest.mark.skipif(_skip_reason() is not None, reason=_skip_reason() or "")


def test_html_report_in_chromium(tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    page_path = tmp_path / "audit.html"
    page_path.write_bytes(render(build_result(), "html"))
    problems: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on(
                "console",
                lambda m: problems.append(f"console {m.type}: {m.text}") if m.type == "error" else None,
            )
            page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")

            verdict = page.locator("#verdict")
            assert verdict.is_visible()
            assert "FAIL" in verdict.inner_text()
            assert page.locator("#incomplete").is_visible()

            boxes = page.locator("svg.lineage-graph g.node rect.node-box")
            assert boxes.count() >= 1
            sizes = [boxes.nth(i).bounding_box() for i in range(boxes.count())]
            assert all(b is not None and b["width"] > 0 and b["height"] > 0 for b in sizes)
            # the hostile license name is shown as text, nothing executed
            assert page.locator("text=Custom <script>alert(1)</script> License").count() >= 1
            assert page.evaluate("document.scripts.length") == 0

            shot = tmp_path / "report.png"
            page.screenshot(path=str(shot), full_page=True)
            assert shot.stat().st_size > 10_000
        finally:
            browser.close()
    assert problems == []
    assert [u for u in requests if not u.startswith("file://")] == []
