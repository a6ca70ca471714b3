"""A license's term checks run once per license and are instantiated per model (issue 16: linear evaluation).

`checks.check_terms` must add exactly the findings that running every `TERM_CHECKERS` entry on the model's
effective license adds, for every bundled rule, under declared uses that leave every question open or answer
each one, and whatever path brings the license. A checker whose findings do not read as templates is run per
model, in its place among the others.
"""

from __future__ import annotations

import datetime as dt

import pytest

from auditor.engine import checks
from auditor.engine.context import TEMPLATE_VIA, Ctx, Findings, build_ctx
from auditor.model import (
    DeclaredLicense,
    DeclaredUse,
    EdgeRecord,
    EffectiveLicense,
    Evidence,
    LineageGraph,
    ModelFacts,
    NodeRecord,
)
from auditor.rules.loader import RuleSet, load_rules
from auditor.rules.schema import LicenseRule

RULES: RuleSet = load_rules()
USES = {
    "undeclared": DeclaredUse(),
    "commercial-weights-eu": DeclaredUse(commercial=True, production=True, distribution="weights",
                                         monthly_active_users=900_000_000, annual_revenue_usd=10**10,
                                         monthly_active_users_at_release=900_000_000, regions=["DE", "CN"],
                                         purposes=sorted({f.purpose for r in RULES.rules.values()
                                                          for f in r.field_of_use}),
                                         trains_on_outputs=True, registered=[]),
    "research-internal": DeclaredUse(commercial=False, production=False, distribution="internal",
                                     monthly_active_users=10, regions=["US"], trains_on_outputs=False),
    "saas-undeclared-regions": DeclaredUse(commercial=True, distribution="saas"),
}
MODEL, PARENT, HOLDER = "example-org/model", "example-org/parent", "example-org/holder-vision"


def _ctx(use: DeclaredUse, rule: LicenseRule) -> Ctx:
    def node(model_id: str, licenses: list[str]) -> NodeRecord:
        return NodeRecord(id=model_id, facts=ModelFacts(id=model_id, requested=model_id, source="hub",
                                                        pipeline_tag="image-text-to-text",
                                                        declared=DeclaredLicense(license=licenses)))

    ev = [Evidence(source="hub", field="cardData.base_model", value="generated")]
    graph = LineageGraph(roots=[MODEL], nodes=[node(MODEL, []), node(PARENT, []), node(HOLDER, [rule.id])],
                         edges=[EdgeRecord(child=MODEL, parent=PARENT, relation="finetune", evidence=ev),
                                EdgeRecord(child=PARENT, parent=HOLDER, relation="quantized", evidence=ev)])
    return build_ctx(graph, RULES, use, None, dt.date(2026, 1, 1), {})


def _effective(rule: LicenseRule, via: list[str]) -> EffectiveLicense:
    return EffectiveLicense(license=rule.id, name=rule.name, kind=rule.kind, spdx=rule.spdx, url=rule.url,
                            own=len(via) == 1, via=via)


@pytest.mark.parametrize("use_name", sorted(USES))
def test_templates_add_what_each_checker_adds(use_name: str) -> None:
    compared = 0
    for rule in RULES.rules.values():
        for via in ([MODEL], [MODEL, PARENT, HOLDER]):
            ctx = _ctx(USES[use_name], rule)
            eff = _effective(rule, via)
            direct, templated = Findings(ctx, MODEL), Findings(ctx, MODEL)
            for checker in checks.TERM_CHECKERS:
                checker(ctx, MODEL, eff, rule, direct)
            checks.check_terms(ctx, MODEL, eff, rule, templated)
            assert [f.model_dump() for f in templated.items] == [f.model_dump() for f in direct.items], rule.id
            compared += len(direct.items)
    assert compared >= 20  # the use raises findings on many licenses: not a comparison of empty lists


def test_a_checker_whose_findings_are_no_templates_runs_per_model(monkeypatch: pytest.MonkeyPatch) -> None:
    def names_the_model(ctx: Ctx, model_id: str, eff: EffectiveLicense, rule: LicenseRule, out: Findings) -> None:
        out.add("needs-input", "warning", f"{model_id} must say something about {rule.name}", license=rule.id,
                via=eff.via, field="commercial")

    monkeypatch.setattr(checks, "TERM_CHECKERS", (*checks.TERM_CHECKERS, names_the_model))
    rule = RULES.rules["apache-2.0"]
    ctx = _ctx(USES["undeclared"], rule)
    steps = checks.term_steps(ctx, rule)
    assert steps[-1] is names_the_model
    out = Findings(ctx, MODEL)
    checks.check_terms(ctx, MODEL, _effective(rule, [MODEL, PARENT, HOLDER]), rule, out)
    assert out.items[-1].message == f"{MODEL} must say something about {rule.name}"
    assert not any(TEMPLATE_VIA[0] in f.message or TEMPLATE_VIA[0] in f.via for f in out.items)


def test_a_scoped_territory_term_is_checked_per_model() -> None:
    scoped = [r for r in RULES.rules.values()
              if any(t.applies_to_pipeline_tags or t.applies_to_id_patterns for t in r.territory)]
    assert scoped, "a bundled rule scopes a territory term to some models"
    rule = scoped[0]
    steps = checks.term_steps(_ctx(USES["undeclared"], rule), rule)
    assert checks.territory in steps
