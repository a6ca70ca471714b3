"""A model's findings, whole: its own, and those the result keeps once for every model that shares them.

Since schema 1.3 two kinds of findings are stored once, not copied into every model that has them:
- a finding about a lineage node (an unreadable ancestor, a fine-tune that relabels its base, a merge of incompatible
  licenses…), in `AuditResult.lineage_findings[node]`, with `model` the node and `via` its path from the node. A
  model has it for each node of its `lineage`, with itself as `model` and its path to the node (the first shortest
  path in the graph's child → parent edges, parents in sorted order, `trained-on` edges left out) before `via`;
- a finding about a license's terms under the declared use (non-commercial, a territory, a threshold to declare…),
  in `AuditResult.license_findings[rule id]`, with an empty `model` and `via` and a `message` that goes on from the
  license's label. A model has it for each of its `effective_licenses`, with itself as `model`, the effective
  license's `via`, and the message after the label: the license's name and, when the license is inherited, the
  path (`label`).
A model with `inherits_findings` has both kinds, as if listed in its own `findings`, deduplicated with them (one per
code, model, license and field or message; the unwaived, most severe, nearest, first in report order). Results
written before 1.3 list every finding in `findings` and read unchanged.

The engine builds its views through the same functions (`auditor.engine`), so a report of a 1.3 result shows
exactly the findings the engine found.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence

from auditor.model import AuditResult, EffectiveLicense, Finding, LineageGraph, ModelAudit
from auditor.vocab import RELATION_NATURE, SEVERITY_RANK, Verdict

__all__ = ["bfs_tree", "dedupe", "inherited", "label", "lineage_parents", "reachable", "report_order", "resolved",
           "resolved_findings", "verdict_of", "via_text"]

Parents = Mapping[str, Sequence[tuple[str, str]]]  # child -> [(parent, relation)], parents sorted


def via_text(via: list[str]) -> str:
    return f" (via {' → '.join(via[1:])})" if len(via) > 1 else ""


def label(effective: EffectiveLicense) -> str:
    """How a finding about a license's terms names the license: its name, and the path when it is inherited."""
    return f"{effective.name}{via_text(effective.via)}"


def lineage_parents(graph: LineageGraph) -> dict[str, list[tuple[str, str]]]:
    """Each node's model parents with their relations, sorted (a `trained-on` dataset is no model parent)."""
    parents: dict[str, list[tuple[str, str]]] = {}
    for edge in graph.edges:
        if RELATION_NATURE.get(edge.relation) != "data":
            parents.setdefault(edge.child, []).append((edge.parent, edge.relation))
    for found in parents.values():
        found.sort()  # the result must not depend on the order edges were listed in
    return parents


def bfs_tree(parents: Parents, model_id: str) -> dict[str, list[str]]:
    """Breadth-first from the model (parents in sorted order): each node reached, with the path that first reached
    it (the model's first shortest path to it)."""
    tree = {model_id: [model_id]}
    queue = deque([model_id])
    while queue:
        node = queue.popleft()
        for parent, _ in parents.get(node, ()):
            if parent not in tree:
                tree[parent] = [*tree[node], parent]
                queue.append(parent)
    return tree


def reachable(parents: Parents, model_id: str) -> set[str]:
    """The model and every node its parents lead to (the nodes `bfs_tree` reaches, without their paths)."""
    seen = {model_id}
    stack = [model_id]
    while stack:
        for parent, _ in parents.get(stack.pop(), ()):
            if parent not in seen:
                seen.add(parent)
                stack.append(parent)
    return seen


def _rank(finding: Finding) -> tuple[int, int]:
    return (not finding.waived, SEVERITY_RANK[finding.severity])


def report_order(f: Finding) -> tuple[object, ...]:
    d = f.__dict__
    clause = d["clause"]
    return (-SEVERITY_RANK[d["severity"]], d["code"], d["license"] or "", d["message"], d["field"] or "", d["via"],
            clause.section if clause is not None else "")


def dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (code, model, license, field or message): the unwaived, then the most severe one is kept,
    and of equals the one with the shortest path, then the first in report order (so the answer never depends on
    the order the checkers ran in, or on which of them the result keeps once per node). Read through each
    finding's attribute dict: a large audit dedupes hundreds of thousands."""
    seen: dict[tuple[object, ...], Finding] = {}
    for f in findings:
        d = f.__dict__
        field = d["field"]
        key = (d["code"], d["model"], d["license"], field, d["message"] if field is None else "")
        current = seen.get(key)
        if current is None or _kept_over(f, current):
            seen[key] = f
    return sorted(seen.values(), key=report_order)


def _kept_over(f: Finding, current: Finding) -> bool:
    rank, held = _rank(f), _rank(current)
    if rank != held:
        return rank > held
    near, nearest = len(f.__dict__["via"]), len(current.__dict__["via"])
    return near < nearest or (near == nearest and report_order(f) < report_order(current))


def verdict_of(findings: Iterable[Finding]) -> Verdict:
    active = [f for f in findings if not f.waived]
    if any(f.severity == "error" for f in active):
        return "fail"
    if any(f.severity == "warning" for f in active):
        return "review"
    return "pass"


def inherited(model_id: str, lineage: Iterable[str], stored: Mapping[str, Sequence[Finding]],
              path_to: Callable[[str], list[str]]) -> list[Finding]:
    """The findings the model holds from its lineage nodes' stored findings: each with the model as `model` and the
    model's path to the node before the finding's own path (which starts at the node)."""
    out: list[Finding] = []
    for node_id in lineage:
        found = stored.get(node_id)
        if not found:
            continue
        head = path_to(node_id)[:-1]
        for finding in found:
            values = dict(finding.__dict__)  # keeps Finding.SORTED_FIELDS order
            values["model"] = model_id
            values["via"] = head + values["via"]
            out.append(Finding.built(values))
    return out


def of_licenses(model_id: str, effective: Iterable[EffectiveLicense],
                stored: Mapping[str, Sequence[Finding]]) -> list[Finding]:
    """The findings the model holds from its effective licenses' stored term findings: each with the model as `model`,
    the effective license's path as `via`, and the license's label before the message."""
    out: list[Finding] = []
    for eff in effective:
        found = stored.get(eff.license)
        if not found:
            continue
        named = label(eff)
        for finding in found:
            values = dict(finding.__dict__)  # keeps Finding.SORTED_FIELDS order
            values["message"] = named + values["message"]
            values["model"] = model_id
            values["via"] = eff.via
            out.append(Finding.built(values))
    return out


def resolved_findings(result: AuditResult, model: ModelAudit, parents: Parents | None = None) -> list[Finding]:
    """Every finding of the model: its own and, when it inherits them, its lineage nodes' and its licenses' (`parents`:
    the result's `lineage_parents`, when many models are resolved)."""
    if not model.inherits_findings:
        return model.findings
    held = of_licenses(model.id, model.effective_licenses, result.license_findings)
    if result.lineage_findings:
        tree = bfs_tree(parents if parents is not None else lineage_parents(result.graph), model.id)
        held += inherited(model.id, model.lineage, result.lineage_findings, lambda node: tree.get(node, [model.id]))
    return dedupe([*model.findings, *held]) if held else model.findings


def resolved(result: AuditResult) -> AuditResult:
    """The result with every model's findings whole (each `findings` list complete, nothing left to inherit): what
    reports read. A result with nothing to inherit is returned as it is."""
    if not any(m.inherits_findings for m in result.models):
        return result
    parents = lineage_parents(result.graph)
    models = [m.model_copy(update={"findings": resolved_findings(result, m, parents), "inherits_findings": False})
              if m.inherits_findings else m for m in result.models]
    return result.model_copy(update={"models": models, "lineage_findings": {}, "license_findings": {}})
