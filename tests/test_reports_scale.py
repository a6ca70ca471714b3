"""Reports of large audits: streamed writers give the rendered bytes, no validator runs inside a
render, and a large HTML report stays usable (summary and blocking findings first, model sections
folded past the first few, the lineage drawn in part with a note).

Speed is measured by bench/bench_reports.py, never here: these tests check content only.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import pytest

from auditor.model import (
    AuditResult,
    DeclaredLicense,
    DeclaredUse,
    EdgeRecord,
    Evidence,
    LineageGraph,
    ModelFacts,
    ModelRef,
    NodeRecord,
)
from auditor.reports import _common as c
from auditor.reports.base import REPORTERS, render, write_reports
from tests.report_fixtures import build_result

BIG_FAMILY = 160  # models in one family: more than _graph.FAMILY_MAX_NODES
SMALL_FAMILIES = 30  # families of a model and its base: more than html.OPEN_SECTIONS audited models


def _lineage() -> tuple[LineageGraph, list[str]]:
    """One family of BIG_FAMILY models (a chain of fine-tunes from `example-org/big-000`) and
    SMALL_FAMILIES families of two (`example-org/small-NN` fine-tuned from `example-org/base-NN`,
    on a non-commercial license for every third: a failing model)."""
    nodes: list[NodeRecord] = []
    edges: list[EdgeRecord] = []

    def add(rid: str, license_id: str, parent: str | None) -> None:
        facts = ModelFacts(id=rid, requested=rid, source="hub", declared=DeclaredLicense(license=[license_id]))
        nodes.append(NodeRecord(id=rid, facts=facts))
        if parent:
            ev = Evidence(source="hub", field="cardData.base_model", value=parent)
            edges.append(EdgeRecord(child=rid, parent=parent, relation="finetune", evidence=[ev]))

    big = [f"example-org/big-{i:03d}" for i in range(BIG_FAMILY)]
    for i, rid in enumerate(big):
        add(rid, "apache-2.0", big[i - 1] if i else None)
    audited = [big[-1]]
    for i in range(SMALL_FAMILIES):
        base, small = f"example-org/base-{i:02d}", f"example-org/small-{i:02d}"
        add(base, "cc-by-nc-4.0" if i % 3 == 0 else "mit", None)
        add(small, "mit", base)
        audited.append(small)
    return LineageGraph(roots=audited, nodes=nodes, edges=edges), audited


@pytest.fixture(scope="module")
def large() -> AuditResult:
    from auditor.audit import AuditEntry
    from auditor.audit import build_result as evaluate
    from auditor.rules.loader import load_rules

    graph, audited = _lineage()
    use = DeclaredUse(commercial=True, monthly_active_users=1000, annual_revenue_usd=10_000,
                      distribution="saas", regions=["US"], purposes=["chat-assistant"])
    entries = [AuditEntry(ref=ModelRef(kind="hub", id=rid)) for rid in audited]
    return evaluate(graph, entries, load_rules(), use, None, generated_at="2026-01-01T00:00:00Z")


@pytest.fixture(scope="module")
def large_html(large: AuditResult) -> str:
    return render(large, "html").decode("utf-8")


# --------------------------------------------------------------------------- streaming


@pytest.mark.parametrize("fmt", [name for name, r in REPORTERS.items() if r.writer])
@pytest.mark.parametrize("which", ["fixture", "large"])
def test_streamed_writer_writes_the_rendered_bytes(fmt: str, which: str, large: AuditResult) -> None:
    result = build_result() if which == "fixture" else large
    buffer = io.BytesIO()
    REPORTERS[fmt].write(result, buffer)
    assert buffer.getvalue() == REPORTERS[fmt].render(result)


def test_streamed_json_is_the_standard_librarys_sorted_indented_json(large: AuditResult) -> None:
    expected = json.dumps(large.model_dump(mode="json"), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert render(large, "json").decode("utf-8") == expected
    assert c.content_digest(large) == hashlib.sha256(expected.encode("utf-8")).hexdigest()


@pytest.mark.parametrize(
    "shape",
    [
        {"b": 1, "a": {"results": "ITEMS", "z": [1, {"y": 2, "x": None}]}, "c": []},
        {"runs": [{"results": "ITEMS"}, {"results": "EMPTY"}], "e": {}},
        ["ITEMS", "EMPTY", "é \u2028 \x00"],
    ],
)
def test_write_json_streams_items_and_writes_what_json_dumps_writes(shape: object) -> None:
    items = [{"k": i, "v": ["a", {"w": "é"}]} for i in range(3)]

    def plain(value: object) -> object:
        if value == "ITEMS":
            return items
        if value == "EMPTY":
            return []
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    def streamed(value: object) -> object:
        if value in ("ITEMS", "EMPTY"):
            return c.Items(iter(items if value == "ITEMS" else []))
        if isinstance(value, dict):
            return {k: streamed(v) for k, v in value.items()}
        if isinstance(value, list):
            return [streamed(v) for v in value]
        return value

    buffer = io.BytesIO()
    c.write_json(streamed(shape), buffer.write)
    expected = json.dumps(plain(shape), sort_keys=True, indent=2, ensure_ascii=False)
    assert buffer.getvalue().decode("utf-8") == expected


def test_write_reports_stages_files_and_keeps_the_old_reports_when_one_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = build_result()
    write_reports(result, tmp_path, ["json", "markdown"])
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    def broken(*args: object, **kwargs: object) -> bytes:
        raise RuntimeError("renderer failed")

    monkeypatch.setattr("auditor.reports.notice.render", broken)
    with pytest.raises(RuntimeError, match="renderer failed"):
        write_reports(result, tmp_path, ["json", "notice"])
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # no partial file left


# --------------------------------------------------------------------------- no validator in a render


def test_no_validator_runs_inside_a_render(monkeypatch: pytest.MonkeyPatch) -> None:
    import spdx_tools.spdx.validation.document_validator as spdx_validator
    from cyclonedx.validation.json import JsonStrictValidator

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a validator ran inside a render")

    monkeypatch.setattr(spdx_validator, "validate_full_spdx_document", refuse)
    monkeypatch.setattr(JsonStrictValidator, "validate_str", refuse)
    result = build_result()
    for fmt in REPORTERS:
        assert render(result, fmt)


def test_spdx_json_data_is_what_the_spdx_tools_writer_writes(large: AuditResult) -> None:
    """The annotations, attached through an index, are where spdx-tools' own converter puts them."""
    from spdx_tools.spdx.writer.json.json_writer import write_document_to_stream

    from auditor.reports.spdx import build_document, to_dict

    for result in (build_result(), large):
        document = build_document(result)
        stream = io.StringIO()
        write_document_to_stream(document, stream, validate=False)
        assert to_dict(document) == json.loads(stream.getvalue())


def test_cyclonedx_data_is_what_the_library_writes(large: AuditResult) -> None:
    """The JSON written directly is what cyclonedx-python-lib writes for the same BOM built from its
    model objects: same components, licenses, properties, pedigrees and dependencies, same order."""
    from auditor.reports.cyclonedx import bom_data, library_json

    for result in (build_result(), build_result(complete=True), large):
        assert bom_data(result) == library_json(result)


def test_cyclonedx_data_is_what_the_library_writes_for_the_example_audits(tmp_path: Path) -> None:
    from auditor.reports.cyclonedx import bom_data, library_json
    from tests.report_fixtures import EXAMPLE_MANIFEST, run_example_audit

    for i, manifest in enumerate((EXAMPLE_MANIFEST, "examples/auditor-pass.yaml")):
        out = tmp_path / f"run{i}"
        run = run_example_audit(out, "--format", "json", manifest=manifest)
        assert (out / "audit.json").exists(), run.output
        result = AuditResult.model_validate_json((out / "audit.json").read_text(encoding="utf-8"))
        assert bom_data(result) == library_json(result), manifest


# --------------------------------------------------------------------------- shared lookups


def test_lookups_are_built_once_per_result_and_never_shared() -> None:
    first = build_result()
    read = [n for n in first.graph.nodes if n.unresolved is None]
    second = first.model_copy(update={"graph": first.graph.model_copy(update={"nodes": read})})
    assert c.license_catalog(first) is c.license_catalog(first)
    assert c.license_catalog(first) is not c.license_catalog(second)
    assert c.unread_models(first) and not c.unread_models(second)


@pytest.mark.parametrize("multiline", [False, True])
def test_plain_keeps_what_it_kept_character_by_character(multiline: bool) -> None:
    import unicodedata

    def reference(value: str) -> str:  # the former implementation
        out = []
        for ch in value.replace("\r\n", "\n"):
            if ch == "\n" and multiline:
                out.append(ch)
            elif ch in "\t\n\r\u2028\u2029\x0b\x0c\x85":
                out.append(" ")
            elif unicodedata.category(ch) not in {"Cc", "Cf", "Co", "Cs", "Zl", "Zp"}:
                out.append(ch)
        text = "".join(out)
        return text if multiline else " ".join(text.split())

    samples = ["plain text", " a\r\nb\n\tc  ", "no\u00a0break\u3000wide \u0378 \U000e0001 é", "é 中文 \u2028\u2029 \x00\x1f\x7f \u202e\u200b \ue000 \U0001f600 \x85",
               "".join(chr(i) for i in range(0, 400))]
    for value in samples:
        assert c.plain(value, multiline=multiline) == reference(value)


# --------------------------------------------------------------------------- a large HTML report


def test_large_html_opens_with_the_summary_and_what_blocks_release(large: AuditResult, large_html: str) -> None:
    summary = large_html.index('<section id="summary"')
    blocking = large_html.index("<h3>What blocks release</h3>")
    models = large_html.index(f"Models audited ({len(large.models)})")
    assert summary < blocking < models < large_html.index('<section id="lineage"')
    assert re.search(r'<details class="glance-all" id="models-audited">\s*<summary>', large_html)
    # the contents lists the models by one link, not one link per model
    nav = large_html[large_html.index('<nav class="toc"') : large_html.index("</nav>")]
    assert f'<a href="#models-audited">Models ({len(large.models)})</a>' in nav
    assert "example-org/small-00" not in nav


def test_large_html_folds_model_sections_past_the_first(large: AuditResult, large_html: str) -> None:
    from auditor.reports.html import OPEN_SECTIONS, anchor

    assert len(large.models) > OPEN_SECTIONS
    for i, model in enumerate(large.models):
        tag = "section" if i < OPEN_SECTIONS else "details"
        assert f'<{tag} class="model" id="{anchor(model.id)}">' in large_html, model.id
    assert large_html.count('<details class="model"') == len(large.models) - OPEN_SECTIONS
    # a folded section's summary line is its heading: verdict and id, and its errors when it has any
    failing = next(m for m in large.models[OPEN_SECTIONS:] if m.verdict == "fail")
    section = large_html[large_html.index(f'id="{anchor(failing.id)}"') :]
    head = section[: section.index("</summary>")]
    assert "FAIL" in head and failing.id in head and "error" in head


def test_large_html_draws_whole_families_and_says_what_is_left_out(large_html: str) -> None:
    from auditor.reports._graph import DRAW_MAX_NODES

    note = large_html[large_html.index('<div class="graph-note"') :]
    note = re.sub(r"\s+", " ", note[: note.index("</div>")])
    families = SMALL_FAMILIES + 1
    nodes = BIG_FAMILY + 2 * SMALL_FAMILIES
    assert f"The lineage has {nodes} models in {families} families" in note
    assert f"Drawn below: {SMALL_FAMILIES} families ({2 * SMALL_FAMILIES} models), those with failing models first" in note
    assert f"Not drawn: 1 family ({BIG_FAMILY} models)" in note
    assert f"Family of <code>example-org/big-{BIG_FAMILY - 1:03d}</code>: {BIG_FAMILY} models" in note
    svg = large_html[large_html.index("<svg") : large_html.index("</svg>")]
    drawn = set(re.findall(r'data-id="([^"]+)"', svg))
    assert len(drawn) == 2 * SMALL_FAMILIES <= DRAW_MAX_NODES
    assert not any(node.startswith("example-org/big-") for node in drawn)
    # every model, drawn or not, is still listed in the evidence
    evidence = large_html[large_html.index('<section id="evidence"') :]
    assert f"example-org/big-{0:03d}" in evidence and "Models read (220)" in evidence


def test_family_selection_puts_failing_families_first_and_respects_the_caps() -> None:
    from auditor.reports._graph import select_families

    graph, audited = _lineage()
    verdicts = {rid: ("fail" if rid.endswith(("-03", "-06")) else "pass") for rid in audited}
    drawn, selection = select_families(graph, verdicts, max_nodes=10, max_family=50)
    assert selection is not None
    assert [f.name for f in selection.drawn[:2]] == ["example-org/small-03", "example-org/small-06"]
    assert selection.drawn_nodes == 10 and len(drawn.nodes) == 10
    assert selection.drawn_nodes + selection.left_out_nodes == selection.nodes == len(graph.nodes)
    small = LineageGraph(roots=graph.roots[1:4], nodes=[n for n in graph.nodes if "small-0" in n.id][:3], edges=[])
    assert select_families(small, {}) == (small, None)  # small enough: drawn whole, as before


def test_verdict_sentence_names_the_first_blocking_models_only(
    large: AuditResult, large_html: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import auditor.reports.html as html

    blocking = list(dict.fromkeys(f.model for f in c.blocking_findings(large)))
    assert len(blocking) > 2
    monkeypatch.setattr(html, "BLOCKING_NAMED", 2)
    page = render(large, "html").decode("utf-8")
    sentence = page[page.index("must be resolved first:") :]
    sentence = sentence[: sentence.index("</p>")]
    assert sentence.count("<code>") == 2 and f"and {len(blocking) - 2} more (listed below)." in sentence
    # the table still lists every blocking finding
    table = page[page.index('<table class="blocking">') :]
    assert table[: table.index("</table>")].count("<tr>") == len(c.blocking_findings(large)) + 1


def test_incomplete_banner_names_the_first_models_that_need_an_unread_one(monkeypatch: pytest.MonkeyPatch) -> None:
    import auditor.reports.html as html

    result = build_result()
    unread = c.unread_models(result)[0]
    assert len(unread.needed_by) == 1
    monkeypatch.setattr(html, "NEEDED_NAMED", 0)
    page = render(result, "html").decode("utf-8")
    banner = page[page.index('id="incomplete"') : page.index("</div>", page.index('id="incomplete"'))]
    assert f"<code>{unread.id}</code>" in banner and "In the lineage of  and 1 more." in banner
