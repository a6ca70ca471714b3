"""Evaluate every model of a lineage graph against the rules, the declared use and the policy.

A model's effective terms are its own declared licenses plus every ancestor license that flows down
along the edges between them (checked relation by relation), each with the path that brings it. The
checkers in `checks.py` turn them into findings; the policy then adjusts severities and applies waivers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from auditor.engine.checks import MODEL_CHECKERS, TERM_CHECKERS
from auditor.engine.context import Ctx, Findings, build_ctx, chosen_ids, clause, declared_map
from auditor.model import DeclaredLicense, DeclaredUse, Finding, LineageGraph, ModelAudit, Obligation
from auditor.policy import Policy, find_waiver
from auditor.rules.loader import RuleSet
from auditor.rules.schema import LicenseRule
from auditor.vocab import SEVERITY_RANK, Verdict, remedy

__all__ = ["evaluate", "evaluate_with_licenses", "merge_obligations", "node_licenses", "verdict_of"]


def _names(ctx: Ctx, model_id: str) -> list[str]:
    """The names a model is known by: its id, then the names it was requested as (a renamed repo)."""
    node = ctx.nodes.get(model_id)
    requested = node.facts.requested if node is not None and node.facts is not None else None
    if requested is None and node is not None and node.unresolved is not None:
        requested = node.unresolved.requested
    aliases = [requested.split("@", 1)[0]] if requested else []
    return list(dict.fromkeys([model_id, *aliases]))


def _with_policy(ctx: Ctx, finding: Finding) -> list[Finding]:
    """One finding after the policy: its severity override, then its waiver (or an expired one)."""
    assert ctx.policy is not None
    severity = ctx.policy.severity.get(finding.code)
    if severity is not None and severity != finding.severity:
        finding = finding.model_copy(update={"severity": severity, "default_severity": finding.severity})
    match = find_waiver(ctx.policy, _names(ctx, finding.model), finding.code, finding.license)
    if match is None:
        return [finding]
    waiver, name = match
    renamed = f"; waiver written for {name}, now {finding.model}" if name != finding.model else ""
    if waiver.expires >= ctx.today:
        text = (f"{waiver.justification} (approved by {waiver.approver}, expires {waiver.expires.isoformat()}"
                f"{renamed})")
        return [finding.model_copy(update={"waived": True, "waiver": text})]
    expired = Finding(code="waiver-expired", severity="info", model=finding.model, license=finding.license,
                      message=f"the waiver for {finding.code} expired on {waiver.expires.isoformat()} (approved by "
                              f"{waiver.approver}{renamed}); the finding applies again",
                      remedy=remedy("waiver-expired"), via=finding.via)
    return [expired, finding]


def _apply_policy(ctx: Ctx, findings: list[Finding]) -> list[Finding]:
    if ctx.policy is None:
        return findings
    return [out for finding in findings for out in _with_policy(ctx, finding)]


def _rank(finding: Finding) -> tuple[int, int]:
    return (not finding.waived, SEVERITY_RANK[finding.severity])


def _dedupe(findings: Iterable[Finding]) -> list[Finding]:
    """One finding per (code, model, license, field or message); the most severe one is kept."""
    seen: dict[tuple[str, str, str | None, str | None, str], Finding] = {}
    for f in findings:
        key = (f.code, f.model, f.license, f.field, f.message if f.field is None else "")
        current = seen.get(key)
        if current is None or _rank(f) > _rank(current):
            seen[key] = f
    return sorted(seen.values(), key=lambda f: (-SEVERITY_RANK[f.severity], f.code, f.license or "", f.message,
                                                f.field or "", f.via, f.clause.section if f.clause else ""))


def _prohibited_uses(rule: LicenseRule) -> Obligation | None:
    """A license's prohibited purposes as one obligation: they bind every user, whatever is declared."""
    if not rule.field_of_use:
        return None
    keys = ", ".join(sorted({f.purpose for f in rule.field_of_use}))
    return Obligation.model_construct(
        id=f"{rule.id}:prohibited-uses", license=rule.id, clause=clause(rule.field_of_use[0].cite), models=[],
        text=f"Do not use the model (or let your users use it) for the purposes {rule.name} prohibits: {keys} "
             "(`auditor explain " + rule.id + "` lists each with its clause).")


def _research_only(rule: LicenseRule) -> Obligation | None:
    """A research-only grant as an obligation: it binds every use, whatever production use is declared."""
    term = rule.commercial.research_only
    if term is None:
        return None
    return Obligation.model_construct(
        id=f"{rule.id}:research-only", license=rule.id, clause=clause(term.cite), models=[],
        text=f"Keep the model to the uses {rule.name} allows, never in production (live use with end users): "
             f"{term.allowed.strip()}")


def _outputs_training(rule: LicenseRule) -> Obligation | None:
    """A license's terms on training other models with the model's outputs: they bind every user, whatever is
    declared (`trains_on_outputs: true` also raises a finding)."""
    term = rule.outputs_training
    if term is None or term.allowed == "yes":
        return None
    lead = ("Do not use the model's outputs to train or improve other models" if term.allowed == "no"
            else "If you use the model's outputs to train or improve another model, meet these conditions")
    condition = f": {term.condition.strip()}" if term.condition.strip() else ""
    return Obligation.model_construct(
        id=f"{rule.id}:outputs-training", license=rule.id, clause=clause(term.cite), models=[],
        text=f"{lead} ({rule.name}){condition}")


def _names_policy(text: str, name: str, url: str) -> bool:
    """An obligation's text names the policy (its name without a parenthesised remark, or its address)."""
    folded = " ".join(text.lower().split())
    bare = name.split("(", 1)[0].strip().lower()
    address = url.lower().split("://", 1)[-1].rstrip("/")
    return bare in folded or address in folded


def _acceptable_use(rule: LicenseRule) -> Obligation | None:
    """An acceptable-use policy the license incorporates by reference: it binds every use, whatever purposes
    are declared (a declared purpose it prohibits is a `field-of-use` finding where the rule lists it)."""
    aup = rule.acceptable_use_policy
    if aup is None or any(_names_policy(ob.text, aup.name, aup.url) for ob in rule.obligations):
        return None  # the rule lists its own obligation for it, in the text's words
    downstream = (" and include its use restrictions as an enforceable provision in the terms you give the users "
                  "you distribute to") if aup.must_pass_downstream else ""
    return Obligation.model_construct(
        id=f"{rule.id}:incorporated-aup", license=rule.id, clause=clause(aup.cite), models=[],
        text=f"Follow the {aup.name} ({aup.url}), which {rule.name} incorporates{downstream}.")


def _obligations(ctx: Ctx, model_id: str) -> list[Obligation]:
    out: list[Obligation] = []
    mode = ctx.use.distribution
    for eff in ctx.effective(model_id):
        rule = ctx.rules.rules[eff.license]
        out.extend(Obligation.model_construct(id=f"{rule.id}:{ob.id}", license=rule.id, text=ob.text,
                                              clause=clause(ob.cite), models=[model_id])
                   for ob in rule.obligations if mode is None or mode in ob.when)
        for general in (_prohibited_uses(rule), _research_only(rule), _outputs_training(rule), _acceptable_use(rule)):
            if general is not None:
                out.append(general.model_copy(update={"models": [model_id]}))
    return sorted({o.id: o for o in out}.values(), key=lambda o: o.id)


def verdict_of(findings: Iterable[Finding]) -> Verdict:
    active = [f for f in findings if not f.waived]
    if any(f.severity == "error" for f in active):
        return "fail"
    if any(f.severity == "warning" for f in active):
        return "review"
    return "pass"


def merge_obligations(per_model: Iterable[list[Obligation]]) -> list[Obligation]:
    """One obligation per id across models, with every model it binds: one pass, one sort."""
    first: dict[str, Obligation] = {}
    models: dict[str, set[str]] = {}
    for obligations in per_model:
        for ob in obligations:
            first.setdefault(ob.id, ob)
            models.setdefault(ob.id, set()).update(ob.models)
    return [first[oid].model_copy(update={"models": sorted(models[oid])}) for oid in sorted(first)]


def node_licenses(
    graph: LineageGraph, rules: RuleSet, fallback_licenses: dict[str, DeclaredLicense] | None = None
) -> dict[str, list[str]]:
    """The rule ids each node of the graph declares (for reports)."""
    declared, _ = declared_map(graph, rules, fallback_licenses or {})
    return {node_id: chosen_ids(norm, rules) for node_id, norm in sorted(declared.items())}


def _audit_model(ctx: Ctx, model_id: str) -> ModelAudit:
    out = Findings(model_id)
    effective = ctx.effective(model_id)
    for check in MODEL_CHECKERS[:3]:  # the model's own readability and declarations come first
        check(ctx, model_id, out)
    for eff in effective:
        rule = ctx.rules.rules[eff.license]
        for term_check in TERM_CHECKERS:
            term_check(ctx, model_id, eff, rule, out)
    for check in MODEL_CHECKERS[3:]:
        check(ctx, model_id, out)
    findings = _dedupe(_apply_policy(ctx, out.items))
    record = ctx.nodes.get(model_id)
    return ModelAudit(
        id=model_id,
        verdict=verdict_of(findings),
        declared=ctx.chosen(model_id),
        effective_licenses=effective,
        lineage=ctx.ancestors(model_id),
        findings=findings,
        obligations=_obligations(ctx, model_id),
        resolved=record is not None and record.unresolved is None,
        requested_as=record.facts.requested if record is not None and record.facts is not None else None,
    )


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
    audits, _ = evaluate_with_licenses(graph, rules, use, policy, today=today, models=models,
                                       fallback_licenses=fallback_licenses)
    return audits


def evaluate_with_licenses(
    graph: LineageGraph,
    rules: RuleSet,
    use: DeclaredUse,
    policy: Policy | None = None,
    *,
    today: dt.date | None = None,
    models: list[str] | None = None,
    fallback_licenses: dict[str, DeclaredLicense] | None = None,
) -> tuple[list[ModelAudit], dict[str, list[str]]]:
    """`evaluate`, and the rule ids each node declares (for reports), from one normalisation pass."""
    ctx = build_ctx(graph, rules, use, policy, today or dt.date.today(), fallback_licenses or {})
    audits = [_audit_model(ctx, model_id) for model_id in (models if models is not None else graph.roots)]
    licenses = {node_id: ctx.chosen(node_id) for node_id in sorted(ctx.declared)}
    return audits, licenses
