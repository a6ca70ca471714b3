"""Evaluate every model of a lineage graph against the rules, the declared use and the policy.

The engine knows no license by name: every term comes from a `LicenseRule`.
A model's effective terms are its own declared licenses plus every ancestor license that flows
down along the edges between them (checked relation by relation), each with the path that brings it.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import get_args

from auditor import regions
from auditor.model import (
    Clause,
    DeclaredLicense,
    DeclaredUse,
    EffectiveLicense,
    Finding,
    LineageGraph,
    ModelAudit,
    NodeRecord,
    Obligation,
    Severity,
    Verdict,
)
from auditor.policy import Policy, classify, find_waiver
from auditor.rules.loader import RuleSet
from auditor.rules.normalize import Normalised, normalise_declared
from auditor.rules.schema import Citation, DistributionMode, LicenseRule

_DISTRIBUTION_MODES: tuple[str, ...] = get_args(DistributionMode)

# Permissiveness order for choosing within an OR expression (the licensee picks one alternative).
_KIND_ORDER = [
    "permissive",
    "weak-copyleft",
    "community",
    "use-restricted",
    "copyleft",
    "non-commercial",
    "proprietary",
    "unknown",
]
_SEVERITY_RANK = {"info": 0, "warning": 1, "error": 2}

REMEDIES = {
    "non-commercial": "Use another model, obtain a commercial license from the licensor, or declare non-commercial use.",
    "user-threshold": "Request a license from the licensor before exceeding the threshold, or use another model.",
    "revenue-threshold": "Obtain an enterprise/commercial license from the licensor, or use another model.",
    "territory": "The license grants no rights to parties in this region: use another model or seek legal advice.",
    "field-of-use": "Drop the prohibited purpose or use a model whose license permits it.",
    "license-conflict": "Treat the model as governed by its ancestors' terms and ask its publisher to fix the card.",
    "incompatible-merge": "Do not ship the merge: its parents' licenses cannot both be satisfied.",
    "unknown-license": "Read the repository's LICENSE, then add a rule file (auditor rules validate) or a waiver.",
    "missing-license": "Ask the publisher for a license; until then, no rights are granted.",
    "needs-input": "Declare this field in the manifest's `use` section (or on the command line).",
    "unresolved": "Make the model readable (HF_TOKEN for gated/private repos, fix the id) and audit again.",
    "cycle": "Fix the base_model metadata: a model cannot derive from itself.",
    "policy-deny": "Your organisation's policy denies this license: use another model or obtain an exception.",
    "policy-review": "Your organisation's policy requires a legal review of this license before release.",
    "redistribution": "Do not redistribute the weights, or obtain permission from the licensor.",
    "lineage-disagreement": "Check the model's metadata; all claimed parents were audited.",
    "waiver-expired": "Renew the waiver (new expiry date and approval) or fix the finding.",
}


@dataclass
class _Ctx:
    graph: LineageGraph
    rules: RuleSet
    use: DeclaredUse
    policy: Policy | None
    today: dt.date
    nodes: dict[str, NodeRecord] = field(default_factory=dict)
    parents: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # child -> [(parent, relation)]
    declared: dict[str, Normalised] = field(default_factory=dict)
    effective: dict[str, list[EffectiveLicense]] = field(default_factory=dict)
    curated: set[str] = field(default_factory=set)  # nodes whose license comes from a curated fact
    carriers: dict[tuple[str, str], set[str]] = field(default_factory=dict)  # (model, license) -> nodes


def _clause(cite: Citation | None) -> Clause | None:
    return Clause(section=cite.section, quote=cite.quote) if cite is not None else None


def _flows(rule: LicenseRule, relation: str) -> bool:
    fd = rule.flows_down
    if relation == "unknown":  # conservative: an unknown relation carries terms if any relation does
        return fd.finetune or fd.adapter or fd.quantized or fd.merge
    return bool(getattr(fd, relation, True))


def _chosen_ids(norm: Normalised, rules: RuleSet) -> list[str]:
    """AND ids plus, for each OR group, the most permissive alternative."""
    ids = list(norm.rule_ids)
    for group in norm.alternatives:
        ranked = sorted(group, key=lambda rid: (_KIND_ORDER.index(rules.rules[rid].kind), rid))
        if ranked:
            ids.append(ranked[0])
    return sorted(set(ids))


def _effective(ctx: _Ctx, model_id: str) -> list[EffectiveLicense]:
    """Own licenses plus flowing-down ancestor licenses, with the shortest path that carries each."""
    if model_id in ctx.effective:
        return ctx.effective[model_id]
    found: dict[str, EffectiveLicense] = {}
    # BFS over (node, path); a license held by a node flows if every edge on the path lets it flow.
    queue: deque[tuple[str, list[str], list[str]]] = deque([(model_id, [model_id], [])])
    visited: set[tuple[str, tuple[str, ...]]] = set()
    while queue:
        node_id, path, relations = queue.popleft()
        norm = ctx.declared.get(node_id)
        for rid in _chosen_ids(norm, ctx.rules) if norm else []:
            rule = ctx.rules.rules[rid]
            if rid in found or not all(_flows(rule, r) for r in relations):
                continue
            found[rid] = EffectiveLicense(
                license=rid, name=rule.name, spdx=rule.spdx, kind=rule.kind, via=path, own=node_id == model_id,
                url=rule.url,
            )
        for parent, relation in ctx.parents.get(node_id, []):
            if parent in path:
                continue  # cycle
            key = (parent, tuple([*relations, relation]))
            if key in visited:
                continue
            visited.add(key)
            queue.append((parent, [*path, parent], [*relations, relation]))
    result = sorted(found.values(), key=lambda e: (not e.own, len(e.via), e.license))
    ctx.effective[model_id] = result
    return result


def _ancestors(ctx: _Ctx, model_id: str) -> list[str]:
    seen: list[str] = []
    stack = [model_id]
    while stack:
        for parent, _ in ctx.parents.get(stack.pop(), []):
            if parent not in seen and parent != model_id:
                seen.append(parent)
                stack.append(parent)
    return sorted(seen)


def _path_to(ctx: _Ctx, model_id: str, target: str) -> list[str]:
    queue: deque[list[str]] = deque([[model_id]])
    seen = {model_id}
    while queue:
        path = queue.popleft()
        if path[-1] == target:
            return path
        for parent, _ in ctx.parents.get(path[-1], []):
            if parent not in seen:
                seen.add(parent)
                queue.append([*path, parent])
    return [model_id]


def _via_text(via: list[str]) -> str:
    return f" (via {' → '.join(via[1:])})" if len(via) > 1 else ""


class _Findings:
    def __init__(self, model: str) -> None:
        self.model = model
        self.items: list[Finding] = []

    def add(
        self,
        code: str,
        severity: Severity,
        message: str,
        *,
        license: str | None = None,
        cite: Citation | None = None,
        via: list[str] | None = None,
        field: str | None = None,
    ) -> None:
        self.items.append(
            Finding(
                code=code,
                severity=severity,
                model=self.model,
                message=message,
                license=license,
                clause=_clause(cite),
                via=via or [self.model],
                remedy=REMEDIES.get(code, ""),
                field=field,
            )
        )


def _terms_findings(ctx: _Ctx, model_id: str, eff: EffectiveLicense, out: _Findings) -> None:
    rule = ctx.rules.rules[eff.license]
    use = ctx.use
    label = f"{rule.name}{_via_text(eff.via)}"
    if not rule.commercial.allowed and rule.kind != "unknown":
        if use.commercial is True:
            out.add("non-commercial", "error", f"{label} does not permit commercial use",
                    license=rule.id, cite=rule.commercial.cite, via=eff.via)
        elif use.commercial is None:
            out.add("needs-input", "warning", f"{label} is non-commercial: declare whether the use is commercial",
                    license=rule.id, cite=rule.commercial.cite, via=eff.via, field="commercial")
    if rule.commercial.allowed and rule.commercial.registration_required and use.commercial is not False:
        out.add("field-of-use", "info", f"{label}: commercial use requires registration with the licensor",
                license=rule.id, cite=rule.commercial.cite, via=eff.via)
    for threshold in rule.thresholds:
        if threshold.only_if_commercial and use.commercial is False:
            continue
        value = getattr(use, threshold.metric)
        code = "user-threshold" if threshold.metric == "monthly_active_users" else "revenue-threshold"
        if value is None:
            out.add("needs-input", "warning",
                    f"{label} has a {threshold.metric} threshold of {threshold.limit:,}: declare it",
                    license=rule.id, cite=threshold.cite, via=eff.via, field=threshold.metric)
            continue
        over = value > threshold.limit if threshold.comparison == "greater_than" else value >= threshold.limit
        if over:
            out.add(code, "error",
                    f"{label}: declared {threshold.metric} {value:,} is past the limit {threshold.limit:,} "
                    f"({threshold.measured}); {threshold.consequence}",
                    license=rule.id, cite=threshold.cite, via=eff.via)
    for territory in rule.territory:
        if not _territory_applies(ctx, _carriers(ctx, model_id, rule), territory.applies_to_pipeline_tags,
                                  territory.applies_to_id_patterns):
            continue
        if use.regions is None:
            out.add("needs-input", "warning",
                    f"{label} withholds rights in {', '.join(territory.regions)}: declare your regions",
                    license=rule.id, cite=territory.cite, via=eff.via, field="regions")
            continue
        hits = sorted(regions.matches(use.regions, territory.regions))
        if hits:
            exempt = f" Exempt: {territory.exempt}" if territory.exempt else ""
            out.add("territory", "error",
                    f"{label} grants no rights to parties domiciled in {', '.join(territory.regions)} "
                    f"(declared: {', '.join(hits)}).{exempt}",
                    license=rule.id, cite=territory.cite, via=eff.via)
    if rule.field_of_use:
        if use.purposes is None:
            out.add("needs-input", "warning",
                    f"{label} prohibits some purposes ({', '.join(sorted({f.purpose for f in rule.field_of_use}))}): "
                    "declare your purposes",
                    license=rule.id, cite=rule.field_of_use[0].cite, via=eff.via, field="purposes")
        else:
            declared = {p.strip().lower() for p in use.purposes}
            for restriction in rule.field_of_use:
                if restriction.purpose.lower() in declared:
                    out.add("field-of-use", "error",
                            f"{label} prohibits '{restriction.purpose}': {restriction.description}",
                            license=rule.id, cite=restriction.cite, via=eff.via)
    if not rule.redistribution.allowed and rule.kind != "unknown":
        if use.distribution == "weights":
            out.add("redistribution", "error", f"{label} does not allow redistributing the weights",
                    license=rule.id, cite=rule.redistribution.cite, via=eff.via)
        elif use.distribution is None:
            out.add("needs-input", "warning",
                    f"{label} does not allow redistributing the weights: declare the distribution "
                    "(internal, saas or weights)",
                    license=rule.id, cite=rule.redistribution.cite, via=eff.via, field="distribution")
    if rule.kind == "unknown":
        severity: Severity = "error" if use.commercial or use.distribution == "weights" else "warning"
        out.add("unknown-license", severity,
                f"{label}: the license is not identified (declared as '{rule.id}'); its terms must be read "
                "from the repository", license=rule.id, cite=rule.commercial.cite, via=eff.via)
        # Each undeclared field could make it an error.
        undeclared = {"commercial": ("commercial use", "whether the use is commercial"),
                      "distribution": ("redistributing the weights", "the distribution (internal, saas or weights)")}
        for name, (blocked, ask) in undeclared.items():
            if severity != "error" and getattr(use, name) is None:
                out.add("needs-input", "warning",
                        f"{label}: an unidentified license blocks {blocked}: declare {ask}",
                        license=rule.id, cite=rule.commercial.cite, via=eff.via, field=name)
    if use.distribution is None:
        # Obligations that bind only some distribution modes: all are listed until the mode is declared.
        scoped = [ob for ob in rule.obligations if set(ob.when) != set(_DISTRIBUTION_MODES)]
        if scoped:
            modes = sorted({m for ob in scoped for m in ob.when})
            out.add("needs-input", "info",
                    f"{label}: some obligations apply only to distribution {', '.join(modes)}; all are listed "
                    "until you declare the distribution", license=rule.id, cite=scoped[0].cite, via=eff.via,
                    field="distribution")


def _carriers(ctx: _Ctx, model_id: str, rule: LicenseRule) -> set[str]:
    """Every node on some path from the model to a holder of `rule` along which its terms flow.

    A scoped term (e.g. a territory clause for one kind of model) applies if any of these nodes is in
    scope, not only the nodes of the shortest path shown as `via`.
    """
    key = (model_id, rule.id)
    if key in ctx.carriers:
        return ctx.carriers[key]
    reach: set[str] = set()  # nodes reachable from the model along flowing edges
    stack = [model_id]
    while stack:
        node_id = stack.pop()
        if node_id in reach:
            continue
        reach.add(node_id)
        stack.extend(p for p, relation in ctx.parents.get(node_id, []) if _flows(rule, relation))
    holds: set[str] = set()  # nodes of `reach` that hold the license themselves or through a flowing edge
    pending = [n for n in reach if (norm := ctx.declared.get(n)) and rule.id in _chosen_ids(norm, ctx.rules)]
    children: dict[str, list[str]] = {}
    for child in reach:
        for parent, relation in ctx.parents.get(child, []):
            if parent in reach and _flows(rule, relation):
                children.setdefault(parent, []).append(child)
    while pending:
        node_id = pending.pop()
        if node_id in holds:
            continue
        holds.add(node_id)
        pending.extend(children.get(node_id, []))
    ctx.carriers[key] = holds
    return holds


def _territory_applies(ctx: _Ctx, carriers: set[str], tags: list[str], patterns: list[str]) -> bool:
    if not tags and not patterns:
        return True
    for model_id in sorted(carriers):
        node = ctx.nodes.get(model_id)
        pipeline = node.facts.pipeline_tag if node is not None and node.facts is not None else None
        model_tags = set(node.facts.tags) if node is not None and node.facts is not None else set()
        if pipeline in tags or model_tags & set(tags):
            return True
        if any(fnmatch.fnmatchcase(model_id.lower(), p.lower()) for p in patterns):
            return True
    return False


def _node_findings(ctx: _Ctx, model_id: str, out: _Findings) -> None:
    """Findings about the model and each ancestor as nodes: unreadable, unlicensed, unrecognised."""
    for node_id in [model_id, *_ancestors(ctx, model_id)]:
        via = _path_to(ctx, model_id, node_id)
        node = ctx.nodes.get(node_id)
        if node is None:
            continue
        curated = " (its license is taken from a curated lineage fact)" if node_id in ctx.curated else ""
        if node.unresolved is not None:
            unknown_terms = "" if curated else "; its terms are unknown"
            out.add("unresolved", "warning",
                    f"{node_id} could not be read ({node.unresolved.code}: {node.unresolved.reason})"
                    f"{unknown_terms}{curated}", via=via)
            continue
        norm = ctx.declared[node_id]
        if norm.missing:
            out.add("missing-license", "warning" if node_id != model_id else "error",
                    f"{node_id} declares no license", via=via)
        for raw in norm.unrecognised:
            out.add("unknown-license", "warning", f"{node_id} declares an unrecognised license: {raw}", via=via)
        for conflict in norm.conflicts:
            out.add("license-conflict", "warning", f"{node_id}: {conflict}", via=via)
    for disagreement in ctx.graph.disagreements:
        if disagreement.model == model_id or disagreement.model in _ancestors(ctx, model_id):
            unusable = "not a Hub repo id" in disagreement.message
            out.add("unresolved" if unusable else "lineage-disagreement", "warning" if unusable else "info",
                    f"{disagreement.model}: {disagreement.message}",
                    via=_path_to(ctx, model_id, disagreement.model))
    members = {model_id, *_ancestors(ctx, model_id)}
    for cycle in ctx.graph.cycles:
        if members & set(cycle):
            out.add("cycle", "warning", "lineage cycle: " + " → ".join([*cycle, cycle[0]]))


def _conflict_findings(ctx: _Ctx, model_id: str, out: _Findings) -> None:
    """A derivative (the model or an ancestor) declaring terms an ancestor's license does not allow."""
    for node_id in [model_id, *_ancestors(ctx, model_id)]:
        norm = ctx.declared.get(node_id)
        own = _chosen_ids(norm, ctx.rules) if norm else []
        owner = node_id.split("/", 1)[0].lower()
        if not own:
            continue
        for inherited in _effective(ctx, node_id):
            if inherited.own:
                continue
            rule = ctx.rules.rules[inherited.license]
            policy = rule.derivative_licensing
            if policy.policy != "listed" or owner in {o.lower() for o in policy.licensor_orgs}:
                continue
            allowed = [rule.id, *policy.allowed]
            bad = [d for d in own if not any(fnmatch.fnmatchcase(d, a) for a in allowed)]
            if not bad:
                continue
            via = _path_to(ctx, model_id, node_id)[:-1] + inherited.via
            severity: Severity = "error" if ctx.use.distribution == "weights" else "warning"
            out.add("license-conflict", severity,
                    f"{node_id} declares {', '.join(bad)}, but it derives from {inherited.via[-1]} under "
                    f"{rule.name}, which its derivatives must keep; {rule.name} still applies",
                    license=rule.id, cite=policy.cite, via=via)
            if ctx.use.distribution is None:
                out.add("needs-input", "warning",
                        f"{node_id} declares {', '.join(bad)} over {rule.name} terms: the conflict blocks "
                        "redistributing the weights; declare the distribution (internal, saas or weights)",
                        license=rule.id, cite=policy.cite, via=via, field="distribution")


def _merge_findings(ctx: _Ctx, model_id: str, out: _Findings) -> None:
    for node_id in [model_id, *_ancestors(ctx, model_id)]:
        merge_parents = [p for p, r in ctx.parents.get(node_id, []) if r == "merge"]
        if len(merge_parents) < 2:
            continue
        arriving = {p: [e.license for e in _effective(ctx, p) if _flows(ctx.rules.rules[e.license], "merge")]
                    for p in merge_parents}
        reported: set[tuple[str, str]] = set()
        for i, first in enumerate(merge_parents):
            for second in merge_parents[i + 1 :]:
                for a in arriving[first]:
                    for b in arriving[second]:
                        pair = (min(a, b), max(a, b))
                        if a == b or pair in reported or not _incompatible(ctx.rules, a, b):
                            continue
                        reported.add(pair)
                        ra, rb = ctx.rules.rules[a], ctx.rules.rules[b]
                        # The finding names the license that declares the incompatibility (both, if both do),
                        # citing its terms for derivatives.
                        for declaring in sorted({r for r, o in ((a, b), (b, a)) if _lists(ctx.rules, r, o)}):
                            rule = ctx.rules.rules[declaring]
                            out.add("incompatible-merge", "error",
                                    f"{node_id} merges {first} ({ra.name}) and {second} ({rb.name}), "
                                    f"whose terms cannot both be met ({rule.name} excludes the other)",
                                    license=declaring, cite=rule.derivative_licensing.cite,
                                    via=_path_to(ctx, model_id, node_id))


def _lists(rules: RuleSet, a: str, b: str) -> bool:
    """Rule `a` lists `b` among the licenses it cannot be merged with."""
    return any(fnmatch.fnmatchcase(b, g) for g in rules.rules[a].merge_incompatible_with)


def _incompatible(rules: RuleSet, a: str, b: str) -> bool:
    return _lists(rules, a, b) or _lists(rules, b, a)


def _policy_findings(ctx: _Ctx, effective: list[EffectiveLicense], out: _Findings) -> None:
    if ctx.policy is None:
        return
    for eff in effective:
        verdict = classify(eff.license, ctx.policy)
        if verdict == "deny":
            out.add("policy-deny", "error", f"policy denies {eff.name}{_via_text(eff.via)}",
                    license=eff.license, via=eff.via)
        elif verdict == "review" or (verdict == "unlisted" and ctx.policy.allow):
            why = "requires review of" if verdict == "review" else "does not list"
            out.add("policy-review", "warning", f"policy {why} {eff.name}{_via_text(eff.via)}",
                    license=eff.license, via=eff.via)


def _apply_policy(ctx: _Ctx, findings: list[Finding]) -> list[Finding]:
    """Severity overrides and waivers."""
    if ctx.policy is None:
        return findings
    out: list[Finding] = []
    for finding in findings:
        severity = ctx.policy.severity.get(finding.code)
        if severity is not None:
            finding = finding.model_copy(update={"severity": severity})
        waiver = find_waiver(ctx.policy, finding.model, finding.code, finding.license)
        if waiver is not None and waiver.expires >= ctx.today:
            finding = finding.model_copy(
                update={"waived": True, "waiver": f"{waiver.justification} (approved by {waiver.approver}, "
                                                  f"expires {waiver.expires.isoformat()})"}
            )
        elif waiver is not None:
            out.append(Finding(
                code="waiver-expired", severity="info", model=finding.model, license=finding.license,
                message=f"the waiver for {finding.code} expired on {waiver.expires.isoformat()} "
                        f"(approved by {waiver.approver}); the finding applies again",
                remedy=REMEDIES["waiver-expired"], via=finding.via,
            ))
        out.append(finding)
    return out


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (code, model, license, field or message); the most severe one is kept."""
    seen: dict[tuple[str, str, str | None, str | None, str], Finding] = {}
    for f in findings:
        key = (f.code, f.model, f.license, f.field, f.message if f.field is None else "")
        current = seen.get(key)
        if current is None or _rank(f) > _rank(current):
            seen[key] = f
    return sorted(seen.values(), key=lambda f: (-_SEVERITY_RANK[f.severity], f.code, f.license or "", f.message,
                                                f.field or "", f.via, f.clause.section if f.clause else ""))


def _rank(finding: Finding) -> tuple[int, int]:
    return (not finding.waived, _SEVERITY_RANK[finding.severity])


def _obligations(ctx: _Ctx, model_id: str, effective: list[EffectiveLicense]) -> list[Obligation]:
    out: list[Obligation] = []
    mode = ctx.use.distribution
    for eff in effective:
        rule = ctx.rules.rules[eff.license]
        for ob in rule.obligations:
            if mode is not None and mode not in ob.when:
                continue
            out.append(Obligation(id=f"{rule.id}:{ob.id}", license=rule.id, text=ob.text,
                                  clause=_clause(ob.cite), models=[model_id]))
    return sorted({o.id: o for o in out}.values(), key=lambda o: o.id)


def verdict_of(findings: Iterable[Finding]) -> Verdict:
    active = [f for f in findings if not f.waived]
    if any(f.severity == "error" for f in active):
        return "fail"
    if any(f.severity == "warning" for f in active):
        return "review"
    return "pass"


def merge_obligations(per_model: Iterable[list[Obligation]]) -> list[Obligation]:
    merged: dict[str, Obligation] = {}
    for obligations in per_model:
        for ob in obligations:
            current = merged.get(ob.id)
            models = sorted(set((current.models if current else []) + ob.models))
            merged[ob.id] = ob.model_copy(update={"models": models})
    return sorted(merged.values(), key=lambda o: o.id)


def _declared_map(
    graph: LineageGraph, rules: RuleSet, fallback: dict[str, DeclaredLicense]
) -> tuple[dict[str, Normalised], set[str]]:
    declared_map: dict[str, Normalised] = {}
    curated: set[str] = set()
    for node in graph.nodes:
        declared = node.facts.declared if node.facts is not None else None
        if (declared is None or declared.is_empty) and node.id in fallback:
            declared = fallback[node.id]
            curated.add(node.id)
        if declared is not None:
            declared_map[node.id] = normalise_declared(declared, rules)
    return declared_map, curated


def node_licenses(
    graph: LineageGraph, rules: RuleSet, fallback_licenses: dict[str, DeclaredLicense] | None = None
) -> dict[str, list[str]]:
    """The rule ids each node of the graph declares (for reports)."""
    declared_map, _ = _declared_map(graph, rules, fallback_licenses or {})
    return {node_id: _chosen_ids(norm, rules) for node_id, norm in sorted(declared_map.items())}


def evaluate(
    graph: LineageGraph,
    rules: RuleSet,
    use: DeclaredUse,
    policy: Policy | None = None,
    *,
    today: dt.date | None = None,
    models: list[str] | None = None,
    fallback_licenses: dict[str, DeclaredLicense] | None = None,
) -> list[ModelAudit]:
    """One `ModelAudit` per model to ship (the graph's roots unless `models` is given).

    `fallback_licenses` (curated, with evidence) stand in for the declared license of a node that
    could not be read or declares nothing.
    """
    ctx = _Ctx(graph=graph, rules=rules, use=use, policy=policy, today=today or dt.date.today())
    ctx.nodes = {n.id: n for n in graph.nodes}
    for edge in graph.edges:
        ctx.parents.setdefault(edge.child, []).append((edge.parent, edge.relation))
    for parents in ctx.parents.values():
        parents.sort()  # the result must not depend on the order edges were listed in
    ctx.declared, ctx.curated = _declared_map(graph, rules, fallback_licenses or {})
    audits = []
    for model_id in models if models is not None else graph.roots:
        out = _Findings(model_id)
        effective = _effective(ctx, model_id)
        _node_findings(ctx, model_id, out)
        for eff in effective:
            _terms_findings(ctx, model_id, eff, out)
        _conflict_findings(ctx, model_id, out)
        _merge_findings(ctx, model_id, out)
        _policy_findings(ctx, effective, out)
        findings = _dedupe(_apply_policy(ctx, out.items))
        record = ctx.nodes.get(model_id)
        norm = ctx.declared.get(model_id)
        audits.append(ModelAudit(
            id=model_id,
            verdict=verdict_of(findings),
            declared=_chosen_ids(norm, rules) if norm else [],
            effective_licenses=effective,
            lineage=_ancestors(ctx, model_id),
            findings=findings,
            obligations=_obligations(ctx, model_id, effective),
            resolved=record is not None and record.unresolved is None,
            requested_as=record.facts.requested if record is not None and record.facts is not None else None,
        ))
    return audits
