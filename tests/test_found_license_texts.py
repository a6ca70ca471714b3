"""Rules whose texts were found in ScanCode LicenseDB copies: the xAI Community License Agreement (Hub tag
`grok2-community`), the Intel Research Use License Agreement (`intel-research`) and the Playground v2 Community
License (`playground-v2-community`). One case per restrictive term, each stating its clause; the expected facts
are quoted from the bundled texts, not computed by the auditor."""

from __future__ import annotations

from typing import Any

from auditor.engine import evaluate
from auditor.model import (
    DeclaredLicense,
    DeclaredUse,
    EdgeRecord,
    Evidence,
    LineageGraph,
    ModelFacts,
    NodeRecord,
    Relation,
)
from auditor.rules.loader import load_rules
from auditor.rules.normalize import normalise_declared

BASE = DeclaredUse(commercial=True, production=True, monthly_active_users=1, annual_revenue_usd=1,
                   monthly_active_users_at_release=1, distribution="saas", domicile=["US"], markets=["US"],
                   purposes=["chat-assistant"], trains_on_outputs=False)


def _node(model: str, declared: DeclaredLicense) -> NodeRecord:
    return NodeRecord(id=model, facts=ModelFacts(id=model, requested=model, source="hub", declared=declared))


def _single(model: str, declared: DeclaredLicense) -> LineageGraph:
    return LineageGraph(roots=[model], nodes=[_node(model, declared)], edges=[])


def _child(child: str, child_license: DeclaredLicense, parent: str, parent_license: DeclaredLicense,
           relation: Relation = "finetune") -> LineageGraph:
    ev = Evidence(source="hub", field="cardData.base_model", value=parent)
    return LineageGraph(roots=[child], nodes=[_node(child, child_license), _node(parent, parent_license)],
                        edges=[EdgeRecord(child=child, parent=parent, relation=relation, evidence=[ev])])


def _codes(audit: Any, code: str) -> list[tuple[str | None, str]]:
    return [(f.license, f.severity) for f in audit.findings if f.code == code]


def _tag(tag: str) -> DeclaredLicense:
    return DeclaredLicense(license=[tag])


def _name(name: str) -> DeclaredLicense:
    return DeclaredLicense(license=["other"], license_name=name)


# --------------------------------------------------------------------------- grok2-community


def test_the_official_ids_now_reach_their_rules() -> None:
    rules = load_rules()
    for tag in ("grok2-community", "intel-research"):
        assert normalise_declared(_tag(tag), rules).rule_ids == [tag]
    assert normalise_declared(_name("playground-v2-community"), rules).rule_ids == ["playground-v2-community"]
    # v2.5 has its own text (not read): its name must not fall back on the v2 rule.
    assert "playground-v2-community" not in normalise_declared(_name("playground-v2dot5-community"), rules).rule_ids


def test_grok_outputs_may_not_train_other_general_models() -> None:
    """xAI Community License §2.b: "You may not use the Materials, derivatives, or outputs (including generated data)
    to train, create, or improve any foundational, large language, or general-purpose AI models, except for
    modifications or fine-tuning of xAI Materials"."""
    rules = load_rules()
    graph = _single("example-org/grok-app", _tag("grok2-community"))
    [audit] = evaluate(graph, rules, BASE.model_copy(update={"trains_on_outputs": True}))
    [finding] = [f for f in audit.findings if f.code == "outputs-training"]
    assert (finding.license, finding.severity) == ("grok2-community", "warning")
    assert finding.clause is not None and "including generated data" in finding.clause.quote
    [audit] = evaluate(graph, rules, BASE)
    assert _codes(audit, "outputs-training") == []


def test_grok_service_must_show_powered_by_xai_and_keep_to_the_aup() -> None:
    """§3: "Prominently display “Powered by xAI” in related materials or interfaces."; §5: "You may not use the
    Materials for illegal, unlawful, harmful, or abusive activities." """
    rules = load_rules()
    graph = _single("example-org/grok-app", _tag("grok2-community"))
    [audit] = evaluate(graph, rules, BASE)
    ids = set(audit.obligations)
    assert {"grok2-community:powered-by-xai", "grok2-community:include-agreement-and-notice"} <= ids
    [audit] = evaluate(graph, rules, BASE.model_copy(update={"purposes": ["unlawful"]}))
    assert _codes(audit, "field-of-use") == [("grok2-community", "error")]


def test_a_grok_fine_tune_relabelled_apache_hides_the_agreement() -> None:
    """§3: "If you distribute the Materials, derivatives, or products/services incorporating them: Include this
    Agreement" - a shared fine-tune declaring only apache-2.0 drops it."""
    rules = load_rules()
    graph = _child("example-org/grok-ft", _tag("apache-2.0"), "example-licensor/grok-base", _tag("grok2-community"))
    [audit] = evaluate(graph, rules, BASE.model_copy(update={"distribution": "weights"}))
    assert ("grok2-community", "error") in _codes(audit, "license-conflict")


# --------------------------------------------------------------------------- intel-research


def test_intel_research_use_is_not_commercial_and_not_production() -> None:
    """Intel Research Use License §2: "to use, reproduce, display, and distribute the Material solely for research
    purposes"; §2.1: "Except as authorized above, You will not: (a) use Material in any other way"."""
    rules = load_rules()
    graph = _single("example-org/intel-draft", _tag("intel-research"))
    [audit] = evaluate(graph, rules, BASE)
    assert _codes(audit, "non-commercial") == [("intel-research", "error")]
    [audit] = evaluate(graph, rules, BASE.model_copy(update={"commercial": False}))
    assert _codes(audit, "research-only") == [("intel-research", "error")]
    [audit] = evaluate(graph, rules, BASE.model_copy(update={"commercial": False, "production": False}))
    assert _codes(audit, "research-only") == [] and _codes(audit, "non-commercial") == []


def test_intel_research_grants_no_right_to_adapt() -> None:
    """§2 grants use, reproduction, display and distribution only; §2.2: "Except for the express license in Section
    2, Intel does not grant You any express or implied license under any legal theory." A fine-tune is unlicensed
    even in research and even kept in-house."""
    rules = load_rules()
    research = BASE.model_copy(update={"commercial": False, "production": False, "distribution": "internal"})
    graph = _child("example-org/intel-ft", _tag("intel-research"), "example-licensor/intel-base",
                   _tag("intel-research"))
    [audit] = evaluate(graph, rules, research)
    assert ("intel-research", "error") in _codes(audit, "no-derivatives")
    [audit] = evaluate(_single("example-licensor/intel-base", _tag("intel-research")), rules, research)
    assert _codes(audit, "no-derivatives") == []


# --------------------------------------------------------------------------- playground-v2-community


def test_playground_counts_monthly_unique_users_with_affiliates() -> None:
    """Playground v2 §2: "... the total monthly unique users (MUU) of the products or services made available by or
    for Licensee, or Licensee’s affiliates, ... is greater than 1 million MUUs in the preceding calendar month, then
    immediately thereafter you must request a license from Playground"."""
    rules = load_rules()
    graph = _single("example-org/pg-app", _name("playground-v2-community"))
    [audit] = evaluate(graph, rules, BASE.model_copy(update={"monthly_active_users": 1_500_000}))
    [finding] = [f for f in audit.findings if f.code == "user-threshold"]
    assert (finding.license, finding.severity) == ("playground-v2-community", "error")
    assert "affiliate" in finding.message
    [audit] = evaluate(graph, rules, BASE.model_copy(update={"monthly_active_users": 999_999}))
    assert _codes(audit, "user-threshold") == []


def test_playground_forbids_medical_advice_and_improving_other_image_models() -> None:
    """Attachment A: "To provide medical advice and medical results interpretation;" §1.b.v: "You will not use the
    Playground Materials or any output or results of the Playground Materials to improve any other text-to-image
    generative model"."""
    rules = load_rules()
    graph = _single("example-org/pg-app", _name("playground-v2-community"))
    [audit] = evaluate(graph, rules, BASE.model_copy(update={"purposes": ["medical-advice"]}))
    assert _codes(audit, "field-of-use") == [("playground-v2-community", "error")]
    [audit] = evaluate(graph, rules, BASE.model_copy(update={"trains_on_outputs": True}))
    assert _codes(audit, "outputs-training") == [("playground-v2-community", "warning")]


def test_playground_distribution_ships_the_notice_file() -> None:
    """§1.b.iii: "You must retain in all copies of the Playground Materials that you distribute the following
    attribution notice within a “Notice” text file"."""
    rules = load_rules()
    graph = _single("example-org/pg-weights", _name("playground-v2-community"))
    [audit] = evaluate(graph, rules, BASE.model_copy(update={"distribution": "weights"}))
    assert "playground-v2-community:notice-file" in set(audit.obligations)
    [audit] = evaluate(graph, rules, BASE.model_copy(update={"distribution": "internal"}))
    assert "playground-v2-community:notice-file" not in set(audit.obligations)
