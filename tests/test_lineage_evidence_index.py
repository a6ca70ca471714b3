"""Lineage evidence findings are looked up by node (issue 16: nothing per model scans the whole graph).

Each audited model gets the disagreements about its own lineage, in the graph's order, and each cycle through
its lineage once, and nothing about other lineages, however many the graph holds.
"""

from __future__ import annotations

import datetime as dt

from auditor.engine import evaluate
from auditor.model import (
    DeclaredLicense,
    DeclaredUse,
    Disagreement,
    EdgeRecord,
    Evidence,
    LineageGraph,
    ModelFacts,
    NodeRecord,
)
from auditor.rules.loader import load_rules

EV = [Evidence(source="hub", field="cardData.base_model", value="generated")]


def _node(model_id: str) -> NodeRecord:
    return NodeRecord(id=model_id, facts=ModelFacts(id=model_id, requested=model_id, source="hub",
                                                    declared=DeclaredLicense(license=["apache-2.0"])))


def test_each_model_gets_the_evidence_of_its_own_lineage_only() -> None:
    roots = [f"example-org/ship-{i:03d}" for i in range(60)]
    bases = [f"example-org/base-{i:03d}" for i in range(60)]
    edges = [EdgeRecord(child=r, parent=b, relation="finetune", evidence=EV) for r, b in zip(roots, bases, strict=True)]
    loop = ["example-org/loop-a", "example-org/loop-b"]
    edges += [EdgeRecord(child=loop[0], parent=loop[1], relation="finetune", evidence=EV),
              EdgeRecord(child=loop[1], parent=loop[0], relation="finetune", evidence=EV),
              EdgeRecord(child=roots[7], parent=loop[0], relation="merge", evidence=EV),
              EdgeRecord(child=roots[7], parent=bases[7], relation="merge", evidence=EV)]
    edges = [e for e in edges if not (e.child == roots[7] and e.relation == "finetune")]
    disagreements = [Disagreement(model=b, message=f"sources disagree about {b}") for b in reversed(bases)]
    disagreements.append(Disagreement(model=roots[3], message="an unusable base_model value", kind="unusable"))
    graph = LineageGraph(roots=roots, nodes=[_node(n) for n in [*roots, *bases, *loop]], edges=edges,
                         disagreements=disagreements, cycles=[[loop[0], loop[1]]])
    audits = {a.id: a for a in evaluate(graph, load_rules(), DeclaredUse(), today=dt.date(2026, 1, 1))}
    for i, root in enumerate(roots):
        evidence = [f for f in audits[root].findings if f.code in ("lineage-disagreement", "unresolved", "cycle")]
        expected = {("lineage-disagreement", f"{bases[i]}: sources disagree about {bases[i]}")}
        if i == 3:
            expected.add(("unresolved", f"{root}: an unusable base_model value; a parent may be missing"))
        if i == 7:
            expected.add(("cycle", f"lineage cycle: {loop[0]} → {loop[1]} → {loop[0]}"))
        assert {(f.code, f.message) for f in evidence} == expected, root
        assert len(evidence) == len(expected), root
