"""`auditor diff OLD.json NEW.json`: what changed between two audit results.

Licenses change under a model's feet (a repo relicensed on `main`), so two audits of the same manifest
can differ with no change in the pull request. The diff names each change: models added or removed,
a license that changed at a node (with both commit shas), lineage gained or lost, findings new or
resolved, verdicts, obligations and the rule set. Pure: two results in, a `Diff` out.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Literal

from auditor.findings import resolved
from auditor.model import AuditResult, Finding, ModelAudit, NodeRecord

ChangeKind = Literal[
    "model-added", "model-removed", "verdict", "license", "lineage-added", "lineage-removed",
    "finding-added", "finding-resolved", "obligation-added", "obligation-removed", "rules", "complete",
]
# The order changes are listed in: what changes the terms first.
KIND_ORDER: tuple[ChangeKind, ...] = (
    "verdict", "license", "model-added", "model-removed", "finding-added", "finding-resolved",
    "lineage-added", "lineage-removed", "obligation-added", "obligation-removed", "complete", "rules",
)
KIND_TITLES: dict[ChangeKind, str] = {
    "verdict": "Verdicts changed", "license": "Licenses changed at a node", "model-added": "Models added",
    "model-removed": "Models removed", "finding-added": "New findings", "finding-resolved": "Resolved findings",
    "lineage-added": "Ancestors added", "lineage-removed": "Ancestors removed",
    "obligation-added": "Obligations added", "obligation-removed": "Obligations removed",
    "complete": "Completeness", "rules": "Rule set",
}


@dataclass(frozen=True)
class Change:
    kind: ChangeKind
    subject: str  # the model (or node, license) the change is about; "" for the whole audit
    before: str | None
    after: str | None
    detail: str = ""


@dataclass(frozen=True)
class Side:
    """What identifies one of the two results."""

    generated_at: str
    verdict: str
    rules: str
    manifest: str | None


@dataclass(frozen=True)
class Diff:
    old: Side
    new: Side
    changes: list[Change] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for change in self.changes:
            counts[change.kind] = counts.get(change.kind, 0) + 1
        return counts

    def as_dict(self) -> dict[str, object]:
        return {"old": asdict(self.old), "new": asdict(self.new), "counts": self.counts(),
                "changes": [asdict(c) for c in self.changes]}


def _side(result: AuditResult) -> Side:
    return Side(generated_at=result.generated_at, verdict=result.verdict, rules=result.rules.version,
                manifest=result.manifest)


def diff_results(old: AuditResult, new: AuditResult) -> Diff:
    old, new = resolved(old), resolved(new)
    changes = [
        *_audit_changes(old, new),
        *_model_changes(old, new),
        *_license_changes(old, new),
        *_finding_changes(old, new),
        *_lineage_changes(old, new),
        *_obligation_changes(old, new),
    ]
    rank = {kind: i for i, kind in enumerate(KIND_ORDER)}
    changes.sort(key=lambda c: (rank[c.kind], c.subject, c.before or "", c.after or "", c.detail))
    return Diff(old=_side(old), new=_side(new), changes=changes)


def _audit_changes(old: AuditResult, new: AuditResult) -> Iterable[Change]:
    if old.verdict != new.verdict:
        yield Change("verdict", "", old.verdict, new.verdict, "overall")
    if old.complete != new.complete:
        yield Change("complete", "", _complete(old.complete), _complete(new.complete))
    if old.rules.digest != new.rules.digest:
        yield Change("rules", "", old.rules.version, new.rules.version,
                     "the rule set differs: a verdict may change with no change in the models")


def _complete(value: bool) -> str:
    return "complete" if value else "incomplete"


def _model_changes(old: AuditResult, new: AuditResult) -> Iterable[Change]:
    before = {m.id: m for m in old.models}
    after = {m.id: m for m in new.models}
    for model_id in sorted(after.keys() - before.keys()):
        yield Change("model-added", model_id, None, after[model_id].verdict)
    for model_id in sorted(before.keys() - after.keys()):
        yield Change("model-removed", model_id, before[model_id].verdict, None)
    for model_id in sorted(before.keys() & after.keys()):
        if before[model_id].verdict != after[model_id].verdict:
            yield Change("verdict", model_id, before[model_id].verdict, after[model_id].verdict)


def _declared(result: AuditResult, node: NodeRecord) -> str:
    """A node's terms as the audit read them: the rule ids, else what the card says, else why unread."""
    rule_ids = result.node_licenses.get(node.id)
    if rule_ids:
        return ", ".join(rule_ids)
    if node.facts is not None:
        declared = node.facts.declared
        return ", ".join([*declared.license, *filter(None, [declared.license_name])]) or "(none declared)"
    return "(not read)"


def _sha(node: NodeRecord) -> str:
    sha = node.facts.sha if node.facts is not None else None
    return sha[:12] if sha else "unknown revision"


def _license_changes(old: AuditResult, new: AuditResult) -> Iterable[Change]:
    before = {n.id: n for n in old.graph.nodes}
    for node in new.graph.nodes:
        was = before.get(node.id)
        if was is None:
            continue
        then, now = _declared(old, was), _declared(new, node)
        if then != now:
            yield Change("license", node.id, then, now, f"read at {_sha(was)} then, {_sha(node)} now")


def _finding_key(model: str, finding: Finding) -> tuple[str, ...]:
    section = finding.clause.section if finding.clause is not None else ""
    return (model, finding.code, finding.license or "", section, " > ".join(finding.via), finding.message)


def _findings(models: Iterable[ModelAudit]) -> dict[tuple[str, ...], Finding]:
    return {_finding_key(m.id, f): f for m in models for f in m.findings if not f.waived}


def _finding_text(finding: Finding) -> str:
    clause = f" ({finding.clause.section})" if finding.clause is not None else ""
    return f"{finding.severity} {finding.code}{clause}: {finding.message}"


def _finding_changes(old: AuditResult, new: AuditResult) -> Iterable[Change]:
    before, after = _findings(old.models), _findings(new.models)
    common = {m.id for m in old.models} & {m.id for m in new.models}
    for key in after.keys() - before.keys():
        if key[0] in common:  # a new model's findings are in its "model-added" line
            yield Change("finding-added", key[0], None, _finding_text(after[key]))
    for key in before.keys() - after.keys():
        if key[0] in common:
            yield Change("finding-resolved", key[0], _finding_text(before[key]), None)


def _lineage_changes(old: AuditResult, new: AuditResult) -> Iterable[Change]:
    before = {m.id: set(m.lineage) for m in old.models}
    for model in new.models:
        was = before.get(model.id)
        if was is None:
            continue
        for ancestor in sorted(set(model.lineage) - was):
            yield Change("lineage-added", model.id, None, ancestor)
        for ancestor in sorted(was - set(model.lineage)):
            yield Change("lineage-removed", model.id, ancestor, None)


def _obligation_changes(old: AuditResult, new: AuditResult) -> Iterable[Change]:
    before = {(o.license, o.id): o for o in old.obligations}
    after = {(o.license, o.id): o for o in new.obligations}
    for key in sorted(after.keys() - before.keys()):
        yield Change("obligation-added", key[0], None, after[key].text)
    for key in sorted(before.keys() - after.keys()):
        yield Change("obligation-removed", key[0], before[key].text, None)


# --------------------------------------------------------------------------- rendering


def _arrow(change: Change) -> str:
    if change.before is not None and change.after is not None:
        return f"{change.before} → {change.after}"
    return change.after if change.after is not None else (change.before or "")


def render_text(diff: Diff) -> str:
    if not diff.changes:
        return f"No changes ({diff.old.generated_at} → {diff.new.generated_at}).\n"
    lines = [f"Changes from {diff.old.generated_at} to {diff.new.generated_at} "
             f"(overall {diff.old.verdict} → {diff.new.verdict}):"]
    for kind in KIND_ORDER:
        group = [c for c in diff.changes if c.kind == kind]
        if not group:
            continue
        lines.append(f"\n{KIND_TITLES[kind]} ({len(group)}):")
        for change in group:
            subject = f"{change.subject}: " if change.subject else ""
            detail = f"  [{change.detail}]" if change.detail else ""
            lines.append(f"  {subject}{_arrow(change)}{detail}")
    return "\n".join(lines) + "\n"


def _md_cell(value: str) -> str:
    """A Markdown table cell that pings nobody and links nothing: inline code, pipes and backticks escaped."""
    flat = " ".join(value.split()).replace("`", "'").replace("|", "\\|")
    return f"`{flat}`" if flat else ""


def render_markdown(diff: Diff) -> str:
    lines = ["## License drift", ""]
    if not diff.changes:
        return "\n".join([*lines, "No change in models, licenses, findings or obligations.", ""])
    lines.append(f"Overall verdict: **{diff.old.verdict.upper()} → {diff.new.verdict.upper()}**. "
                 f"This change alters the terms you are under:" if diff.old.verdict != diff.new.verdict
                 else "This change alters the terms you are under:")
    for kind in KIND_ORDER:
        group = [c for c in diff.changes if c.kind == kind]
        if not group:
            continue
        lines += ["", f"### {KIND_TITLES[kind]} ({len(group)})", "", "| subject | before | after | note |",
                  "|---|---|---|---|"]
        lines += [f"| {_md_cell(c.subject)} | {_md_cell(c.before or '')} | {_md_cell(c.after or '')} | "
                  f"{_md_cell(c.detail)} |" for c in group]
    return "\n".join(lines) + "\n"
