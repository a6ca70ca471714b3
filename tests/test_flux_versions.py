"""FLUX.1 [dev] Non-Commercial License versions, each read from black-forest-labs/flux at a pinned commit: the 2024
text (v1), v1.1 (26 June 2025) and v1.1.1 (the current text, which the Hub name and link read as). A model held
under an earlier text declares that text's rule id; the expectations are quoted from the bundled texts."""

from __future__ import annotations

from auditor.engine import evaluate
from auditor.model import DeclaredLicense, DeclaredUse, LineageGraph, ModelFacts, NodeRecord
from auditor.rules.loader import load_rules

CURRENT, V1_1, V1 = ("flux-1-dev-non-commercial-license", "flux-1-dev-non-commercial-license-v1.1",
                     "flux-1-dev-non-commercial-license-v1")
USE = DeclaredUse(commercial=False, production=False, distribution="internal", domicile=["US"], markets=["US"],
                  purposes=["image-generation"], trains_on_outputs=False, monthly_active_users=1,
                  annual_revenue_usd=0)


def _graph(model: str, version: str | None = None) -> LineageGraph:
    declared = (DeclaredLicense(license=["other"], license_name=version) if version else DeclaredLicense(
        license=["other"], license_name="flux-1-dev-non-commercial-license",
        license_link="https://huggingface.co/black-forest-labs/FLUX.1-dev/blob/main/LICENSE.md"))
    return LineageGraph(roots=[model], nodes=[NodeRecord(id=model, facts=ModelFacts(
        id=model, requested=model, source="hub", declared=declared))], edges=[])


def test_each_version_text_says_what_its_rule_says() -> None:
    rules = load_rules()
    current, v11, v1 = (rules.license_text(r) or "" for r in (CURRENT, V1_1, V1))
    assert current.startswith("FLUX.1 [dev] Non-Commercial License v1.1.1")
    assert v11.startswith("FLUX.1 [dev] Non-Commercial License v1.1 ")
    assert v1.startswith("FLUX.1 [dev] Non-Commercial License \n")
    assert "You may use Output for any purpose (including for commercial purposes)" in current
    assert "You may use Output for any purpose (including for commercial purposes)" in v1
    assert "You may use Output for any purpose" not in v11
    assert "Content Filters" in current and "Content Filters" in v11 and "Content Filters" not in v1


def test_the_hub_name_reads_as_the_current_text_without_ambiguity() -> None:
    rules = load_rules()
    [audit] = evaluate(_graph("example-org/flux-ft"), rules, USE)
    assert [e.license for e in audit.effective_licenses] == [CURRENT]
    assert "ambiguous-license" not in {f.code for f in audit.findings}


def test_the_2024_text_has_no_content_filter_duty() -> None:
    """v1.1.1 §2.e: "implement and maintain content filtering measures (“Content Filters”)"; the 2024 text has no such
    clause, so a model held under it carries no content-filters obligation."""
    rules = load_rules()
    [audit] = evaluate(_graph("example-org/flux-ft", V1), rules, USE)
    assert [e.license for e in audit.effective_licenses] == [V1]
    assert not any(oid.endswith(":content-filters") for oid in audit.obligations)
    [audit] = evaluate(_graph("example-org/flux-ft"), rules, USE)
    assert f"{CURRENT}:content-filters" in set(audit.obligations)


def test_v1_1_bans_training_competitors_on_the_model_and_its_output() -> None:
    """v1.1 §4.b: "use the FLUX.1 [dev] Model, Derivatives, or Output to train, fine-tune or distill a model that is
    competitive with the FLUX.1 [dev] Model"; the finding quotes that clause, not v1.1.1's §2.d."""
    rules = load_rules()
    [audit] = evaluate(_graph("example-org/flux-ft", V1_1), rules, USE.model_copy(update={"trains_on_outputs": True}))
    [finding] = [f for f in audit.findings if f.code == "outputs-training"]
    assert finding.license == V1_1 and finding.clause is not None and finding.clause.section == "§4.b"


def test_every_version_is_non_commercial_and_non_production() -> None:
    """§2.b (every version): only "for Non-Commercial Purposes"; §1.c excludes direct interactions with end users."""
    for rule_id in (V1, V1_1):
        rules = load_rules()
        [audit] = evaluate(_graph("example-org/flux-ft", rule_id), rules, USE.model_copy(update={"commercial": True}))
        assert (rule_id, "error") in [(f.license, f.severity) for f in audit.findings if f.code == "non-commercial"]
        [audit] = evaluate(_graph("example-org/flux-ft", rule_id), rules, USE.model_copy(update={"production": True}))
        assert (rule_id, "error") in [(f.license, f.severity) for f in audit.findings if f.code == "research-only"]
