"""The HTML report of a very large audit stays usable: a size cap with a clear note, blocking
models first and open, families too large to draw listed as text, long lists counted.

Content only (the large synthetic result of tests/test_reports_scale.py, with the thresholds
lowered); sizes and times are measured by bench/bench_reports.py.
"""

from __future__ import annotations

import re

import pytest

import auditor.reports.html as html
from auditor.model import AuditResult
from auditor.reports import _common as c
from auditor.reports.base import render
from tests.report_fixtures import build_result
from tests.test_reports_scale import BIG_FAMILY, large  # noqa: F401  (the module-scoped fixture)


def _page(result: AuditResult) -> str:
    return render(result, "html").decode("utf-8")


def _flat(text: str) -> str:
    return re.sub(r"\s+", " ", text)


# --------------------------------------------------------------------------- the size cap


@pytest.mark.parametrize("cap", [120_000, 200_000, 260_000])
def test_page_stays_under_the_cap_and_names_the_models_not_shown(
    cap: int, large: AuditResult, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    assert len(_page(large).encode("utf-8")) > cap  # the whole page would not fit
    monkeypatch.setattr(html, "PAGE_CAP", cap)
    page = _page(large)
    assert len(page.encode("utf-8")) <= cap
    full = re.findall(r'<(?:section|details) class="model" id="([^"]+)"', page)
    named = re.findall(r'<li id="([^"]+)"><span class="verdict-chip', page)
    assert named, "some models are left out at this cap"
    # every model is there once: in full or by name only
    assert sorted(full + named) == sorted(html.anchor(m.id) for m in large.models)
    note = _flat(page[page.index('<section id="not-shown"') :])
    assert f"… {len(named)} models not shown in full; see audit.json." in note
    assert f"kept under {cap / 1e6:,.0f} MB" in note
    assert page.index('<section id="not-shown"') < page.index('<section id="obligations"')
    # a link to a model left out still lands on its name
    for anchor_id in named:
        assert f'href="#{anchor_id}"' in page


def test_passing_models_go_first_when_the_page_is_full(
    large: AuditResult, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setattr(html, "PAGE_CAP", 240_000)
    page = _page(large)
    named = re.findall(r'<li id="([^"]+)"><span class="verdict-chip verdict-(\w+)', page)
    assert named and {verdict for _, verdict in named} == {"pass"}
    assert "(every model that is not shown passes)" in page
    failing = [html.anchor(m.id) for m in large.models if m.verdict == "fail"]
    for anchor_id in failing:
        assert re.search(rf'<(?:section|details) class="model" id="{anchor_id}"', page), anchor_id


def test_long_tables_are_cut_with_a_note_past_their_share(
    large: AuditResult, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setattr(html, "PAGE_CAP", 200_000)
    page = _page(large)
    evidence = _flat(page[page.index('<section id="evidence"') :])
    shown = evidence[: evidence.index("</table>")].count("<tr")
    left = re.search(r"… the evidence of ([\d,]+) more models read not shown; see audit\.json\.", evidence)
    assert left is not None and shown - 1 + int(left.group(1)) == len(large.graph.nodes)
    links = evidence[evidence.index('class="evidence-table links"') :]
    shown_links = links[: links.index("</table>")].count("<tr")
    more = re.search(r"… ([\d,]+) more lineage links not shown; see audit\.json\.", links)
    assert more is not None and shown_links - 1 + int(more.group(1)) == len(large.graph.edges)


def test_blocking_findings_past_their_share_are_counted_and_their_models_named(
    large: AuditResult, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    blocking = c.blocking_findings(large)
    page = _page(large)
    start = page.index('<table class="blocking">')
    monkeypatch.setitem(html.SHARES, "blocking", (start + 3000) / html.PAGE_CAP)
    page = _page(large)
    table = page[start : page.index("</table>", start)]
    shown = table.count("<tr>") - 1
    assert 0 < shown < len(blocking)
    note = _flat(page[page.index('id="blocking-capped"') :])
    note = note[: note.index("</p>")]
    assert f"{len(blocking) - shown} more blocking findings not shown in full" in note and "see audit.json" in note
    for model in dict.fromkeys(f.model for f in blocking[shown:]):
        assert f"<code>{model}</code>" in note


def test_a_small_audit_has_no_cap_note_and_every_part_in_full() -> None:
    page = _page(build_result())
    for mark in ("capped-note", 'id="not-shown"', "family-text", "not shown in full", "more models</p>"):
        assert mark not in page
    assert page.count('<section class="model"') == len(build_result().models)


def test_budget_counts_what_was_written_and_what_was_handed_out() -> None:
    budget = html.PageBudget(1000)
    budget.wrote(580)
    assert budget.take("passing", lambda item: "x" * 10, "a") == "x" * 10
    assert budget.pending == 10  # handed out, not yet written: counted
    assert budget.take("passing", lambda item: "x" * 10, "b") == "x" * 10
    assert budget.take("passing", lambda item: "x", "c") == ""  # 601 > 600: past the share of passing models
    assert budget.take("passing", lambda item: "", "d") == ""  # once full, a part stays closed (order kept)
    assert budget.left_out["passing"] == ["c", "d"] and budget.left_out["failing"] == []
    budget.wrote(25)  # the two items and a few bytes around them
    assert (budget.used, budget.pending) == (605, 0)


# --------------------------------------------------------------------------- many models


def test_past_many_models_blocking_models_come_first_and_open(
    large: AuditResult, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    monkeypatch.setattr(html, "MANY_MODELS", 10)
    page = _page(large)
    sections = re.findall(r'<(section|details) class="model" id="([^"]+)">', page)
    verdicts = {html.anchor(m.id): m.verdict for m in large.models}
    order = [verdicts[a] for _, a in sections]
    assert len(order) == len(large.models)
    assert order == sorted(order, key=lambda v: {"fail": 0, "review": 1}.get(v, 2))
    assert {tag for tag, a in sections if verdicts[a] == "fail"} == {"section"}
    assert {tag for tag, a in sections if verdicts[a] != "fail"} == {"details"}
    # the blocking findings come before any passing model is named on the page
    blocking_end = page.index("</table>", page.index('<table class="blocking">'))
    for model in large.models:
        if model.verdict == "pass":
            assert page.index(model.id) > blocking_end, model.id


def test_up_to_many_models_the_first_sections_stay_open_in_manifest_order(
    large: AuditResult,  # noqa: F811
) -> None:
    page = _page(large)
    sections = re.findall(r'<(section|details) class="model" id="([^"]+)">', page)
    assert [a for _, a in sections] == [html.anchor(m.id) for m in large.models]


# --------------------------------------------------------------------------- families as text


def test_a_family_too_large_to_draw_is_listed_as_text(
    large: AuditResult, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    page = _page(large)
    block = page[page.index('<details class="family-text"') :]
    block = _flat(block[: block.index("</details>")])
    top = f"example-org/big-{BIG_FAMILY - 1:03d}"
    assert f"Family of <code>{top}</code> as text ({BIG_FAMILY} models" in block
    assert "Too many models to draw legibly (more than 150 in one drawing)" in block
    links = re.findall(r"<li><code>(example-org/big-\d+)</code> [^<]+ <code>(example-org/big-\d+)</code>", block)
    assert len(links) == BIG_FAMILY - 1
    assert ("example-org/big-001", "example-org/big-000") in links
    assert page.index('<details class="family-text"') < page.index('<section id="evidence"')
    assert "(as far as the page's size cap allows) and in audit.json" in page
    monkeypatch.setattr(html, "FAMILY_LISTED", 10)
    block = _flat(_page(large).split('<details class="family-text"', 1)[1].split("</details>", 1)[0])
    assert block.count("<li><code>") == 10 and f"… and {BIG_FAMILY - 1 - 10} more links; see audit.json" in block


def test_a_family_listed_as_text_shows_hostile_ids_as_text() -> None:
    from auditor.audit import AuditEntry
    from auditor.audit import build_result as evaluate
    from auditor.model import (
        DeclaredLicense,
        DeclaredUse,
        EdgeRecord,
        Evidence,
        LineageGraph,
        ModelFacts,
        ModelRef,
        NodeRecord,
    )
    from auditor.rules.loader import load_rules

    hostile = "example-org/<script>alert(1)</script>\u202etxt.exe"
    ids = [f"example-org/chain-{i:03d}" for i in range(160)]
    ids[80] = hostile
    nodes = [NodeRecord(id=rid, facts=ModelFacts(id=rid, requested=rid, source="hub",
                                                 declared=DeclaredLicense(license=["mit"]))) for rid in ids]
    edges = [EdgeRecord(child=child, parent=parent, relation="finetune",
                        evidence=[Evidence(source="hub", field="cardData.base_model", value=parent)])
             for child, parent in zip(ids[1:], ids, strict=False)]
    use = DeclaredUse(commercial=True, distribution="saas", regions=["US"], purposes=["chat-assistant"])
    result = evaluate(LineageGraph(roots=[ids[-1]], nodes=nodes, edges=edges),
                      [AuditEntry(ref=ModelRef(kind="hub", id=ids[-1]))], load_rules(), use, None,
                      generated_at="2026-01-01T00:00:00Z")
    page = _page(result)
    block = page.split('<details class="family-text"', 1)[1].split("</details>", 1)[0]
    assert "<script>" not in block and "\u202e" not in page
    assert "<code>example-org/&lt;script&gt;alert(1)&lt;/script&gt;[U+202E]txt.exe</code>" in block


def test_obligations_of_many_models_name_the_first_and_count_the_rest(monkeypatch: pytest.MonkeyPatch) -> None:
    result = build_result()
    widest = max(c.dedupe_obligations(result.obligations), key=lambda ob: len(ob.models))
    assert len(widest.models) > 1
    assert "more models</p>" not in _page(result)
    monkeypatch.setattr(html, "APPLIES_NAMED", 1)
    section = _page(result).split('<section id="obligations"', 1)[1].split("</section>", 1)[0]
    applies = re.findall(r'<p class="applies">(.*?)</p>', section)
    assert applies and all(a.count("<code>") == 1 for a in applies)
    assert f"and {len(widest.models) - 1} more models" in " ".join(applies)


# --------------------------------------------------------------------------- stylesheet


def test_the_large_stylesheet_is_added_to_large_pages_only(large: AuditResult) -> None:  # noqa: F811
    from auditor.paths import templates_dir

    extra = (templates_dir() / html.STYLESHEET_LARGE).read_text(encoding="utf-8")
    assert ".capped-note {" in extra and "section.not-shown { break-before: page;" in extra  # printed on its own page
    assert extra in _page(large)
    assert ".capped-note" not in _page(build_result())  # a small page keeps the stylesheet it had


def test_the_table_of_models_past_its_share_counts_the_rest(
    large: AuditResult, monkeypatch: pytest.MonkeyPatch  # noqa: F811
) -> None:
    page = _page(large)
    start = page.index('<table class="glance">')
    middle = (start + page.index("</table>", start)) // 2
    monkeypatch.setitem(html.SHARES, "glance", middle / html.PAGE_CAP)
    page = _page(large)
    table = page[start : page.index("</table>", start)]
    shown = table.count("<tr>") - 1
    assert 0 < shown < len(large.models)
    note = _flat(page[page.index("</table>", start) :])
    assert note.startswith(f'</table> <p class="capped-note"><strong>… {len(large.models) - shown} more models not in this table</strong>')
