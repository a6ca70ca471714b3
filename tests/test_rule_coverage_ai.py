"""Rule files for AI-model licenses added for "Legal accuracy", item 1: they load, cite every term, and the
Hub tag / license_name / license_link that real cards use normalises to them (recorded corpus cards included)."""

from __future__ import annotations

from typing import Any

import pytest

from auditor.model import DeclaredLicense, ModelFacts, ModelRef
from auditor.rules.loader import RuleSet, load_rules
from auditor.rules.normalize import normalise_declared
from auditor.rules.schema import Citation, LicenseRule
from auditor.sources.hub import facts_from_api
from tests.hub.recorded import corpus_bodies

# rule id -> (official Hub `license:` tags, `license_name` spellings seen on cards, a `license_link` seen or published)
ADDED: dict[str, tuple[list[str], list[str], str | None]] = {
    "apple-amlr": (["apple-amlr"], ["apple-amlr"], "https://github.com/apple/ml-fastvlm/blob/main/LICENSE_MODEL"),
    "fair-noncommercial-research-license": (
        ["fair-noncommercial-research-license"], ["FAIR Noncommercial Research License"],
        "https://github.com/facebookresearch/spiritlm/blob/main/LICENSE"),
    "deepfloyd-if-license": (["deepfloyd-if-license"], ["DeepFloyd IF Research License Agreement"],
                             "https://github.com/deep-floyd/IF/blob/main/LICENSE-MODEL"),
    "opt-175b": ([], ["opt-175b", "OPT-175B License Agreement"],
                 "https://github.com/facebookresearch/metaseq/blob/main/projects/OPT/MODEL_LICENSE.md"),
    "stabilityai-nc-research-community": (
        [], ["stabilityai-nc-research-community", "sai-nc-community", "stable-cascade-nc-community"],
        "https://huggingface.co/stabilityai/sdxl-turbo/blob/main/LICENSE.md"),
    "stable-video-diffusion-community": (
        [], ["stable-video-diffusion-community"],
        "https://github.com/Stability-AI/generative-models/blob/main/model_licenses/LICENSE-SVD"),
    "glm-4": ([], ["glm-4"], "https://huggingface.co/THUDM/glm-4-9b-chat/blob/main/LICENSE"),
    "falcon-2-11b-tii-license-1.0": (
        [], ["TII Falcon License 2.0", "Falcon 2 11B TII License"],
        "https://falconllm-staging.tii.ae/falcon-2-terms-and-conditions.html"),
}

# Recorded real cards (tests/hub/data) that declare one of these licenses -> the rule they must normalise to.
CORPUS: dict[str, str] = {
    "THUDM/glm-4-9b": "glm-4",
    "THUDM/glm-4-9b-chat": "glm-4",
    "THUDM/glm-4-9b-chat-1m": "glm-4",
    "THUDM/glm-4v-9b": "glm-4",
    "stabilityai/sdxl-turbo": "stabilityai-nc-research-community",
    "stabilityai/stable-zero123": "stabilityai-nc-research-community",
    "stabilityai/stable-cascade": "stabilityai-nc-research-community",
    "leo009/stable-diffusion-3-medium": "stabilityai-nc-research-community",
    "stabilityai/stable-video-diffusion-img2vid": "stable-video-diffusion-community",
    "stabilityai/stable-video-diffusion-img2vid-xt": "stable-video-diffusion-community",
}


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


def _citations(rule: LicenseRule) -> list[tuple[str, Citation]]:
    cites = [("commercial", rule.commercial.cite), ("flows_down", rule.flows_down.cite),
             ("derivative_licensing", rule.derivative_licensing.cite), ("redistribution", rule.redistribution.cite)]
    cites += [(f"thresholds[{i}]", t.cite) for i, t in enumerate(rule.thresholds)]
    cites += [(f"territory[{i}]", t.cite) for i, t in enumerate(rule.territory)]
    cites += [(f"field_of_use.{f.purpose}", f.cite) for f in rule.field_of_use]
    cites += [(f"obligations.{o.id}", o.cite) for o in rule.obligations]
    if rule.acceptable_use_policy is not None:
        cites.append(("acceptable_use_policy", rule.acceptable_use_policy.cite))
    if rule.outputs_training is not None:
        cites.append(("outputs_training", rule.outputs_training.cite))
    return cites


@pytest.mark.parametrize("rule_id", sorted(ADDED))
def test_rule_loads_and_cites_every_term(rules: RuleSet, rule_id: str) -> None:
    rule = rules.rules[rule_id]
    for where, cite in _citations(rule):
        assert cite.section.strip() and len(cite.quote.strip()) >= 8, (rule_id, where)
    # the source read is named, and every term the schema cannot express is said in words
    assert rule.reviewed.strip() and rule.not_encoded, rule_id
    assert rule.summary.strip() and rule.url.startswith("https://")


@pytest.mark.parametrize("rule_id", sorted(ADDED))
def test_hub_tag_license_name_and_link_normalise_to_the_rule(rules: RuleSet, rule_id: str) -> None:
    tags, names, link = ADDED[rule_id]
    for tag in tags:
        for declared in (DeclaredLicense(license=[tag]), DeclaredLicense(tag_licenses=[tag])):
            norm = normalise_declared(declared, rules)
            assert norm.rule_ids == [rule_id] and norm.unrecognised == [], (tag, norm)
    for name in names:
        norm = normalise_declared(DeclaredLicense(license=["other"], license_name=name), rules)
        assert norm.rule_ids == [rule_id] and norm.unrecognised == [], (name, norm)
    if link:
        norm = normalise_declared(DeclaredLicense(license=["other"], license_link=link), rules)
        assert norm.rule_ids == [rule_id], (link, norm)


def _declared(repo_id: str, body: dict[str, Any]) -> DeclaredLicense:
    facts = facts_from_api(body, ModelRef(kind="hub", id=repo_id), source="hub", retrieved_at="x",
                           endpoint="https://huggingface.co")
    assert isinstance(facts, ModelFacts)
    return facts.declared


@pytest.mark.parametrize(("repo_id", "rule_id"), sorted(CORPUS.items()))
def test_recorded_corpus_cards_normalise_to_the_new_rules(rules: RuleSet, repo_id: str, rule_id: str) -> None:
    norm = normalise_declared(_declared(repo_id, corpus_bodies()[repo_id]), rules)
    assert rule_id in norm.rule_ids and norm.unrecognised == [], (repo_id, norm)


def test_stability_nc_and_svd_are_distinct_texts_and_falcon_2_is_not_falcon_llm(rules: RuleSet) -> None:
    """Same publisher, different texts: each keeps its own rule (notice texts and scope differ)."""
    nc, svd = rules.rules["stabilityai-nc-research-community"], rules.rules["stable-video-diffusion-community"]
    assert {f.purpose for f in nc.field_of_use} >= {"hosting"} and nc.commercial.research_only is not None
    assert "hosting" not in {f.purpose for f in svd.field_of_use}
    falcon2, falcon_llm = rules.rules["falcon-2-11b-tii-license-1.0"], rules.rules["falcon-llm-license"]
    statement = {o.id: o.cite.quote for o in falcon2.obligations}["falcon-attribution-statement"]
    assert "Falcon LLM technology" in statement
    assert not {n.lower() for n in falcon2.aliases.names} & {n.lower() for n in falcon_llm.aliases.names}


@pytest.mark.parametrize("rule_id", ["apple-amlr", "fair-noncommercial-research-license", "deepfloyd-if-license",
                                     "opt-175b", "stabilityai-nc-research-community",
                                     "stable-video-diffusion-community"])
def test_research_and_non_commercial_licenses_deny_commercial_use(rules: RuleSet, rule_id: str) -> None:
    rule = rules.rules[rule_id]
    assert rule.kind == "non-commercial" and not rule.commercial.allowed
    assert rule.commercial.research_only is not None  # production use fails even when not commercial
    assert rule.derivative_licensing.policy == "listed" and rule_id in rule.derivative_licensing.allowed


def test_every_corpus_card_naming_an_added_license_is_recognised(rules: RuleSet) -> None:
    """A sweep over all recorded cards: any card whose license_name is one of the new rules' names resolves to it."""
    names = {name.lower(): rid for rid in ADDED for name in [rid, *rules.rules[rid].aliases.names]}
    seen: dict[str, str] = {}
    for repo_id, body in corpus_bodies().items():
        name = str((body.get("cardData") or {}).get("license_name") or "").lower()
        if name in names:
            norm = normalise_declared(_declared(repo_id, body), rules)
            assert names[name] in norm.rule_ids, (repo_id, norm)
            seen[repo_id] = names[name]
    assert seen == CORPUS
