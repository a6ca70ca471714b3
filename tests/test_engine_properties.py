"""Property-based tests of the engine (hypothesis), on lineage graphs built in memory with the bundled rules.

- Monotonicity in the lineage: adding an ancestor (any license, any relation) never improves a verdict.
- Monotonicity in the declared use: commercial, more users, more revenue, a wider distribution, more regions
  or more purposes never improve a verdict.
- Determinism: the same input gives the same result, whatever order nodes, edges, roots, regions and purposes
  are listed in.

Verdicts are ordered pass < review < fail.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, get_args

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from auditor.audit import AuditEntry, build_result
from auditor.engine import evaluate
from auditor.findings import resolved
from auditor.model import (
    RELATIONS,
    DeclaredLicense,
    DeclaredUse,
    Distribution,
    EdgeRecord,
    Evidence,
    LineageGraph,
    ModelAudit,
    ModelFacts,
    ModelRef,
    NodeRecord,
    Unresolved,
    Verdict,
)
from auditor.policy import Policy, Waiver
from auditor.rules.loader import RuleSet, load_rules

RULES: RuleSet = load_rules()
RULE_IDS = sorted(RULES.rules)
RANK: dict[Verdict, int] = {"pass": 0, "review": 1, "fail": 2}
DISTRIBUTIONS: tuple[Distribution, ...] = get_args(Distribution)  # internal < saas < weights
TODAY = dt.date(2026, 1, 1)
REGIONS = ["US", "EU", "DE", "FR", "GB", "CN", "JP", "CH"]
PURPOSES = sorted({f.purpose for r in RULES.rules.values() for f in r.field_of_use} | {"customer-support"})
PIPELINES = [None, "text-generation", "image-text-to-text", "text-to-image"]
CODES = ["non-commercial", "license-conflict", "needs-input", "unresolved", "missing-license", "field-of-use",
         "territory", "user-threshold", "unknown-license", "incompatible-merge", "policy-review"]
# Licenses a restrictive ancestor can carry: no commercial use, thresholds, territory, field-of-use,
# terms a derivative must keep, merge exclusions, or no identified license at all.
RESTRICTIVE = [
    rid for rid, r in sorted(RULES.rules.items())
    if not r.commercial.allowed or r.thresholds or r.territory or r.field_of_use or r.kind == "unknown"
    or r.derivative_licensing.policy != "any" or r.merge_incompatible_with
]

SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _evidence() -> list[Evidence]:
    return [Evidence(source="hub", field="cardData.base_model", value="generated")]


def _node(model_id: str, licenses: list[str], pipeline: str | None, unresolved: bool) -> NodeRecord:
    if unresolved:
        return NodeRecord(id=model_id, unresolved=Unresolved(id=model_id, requested=model_id, source="hub",
                                                             code="not-found", reason="generated"))
    facts = ModelFacts(id=model_id, requested=model_id, source="hub", pipeline_tag=pipeline,
                       declared=DeclaredLicense(license=licenses))
    return NodeRecord(id=model_id, facts=facts)


@st.composite
def graphs(draw: st.DrawFn) -> LineageGraph:
    """A DAG of 1-6 models; node i may derive from any node j > i; `m0` is the model to ship."""
    size = draw(st.integers(1, 6))
    ids = [f"example-org/m{i}" + draw(st.sampled_from(["", "-vision"])) for i in range(size)]
    nodes = [
        _node(model_id, draw(st.lists(st.sampled_from(RULE_IDS), max_size=2, unique=True)),
              draw(st.sampled_from(PIPELINES)), i > 0 and draw(st.integers(0, 9)) == 0)
        for i, model_id in enumerate(ids)
    ]
    edges = []
    for i, child in enumerate(ids):
        if nodes[i].unresolved is not None:
            continue
        for parent in draw(st.lists(st.sampled_from(ids[i + 1 :]), max_size=3, unique=True) if i + 1 < size
                           else st.just([])):
            edges.append(EdgeRecord(child=child, parent=parent, relation=draw(st.sampled_from(RELATIONS)),
                                    evidence=_evidence()))
    return LineageGraph(roots=[ids[0]], nodes=nodes, edges=edges)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


uses = st.builds(
    DeclaredUse,
    commercial=_optional(st.booleans()),
    monthly_active_users=_optional(st.integers(0, 2_000_000_000)),
    annual_revenue_usd=_optional(st.integers(0, 10_000_000)),
    distribution=_optional(st.sampled_from(DISTRIBUTIONS)),
    regions=_optional(st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3, unique=True)),
    purposes=_optional(st.lists(st.sampled_from(PURPOSES), max_size=3, unique=True)),
    trains_on_outputs=_optional(st.booleans()),
)

waivers = st.builds(
    Waiver, model=st.sampled_from(["example-org/*", "example-org/m0"]), code=st.sampled_from(CODES),
    license=_optional(st.sampled_from(RULE_IDS)), justification=st.just("Reviewed by legal, ticket LEGAL-1"),
    approver=st.just("legal@example.com"), expires=st.sampled_from([dt.date(2025, 1, 1), dt.date(2027, 1, 1)]),
)
policies = _optional(st.builds(
    Policy,
    allow=st.lists(st.sampled_from(RULE_IDS), max_size=3),
    review=st.lists(st.sampled_from(RULE_IDS), max_size=2),
    deny=st.lists(st.sampled_from(RULE_IDS), max_size=2),
    severity=st.dictionaries(st.sampled_from(CODES), st.sampled_from(["error", "warning", "info"]), max_size=2),
    waivers=st.lists(waivers, max_size=2),
))


def _audit(graph: LineageGraph, use: DeclaredUse, policy: Policy | None) -> ModelAudit:
    (audit,) = evaluate(graph, RULES, use, policy, today=TODAY)
    return audit


def _reachable(graph: LineageGraph) -> list[str]:
    parents: dict[str, list[str]] = {}
    for edge in graph.edges:
        parents.setdefault(edge.child, []).append(edge.parent)
    seen = [graph.roots[0]]
    for model_id in seen:
        seen.extend(p for p in parents.get(model_id, []) if p not in seen)
    return seen


@SETTINGS
@given(graph=graphs(), use=uses, policy=policies, data=st.data())
def test_adding_a_restrictive_ancestor_never_improves_the_verdict(
    graph: LineageGraph, use: DeclaredUse, policy: Policy | None, data: st.DataObject
) -> None:
    before = _audit(graph, use, policy)
    candidates = [m for m in _reachable(graph) if next(n for n in graph.nodes if n.id == m).unresolved is None]
    child = data.draw(st.sampled_from(candidates))
    extra = "example-org/extra" + data.draw(st.sampled_from(["", "-vision"]))
    licenses = data.draw(st.lists(st.sampled_from(RESTRICTIVE), min_size=1, max_size=2, unique=True))
    grown = graph.model_copy(update={
        "nodes": [*graph.nodes, _node(extra, licenses, data.draw(st.sampled_from(PIPELINES)), False)],
        "edges": [*graph.edges, EdgeRecord(child=child, parent=extra, relation=data.draw(st.sampled_from(RELATIONS)),
                                           evidence=_evidence())],
    })
    after = _audit(grown, use, policy)
    assert RANK[after.verdict] >= RANK[before.verdict], (before.findings, after.findings)


declared_uses = st.builds(
    DeclaredUse,
    commercial=st.booleans(),
    monthly_active_users=st.integers(0, 2_000_000_000),
    annual_revenue_usd=st.integers(0, 10_000_000),
    distribution=st.sampled_from(DISTRIBUTIONS),
    regions=st.lists(st.sampled_from(REGIONS), min_size=1, max_size=3, unique=True),
    purposes=st.lists(st.sampled_from(PURPOSES), max_size=3, unique=True),
    trains_on_outputs=st.booleans(),
)


@st.composite
def bigger(draw: st.DrawFn, use: DeclaredUse) -> DeclaredUse:
    """The same use, each field kept or made "bigger"."""
    assert use.monthly_active_users is not None and use.annual_revenue_usd is not None
    assert use.distribution is not None and use.regions is not None and use.purposes is not None
    return use.model_copy(update={
        "commercial": use.commercial or draw(st.booleans()),
        "trains_on_outputs": use.trains_on_outputs or draw(st.booleans()),
        "monthly_active_users": use.monthly_active_users + draw(st.integers(0, 1_000_000_000)),
        "annual_revenue_usd": use.annual_revenue_usd + draw(st.integers(0, 5_000_000)),
        # From internal use, offering a service or the weights is bigger; saas and weights are not ordered: a text
        # may bar hosting and allow handing out the weights (Stability NC Research Community §1.b).
        "distribution": draw(st.sampled_from(DISTRIBUTIONS if use.distribution == "internal"
                                             else (use.distribution,))),
        "regions": use.regions + [r for r in draw(st.lists(st.sampled_from(REGIONS), max_size=2))
                                  if r not in use.regions],
        "purposes": use.purposes + [p for p in draw(st.lists(st.sampled_from(PURPOSES), max_size=2))
                                    if p not in use.purposes],
    })


@SETTINGS
@given(graph=graphs(), use=declared_uses, policy=policies, data=st.data())
def test_a_bigger_declared_use_never_improves_the_verdict(
    graph: LineageGraph, use: DeclaredUse, policy: Policy | None, data: st.DataObject
) -> None:
    larger = data.draw(bigger(use))
    before, after = _audit(graph, use, policy), _audit(graph, larger, policy)
    assert RANK[after.verdict] >= RANK[before.verdict], (use, larger, before.findings, after.findings)


@SETTINGS
@given(graph=graphs(), use=uses, policy=policies, data=st.data())
def test_evaluation_is_deterministic_and_ignores_input_order(
    graph: LineageGraph, use: DeclaredUse, policy: Policy | None, data: st.DataObject
) -> None:
    first = evaluate(graph, RULES, use, policy, today=TODAY)
    assert evaluate(graph, RULES, use, policy, today=TODAY) == first
    models = [n.id for n in graph.nodes if n.unresolved is None]
    shuffled_graph = graph.model_copy(update={
        "nodes": data.draw(st.permutations(graph.nodes)),
        "edges": data.draw(st.permutations(graph.edges)),
    })
    shuffled_use = use.model_copy(update={
        "regions": data.draw(st.permutations(use.regions)) if use.regions is not None else None,
        "purposes": data.draw(st.permutations(use.purposes)) if use.purposes is not None else None,
    })
    expected = {a.id: a for a in evaluate(graph, RULES, use, policy, today=TODAY, models=models)}
    shuffled_models = data.draw(st.permutations(models))
    got = evaluate(shuffled_graph, RULES, shuffled_use, policy, today=TODAY, models=shuffled_models)
    assert [a.id for a in got] == shuffled_models
    assert {a.id: a for a in got} == expected


def test_a_shorter_path_to_a_license_keeps_its_scoped_terms() -> None:
    """Regression found by the lineage property: a territory clause scoped to some models (here: ids matching
    `*vision*` for llama3.2) must still apply when a new ancestor brings the same license by a shorter path."""
    chain = [("example-org/app", ["apache-2.0"]), ("example-org/adapter", ["apache-2.0"]),
             ("example-org/base-vision", ["llama3.2"]), ("example-org/text-base", ["llama3.2"])]
    nodes = [_node(model_id, licenses, "text-generation", False) for model_id, licenses in chain]
    pairs = [("example-org/app", "example-org/adapter"), ("example-org/adapter", "example-org/base-vision")]
    edges = [EdgeRecord(child=c, parent=p, relation="finetune", evidence=_evidence()) for c, p in pairs]
    graph = LineageGraph(roots=["example-org/app"], nodes=nodes, edges=edges)
    eu = DeclaredUse(commercial=True, monthly_active_users=1, distribution="saas", regions=["DE"], purposes=[])
    assert {f.code for f in _audit(graph, eu, None).findings if f.severity == "error"} >= {"territory"}
    shortcut = EdgeRecord(child="example-org/app", parent="example-org/text-base", relation="merge",
                          evidence=_evidence())
    grown = graph.model_copy(update={"edges": [*edges, shortcut]})
    assert "territory" in {f.code for f in _audit(grown, eu, None).findings}


@SETTINGS
@given(graph=graphs(), use=uses, policy=policies, cyclic=st.booleans())
def test_findings_kept_once_per_node_resolve_to_the_findings_evaluated_whole(
    graph: LineageGraph, use: DeclaredUse, policy: Policy | None, cyclic: bool
) -> None:
    """Schema 1.3: every model audited, so they share ancestors; the result's models, their lineage findings
    resolved (`auditor.findings.resolved`), have exactly the findings and verdicts of the engine evaluating each model
    whole, whatever the use, policy and waivers, and with a cycle through the graph."""
    ids = [n.id for n in graph.nodes]
    if cyclic and len(ids) > 1:
        graph = graph.model_copy(update={"edges": [*graph.edges, EdgeRecord(
            child=ids[-1], parent=ids[0], relation="finetune", evidence=_evidence())]})
    whole = evaluate(graph, RULES, use, policy, today=TODAY, models=ids)
    result = build_result(graph, [AuditEntry(ref=ModelRef(kind="hub", id=i)) for i in ids], RULES, use, policy,
                          generated_at=f"{TODAY.isoformat()}T00:00:00Z")
    shown = resolved(result).models
    assert [m.id for m in shown] == [m.id for m in whole]
    for kept, expected in zip(shown, whole, strict=True):
        assert kept.verdict == expected.verdict
        assert kept.findings == expected.findings
