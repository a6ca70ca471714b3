"""A survey's result by family: the root base models every listed model descends from, with counts.

A family is named by a root of the lineage graph (a model with no parent the survey knows: a base model, or
an ancestor that was not read). A model descending from several roots (a merge across families) counts in
each of them. Pure: an `AuditResult` and the ids listed in, plain dicts out (what the JSON report holds).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from auditor.model import AuditResult, Finding, LineageGraph, ModelAudit
from auditor.reports._common import whole
from auditor.vocab import RELATION_NATURE, FindingCode

# Laundering: a model that declares other terms than its lineage carries (allowed by the parent's license:
# `relabelled`; not allowed, or a copy that changes the license: `license-conflict`). Conflict: licenses that
# cannot all be met (`license-conflict`, `incompatible-merge`).
LAUNDERING: tuple[FindingCode, ...] = ("relabelled", "license-conflict")
CONFLICT: tuple[FindingCode, ...] = ("license-conflict", "incompatible-merge")
CASE_CODES: tuple[FindingCode, ...] = tuple(dict.fromkeys([*LAUNDERING, *CONFLICT]))
NO_LICENSE = "(none declared)"


def family_roots(graph: LineageGraph) -> dict[str, tuple[str, ...]]:
    """Every node's roots (sorted): the ancestors without parents; a node without parents is its own root.
    Cycles are one strongly connected component, named by its smallest id when nothing is above it."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(n.id for n in graph.nodes)
    # Training data is no base model: a dataset heads no family (its edges are left out).
    g.add_edges_from((e.child, e.parent) for e in graph.edges if RELATION_NATURE.get(e.relation) != "data")
    dag = nx.condensation(g)
    roots_of: dict[int, frozenset[str]] = {}
    for comp in reversed(list(nx.topological_sort(dag))):  # parents before children
        above = [roots_of[p] for p in dag.successors(comp)]
        roots_of[comp] = frozenset().union(*above) if above else frozenset([min(dag.nodes[comp]["members"])])
    mapping = dag.graph["mapping"]
    return {node: tuple(sorted(roots_of[mapping[node]])) for node in g.nodes}


@dataclass
class _Family:
    root: str
    models: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    declared: Counter[str] = field(default_factory=Counter)
    models_with: Counter[str] = field(default_factory=Counter)
    cases: list[dict[str, Any]] = field(default_factory=list)

    def add_model(self, audit: ModelAudit) -> None:
        self.models += 1
        self.verdicts[audit.verdict] += 1
        self.declared.update(audit.declared or [NO_LICENSE])
        self.models_with.update({f.code for f in audit.findings if not f.waived})


def _case(finding: Finding) -> dict[str, Any]:
    return {"code": finding.code, "model": finding.model, "license": finding.license, "via": list(finding.via),
            "message": finding.message}


def unique_cases(models: Iterable[ModelAudit]) -> list[Finding]:
    """The laundering and conflict findings, each once (a finding about an ancestor repeats in every
    descendant's audit), in a stable order."""
    seen: dict[tuple[str, str, str, str], Finding] = {}
    for audit in models:
        for finding in audit.findings:
            if finding.code in CASE_CODES and not finding.waived:
                seen.setdefault((finding.code, finding.model, finding.license or "", finding.message), finding)
    return [seen[k] for k in sorted(seen)]


def families(result: AuditResult, listed: Sequence[str]) -> list[dict[str, Any]]:
    """One entry per family of the listed models, most laundering and conflict cases first, then largest."""
    result = whole(result)
    roots = family_roots(result.graph)
    listed_set = set(listed)
    by_root: dict[str, _Family] = {}

    def of(model_id: str) -> list[_Family]:
        return [by_root.setdefault(r, _Family(r)) for r in roots.get(model_id, (model_id,))]

    for audit in result.models:
        if audit.id in listed_set:
            for fam in of(audit.id):
                fam.add_model(audit)
    for finding in unique_cases(result.models):
        for fam in of(finding.model):
            fam.cases.append(_case(finding))
    nodes = {n.id: n for n in result.graph.nodes}
    out = [_family_dict(f, result.node_licenses, nodes.get(f.root) is not None and nodes[f.root].facts is not None)
           for f in by_root.values()]
    return sorted(out, key=lambda f: (-len(f["cases"]), -f["models"], f["root"]))


def _family_dict(fam: _Family, node_licenses: Mapping[str, list[str]], root_read: bool) -> dict[str, Any]:
    return {
        "root": fam.root,
        "root_read": root_read,
        "root_licenses": list(node_licenses.get(fam.root, [])),
        "models": fam.models,
        "verdicts": dict(sorted(fam.verdicts.items())),
        "declared": dict(sorted(fam.declared.items(), key=lambda kv: (-kv[1], kv[0]))),
        "cases_by_code": {code: sum(1 for c in fam.cases if c["code"] == code) for code in CASE_CODES},
        "models_with": dict(sorted(fam.models_with.items())),
        "cases": fam.cases,
    }


def totals(result: AuditResult, listed: Sequence[str], fams: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The whole survey's counts."""
    result = whole(result)
    listed_set = set(listed)
    audits = [a for a in result.models if a.id in listed_set]
    cases = unique_cases(result.models)
    outside = [n for n in result.graph.nodes if n.id not in listed_set]
    return {
        "models": len(audits),
        "families": len(fams),
        "verdicts": dict(sorted(Counter(a.verdict for a in audits).items())),
        "cases_by_code": {code: sum(1 for c in cases if c.code == code) for code in CASE_CODES},
        "models_with": dict(sorted(Counter(c for a in audits for c in {f.code for f in a.findings
                                                                         if not f.waived}).items())),
        "ancestors_outside_listing": len(outside),
        "ancestors_unresolved": sum(1 for n in outside if n.unresolved is not None),
    }
