"""Open the HTML report in headless Chromium (via Playwright) and check what a reader sees.

Skipped unless /usr/bin/chromium and the `playwright` package are installed (Playwright's own
browser download is not used: the system Chromium is launched through `executable_path`).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

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


def _pdf_pages(data: bytes) -> int:
    import re

    return len(re.findall(rb"/Type\s*/Page(?![s\w])", data))


def test_example_report_in_chromium(tmp_path: Path) -> None:
    """The bundled example's HTML, as a reader and a printer see it: the executive summary and
    the lineage graph are drawn, nothing is fetched, nothing fails; a full-page screenshot and
    a print to PDF are written (to $REPORT_SHOTS_DIR as well, when it is set, for a human look)."""
    import os
    import shutil

    from playwright.sync_api import sync_playwright

    from tests.report_fixtures import run_example_audit

    out = tmp_path / "audit-out"
    run = run_example_audit(out, "--format", "html")
    assert run.exit_code == 1, run.output
    page_path = out / "audit.html"
    assert page_path.stat().st_size < 250_000  # inline CSS and SVG only: no fonts, no images
    problems: list[str] = []
    requests: list[str] = []
    shot, pdf = tmp_path / "example-report.png", tmp_path / "example-report.pdf"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on(
                "console",
                lambda m: problems.append(f"console {m.type}: {m.text}")
                if m.type in ("error", "warning")
                else None,
            )
            page.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
            page.on("requestfailed", lambda r: problems.append(f"requestfailed: {r.url}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")

            def box(selector: str) -> Any:
                loc = page.locator(selector)
                assert loc.count() == 1 and loc.is_visible(), selector
                found = loc.bounding_box()
                assert found is not None and found["width"] > 0 and found["height"] > 0, selector
                return found

            box("#summary")
            assert "FAIL" in page.locator("#verdict").inner_text()
            assert page.locator("#incomplete").count() == 0  # every model of the lineage was read
            for model in ("meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.2-11B-Vision-Instruct"):
                assert page.locator(f'svg.lineage-graph g.node[data-id="{model}"]').count() == 1
            glance = page.locator("table.glance tbody tr")
            assert glance.count() == 7
            assert page.locator("table.blocking tbody tr").count() == 3
            assert page.locator("table.blocking blockquote.clause").count() == 2  # the clause quoted
            graph = box("svg.lineage-graph")
            figure = box("figure.graph")
            assert graph["width"] <= figure["width"]  # the graph fits the page, no side scrolling
            nodes = page.locator("svg.lineage-graph g.node rect.node-box")
            assert nodes.count() == 12
            for i in range(nodes.count()):
                b = nodes.nth(i).bounding_box()
                assert b is not None and b["width"] > 100 and b["height"] > 30
            assert page.locator("svg.lineage-graph g.edge").count() == 8
            deepseek = page.locator('g.node[data-id="deepseek-ai/DeepSeek-R1-Distill-Llama-8B"] .node-meta')
            assert "inherits Llama 3.1" in (deepseek.text_content() or "")
            assert page.locator("blockquote.clause").first.is_visible()
            assert page.locator("p.remedy").count() >= 3
            assert page.evaluate("document.scripts.length") == 0
            page.screenshot(path=str(shot), full_page=True)

            page.emulate_media(media="print")
            assert not page.locator("nav.toc").is_visible()
            page.pdf(path=str(pdf), format="A4", print_background=True)
        finally:
            browser.close()
    assert problems == []
    assert requests == [page_path.as_uri()]
    assert shot.stat().st_size > 100_000
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    assert 4 <= _pdf_pages(data) <= 30
    if os.environ.get("REPORT_SHOTS_DIR"):
        target = Path(os.environ["REPORT_SHOTS_DIR"])
        target.mkdir(parents=True, exist_ok=True)
        for f in (shot, pdf, page_path):
            shutil.copy(f, target / f.name)


def test_print_opens_folded_parts_and_starts_each_model_on_a_page(tmp_path: Path) -> None:
    """What legal gets from "Save as PDF": no navigation, every folded model section and evidence
    table printed open, each model on a page of its own. On screen, the same parts stay folded."""
    from playwright.sync_api import sync_playwright

    from auditor.reports.html import OPEN_SECTIONS

    result = build_result()
    extra = [result.models[1].model_copy(update={"id": f"example-org/copy-{i:02d}"}) for i in range(OPEN_SECTIONS)]
    page_path = tmp_path / "audit.html"
    page_path.write_bytes(render(result.model_copy(update={"models": [*result.models, *extra]}), "html"))
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(page_path.as_uri())
            page.wait_for_load_state("load")
            folded = page.locator("details.model:not([open]) table.licenses")
            assert folded.count() == len(result.models) + len(extra) - OPEN_SECTIONS
            assert not folded.first.is_visible()  # on screen: folded
            assert not page.locator("details.evidence-all table").first.is_visible()

            page.emulate_media(media="print")
            assert not page.locator("nav.toc").is_visible()
            assert folded.first.is_visible() and folded.last.is_visible()
            assert page.locator("details.evidence-all table").first.is_visible()
            breaks = page.evaluate(
                "[...document.querySelectorAll('section.model, details.model')]"
                ".map(e => getComputedStyle(e).breakBefore)"
            )
            assert breaks and set(breaks) == {"page"}
        finally:
            browser.close()
