"""Engine semantics that follow the license texts (issue "Legal accuracy"), each built from its clause.

Organisation rule files (`example-org` licensors, synthetic models) stand in where the recorded Hub data
holds no such lineage; the rule content is copied from a bundled rule and changed only where stated.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from auditor.engine import evaluate
from auditor.model import (
    DeclaredLicense,
    DeclaredUse,
    EdgeRecord,
    Evidence,
    LineageGraph,
    ModelFacts,
    NodeRecord,
)
from auditor.paths import bundled_rules_dir
from auditor.rules.loader import load_rules


def _rule(folder: Path, rule_id: str, **overrides: Any) -> None:
    base = yaml.safe_load((bundled_rules_dir() / "llama3.1.yaml").read_text())
    base.update({"id": rule_id, "name": f"Example {rule_id}", "spdx": f"LicenseRef-{rule_id}", "aliases": {}})
    base.update(overrides)
    folder.mkdir(exist_ok=True)
    (folder / f"{rule_id}.yaml").write_text(yaml.safe_dump(base, sort_keys=False))


def _graph(nodes: dict[str, str], edges: list[tuple[str, str]]) -> LineageGraph:
    records = [NodeRecord(id=rid, facts=ModelFacts(id=rid, requested=rid, source="hub",
                                                    declared=DeclaredLicense(license=[lic])))
               for rid, lic in nodes.items()]
    ev = Evidence(source="hub", field="cardData.base_model", value="x")
    return LineageGraph(roots=[edges[0][0] if edges else next(iter(nodes))], nodes=records,
                        edges=[EdgeRecord(child=c, parent=p, relation="finetune", evidence=[ev]) for c, p in edges])


def test_a_licensors_own_relicensed_release_replaces_the_inherited_terms(tmp_path: Path) -> None:
    """Llama 3.3 §1.b.i: a derivative ships "a copy of *this* Agreement". Meta's own 3.3 release names its 3.1
    base; the 3.1 terms stop at Meta's release, so a 3.3-labelled fine-tune of it is no license conflict.
    Modelled with two example licenses whose licensor is `example-licensor`."""
    for rid in ("ex-v1", "ex-v2"):
        derivative = {"policy": "listed", "allowed": [], "licensor_orgs": ["example-licensor"],
                      "cite": {"section": "§1.b.i", "quote": "provide a copy of this Agreement"}}
        _rule(tmp_path, rid, derivative_licensing=derivative, thresholds=[], territory=[], field_of_use=[])
    rules = load_rules([tmp_path])
    graph = _graph({"example-org/ft": "ex-v2", "example-licensor/v2": "ex-v2", "example-licensor/v1": "ex-v1"},
                   [("example-org/ft", "example-licensor/v2"), ("example-licensor/v2", "example-licensor/v1")])
    use = DeclaredUse(commercial=True, monthly_active_users=1, annual_revenue_usd=1, distribution="weights",
                      regions=["US"], purposes=["chat-assistant"])
    [audit] = evaluate(graph, rules, use)
    assert [e.license for e in audit.effective_licenses] == ["ex-v2"]
    assert "license-conflict" not in {f.code for f in audit.findings}
    # A third party's release under another license does not replace anything: the conflict stays.
    graph = _graph({"example-org/ft": "ex-v2", "example-org/v2": "ex-v2", "example-licensor/v1": "ex-v1"},
                   [("example-org/ft", "example-org/v2"), ("example-org/v2", "example-licensor/v1")])
    [audit] = evaluate(graph, rules, use)
    assert {e.license for e in audit.effective_licenses} == {"ex-v1", "ex-v2"}
    assert "license-conflict" in {f.code for f in audit.findings}


def test_prohibited_uses_are_an_obligation_not_a_question() -> None:
    """An acceptable-use policy binds every user whatever they declare (Gemma §3.2, the Gemma Prohibited
    Use Policy): undeclared purposes raise no needs-input; the prohibited uses are listed as an obligation,
    and a declared prohibited purpose is still an error."""
    rules = load_rules()
    graph = _graph({"example-org/g": "gemma"}, [])
    base: dict[str, Any] = {"commercial": True, "monthly_active_users": 1, "annual_revenue_usd": 1, "distribution": "saas",
            "regions": ["US"]}
    [audit] = evaluate(graph, rules, DeclaredUse(**base))
    assert not [f for f in audit.findings if f.field == "purposes"]
    [prohibited] = [o for o in audit.obligations if o.id == "gemma:prohibited-uses"]
    assert "sexually-explicit-content" in prohibited.text and prohibited.clause is not None
    [audit] = evaluate(graph, rules, DeclaredUse(**base, purposes=["adult-content"]))
    assert [f.code for f in audit.findings if f.severity == "error"] == ["field-of-use"]
