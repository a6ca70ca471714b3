"""Table-driven audit scenarios on real lineages: crawler (loopback Hub) -> engine -> findings.

Every model id outside `example-org/` is a real repository whose card is recorded in `tests/hub/data/`
(its license and `base_model` as recorded; nothing is invented for a real id). `example-org/…` models are
synthetic (`tests/hub/synthetic.py`) and stand on real recorded bases.

Expectations come from the license texts, not from running the auditor: each expected finding names the
license and the clause the rule file cites for it, and a short verbatim fragment of that clause taken from
`license-facts.md` (the section in the comment) that the finding's quoted clause must contain.
Lineage facts worth knowing when reading the table:

- Several of Meta's base repos are not recorded (`meta-llama/Meta-Llama-3.1-8B`, `Llama-3.1-70B`, …): a child
  that points at them gets an `unresolved` warning and keeps only its own declared terms.
  `meta-llama/Llama-3.2-11B-Vision-Instruct` is recorded (`llama3.2`); `meta-llama/Llama-3.1-8B` is recorded
  without front matter (only its gate was seen). DeepSeek's R1-Distill-Llama repos have no `base_model` at all;
  the curated lineage in `license_rules/lineage/` supplies the base and, where the base declares nothing or
  can't be read, its license.
- `Qwen/Qwen2.5-72B-Instruct`, `Qwen/Qwen2.5-3B-Instruct` and `openai/clip-vit-large-patch14-336` are recorded
  without any license (their cards were not seen), so as ancestors they give a `missing-license` warning.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from auditor.audit import AuditEntry, run_audit
from auditor.findings import resolved
from auditor.lineage import RoutingSource, parse_ref
from auditor.model import DeclaredUse, Finding, Verdict
from auditor.policy import Policy, Waiver
from auditor.rules.loader import RuleSet, load_rules
from auditor.rules.schema import Citation, LicenseRule
from auditor.sources.cache import MetadataCache
from auditor.sources.hub import HubSource
from auditor.sources.local import LocalSource
from tests.conftest import FAST_RETRY, default_state
from tests.hub.server import HubServer


@dataclass(frozen=True)
class Cite:
    """The license and clause a finding must carry (None: the finding is not about a license clause)."""

    license: str | None
    section: str | None = None
    text: str = ""  # verbatim fragment of the license text the clause's quote must contain


@dataclass(frozen=True)
class Scenario:
    name: str
    refs: tuple[str, ...]
    use: DeclaredUse
    verdict: Verdict
    codes: dict[str, frozenset[Cite]]  # every finding code expected -> the (license, clause) of its findings
    policy: Policy | None = None
    holders: dict[str, str] = field(default_factory=dict)  # code -> the model whose license it is (end of `via`)
    fields: frozenset[str] = frozenset()  # declared-use fields named by needs-input findings
    waived: frozenset[str] = frozenset()  # codes whose findings are all waived


def use(**overrides: Any) -> DeclaredUse:
    """A commercial SaaS product in production in the US with 2M MAU (today, and at most that at every license's
    release date) and USD 5M revenue, unless overridden."""
    values: dict[str, Any] = {
        "commercial": True,
        "production": True,
        "monthly_active_users": 2_000_000,
        "monthly_active_users_at_release": 2_000_000,
        "annual_revenue_usd": 5_000_000,
        "distribution": "saas",
        "regions": ["US"],
        "purposes": ["customer-support"],
    }
    values.update(overrides)
    return DeclaredUse(**values)


def cites(*items: Cite) -> frozenset[Cite]:
    return frozenset(items)


NONE = cites(Cite(None))  # a finding about a node (unreadable, unlicensed, cycle), not about a clause

# --- clauses, each with a fragment of the license text as license-facts.md quotes it -------------------------
# CC BY-NC 4.0 / BY-NC-SA 4.0 §2(a)(1)(A) (facts §8): the grant itself is NonCommercial-only.
BY_NC = Cite("cc-by-nc-4.0", "Section 2(a)(1)(A)", "for NonCommercial purposes only")
BY_NC_SA = Cite("cc-by-nc-sa-4.0", "Section 2(a)(1)(A)", "for NonCommercial purposes only")
# CC BY-NC-SA 4.0 §3(b)(1) (facts §8): an adaptation must carry the same License Elements.
BY_NC_SA_SHAREALIKE = Cite("cc-by-nc-sa-4.0", "Section 3(b)(1)", "same License Elements")
# CC BY-SA 4.0 §3(b)(1) (facts §8, Q9): the Adapter's License must be BY-SA, which a Llama merge can't satisfy.
BY_SA_SHAREALIKE = Cite("cc-by-sa-4.0", "Section 3(b)(1)", "same License Elements")
# Llama §2 (facts §1.1, §1.3): the 700M MAU clause, identical in Llama 2 and 3.x.
LLAMA2_MAU = Cite("llama2", "§2", "greater than 700 million monthly active users")
LLAMA31_MAU = Cite("llama3.1", "§2", "greater than 700 million monthly active users")
# Llama §1.b.i (facts §1.1, §1.3, Q1): the Agreement must accompany derivatives, so another license can't replace it.
LLAMA2_KEEP = Cite("llama2", "§1.b.i", "provide a copy of this Agreement to such third party")
LLAMA31_KEEP = Cite("llama3.1", "§1.b.i", "provide a copy of this Agreement with any such Llama Materials")
LLAMA33_KEEP = Cite("llama3.3", "§1.b.i", "provide a copy of this Agreement with any such Llama Materials")
# Llama 3.2 AUP (facts §1.4): no §1(a) rights for the multimodal models to EU-domiciled companies.
LLAMA32_EU = Cite("llama3.2", "AUP (paragraph after Prohibited Uses)",
                  "a company with a principal place of business in, the European Union")
# Llama 3 AUP §2.a (facts Q10): military, warfare, nuclear.
LLAMA3_MILITARY = Cite("llama3", "AUP §2.a", "Military, warfare, nuclear industries or applications")
# Gemma Prohibited Use Policy, incorporated by ToU §3.2 (facts §2). The item's wording is not quoted in
# license-facts.md; the rule quotes the PUP page (ai.google.dev/gemma/prohibited_use_policy).
GEMMA_PUP = Cite("gemma", "Prohibited Use Policy (last item)", "sexually explicit content")
# Gemma §3.1 (facts §2, Q6): terms a derivative adds "must not conflict with the terms of this Agreement".
GEMMA_KEEP = Cite("gemma", "§3.1", "must not conflict with the terms of this Agreement")
# Qwen / Tongyi Qianwen §4 (facts §3): more than 100M MAU while commercially using the Materials.
QWEN_MAU = Cite("qwen", "§4", "more than 100 million monthly active users")
TONGYI_MAU = Cite("tongyi-qianwen", "§4", "more than 100 million monthly active users")
# Tencent Hunyuan Section 4: a one-time test on the version release date.
HUNYUAN_MAU = Cite("tencent-hunyuan-community", "Section 4", "on the Tencent Hunyuan version release date")
# Tongyi Qianwen §3.d (facts §3): a derivative's own terms must leave the Agreement's terms complied with.
TONGYI_KEEP = Cite("tongyi-qianwen", "§3.d", "otherwise complies with the terms and conditions of this Agreement")
TONGYI_RESEARCH_KEEP = Cite("tongyi-qianwen-research", "§3.d",
                            "otherwise complies with the terms and conditions of this Agreement")
# Qwen RESEARCH / Tongyi Qianwen RESEARCH grant (facts §3): non-commercial only.
QWEN_RESEARCH_NC = Cite("qwen-research", "§2.a", "FOR NON-COMMERCIAL PURPOSES ONLY")
TONGYI_RESEARCH_NC = Cite("tongyi-qianwen-research", "§2.a", "FOR NON-COMMERCIAL PURPOSES ONLY")
# FLUX.1 [dev] (facts §12): §2.b non-commercial grant; §4.a(iii) surveillance; §3.a rights come from BFL directly.
FLUX_NC = Cite("flux-1-dev-non-commercial-license", "§2.b", "for Non-Commercial Purposes")
FLUX_SURVEILLANCE = Cite("flux-1-dev-non-commercial-license", "§4.a(iii)", "purposes of surveillance")
FLUX_KEEP = Cite("flux-1-dev-non-commercial-license", "§3.a",
                 "directly granted by Company to said third-party recipients pursuant to this License")
# Mistral Research License (facts §5.1): §3.2 Research Purposes only; §9 staff use at a company is excluded.
MRL_RESEARCH = Cite("mrl", "§3.2", "for Research Purposes")
MRL_STAFF = Cite("mrl", "§9 'Research Purposes'",
                 "employed in or engaged by companies in the context of (a) their daily tasks")
# Mistral Non-Production License §3.2 (facts §5.2).
MNPL_NC = Cite("mnpl", "§3.2", "for testing, research, Personal, or evaluation purposes in Non-Production Environments")
# OpenRAIL family, Attachment A (facts §10, Q10): medical advice; derivatives' terms must respect §4.a.
OPENRAIL_MEDICAL = Cite("openrail", "Attachment A (CreativeML Open RAIL-M), item 10",
                        "To provide medical advice and medical results interpretation")
OPENRAILPP_MEDICAL = Cite("openrail++", "Attachment A, item 10",
                          "To provide medical advice and medical results interpretation")
OPENRAILPP_KEEP = Cite("openrail++", "§4", "respecting paragraph 4.a.")
# BigCode Open RAIL-M Attachment A (c) (facts §10 lists the license; this item is quoted from the rule file).
BIGCODE_MALWARE = Cite("bigcode-openrail-m", "Attachment A (c)", "malware")
# Stability AI Community License §III (facts §11): register for commercial use; over USD 1M revenue terminates
# "any licenses granted to You under this Agreement", the research and non-commercial licence included.
STABILITY_REGISTER = Cite("stabilityai-ai-community", "§III", "You must register with Stability AI")
STABILITY_REVENUE = Cite("stabilityai-ai-community", "§III", "any licenses granted to You under this Agreement shall "
                         "terminate")
# Research-only and non-production grants (facts §12, §5, §3): use with end users is outside them, paid or free.
FLUX_END_USERS = Cite("flux-1-dev-non-commercial-license", "§1.c",
                      "(b) in direct interactions with or that has impact on end users")
MRL_RESEARCH_ONLY = Cite("mrl", "§9 'Research Purposes'", "solely for (a) personal, scientific or academic research")
MNPL_NON_PRODUCTION = Cite("mnpl", "§9 'Non-Production Environment'",
                           "expressly excludes live, real-world conditions")
QWEN_RESEARCH_ONLY = Cite("qwen-research", "§1.i", "shall mean for research or evaluation purposes only")
TONGYI_RESEARCH_ONLY = Cite("tongyi-qianwen-research", "§1.i", "shall mean for research or evaluation purposes only")
# Stability AI Non-Commercial Research Community License §1.b: no hosted service or API for third parties.
STABILITY_NC_HOSTED = Cite("stabilityai-nc-research-community", "§1.b", "as part of your hosted service or via your APIs")
# Falcon 180B TII License §9.1 (facts §13): Hosting Use is offering the model to third parties as a managed service.
FALCON_HOSTING = Cite("falcon-180b-tii-license-1.0", "§9.1", "to offer shared instances or managed services")
# Registration before commercial use: GLM-4 §2 (Yi v2.1 §2: tests/test_legal_semantics.py, selected by a fact).
# Yi v1.0/v2.0 §2 (01-ai/Yi@03c9c1b): the grant is non-commercial; commercial use needs written authorization.
YI_V1_NC = Cite("yi-license-v1", "§2", "You may only use the Yi Series Models for non-Commercial Purposes")
# `yi-license` names both texts: no clause, the finding names each text and how to decide.
YI_AMBIGUOUS = Cite("yi-license-v1")
GLM4_REGISTER = Cite("glm-4", "§2 License (English)", "Registered users are free to use this model for commercial")
# DeepSeek License (facts §4.1, Q6, Q10): Attachment A military; §4.e other terms must respect §4.a.
DEEPSEEK_MILITARY = Cite("deepseek", "Attachment A (second item)", "For military use in any way")
DEEPSEEK_KEEP = Cite("deepseek", "§4.e", "respecting paragraph 4.a.")
# Hub `other`/`unknown` (facts §22): the license text is in the repo's LICENSE file, not identified by the tag.
OTHER = Cite("other", "Hub license identifier", "add the license's text to a `LICENSE` file")
# Apache-2.0 §4(a) (facts §6): the first obligation that binds only weights distribution.
APACHE_COPY = Cite("apache-2.0", "§4(a)", "any other recipients of the Work or Derivative Works a copy of this License")

# CC BY-NC-ND 4.0 (issue 11 item 5; the SPDX text, facts §8 for the family): §3(a)(1) ends "For the avoidance of
# doubt, You do not have permission under this Public License to Share Adapted Material"; §3(a)(1)(C) makes whoever
# shares the material "indicate the Licensed Material is licensed under this Public License".
ND_NO_SHARE = Cite("cc-by-nc-nd-4.0", "Section 3(a)(1) (final sentence)",
                   "You do not have permission under this Public License to Share Adapted Material")
ND_COPY = Cite("cc-by-nc-nd-4.0", "Section 3(a)(1)(C)", "indicate the Licensed Material is licensed under this Public License")
# CC BY-NC 4.0 (facts §8): a shared copy must "indicate the Licensed Material is licensed under this Public License"
# (§3(a)(1)(C)); an adaptation may carry the sharer's own license: "the Adapter's License You apply must not prevent
# recipients of the Adapted Material from complying with this Public License" (§3(a)(4)).
BY_NC_COPY = Cite("cc-by-nc-4.0", "Section 3(a)(1)(C)", "indicate the Licensed Material is licensed under this Public License")
BY_NC_ADAPTER = Cite("cc-by-nc-4.0", "Section 3(a)(4)", "must not prevent recipients of the Adapted Material from complying")
# Apache-2.0 §4, last paragraph (facts §6): other terms for a Derivative Work as a whole, "provided Your use,
# reproduction, and distribution of the Work otherwise complies with the conditions stated in this License".
APACHE_DERIV = Cite("apache-2.0", "§4 (last paragraph)",
                    "provided Your use, reproduction, and distribution of the Work otherwise complies")
# Meta Llama 3 (facts §1.2): §1.b.v "You will not use the Llama Materials or any output or results of the Llama
# Materials to improve any other large language model (excluding Meta Llama 3 or derivative works thereof)";
# §1.b.i "(A) provide a copy of this Agreement with any such Llama Materials".
LLAMA3_NO_IMPROVE = Cite("llama3", "§1.b.v", "to improve any other large language model (excluding Meta Llama 3")
LLAMA3_KEEP = Cite("llama3", "§1.b.i", "provide a copy of this Agreement with any such Llama Materials")
# Training or improving other models on outputs (issue 11 item 6; facts Q7). Llama 3 §1.b.v (facts §1.2) bans it
# for "any other large language model"; Llama 3.1 §1.b.i (facts §1.3) allows it, with the "Llama" name prefix;
# Gemma §1.1(e) (facts §2) makes a model trained on Gemma Output a Model Derivative; Stability §IV.b (facts §11).
LLAMA31_OUTPUTS_NAME = Cite("llama3.1", "§1.b.i", "you shall also include “Llama” at the beginning of any such AI "
                            "model name")
GEMMA_OUTPUTS_DERIVATIVE = Cite("gemma", "§1.1(e)", "transfer of patterns of the weights, parameters, operations, or "
                                "Output of Gemma")
# Stability §IV.a (facts §11): whoever distributes a Derivative Work provides "a copy of this Agreement".
STABILITY_KEEP = Cite("stabilityai-ai-community", "§IV.a", "provide a copy of this Agreement to that third party")
STABILITY_NO_IMPROVE = Cite("stabilityai-ai-community", "§IV.b", "to create or improve any foundational generative AI "
                            "model")

R1_DISTILL_8B = "deepseek-ai/DeepSeek-R1-Distill-Llama-8B"
WAIVER_TEXT = "Legal reviewed LEGAL-1042; we comply with the Llama 3.1 terms for this model."


def _waiver(expires: dt.date) -> Policy:
    return Policy(waivers=[Waiver(model=R1_DISTILL_8B, code="license-conflict", justification=WAIVER_TEXT,
                                  approver="jane.doe@example.com", expires=expires)])


SCENARIOS: list[Scenario] = [
    # --- CC-BY-NC-4.0 (Cohere, Upstage) ------------------------------------------------------------------
    Scenario("command-r-plus-quant-commercial-saas", ("example-org/c4ai-command-r-plus-GGUF",), use(),
             "fail", {"non-commercial": cites(BY_NC)}),
    Scenario("command-r-plus-research-internal", ("CohereForAI/c4ai-command-r-plus",),
             DeclaredUse(commercial=False, distribution="internal"), "pass", {}),
    Scenario("aya-commercial-internal-tool", ("CohereForAI/aya-23-8B",), use(distribution="internal"),
             "fail", {"non-commercial": cites(BY_NC)}),
    # TheBloke's GGUF says apache-2.0, but it quantizes Upstage's CC-BY-NC instruct model: NC flows down (Q3). Its
    # card does not state the relation: a copy relabelled would misstate the terms (§3(a)(1)(C)), an adaptation may
    # carry another license (§3(a)(4)); either way the NC terms apply. A review, named as either case.
    Scenario("solar-instruct-gguf-relabelled-apache", ("TheBloke/SOLAR-10.7B-Instruct-v1.0-GGUF",), use(),
             "fail", {"non-commercial": cites(BY_NC), "license-conflict": cites(BY_NC_COPY)},
             holders={"non-commercial": "upstage/SOLAR-10.7B-Instruct-v1.0",
                      "license-conflict": "upstage/SOLAR-10.7B-Instruct-v1.0"}),
    # A restrictive child of a permissive parent is allowed (Q5): non-commercial use passes; a note records that
    # Apache-2.0 still applies to the base's material (§4, last paragraph).
    Scenario("solar-instruct-noncommercial-weights", ("upstage/SOLAR-10.7B-Instruct-v1.0",),
             use(commercial=False, distribution="weights"), "pass", {"relabelled": cites(APACHE_DERIV)}),
    # --- relabelling a copy vs an adaptation (issue 11, relabelling) ----------------------------------------
    # A quantization is a copy of Aya: declaring it Apache-2.0 misstates CC BY-NC 4.0, which §3(a)(1)(C) makes
    # whoever shares it indicate. Shared as weights: an error; used internally: a review of the label.
    Scenario("cc-by-nc-quantization-relabelled-apache-weights", ("example-org/aya-23-8B-GGUF",),
             use(commercial=False, distribution="weights"), "fail", {"license-conflict": cites(BY_NC_COPY)},
             holders={"license-conflict": "CohereForAI/aya-23-8B"}),
    Scenario("cc-by-nc-quantization-relabelled-apache-internal", ("example-org/aya-23-8B-GGUF",),
             use(commercial=False, distribution="internal"), "review", {"license-conflict": cites(BY_NC_COPY)}),
    # A fine-tune is an adaptation: §3(a)(4) lets it carry Apache-2.0 (a note, not a conflict), and the NC terms
    # still apply to Aya's material in it.
    Scenario("cc-by-nc-finetune-relabelled-apache-weights", ("example-org/aya-23-8B-support-ft",),
             use(commercial=False, distribution="weights"), "pass", {"relabelled": cites(BY_NC_ADAPTER)}),
    Scenario("cc-by-nc-finetune-relabelled-apache-commercial", ("example-org/aya-23-8B-support-ft",), use(),
             "fail", {"non-commercial": cites(BY_NC), "relabelled": cites(BY_NC_ADAPTER)},
             holders={"non-commercial": "CohereForAI/aya-23-8B", "relabelled": "CohereForAI/aya-23-8B"}),
    # --- CC BY-NC-ND 4.0: no shared adaptation (issue 11 item 5) --------------------------------------------
    # A fine-tune keeping the tag is still Adapted Material: sharing its weights is outside the license.
    Scenario("cc-by-nc-nd-finetune-keeps-tag-weights", ("example-org/OpenDalleV1.1-ft",),
             use(commercial=False, distribution="weights", purposes=["image-generation"]), "fail",
             {"no-derivatives": cites(ND_NO_SHARE)}, holders={"no-derivatives": "dataautogpt3/OpenDalleV1.1"}),
    # "Share" (§1) is to provide material to the public; a hosted service gives the public outputs, not the
    # adapted weights (the rule's reading, stated in its notes), and §2(a)(1)(B) lets you produce it privately.
    Scenario("cc-by-nc-nd-finetune-saas", ("example-org/OpenDalleV1.1-ft",),
             use(commercial=False, distribution="saas", purposes=["image-generation"]), "pass", {}),
    Scenario("cc-by-nc-nd-finetune-distribution-undeclared", ("example-org/OpenDalleV1.1-ft",),
             use(commercial=False, distribution=None, purposes=["image-generation"]), "review",
             {"needs-input": cites(ND_NO_SHARE)}, fields=frozenset({"distribution"})),
    # Inside a merge too, whatever the merge declares; SSD-1B's Apache-2.0 still applies to its part.
    Scenario("cc-by-nc-nd-merge-keeps-tag-weights", ("example-org/opendalle-ssd-merge",),
             use(commercial=False, distribution="weights", purposes=["image-generation"]), "fail",
             {"no-derivatives": cites(ND_NO_SHARE), "relabelled": cites(APACHE_DERIV)},
             holders={"no-derivatives": "dataautogpt3/OpenDalleV1.1", "relabelled": "segmind/SSD-1B"}),
    # §2(a)(4): a format conversion "never produces Adapted Material": a quantization keeping the tag is a copy...
    Scenario("cc-by-nc-nd-quantization-keeps-tag-weights", ("example-org/OpenDalleV1.1-q8",),
             use(commercial=False, distribution="weights", purposes=["image-generation"]), "pass", {}),
    # ...and a copy relabelled MIT misstates the terms its sharer must indicate (§3(a)(1)(C)).
    Scenario("cc-by-nc-nd-quantization-relabelled-mit-weights", ("example-org/OpenDalleV1.1-q8-mit",),
             use(commercial=False, distribution="weights", purposes=["image-generation"]), "fail",
             {"license-conflict": cites(ND_COPY)}),
    # --- Llama ---------------------------------------------------------------------------------------------
    # Llama §2 is a one-time test: users in the calendar month before the release date (2024-07-23 for 3.1),
    # counted with affiliates. 800M today but under 700M then: no threshold finding.
    Scenario("llama31-finetune-800m-today-under-700m-at-release", ("cognitivecomputations/dolphin-2.9.4-llama3.1-8b",),
             use(monthly_active_users=800_000_000, monthly_active_users_at_release={"llama3.1": 650_000_000}),
             "review", {"unresolved": NONE}),
    # Over 700M in the month before the 3.1 release date: no license without Meta's grant.
    Scenario("llama31-finetune-over-700m-at-release", ("cognitivecomputations/dolphin-2.9.4-llama3.1-8b",),
             use(monthly_active_users=800_000_000, monthly_active_users_at_release={"llama3.1": 800_000_000}),
             "fail", {"user-threshold": cites(LLAMA31_MAU), "unresolved": NONE}),
    # "greater than 700 million": exactly 700M is not past the limit.
    Scenario("llama31-finetune-exactly-700m-at-release", ("cognitivecomputations/dolphin-2.9.4-llama3.1-8b",),
             use(monthly_active_users_at_release=700_000_000), "review", {"unresolved": NONE}),
    # Undeclared (today's count does not answer it): needs-input naming the field.
    Scenario("llama31-finetune-mau-at-release-undeclared", ("cognitivecomputations/dolphin-2.9.4-llama3.1-8b",),
             use(monthly_active_users=800_000_000, monthly_active_users_at_release=None), "review",
             {"needs-input": cites(LLAMA31_MAU), "unresolved": NONE},
             fields=frozenset({"monthly_active_users_at_release"})),
    # Answered per license for another license only: the Llama 3.1 question is still open.
    Scenario("llama31-finetune-mau-at-release-for-other-license", ("cognitivecomputations/dolphin-2.9.4-llama3.1-8b",),
             use(monthly_active_users_at_release={"llama2": 0}), "review",
             {"needs-input": cites(LLAMA31_MAU), "unresolved": NONE},
             fields=frozenset({"monthly_active_users_at_release"})),
    Scenario("llama32-vision-eu-company", ("unsloth/Llama-3.2-11B-Vision-Instruct",), use(regions=["DE"]),
             "fail", {"territory": cites(LLAMA32_EU)}),
    Scenario("llama32-vision-us-company", ("unsloth/Llama-3.2-11B-Vision-Instruct",), use(regions=["US"]),
             "pass", {}),
    Scenario("llama32-vision-regions-undeclared", ("unsloth/Llama-3.2-11B-Vision-Instruct",), use(regions=None),
             "review", {"needs-input": cites(LLAMA32_EU)}, fields=frozenset({"domicile"})),
    # The EU clause covers only the multimodal Llama 3.2 models (facts §1.4): the 1B text model passes.
    Scenario("llama32-1b-text-eu-company", ("meta-llama/Llama-3.2-1B",), use(regions=["FR"]), "pass", {}),
    Scenario("llama31-finetune-declared-apache-weights", ("example-org/Llama-3.1-8B-support-ft",),
             use(distribution="weights"), "fail",
             {"license-conflict": cites(LLAMA31_KEEP), "unresolved": NONE},
             holders={"license-conflict": "meta-llama/Llama-3.1-8B-Instruct"}),
    # Distribution undeclared: the conflict's severity depends on it, and Apache's duties bind only weights.
    Scenario("llama31-finetune-declared-apache-distribution-undeclared", ("example-org/Llama-3.1-8B-support-ft",),
             use(distribution=None), "review",
             {"license-conflict": cites(LLAMA31_KEEP), "needs-input": cites(LLAMA31_KEEP, APACHE_COPY),
              "unresolved": NONE}, fields=frozenset({"distribution"})),
    Scenario("llama31-finetune-declared-mpl-saas", ("WillHeld/DiVA-llama-3-v0-8b",), use(), "review",
             {"license-conflict": cites(LLAMA31_KEEP), "unresolved": NONE}),
    # MIT on the card, Llama 3.1 underneath (facts §0.7, curated lineage deepseek-r1-distill-llama-8b.yaml).
    Scenario("deepseek-r1-distill-llama-8b-weights", (R1_DISTILL_8B,), use(distribution="weights"), "fail",
             {"license-conflict": cites(LLAMA31_KEEP)},
             holders={"license-conflict": "meta-llama/Llama-3.1-8B"}),
    Scenario("deepseek-r1-distill-llama-8b-800m-mau-at-release", (R1_DISTILL_8B,),
             use(monthly_active_users_at_release={"llama3.1": 800_000_000}),
             "fail", {"user-threshold": cites(LLAMA31_MAU), "license-conflict": cites(LLAMA31_KEEP)},
             holders={"user-threshold": "meta-llama/Llama-3.1-8B"}),
    # The 70B distill's base (Llama 3.3 70B Instruct) is recorded; Llama 3.3 has no multimodal model (§1.5).
    Scenario("deepseek-r1-distill-llama-70b-eu-company", ("deepseek-ai/DeepSeek-R1-Distill-Llama-70B",),
             use(regions=["IT"]), "review", {"license-conflict": cites(LLAMA33_KEEP), "unresolved": NONE},
             holders={"license-conflict": "meta-llama/Llama-3.3-70B-Instruct"}),
    Scenario("deepseek-r1-distill-qwen-32b-weights", ("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B",),
             use(distribution="weights"), "pass", {"relabelled": cites(APACHE_DERIV)}),
    Scenario("codellama-finetune-mau-at-release-undeclared", ("Nexusflow/NexusRaven-13B",),
             use(monthly_active_users_at_release=None), "review", {"needs-input": cites(LLAMA2_MAU)},
             fields=frozenset({"monthly_active_users_at_release"})),
    # Llama 2 asks about the month before July 18, 2023 only: today's count is no question.
    Scenario("codellama-finetune-current-mau-undeclared", ("Nexusflow/NexusRaven-13B",),
             use(monthly_active_users=None), "pass", {}),
    Scenario("codellama-finetune-declared-other-weights", ("Nexusflow/NexusRaven-V2-13B",),
             use(distribution="weights"), "fail",
             {"license-conflict": cites(LLAMA2_KEEP), "unknown-license": cites(OTHER)}),
    Scenario("llama3-finetune-military", ("aaditya/Llama3-OpenBioLLM-8B",), use(purposes=["military"]), "fail",
             {"field-of-use": cites(LLAMA3_MILITARY)}),
    # --- training other models on outputs (issue 11 item 6) ------------------------------------------------
    # Llama 3 §1.b.v: "You will not use the Llama Materials or any output or results of the Llama Materials to
    # improve any other large language model (excluding Meta Llama 3 or derivative works thereof)."
    Scenario("llama3-finetune-trains-on-outputs", ("aaditya/Llama3-OpenBioLLM-8B",), use(trains_on_outputs=True),
             "fail", {"outputs-training": cites(LLAMA3_NO_IMPROVE)}),
    # The ban restricts a use, it does not decide whether a license is held: undeclared, it is an obligation only.
    Scenario("llama3-finetune-outputs-training-undeclared", ("aaditya/Llama3-OpenBioLLM-8B",),
             use(trains_on_outputs=None), "pass", {}),
    Scenario("llama3-finetune-no-training-on-outputs", ("aaditya/Llama3-OpenBioLLM-8B",),
             use(trains_on_outputs=False), "pass", {}),
    # Llama 3.1 dropped §1.b.v; §1.b.i: a model improved with outputs that is distributed must be named "Llama…".
    Scenario("llama31-finetune-trains-on-outputs", ("cognitivecomputations/dolphin-2.9.4-llama3.1-8b",),
             use(trains_on_outputs=True), "review",
             {"outputs-training": cites(LLAMA31_OUTPUTS_NAME), "unresolved": NONE}),
    # Gemma §1.1(e): a model trained on Gemma Output to perform similarly is a Model Derivative (terms flow).
    Scenario("gemma3-trains-on-outputs", ("google/gemma-3-4b-it",), use(trains_on_outputs=True), "review",
             {"outputs-training": cites(GEMMA_OUTPUTS_DERIVATIVE), "unresolved": NONE}),
    # Stability Community §IV.b: no outputs "to create or improve any foundational generative AI model".
    Scenario("sd35-large-trains-on-outputs", ("stabilityai/stable-diffusion-3.5-large",),
             use(annual_revenue_usd=500_000, registered=["stabilityai"], trains_on_outputs=True), "fail",
             {"outputs-training": cites(STABILITY_NO_IMPROVE)}),
    # Apache-2.0 puts no term on outputs: nothing to find.
    Scenario("apache-qwen-trains-on-outputs", ("Qwen/Qwen2.5-7B-Instruct",), use(trains_on_outputs=True), "pass", {}),
    # `license: other` + `license_name: llama-3` + a link to Meta's LICENSE is the Llama 3 license.
    Scenario("llama3-finetune-license-name-pass", ("lightblue/suzume-llama-3-8B-multilingual",), use(), "pass", {}),
    # --- Gemma ---------------------------------------------------------------------------------------------
    # Prohibited uses bind every user whatever they declare: undeclared purposes are no question to ask
    # (the prohibited-use policy is an obligation); only the unreadable base keeps this in review.
    Scenario("gemma3-purposes-undeclared", ("google/gemma-3-27b-it",), use(purposes=None), "review",
             {"unresolved": NONE}),
    Scenario("gemma3-prohibited-purpose", ("google/gemma-3-4b-it",), use(purposes=["sexually-explicit-content"]),
             "fail", {"field-of-use": cites(GEMMA_PUP), "unresolved": NONE}),
    Scenario("gemma3-finetune-declared-apache-weights", ("example-org/gemma-3-4b-it-support",),
             use(distribution="weights"), "fail", {"license-conflict": cites(GEMMA_KEEP), "unresolved": NONE}),
    # --- Qwen ----------------------------------------------------------------------------------------------
    Scenario("qwen25-72b-awq-150m-mau", ("Qwen/Qwen2.5-72B-Instruct-AWQ",), use(monthly_active_users=150_000_000),
             "fail", {"user-threshold": cites(QWEN_MAU), "missing-license": NONE}),
    # The Qwen threshold binds only "if you are commercially using the Materials".
    Scenario("qwen25-72b-awq-noncommercial-150m-mau", ("Qwen/Qwen2.5-72B-Instruct-AWQ",),
             use(commercial=False, monthly_active_users=150_000_000), "review", {"missing-license": NONE}),
    # Qwen §4 is ongoing and per product: today's count is asked, and no release-date count answers it.
    Scenario("qwen25-72b-awq-mau-undeclared", ("Qwen/Qwen2.5-72B-Instruct-AWQ",),
             use(monthly_active_users=None, monthly_active_users_at_release=0), "review",
             {"needs-input": cites(QWEN_MAU), "missing-license": NONE}, fields=frozenset({"monthly_active_users"})),
    # Tencent Hunyuan Section 4: 100M users in the month before the release date (2024-05-14 for Hunyuan DiT),
    # affiliates not named; 150M today does not matter, 150M then does.
    Scenario("hunyuan-dit-150m-today-under-100m-at-release", ("example-org/HunyuanDiT-support",),
             use(monthly_active_users=150_000_000, monthly_active_users_at_release=90_000_000), "pass", {}),
    Scenario("hunyuan-dit-over-100m-at-release", ("example-org/HunyuanDiT-support",),
             use(monthly_active_users_at_release={"tencent-hunyuan-community": 150_000_000}), "fail",
             {"user-threshold": cites(HUNYUAN_MAU)}),
    Scenario("qwen2-72b-tongyi-200m-mau", ("Qwen/Qwen2-72B-Instruct",), use(monthly_active_users=200_000_000),
             "fail", {"user-threshold": cites(TONGYI_MAU)}),
    Scenario("qwen25-3b-research-commercial", ("Qwen/Qwen2.5-3B-Instruct-GGUF",), use(), "fail",
             {"non-commercial": cites(QWEN_RESEARCH_NC), "missing-license": NONE}),
    # §1.i: "Non-Commercial" means "for research or evaluation purposes only": a free public service is neither.
    Scenario("qwen25-3b-research-free-public-saas", ("Qwen/Qwen2.5-3B-Instruct-GGUF",),
             use(commercial=False, annual_revenue_usd=0), "fail",
             {"research-only": cites(QWEN_RESEARCH_ONLY), "missing-license": NONE}),
    Scenario("qwen25-3b-research-evaluation", ("Qwen/Qwen2.5-3B-Instruct-GGUF",),
             use(commercial=False, production=False, distribution="internal", purposes=["benchmarking"]), "review",
             {"missing-license": NONE}),
    Scenario("qwen15-tongyi-research-free-public-saas", ("Qwen/Qwen1.5-0.5B-Chat",),
             use(commercial=False, annual_revenue_usd=0), "fail", {"research-only": cites(TONGYI_RESEARCH_ONLY)}),
    Scenario("qwen15-research-base-mit-child", ("numind/NuExtract-tiny",), use(), "fail",
             {"non-commercial": cites(TONGYI_RESEARCH_NC), "license-conflict": cites(TONGYI_RESEARCH_KEEP)},
             holders={"non-commercial": "Qwen/Qwen1.5-0.5B"}),
    # --- FLUX.1 --------------------------------------------------------------------------------------------
    Scenario("flux-dev-lora-commercial", ("Shakker-Labs/FLUX.1-dev-LoRA-add-details",),
             use(purposes=["marketing-images"]), "fail", {"non-commercial": cites(FLUX_NC)}),
    Scenario("flux-dev-lora-relabelled-apache-weights", ("CultriX/flux-nsfw-highress",),
             use(distribution="weights", purposes=["illustration"]), "fail",
             {"non-commercial": cites(FLUX_NC), "license-conflict": cites(FLUX_KEEP)},
             holders={"non-commercial": "black-forest-labs/FLUX.1-dev"}),
    Scenario("flux-dev-controlnet-research-surveillance", ("InstantX/FLUX.1-dev-Controlnet-Canny",),
             use(commercial=False, production=False, distribution="internal", purposes=["surveillance"]), "fail",
             {"field-of-use": cites(FLUX_SURVEILLANCE)}),
    # §1.c: use "in direct interactions with or that has impact on end users" is no Non-Commercial Purpose, so a
    # free public image app fails even though it earns nothing.
    Scenario("flux-dev-lora-free-public-saas", ("Shakker-Labs/FLUX.1-dev-LoRA-add-details",),
             use(commercial=False, annual_revenue_usd=0, purposes=["illustration"]), "fail",
             {"research-only": cites(FLUX_END_USERS)}),
    Scenario("flux-dev-lora-research-evaluation", ("Shakker-Labs/FLUX.1-dev-LoRA-add-details",),
             use(commercial=False, production=False, distribution="internal", purposes=["research"]), "pass", {}),
    Scenario("flux-dev-lora-production-undeclared", ("Shakker-Labs/FLUX.1-dev-LoRA-add-details",),
             use(commercial=False, production=None, distribution="internal"), "review",
             {"needs-input": cites(FLUX_END_USERS)}, fields=frozenset({"production"})),
    Scenario("flux-dev-child-without-license", ("ByteDance/Hyper-SD",), use(purposes=["illustration"]), "fail",
             {"missing-license": NONE, "non-commercial": cites(FLUX_NC)}),
    Scenario("flux-schnell-gguf-weights", ("city96/FLUX.1-schnell-gguf",), use(distribution="weights"), "pass", {}),
    # --- Mistral -------------------------------------------------------------------------------------------
    Scenario("mistral-large-mrl-saas", ("mistralai/Mistral-Large-Instruct-2407",), use(), "fail",
             {"non-commercial": cites(MRL_RESEARCH)}),
    Scenario("mistral-large-mrl-academic-research", ("mistralai/Mistral-Large-Instruct-2407",),
             use(commercial=False, production=False, distribution="internal", purposes=["academic-research"]),
             "pass", {}),
    # Facts §0.15: internal use by company staff is outside "Research Purposes" even when free; staff using it in
    # their daily work is production use too.
    Scenario("mistral-large-mrl-company-staff", ("mistralai/Mistral-Large-Instruct-2407",),
             use(commercial=False, distribution="internal", purposes=["business-operations"]), "fail",
             {"field-of-use": cites(MRL_STAFF), "research-only": cites(MRL_RESEARCH_ONLY)}),
    # §3.2 Research Purposes only: a free public chat service is no research, whatever it earns.
    Scenario("mistral-large-mrl-free-public-saas", ("mistralai/Mistral-Large-Instruct-2407",),
             use(commercial=False, annual_revenue_usd=0), "fail", {"research-only": cites(MRL_RESEARCH_ONLY)}),
    Scenario("mistral-small-mrl-gguf-production-undeclared", ("bartowski/Mistral-Small-Instruct-2409-GGUF",),
             use(commercial=False, production=None, distribution="internal"), "review",
             {"needs-input": cites(MRL_RESEARCH_ONLY), "unresolved": NONE}, fields=frozenset({"production"})),
    Scenario("codestral-gguf-mnpl-commercial", ("bartowski/Codestral-22B-v0.1-GGUF",), use(), "fail",
             {"non-commercial": cites(MNPL_NC)}),
    # MNPL §3.2 and §9: Non-Production Environments only, which exclude "direct interactions with or impacts on
    # end users (such as, for instance, Your employees or customers)": a free coding assistant for the public fails.
    Scenario("codestral-gguf-mnpl-free-public-saas", ("bartowski/Codestral-22B-v0.1-GGUF",),
             use(commercial=False, annual_revenue_usd=0, purposes=["code-generation"]), "fail",
             {"research-only": cites(MNPL_NON_PRODUCTION)}),
    Scenario("codestral-gguf-mnpl-evaluation", ("bartowski/Codestral-22B-v0.1-GGUF",),
             use(commercial=False, production=False, distribution="internal", purposes=["evaluation"]), "pass", {}),
    Scenario("mixtral-apache-finetune-weights", ("HuggingFaceH4/zephyr-orpo-141b-A35b-v0.1",),
             use(distribution="weights"), "pass", {}),
    # --- OpenRAIL family -----------------------------------------------------------------------------------
    Scenario("openrail-controlnet-medical-advice", ("CrucibleAI/ControlNetMediaPipeFace",),
             use(purposes=["medical-advice"]), "fail", {"field-of-use": cites(OPENRAIL_MEDICAL, OPENRAILPP_MEDICAL)}),
    Scenario("openrailpp-sdxl-lora-declared-mit-weights", ("h1t/TCD-SDXL-LoRA",),
             use(distribution="weights", purposes=["illustration"]), "fail",
             {"license-conflict": cites(OPENRAILPP_KEEP)}),
    # CreativeML OpenRAIL-M keeps the same use restrictions, so it may license an SDXL (OpenRAIL++) fine-tune.
    Scenario("openrailpp-sdxl-finetune-creativeml-weights", ("RunDiffusion/Juggernaut-XL-v9",),
             use(distribution="weights", purposes=["illustration"]), "pass", {}),
    Scenario("bigcode-starcoder2-malware", ("bigcode/starcoder2-15b-instruct-v0.1",), use(purposes=["malware"]),
             "fail", {"field-of-use": cites(BIGCODE_MALWARE)}),
    # --- Stability AI Community ----------------------------------------------------------------------------
    Scenario("sd35-large-revenue-over-1m", ("stabilityai/stable-diffusion-3.5-large",),
             use(annual_revenue_usd=5_000_000, registered=["stabilityai"]), "fail",
             {"revenue-threshold": cites(STABILITY_REVENUE)}),
    Scenario("sd35-large-revenue-under-1m-registered", ("stabilityai/stable-diffusion-3.5-large",),
             use(annual_revenue_usd=500_000, registered=["stabilityai"]), "pass", {}),
    # §III: "If You are using or distributing the Stability AI Materials for a Commercial Purpose, You must register":
    # registration is a condition of the commercial grant, not a note.
    Scenario("sd35-large-commercial-not-registered", ("stabilityai/stable-diffusion-3.5-large",),
             use(annual_revenue_usd=500_000, registered=[]), "fail", {"registration": cites(STABILITY_REGISTER)}),
    Scenario("sd35-large-registration-undeclared", ("stabilityai/stable-diffusion-3.5-large",),
             use(annual_revenue_usd=500_000), "review", {"needs-input": cites(STABILITY_REGISTER)},
             fields=frozenset({"registered"})),
    Scenario("sd35-large-revenue-undeclared", ("stabilityai/stable-diffusion-3.5-large",),
             use(annual_revenue_usd=None, registered=["stabilityai"]), "review",
             {"needs-input": cites(STABILITY_REVENUE)}, fields=frozenset({"annual_revenue_usd"})),
    # Non-commercial use needs no registration, but past US$1M the §III cap ends "any licenses granted to You",
    # the research and non-commercial licence of §II included.
    Scenario("sd35-large-noncommercial-big-company", ("stabilityai/stable-diffusion-3.5-large",),
             use(commercial=False, production=False, annual_revenue_usd=50_000_000), "fail",
             {"revenue-threshold": cites(STABILITY_REVENUE)}),
    Scenario("sd35-large-noncommercial-small-org", ("stabilityai/stable-diffusion-3.5-large",),
             use(commercial=False, production=False, annual_revenue_usd=200_000), "pass", {}),
    # Stability AI Non-Commercial Research Community §1.b: no hosted service or API for third parties, "whether you
    # are adding substantial additional functionality thereto or not": a SaaS is that, whatever purposes it declares.
    Scenario("sdxl-turbo-nc-research-saas", ("stabilityai/sdxl-turbo",),
             use(commercial=False, production=False, purposes=["research"]), "fail",
             {"field-of-use": cites(STABILITY_NC_HOSTED)}),
    # --- registration before commercial use (Yi v2.1, GLM-4) ----------------------------------------------
    # A Yi-34B-200K fine-tune whose card names the Yi license and links 01.AI's LICENSE (no base_model field).
    # `yi-license` is the Hub name of two texts: v1.0/v2.0 (non-commercial only, §2) and v2.1 (commercial after
    # registration), and the linked LICENSE changed in place, so neither the link nor a curated fact decides: the
    # stricter v1.0 reading applies and an ambiguous-license warning says so. Registering does not help under it.
    Scenario("yi-34b-finetune-commercial-not-registered", ("jondurbin/bagel-dpo-34b-v0.2",), use(registered=[]),
             "fail", {"non-commercial": cites(YI_V1_NC), "ambiguous-license": cites(YI_AMBIGUOUS)}),
    Scenario("yi-34b-finetune-commercial-registered", ("jondurbin/bagel-dpo-34b-v0.2",), use(registered=["01-ai"]),
             "fail", {"non-commercial": cites(YI_V1_NC), "ambiguous-license": cites(YI_AMBIGUOUS)}),
    Scenario("yi-34b-finetune-non-commercial", ("jondurbin/bagel-dpo-34b-v0.2",),
             use(commercial=False, registered=[]), "review", {"ambiguous-license": cites(YI_AMBIGUOUS)}),
    Scenario("glm4-chat-commercial-not-registered", ("THUDM/glm-4-9b-chat",), use(registered=["stabilityai"]),
             "fail", {"registration": cites(GLM4_REGISTER)}),
    Scenario("glm4-chat-commercial-registered", ("THUDM/glm-4-9b-chat",), use(registered=["zai-org"]), "pass", {}),
    # --- Falcon 180B: Hosting Use -------------------------------------------------------------------------
    # §9.1 defines Hosting Use as offering the model "to third party users in an inference or finetuning API
    # form"; §9.3 does not license it. A SaaS is that, without declaring the `hosting` purpose.
    Scenario("falcon-180b-finetune-saas", ("example-org/falcon-180B-chat-support",), use(), "fail",
             {"field-of-use": cites(FALCON_HOSTING), "missing-license": NONE}),
    Scenario("falcon-180b-finetune-internal", ("example-org/falcon-180B-chat-support",),
             use(distribution="internal"), "review", {"missing-license": NONE}),
    # --- DeepSeek ------------------------------------------------------------------------------------------
    Scenario("deepseek-coder-gguf-military", ("TheBloke/deepseek-coder-33B-instruct-GGUF",),
             use(purposes=["military"]), "fail", {"field-of-use": cites(DEEPSEEK_MILITARY)}),
    Scenario("deepseek-math-finetune-declared-apache-weights", ("AI-MO/NuminaMath-7B-TIR",),
             use(distribution="weights"), "fail", {"license-conflict": cites(DEEPSEEK_KEEP)}),
    Scenario("deepseek-v3-no-license", ("deepseek-ai/DeepSeek-V3",), use(), "fail", {"missing-license": NONE}),
    Scenario("deepseek-r1-mit-weights", ("deepseek-ai/DeepSeek-R1",), use(distribution="weights"), "pass", {}),
    # --- CC-BY-NC-SA-4.0 -----------------------------------------------------------------------------------
    Scenario("mpt-7b-chat-commercial", ("mosaicml/mpt-7b-chat",), use(), "fail", {"non-commercial": cites(BY_NC_SA)}),
    # A card listing two licenses: both apply, so the NonCommercial one still binds.
    Scenario("grammar-synthesis-nc-sa-and-apache", ("pszemraj/flan-t5-large-grammar-synthesis",), use(), "fail",
             {"non-commercial": cites(BY_NC_SA)}),
    # ShareAlike binds even a non-commercial redistribution of an Apache-relabelled fine-tune.
    Scenario("mpt-7b-chat-finetune-declared-apache-weights", ("example-org/mpt-7b-chat-support",),
             use(commercial=False, distribution="weights"), "fail",
             {"license-conflict": cites(BY_NC_SA_SHAREALIKE)}),
    # --- unknown / missing / unresolved --------------------------------------------------------------------
    Scenario("llama2-ggml-license-other-commercial", ("TheBloke/Llama-2-7b-Chat-GGML",), use(), "fail",
             {"unknown-license": cites(OTHER)}),
    # Doubt is never a pass: an unidentified license fails whatever the declared use.
    Scenario("llama2-ggml-license-other-use-undeclared", ("TheBloke/Llama-2-7b-Chat-GGML",),
             use(commercial=None, distribution=None), "fail", {"unknown-license": cites(OTHER)}),
    Scenario("tulu-unrecognised-license-name", ("allenai/tulu-2-dpo-70b",), use(), "fail",
             {"unknown-license": cites(OTHER, Cite(None)), "unresolved": NONE}),
    Scenario("llama31-vision-finetune-base-not-recorded", ("Bllossom/llama-3.1-Korean-Bllossom-Vision-8B",), use(),
             "review", {"unresolved": NONE}),
    Scenario("gated-parent", ("example-org/gated-child",), use(), "review", {"unresolved": NONE}),
    Scenario("deleted-parent", ("example-org/orphan-ft",), use(), "review", {"unresolved": NONE}),
    Scenario("lineage-cycle", ("example-org/cycle-a",), use(), "review", {"cycle": NONE}),
    # --- merges --------------------------------------------------------------------------------------------
    # Facts Q2: Apache-2.0 + CC-BY-NC-4.0 merged weights are Adapted Material of the NC model.
    Scenario("merge-apache-and-cc-by-nc-commercial", ("example-org/qwen-aya-merge",), use(), "fail",
             {"non-commercial": cites(BY_NC), "relabelled": cites(BY_NC_ADAPTER)},
             holders={"non-commercial": "CohereForAI/aya-23-8B"}),
    Scenario("merge-apache-and-cc-by-nc-research-weights", ("example-org/qwen-aya-merge",),
             use(commercial=False, distribution="weights"), "pass", {"relabelled": cites(BY_NC_ADAPTER)}),
    # Issue 11 item 9: Llama 3 §1.b.v forbids using the materials "to improve any other large language model";
    # whether merging them with Llama 3.1 does that is not decided by the text (the rule says so): a review.
    Scenario("merge-llama3-and-llama31-both-agreements", ("example-org/openbio-dolphin-merge",),
             use(distribution="weights"), "review", {"incompatible-merge": cites(LLAMA3_NO_IMPROVE), "unresolved": NONE}),
    # Carrying only the 3.1 agreement leaves out the copy of the Llama 3 Agreement that §1.b.i asks for.
    Scenario("merge-llama3-and-llama31-one-agreement-weights", ("example-org/openbio-dolphin-merge-31",),
             use(distribution="weights"), "fail",
             {"incompatible-merge": cites(LLAMA3_NO_IMPROVE), "license-conflict": cites(LLAMA3_KEEP),
              "unresolved": NONE}, holders={"license-conflict": "aaditya/Llama3-OpenBioLLM-8B"}),
    # Facts Q9: BY-SA's Adapter's License can't also be the Llama 2 Agreement.
    Scenario("merge-cc-by-sa-and-llama2", ("example-org/luna-codellama-merge",), use(), "fail",
             {"incompatible-merge": cites(BY_SA_SHAREALIKE), "license-conflict": cites(LLAMA2_KEEP)}),
    Scenario("molmo-72b-merge-tongyi-200m-mau", ("allenai/Molmo-72B-0924",), use(monthly_active_users=200_000_000),
             "fail", {"user-threshold": cites(TONGYI_MAU), "license-conflict": cites(TONGYI_KEEP),
                      "missing-license": NONE}, holders={"user-threshold": "Qwen/Qwen2-72B"}),
    # --- policy --------------------------------------------------------------------------------------------
    Scenario("expired-waiver", (R1_DISTILL_8B,), use(distribution="weights"), "fail",
             {"license-conflict": cites(LLAMA31_KEEP), "waiver-expired": cites(Cite("llama3.1"))},
             policy=_waiver(dt.date(2025, 6, 30))),
    Scenario("valid-waiver", (R1_DISTILL_8B,), use(distribution="weights"), "pass",
             {"license-conflict": cites(LLAMA31_KEEP)},
             policy=_waiver(dt.date(2099, 12, 31)), waived=frozenset({"license-conflict"})),
    Scenario("policy-denies-cc-by-nc", ("CohereForAI/aya-23-8B",),
             DeclaredUse(commercial=False, distribution="internal"), "fail",
             {"policy-deny": cites(Cite("cc-by-nc-4.0"))}, policy=Policy(deny=["cc-by-nc-*"])),
    # --- plain permissive ----------------------------------------------------------------------------------
    Scenario("apache-qwen-gguf-chain-weights", ("Qwen/Qwen2.5-7B-Instruct-GGUF",), use(distribution="weights"),
             "pass", {}),
    Scenario("mit-phi4-weights", ("microsoft/phi-4",), use(distribution="weights"), "pass", {}),
    # Apache's duties bind only weights distribution: an undeclared distribution is noted, not blocking.
    Scenario("apache-distribution-undeclared", ("Qwen/Qwen2.5-7B-Instruct",), use(distribution=None), "pass",
             {"needs-input": cites(APACHE_COPY)}, fields=frozenset({"distribution"})),
]


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_rules()


@pytest.fixture(scope="module")
def hub_server() -> Iterator[HubServer]:
    """The loopback Hub with `default_state()`, shared by the scenarios (a server per test costs ~0.5 s)."""
    with HubServer(default_state()) as server:
        yield server


@pytest.fixture()
def scenario_source(hub_server: HubServer, tmp_path: Path) -> RoutingSource:
    """Like conftest's `source`: the real Hub client, a fresh cache per scenario (each crawl reads the Hub)."""
    hub = HubSource(endpoint=hub_server.endpoint, token=False, cache=MetadataCache(tmp_path / "cache"),
                    retry=FAST_RETRY, seed=1)
    return RoutingSource(hub=hub, local=LocalSource())


def _cite_of(finding: Finding) -> tuple[str | None, str | None]:
    return finding.license, finding.clause.section if finding.clause is not None else None


def test_scenarios_are_many_and_distinct() -> None:
    assert len(SCENARIOS) >= 40
    assert len({s.name for s in SCENARIOS}) == len(SCENARIOS)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_scenario(scenario: Scenario, scenario_source: RoutingSource, rules: RuleSet) -> None:
    result = run_audit([AuditEntry(ref=parse_ref(r)) for r in scenario.refs], scenario_source, rules, scenario.use,
                       scenario.policy)
    findings = [f for m in resolved(result).models for f in m.findings]
    report = "\n".join(f"  {f.severity} {f.code} {_cite_of(f)} via {f.via}: {f.message}" for f in findings)
    assert result.verdict == scenario.verdict, report
    assert {f.code for f in findings} == set(scenario.codes), report
    for code, expected in scenario.codes.items():
        of_code = [f for f in findings if f.code == code]
        assert {_cite_of(f) for f in of_code} == {(c.license, c.section) for c in expected}, (code, report)
        for cite in expected:
            for finding in (f for f in of_code if _cite_of(f) == (cite.license, cite.section)):
                assert finding.clause is not None or not cite.text
                assert finding.clause is None or cite.text in finding.clause.quote, (code, finding.clause)
    for code, holder in scenario.holders.items():
        assert {f.via[-1] for f in findings if f.code == code} == {holder}, (code, report)
    assert {f.field for f in findings if f.code == "needs-input"} == set(scenario.fields), report
    assert {f.code for f in findings if f.waived} == set(scenario.waived), report


def _citations(rule: LicenseRule) -> list[Citation]:
    """Every clause a rule file cites."""
    found: list[Citation] = []

    def walk(value: object) -> None:
        if isinstance(value, Citation):
            found.append(value)
        elif isinstance(value, list | tuple):
            for item in value:
                walk(item)
        elif isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))

    walk(rule)
    return found


def test_expected_clauses_are_the_rule_files_citations(rules: RuleSet) -> None:
    """Each clause the table expects is one the rule file cites, and its quote holds the license's words."""
    for scenario in SCENARIOS:
        for expected in scenario.codes.values():
            for cite in expected:
                if cite.section is None:
                    continue
                assert cite.license is not None
                cited = [c for c in _citations(rules.rules[cite.license]) if c.section == cite.section]
                assert any(cite.text in c.quote for c in cited), (scenario.name, cite)


# --- distillation declared in a manifest (issue 11 item 6) -----------------------------------------------------
# Cards never say a model was distilled: the manifest's `base_model_relation: distillation` does. A model trained
# on a parent's outputs carries the parent's terms only where the license makes it a derivative.
@dataclass(frozen=True)
class Distillation:
    name: str
    parent: str
    verdict: Verdict
    codes: dict[str, frozenset[Cite]]
    flows: bool  # the parent's license is among the distilled model's effective licenses
    revenue: int = 5_000_000
    registered: tuple[str, ...] = ()


DISTILLATIONS = [
    # Gemma §1.1(e): "Model Derivatives" includes a model "created by transfer of patterns of the … Output of
    # Gemma": the Gemma terms flow, and an Apache-only card on it breaks §3.1 when the weights are shared.
    Distillation("distilled-from-gemma3", "google/gemma-3-4b-it", "fail",
                 {"outputs-training": cites(GEMMA_OUTPUTS_DERIVATIVE), "license-conflict": cites(GEMMA_KEEP),
                  "unresolved": NONE}, flows=True),
    # Llama 3.1 §1.b.i: outputs may train another model, which must be named "Llama…"; the agreement itself does
    # not flow (the model holds no Llama Materials), the naming condition does.
    Distillation("distilled-from-llama31", "meta-llama/Llama-3.1-8B-Instruct", "review",
                 {"outputs-training": cites(LLAMA31_OUTPUTS_NAME), "unresolved": NONE}, flows=False),
    # Llama 3 §1.b.v: no output may "improve any other large language model".
    Distillation("distilled-from-llama3", "aaditya/Llama3-OpenBioLLM-8B", "fail",
                 {"outputs-training": cites(LLAMA3_NO_IMPROVE)}, flows=False),
    # Stability §IV.b bans outputs "to create or improve any foundational generative AI model (excluding the Models
    # or Derivative Works)", and §V counts models "derived from a Model or a Model's output" as Derivative Works:
    # the text leaves open whether the ban reaches a distilled model (a review), but its terms flow, so shipping
    # its weights under Apache-2.0 alone breaks §IV.a.
    Distillation("distilled-from-sd35", "stabilityai/stable-diffusion-3.5-large", "fail",
                 {"outputs-training": cites(STABILITY_NO_IMPROVE), "license-conflict": cites(STABILITY_KEEP)},
                 flows=True, revenue=500_000,
                 registered=("stabilityai",)),
    Distillation("distilled-from-apache-qwen", "Qwen/Qwen2.5-7B-Instruct", "pass", {}, flows=False),
]


@pytest.mark.parametrize("case", DISTILLATIONS, ids=lambda c: c.name)
def test_distillation_declared_in_a_manifest(case: Distillation, scenario_source: RoutingSource, rules: RuleSet,
                                             tmp_path: Path) -> None:
    from auditor.manifest import load_manifest
    from auditor.manifest_entries import audit_entries

    manifest = tmp_path / "auditor.yaml"
    manifest.write_text(f"""use:
  commercial: true
  production: true
  distribution: weights
  regions: [US]
  purposes: [customer-support]
  monthly_active_users: 2000000
  annual_revenue_usd: {case.revenue}
  registered: [{", ".join(case.registered)}]
models:
  - id: example-org/distilled-model
    license: apache-2.0
    base_model: {case.parent}
    base_model_relation: distillation
    private: true
""")
    loaded = load_manifest(manifest)
    result = run_audit(audit_entries(loaded), scenario_source, rules, loaded.use)
    [audit] = resolved(result).models
    findings = audit.findings
    report = "\n".join(f"  {f.severity} {f.code} {_cite_of(f)} via {f.via}: {f.message}" for f in findings)
    assert audit.verdict == case.verdict, report
    assert {f.code for f in findings} == set(case.codes), report
    for code, expected in case.codes.items():
        of_code = [f for f in findings if f.code == code]
        assert {_cite_of(f) for f in of_code} == {(c.license, c.section) for c in expected}, (code, report)
        for cite in expected:
            for finding in (f for f in of_code if _cite_of(f) == (cite.license, cite.section)):
                assert finding.clause is None or cite.text in finding.clause.quote, (code, finding.clause)
    parent_licenses = {e.license for e in audit.effective_licenses if not e.own}
    assert bool(parent_licenses - {"apache-2.0"}) == case.flows, audit.effective_licenses
