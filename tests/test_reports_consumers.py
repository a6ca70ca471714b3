"""Reports as their consumers read them (issue 12): the saved result carries its license catalogue, so
every report renders from it alone; SPDX ships an extracted text for every LicenseRef and hangs the
whole lineage off the product; CycloneDX states the concluded terms as one expression (what
Dependency-Track reads); THIRD_PARTY_NOTICES ships notices, copyright lines and full texts.

Two audits are used: one made by the engine from a hand-built lineage with an organisation's own rule
folder (three `example-org` licenses: two with a bundled text, one without), and the bundled example
(`examples/auditor.yaml` on its snapshot, seven models).
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

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
from auditor.paths import bundled_rules_dir
from auditor.reports import _common as c
from auditor.reports.base import REPORTERS, render
from tests.report_fixtures import EXAMPLE_MANIFEST, build_result, run_example_audit

APP = "example-org/app-model"  # declares apache-2.0, fine-tuned from BASE
BASE = "example-org/acme-base"  # declares the Acme Model License, which does not flow down
WEIGHTS = "example-org/acme-weights"  # declares the Acme Weights License (text and copyright bundled)
QUANT = "example-org/acme-weights-q4"  # a quantization of WEIGHTS
NOTEXT = "example-org/notext-model"  # declares the Acme Research License (no text bundled)

MODEL_TEXT = "ACME MODEL LICENSE 2.1\n\nYou may use the Acme Model.\n"
WEIGHTS_TEXT = (
    "ACME WEIGHTS LICENSE 1.0\n\n"
    "Copyright (c) 2026 Example Org Weights Division. All Rights Reserved.\n\n"
    "1. You may use, copy and share the weights.\n"
    "2. Keep this notice: </text> and <text> are plain words here.\n"
)
WEIGHTS_COPYRIGHT = "Copyright (c) 2026 Example Org Weights Division. All Rights Reserved."
NOTEXT_URL = "https://example.com/acme-research-license"


def write_rule(folder: Path, rule_id: str, name: str, *, text: str | None = None, **overrides: Any) -> Path:
    """An organisation rule (the bundled MIT rule renamed), with its text in `texts/` when given."""
    rule = yaml.safe_load((bundled_rules_dir() / "mit.yaml").read_text(encoding="utf-8"))
    rule.update({"id": rule_id, "name": name, "spdx": f"LicenseRef-{rule_id}", "version": "1.0",
                 "url": f"https://example.com/{rule_id}", "aliases": {"names": [rule_id]}})
    for key in ("text_file", "text_source"):  # the MIT rule's own text stays with it
        rule.pop(key, None)
    if text is not None:
        (folder / "texts").mkdir(exist_ok=True)
        (folder / "texts" / f"{rule_id}.txt").write_text(text, encoding="utf-8")
        rule["text_file"] = f"texts/{rule_id}.txt"
        rule["text_source"] = f"https://example.com/{rule_id}/LICENSE"
    rule.update(overrides)
    path = folder / f"{rule_id}.yaml"
    path.write_text(yaml.safe_dump(rule, sort_keys=False), encoding="utf-8")
    return path


def org_rules(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    cite = {"section": "1", "quote": "You may use the Acme Model."}
    write_rule(folder, "example-acme-model", "Acme Model License 2.1", text=MODEL_TEXT,
               flows_down={"finetune": False, "adapter": False, "quantized": False, "merge": False, "cite": cite})
    write_rule(folder, "example-acme-weights", "Acme Weights License 1.0", text=WEIGHTS_TEXT,
               copyright=[WEIGHTS_COPYRIGHT])
    write_rule(folder, "example-acme-research", "Acme Research License", url=NOTEXT_URL)
    return folder


def _node(rid: str, license_id: str, pipeline_tag: str = "text-generation", tags: tuple[str, ...] = ()) -> NodeRecord:
    facts = ModelFacts(id=rid, requested=rid, source="hub", sha="ab" * 20, author="example-org",
                       pipeline_tag=pipeline_tag, tags=list(tags), declared=DeclaredLicense(license=[license_id]))
    return NodeRecord(id=rid, facts=facts)


def _edge(child: str, parent: str, relation: str) -> EdgeRecord:
    ev = Evidence(source="hub", field="cardData.base_model", value=parent)
    return EdgeRecord(child=child, parent=parent, relation=relation, evidence=[ev])  # type: ignore[arg-type]


def org_audit(folder: Path) -> AuditResult:
    """An engine result made with the organisation's rule folder."""
    from auditor.audit import AuditEntry
    from auditor.audit import build_result as evaluate
    from auditor.rules.loader import load_rules

    nodes = [
        _node(APP, "apache-2.0", tags=("dataset:example-org/support-chats", "dataset:example-org/faq", "base_model:x")),
        _node(BASE, "example-acme-model"),
        _node(WEIGHTS, "example-acme-weights"),
        _node(QUANT, "example-acme-weights", pipeline_tag=""),
        _node(NOTEXT, "example-acme-research"),
    ]
    graph = LineageGraph(roots=[APP, QUANT, NOTEXT], nodes=nodes,
                         edges=[_edge(APP, BASE, "finetune"), _edge(QUANT, WEIGHTS, "quantized")])
    use = DeclaredUse(commercial=True, monthly_active_users=10, annual_revenue_usd=10, distribution="weights",
                      regions=["US"], purposes=["chat-assistant"], production=True, trains_on_outputs=False)
    entries = [AuditEntry(ref=ModelRef(kind="hub", id=rid)) for rid in graph.roots]
    result = evaluate(graph, entries, load_rules([folder]), use, None, product="Acme Bot", manifest="acme.yaml",
                      generated_at="2026-01-01T00:00:00Z")
    return AuditResult.model_validate_json(render(result, "json"))  # as saved and read back


@pytest.fixture(scope="module")
def org(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    return org_audit(org_rules(tmp_path_factory.mktemp("org") / "rules"))


@pytest.fixture(scope="module")
def example(tmp_path_factory: pytest.TempPathFactory) -> AuditResult:
    out = tmp_path_factory.mktemp("example") / "out"
    run = run_example_audit(out, "--format", "json", manifest=EXAMPLE_MANIFEST)
    assert (out / "audit.json").exists(), run.output
    return AuditResult.model_validate_json((out / "audit.json").read_text(encoding="utf-8"))


# --------------------------------------------------------------------------- the result's catalogue


def test_the_result_carries_every_license_it_mentions_with_its_text(org: AuditResult) -> None:
    catalogue = org.license_catalogue
    assert org.schema_version == "1.3"
    assert set(catalogue) == {"apache-2.0", "example-acme-model", "example-acme-weights", "example-acme-research"}
    weights = catalogue["example-acme-weights"]
    assert (weights.name, weights.spdx, weights.kind, weights.version) == (
        "Acme Weights License 1.0", "LicenseRef-example-acme-weights", "permissive", "1.0")
    assert weights.url == "https://example.com/example-acme-weights"
    assert weights.text == WEIGHTS_TEXT and weights.text_file == "texts/example-acme-weights.txt"
    assert weights.text_sha256 == hashlib.sha256(WEIGHTS_TEXT.encode("utf-8")).hexdigest()
    assert weights.copyright == [WEIGHTS_COPYRIGHT]
    assert catalogue["example-acme-research"].text is None and catalogue["example-acme-research"].url == NOTEXT_URL
    saved = render(org, "json").decode("utf-8")
    assert saved.count("You may use, copy and share the weights") == 1  # once per license, not per model


def test_the_example_result_names_each_license_it_mentions(example: AuditResult) -> None:
    mentioned = {rid for rids in example.node_licenses.values() for rid in rids}
    mentioned |= {el.license for m in example.models for el in m.effective_licenses}
    mentioned |= {ob.license for ob in example.obligations}
    assert mentioned <= set(example.license_catalogue)
    assert example.license_catalogue["llama3.1"].name == "Llama 3.1 Community License Agreement"


def test_report_renders_an_organisation_license_by_name_without_its_rule_folder(
    org: AuditResult, tmp_path: Path
) -> None:
    """`auditor report` of a saved result made with `--rules ORGDIR`, run without it: the license an ancestor
    declares (which reaches no audited model) is named, not "Unknown" / NOASSERTION."""
    from typer.testing import CliRunner

    from auditor.cli import app

    saved = tmp_path / "audit.json"
    saved.write_bytes(render(org, "json"))
    run = CliRunner().invoke(app, ["report", str(saved), "--format", "all", "--out", str(tmp_path / "again")])
    assert run.exit_code == 0, run.output
    again = {fmt: (tmp_path / "again" / r.file_name).read_text(encoding="utf-8") for fmt, r in REPORTERS.items()}
    for fmt in ("html", "spdx-json", "spdx-tv"):
        assert "Acme Model License 2.1" in again[fmt], fmt
    spdx = json.loads(again["spdx-json"])
    base = next(p for p in spdx["packages"] if p["name"] == BASE)
    assert base["licenseDeclared"] == "LicenseRef-example-acme-model"
    extracted = {e["licenseId"]: e for e in spdx["hasExtractedLicensingInfos"]}
    assert extracted["LicenseRef-example-acme-model"]["name"] == "Acme Model License 2.1"
    assert extracted["LicenseRef-example-acme-model"]["extractedText"] == MODEL_TEXT
    for fmt in REPORTERS:  # byte for byte what the audit itself wrote
        assert again[fmt].encode("utf-8") == render(org, fmt), fmt


def test_a_result_renders_the_same_bytes_whatever_rules_are_installed(
    org: AuditResult, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = {fmt: render(org, fmt) for fmt in REPORTERS}
    other = {rid: c.LicenseInfo(rid, "Some Other Name", "NOASSERTION", "unknown") for rid in org.license_catalogue}
    fresh = AuditResult.model_validate_json(before["json"])  # no per-result cache carried over
    monkeypatch.setattr(c, "bundled_rule_infos", lambda: other)
    for fmt in REPORTERS:
        assert render(fresh, fmt) == before[fmt], fmt


def test_a_result_saved_before_the_catalogue_still_renders(monkeypatch: pytest.MonkeyPatch) -> None:
    """Schema 1.0 (no `license_catalogue`): every format renders, names falling back to the bundled rules."""
    data = json.loads(render(build_result(), "json"))
    data["schema_version"] = "1.0"
    del data["license_catalogue"]
    data["node_licenses"]["example-labs/missing-model"] = ["mit"]  # a license no audited model carries
    legacy = AuditResult.model_validate(data)
    assert legacy.license_catalogue == {}
    for fmt in REPORTERS:
        assert render(legacy, fmt), fmt
    assert c.license_info(legacy, "mit").name == "MIT License"  # read from the bundled rule files
    current = legacy.model_copy(update={"schema_version": "1.1"})
    assert c.license_info(current, "mit").name == "mit"  # a 1.1 result never reads them


# --------------------------------------------------------------------------- SPDX


def _license_refs(doc: dict[str, Any]) -> set[str]:
    refs: set[str] = set()
    for package in doc["packages"]:
        for key in ("licenseConcluded", "licenseDeclared"):
            refs |= set(re.findall(r"LicenseRef-[A-Za-z0-9.\-]+", package.get(key, "")))
    return refs


def test_spdx_every_license_ref_has_its_extracted_text(example: AuditResult, org: AuditResult) -> None:
    """SPDX 2.3 §10 for each LicenseRef used, ScanCode keys included (spdx-tools knows those, so its
    validation alone never caught them missing); the full text when the result has it, else a text that
    says it is not bundled and where it is. The gap is counted, so it stays visible."""
    from auditor.reports.spdx import NOT_BUNDLED

    for result in (example, org):
        doc = json.loads(render(result, "spdx-json"))
        extracted = {e["licenseId"]: e for e in doc.get("hasExtractedLicensingInfos", [])}
        assert _license_refs(doc) == set(extracted), result.product
        for entry in extracted.values():
            assert entry["name"] and entry["extractedText"]
    doc = json.loads(render(example, "spdx-json"))
    stubs = [e for e in doc["hasExtractedLicensingInfos"] if e["extractedText"].startswith(NOT_BUNDLED)]
    with_text = {rid for rid, e in example.license_catalogue.items() if e.text and e.spdx.startswith("LicenseRef-")}
    assert len(doc["hasExtractedLicensingInfos"]) - len(stubs) <= len(with_text)
    llama = next(e for e in doc["hasExtractedLicensingInfos"] if e["licenseId"].startswith("LicenseRef-scancode-llama-3.1"))
    assert llama["name"] == "Llama 3.1 Community License Agreement"
    if not example.license_catalogue["llama3.1"].text:
        assert "https://" in llama["extractedText"] and llama in stubs

    org_doc = json.loads(render(org, "spdx-json"))
    org_extracted = {e["licenseId"]: e for e in org_doc["hasExtractedLicensingInfos"]}
    assert org_extracted["LicenseRef-example-acme-weights"]["extractedText"] == WEIGHTS_TEXT
    research = org_extracted["LicenseRef-example-acme-research"]["extractedText"]
    assert research.startswith(NOT_BUNDLED) and NOTEXT_URL in research
    assert [e for e in org_extracted.values() if e["extractedText"].startswith(NOT_BUNDLED)] == [
        org_extracted["LicenseRef-example-acme-research"]]  # the one license without a text: counted


def test_spdx_full_texts_survive_tag_value(org: AuditResult, tmp_path: Path) -> None:
    """A license text saying `</text>` does not end the tag-value field; the document parses and validates."""
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    path = tmp_path / "audit.spdx"
    path.write_bytes(render(org, "spdx-tv"))
    doc = parse_file(str(path))
    assert validate_full_spdx_document(doc) == []
    text = next(str(e.extracted_text) for e in doc.extracted_licensing_info
                if e.license_id == "LicenseRef-example-acme-weights")
    assert "1. You may use, copy and share the weights." in text and "[/text] and [text]" in text


@pytest.mark.parametrize("which", ["example", "org", "fixture"])
def test_spdx_lineage_hangs_off_the_product_for_ntia(
    which: str, example: AuditResult, org: AuditResult, tmp_path: Path
) -> None:
    from ntia_conformance_checker import SbomChecker
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    from auditor.reports.spdx import RELATIONSHIP_OF, build_document, product_id, spdx_id_for

    result = {"example": example, "org": org, "fixture": build_result()}[which]
    assert validate_full_spdx_document(build_document(result)) == []
    path = tmp_path / "audit.spdx.json"
    path.write_bytes(render(result, "spdx-json"))
    checker = SbomChecker(str(path))
    assert checker.floating_component_ids == set(), which
    assert checker.check_compliance() is True
    doc = json.loads(path.read_text(encoding="utf-8"))
    rels = {(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]) for r in doc["relationships"]}
    assert [r for r in rels if r[1] == "DESCRIBES"] == [("SPDXRef-DOCUMENT", "DESCRIBES", product_id(result))]
    for root in result.graph.roots:
        assert (product_id(result), "DEPENDS_ON", spdx_id_for(root)) in rels
    for edge in result.graph.edges:
        child, parent = spdx_id_for(edge.child), spdx_id_for(edge.parent)
        assert (child, RELATIONSHIP_OF[edge.relation], parent) in rels
        assert (child, "DEPENDS_ON", parent) in rels
    assert "VARIANT_OF" not in {kind for _, kind, _ in rels}


def test_spdx_relationship_table_is_documented() -> None:
    from auditor.reports import spdx
    from auditor.vocab import RELATIONS

    assert set(spdx.RELATIONSHIP_OF) == set(RELATIONS)
    assert spdx.RELATIONSHIP_OF["quantized"] == "GENERATED_FROM"
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    for relation, kind in spdx.RELATIONSHIP_OF.items():
        row = rf"\| `{relation}` +\| `{kind}` +\|"
        assert spdx.__doc__ and re.search(row, spdx.__doc__), relation
        assert re.search(row, readme), relation


# --------------------------------------------------------------------------- CycloneDX


def dependency_track_license(component: dict[str, Any]) -> str | None:
    """The license Dependency-Track shows for a component, by its documented parsing of CycloneDX: the
    `expression` if there is one, else the first license whose SPDX id it knows (its own copy of the
    SPDX list), else the first license's name; `acknowledgement` and `evidence` are not read."""
    from cyclonedx.spdx import is_supported_id

    entries = component.get("licenses", [])
    for entry in entries:
        if "expression" in entry:
            return str(entry["expression"])
    for entry in entries:
        lic = entry.get("license", {})
        if lic.get("id") and is_supported_id(lic["id"]):
            return str(lic["id"])
    names = [entry["license"]["name"] for entry in entries if entry.get("license", {}).get("name")]
    return names[0] if names else None


@pytest.mark.parametrize("which", ["example", "org", "fixture"])
def test_dependency_track_reads_the_concluded_terms_of_every_audited_model(
    which: str, example: AuditResult, org: AuditResult
) -> None:
    from auditor.reports.spdx import conjunction

    result = {"example": example, "org": org, "fixture": build_result()}[which]
    bom = json.loads(render(result, "cyclonedx"))
    components = {comp["bom-ref"]: comp for comp in bom["components"]}
    for model in result.models:
        infos = [c.LicenseInfo(el.license, el.name, el.spdx, el.kind, el.url) for el in model.effective_licenses]
        concluded, _ = conjunction(infos)
        component = components[model.id]
        assert dependency_track_license(component) == concluded, model.id
        assert component["licenses"] == [{"expression": concluded, "acknowledgement": "concluded"}]
        declared = [e["license"] for e in component.get("evidence", {}).get("licenses", [])]
        assert all(lic["acknowledgement"] == "declared" for lic in declared)
    if which == "example":
        distill = dependency_track_license(components["deepseek-ai/DeepSeek-R1-Distill-Llama-8B"])
        assert distill == "LicenseRef-scancode-llama-3.1-license-2024 AND MIT"  # not MIT alone
        nc = dependency_track_license(components["CohereForAI/c4ai-command-r-plus"])
        assert nc == "CC-BY-NC-4.0"


def test_cyclonedx_model_card_says_what_the_card_says(org: AuditResult) -> None:
    bom = json.loads(render(org, "cyclonedx"))
    components = {comp["bom-ref"]: comp for comp in bom["components"]}
    assert components[APP]["modelCard"] == {
        "modelParameters": {
            "task": "text-generation",
            "datasets": [{"type": "dataset", "name": "example-org/faq"},
                         {"type": "dataset", "name": "example-org/support-chats"}],
        },
        "properties": [{"name": "model-license-auditor:base-model", "value": f"{BASE} (finetune)"}],
    }
    assert components[QUANT]["modelCard"] == {
        "properties": [{"name": "model-license-auditor:base-model", "value": f"{WEIGHTS} (quantized)"}]}
    assert components[NOTEXT]["modelCard"] == {"modelParameters": {"task": "text-generation"}}
    assert "modelCard" not in json.dumps(components[QUANT].get("pedigree", {}))  # copies stay lean


def test_cyclonedx_embeds_a_bundled_text_once_and_validates(org: AuditResult) -> None:
    from auditor.reports.cyclonedx import bom_data, library_json, validation_errors

    text = render(org, "cyclonedx").decode("utf-8")
    assert validation_errors(text) == []
    assert bom_data(org) == library_json(org)
    bom = json.loads(text)
    embedded = [
        (comp["bom-ref"], entry["license"])
        for comp in bom["components"]
        for entry in comp.get("evidence", {}).get("licenses", [])
        if "text" in entry["license"]
    ]
    assert [(ref, lic["name"], lic["text"]["content"]) for ref, lic in embedded] == [
        (BASE, "Acme Model License 2.1 (LicenseRef-example-acme-model)", MODEL_TEXT),
        (WEIGHTS, "Acme Weights License 1.0 (LicenseRef-example-acme-weights)", WEIGHTS_TEXT),
    ]  # once per BOM: the quantization that declares the same license carries its name and URL only
    quant = next(comp for comp in bom["components"] if comp["bom-ref"] == QUANT)
    assert quant["evidence"]["licenses"] == [{"license": {
        "acknowledgement": "declared", "name": "Acme Weights License 1.0 (LicenseRef-example-acme-weights)",
        "url": "https://example.com/example-acme-weights"}}]


def test_cyclonedx_fixture_validates_with_its_model_cards() -> None:
    from auditor.reports.cyclonedx import validation_errors

    result = build_result()
    node = result.graph.nodes[0].model_copy(update={"facts": result.graph.nodes[0].facts.model_copy(  # type: ignore[union-attr]
        update={"tags": ["dataset:a/b", "dataset:", "dataset:\u202eevil\u0000"]})})
    graph = result.graph.model_copy(update={"nodes": [node, *result.graph.nodes[1:]]})
    text = render(result.model_copy(update={"graph": graph}), "cyclonedx").decode("utf-8")
    assert validation_errors(text) == []
    card = next(comp for comp in json.loads(text)["components"] if comp["bom-ref"] == node.id)["modelCard"]
    assert card["modelParameters"]["datasets"] == [{"type": "dataset", "name": "a/b"},
                                                   {"type": "dataset", "name": "evil"}]


# --------------------------------------------------------------------------- THIRD_PARTY_NOTICES


def _sections(text: str) -> dict[str, str]:
    parts = re.split(r"^={72}\n\d+\. (.+)\n={72}$", text, flags=re.M)
    return {parts[i]: parts[i + 1] for i in range(1, len(parts) - 1, 2)}


def test_third_party_notices_ship_notices_copyright_and_full_texts(org: AuditResult) -> None:
    from auditor.reports.notice import FULL_TEXT_NOT_BUNDLED

    text = render(org, "third-party-notices").decode("utf-8")
    sections = _sections(text)
    names = {org.license_catalogue[el.license].name for m in org.models for el in m.effective_licenses}
    assert set(sections) == names
    assert "Acme Model License 2.1" not in sections  # it binds no audited model: it does not flow down
    weights = sections["Acme Weights License 1.0"]
    assert f"Copyright:\n  {WEIGHTS_COPYRIGHT}\n" in weights
    assert WEIGHTS_TEXT.rstrip("\n") in weights and f"  - {QUANT}\n" in weights
    research = sections["Acme Research License"]
    assert f"{FULL_TEXT_NOT_BUNDLED}: {NOTEXT_URL}" in research
    assert "Copyright: not known (the license text is not bundled)" in research
    for name, body in sections.items():  # every license: its text, or a line saying where it is
        entry = next(e for e in org.license_catalogue.values() if e.name == name)
        assert (entry.text is not None and entry.text.strip() in body) or FULL_TEXT_NOT_BUNDLED in body, name


def test_third_party_notices_of_the_example(example: AuditResult) -> None:
    from auditor.reports.notice import FULL_TEXT_NOT_BUNDLED, is_notice_obligation

    text = render(example, "third-party-notices").decode("utf-8")
    assert text.startswith("THIRD-PARTY NOTICES\n\nLicenses of the third-party AI models in Acme Support Assistant")
    assert "INCOMPLETE" not in text  # every model of the example's lineage is read
    sections = _sections(text)
    bound = {el.license for m in example.models for el in m.effective_licenses}
    assert set(sections) == {example.license_catalogue[rid].name for rid in bound}
    llama = sections["Llama 3.1 Community License Agreement"]
    assert "deepseek-ai/DeepSeek-R1-Distill-Llama-8B (through meta-llama/Llama-3.1-8B)" in llama
    assert 'Prominently display "Built with Llama"' in " ".join(llama.split())
    notices = [ob for ob in example.obligations if ob.license == "llama3.1" and is_notice_obligation(ob)]
    assert {ob.id for ob in notices} == {"llama3.1:built-with-llama", "llama3.1:name-prefix-llama"}
    assert all(" ".join(ob.text.split()) in " ".join(llama.split()) for ob in notices)
    aup = next(ob for ob in example.obligations if ob.id == "llama3.1:acceptable-use-policy")
    assert " ".join(aup.text.split()) not in " ".join(llama.split())  # a use duty: NOTICE.txt lists it
    missing = [rid for rid in bound if not example.license_catalogue[rid].text]
    assert text.count(FULL_TEXT_NOT_BUNDLED + ":") == len(missing)  # the gap, counted


def test_notice_obligations_are_told_by_their_ids() -> None:
    from auditor.model import Obligation
    from auditor.reports.notice import is_notice_obligation

    def ob(oid: str) -> Obligation:
        return Obligation(id=oid, license="x", text="t")

    assert all(is_notice_obligation(ob(i)) for i in ("notice-file", "llama3.1:built-with-llama", "attribution",
                                                     "retain-notices", "cc-by-4.0:attribution"))
    assert not any(is_notice_obligation(ob(i)) for i in ("acceptable-use-policy", "llama3.1:no-improving-other-llms",
                                                         "mark-modifications", "noticeable"))


# --------------------------------------------------------------------------- rule files: copyright lines


def test_copyright_lines_must_be_quoted_from_the_bundled_text(tmp_path: Path) -> None:
    from auditor.rules.loader import load_rules, validate_dirs

    ok = write_rule(tmp_path, "example-good", "Good", text="Copyright (c) Example Org.\n\nText.\n",
                    copyright=["Copyright  (c) Example Org."])  # whitespace folded
    assert load_rules([tmp_path]).rules["example-good"].copyright == ["Copyright  (c) Example Org."]
    ok.unlink()
    bad = write_rule(tmp_path, "example-bad", "Bad", text="Text without one.\n", copyright=["Copyright (c) Nobody"])
    errors, _ = validate_dirs([tmp_path])
    assert any(e.startswith(f"{bad}:1: copyright[0]:") and "is not in texts/example-bad.txt" in e for e in errors), errors


@pytest.mark.parametrize(("value", "problem"), [
    (["Copyright (c) X"], "add text_file"),  # no text to quote from
    ([""], "at least 1 character"),  # empty
    (["x" * 501], "at most 500 characters"),  # huge
    ("Copyright (c) X", "valid list"),  # not a list
])
def test_a_bad_copyright_field_is_a_located_error(tmp_path: Path, value: object, problem: str) -> None:
    from auditor.rules.loader import validate_dirs

    path = write_rule(tmp_path, "example-odd", "Odd", copyright=value)
    errors, _ = validate_dirs([tmp_path])
    assert any(e.startswith(f"{path}:") and "copyright" in e and problem in e for e in errors), errors


def test_a_misspelt_copyright_field_is_refused(tmp_path: Path) -> None:
    from auditor.rules.loader import validate_dirs

    path = write_rule(tmp_path, "example-typo", "Typo", copyrigth=["Copyright (c) X"])
    errors, _ = validate_dirs([tmp_path])
    assert any(e.startswith(f"{path}:") and "copyrigth" in e for e in errors), errors
