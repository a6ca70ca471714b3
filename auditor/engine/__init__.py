"""Evaluate every model of a lineage graph against the rules, the declared use and the policy.

A model's effective terms are its own declared licenses plus every ancestor license that flows down
along the edges between them (checked relation by relation), each with the path that brings it. The
checkers in `checks.py` turn them into findings; the policy then adjusts severities and applies waivers.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import NamedTuple

from auditor.engine.checks import MODEL_CHECKERS, check_terms
from auditor.engine.context import Ctx, Findings, build_ctx, chosen_ids, declared_map
from auditor.model import Clause, DeclaredLicense, DeclaredUse, Finding, LineageGraph, ModelAudit, Obligation
from auditor.policy import Policy, find_waiver
from auditor.rules.loader import RuleSet
from auditor.rules.schema import LicenseRule
from auditor.vocab import SEVERITY_RANK, Verdict, remedy

__all__ = ["Evaluation", "evaluate", "evaluate_with_licenses", "node_licenses", "verdict_of"]


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
    """One finding per (code, model, license, field or message): the unwaived, then the most severe one is kept,
    and of equals the one with the shortest path, then the first in report order (so the answer never depends on
    the order the checkers ran in: of a needs-input several nodes raise, the one nearest the model is shown).
    Read through each finding's attribute dict: a large audit dedupes hundreds of thousands."""
    seen: dict[tuple[object, ...], Finding] = {}
    for f in findings:
        d = f.__dict__
        field = d["field"]
        key = (d["code"], d["model"], d["license"], field, d["message"] if field is None else "")
        current = seen.get(key)
        if current is None or _kept_over(f, current):
            seen[key] = f
    return sorted(seen.values(), key=_report_order)


def _kept_over(f: Finding, current: Finding) -> bool:
    rank, held = _rank(f), _rank(current)
    if rank != held:
        return rank > held
    near, nearest = len(f.__dict__["via"]), len(current.__dict__["via"])
    return near < nearest or (near == nearest and _report_order(f) < _report_order(current))


def _report_order(f: Finding) -> tuple[object, ...]:
    d = f.__dict__
    clause = d["clause"]
    return (-SEVERITY_RANK[d["severity"]], d["code"], d["license"] or "", d["message"], d["field"] or "", d["via"],
            clause.section if clause is not None else "")


# An obligation before it is bound to models: (id, license, text, clause).
_Template = tuple[str, str, str, Clause | None]


def _prohibited_uses(ctx: Ctx, rule: LicenseRule) -> _Template | None:
    """A license's prohibited purposes as one obligation: they bind every user, whatever is declared."""
    if not rule.field_of_use:
        return None
    keys = ", ".join(sorted({f.purpose for f in rule.field_of_use}))
    return (f"{rule.id}:prohibited-uses", rule.id,
            f"Do not use the model (or let your users use it) for the purposes {rule.name} prohibits: {keys} "
            "(`auditor explain " + rule.id + "` lists each with its clause).", ctx.clause(rule.field_of_use[0].cite))


def _research_only(ctx: Ctx, rule: LicenseRule) -> _Template | None:
    """A research-only grant as an obligation: it binds every use, whatever production use is declared."""
    term = rule.commercial.research_only
    if term is None:
        return None
    return (f"{rule.id}:research-only", rule.id,
            f"Keep the model to the uses {rule.name} allows, never in production (live use with end users): "
            f"{term.allowed.strip()}", ctx.clause(term.cite))


def _outputs_training(ctx: Ctx, rule: LicenseRule) -> _Template | None:
    """A license's terms on training other models with the model's outputs: they bind every user, whatever is
    declared (`trains_on_outputs: true` also raises a finding)."""
    term = rule.outputs_training
    if term is None or term.allowed == "yes":
        return None
    lead = ("Do not use the model's outputs to train or improve other models" if term.allowed == "no"
            else "If you use the model's outputs to train or improve another model, meet these conditions")
    condition = f": {term.condition.strip()}" if term.condition.strip() else ""
    return f"{rule.id}:outputs-training", rule.id, f"{lead} ({rule.name}){condition}", ctx.clause(term.cite)


def _names_policy(text: str, name: str, url: str) -> bool:
    """An obligation's text names the policy (its name without a parenthesised remark, or its address)."""
    folded = " ".join(text.lower().split())
    bare = name.split("(", 1)[0].strip().lower()
    address = url.lower().split("://", 1)[-1].rstrip("/")
    return bare in folded or address in folded


def _acceptable_use(ctx: Ctx, rule: LicenseRule) -> _Template | None:
    """An acceptable-use policy the license incorporates by reference: it binds every use, whatever purposes
    are declared (a declared purpose it prohibits is a `field-of-use` finding where the rule lists it)."""
    aup = rule.acceptable_use_policy
    if aup is None or any(_names_policy(ob.text, aup.name, aup.url) for ob in rule.obligations):
        return None  # the rule lists its own obligation for it, in the text's words
    downstream = (" and include its use restrictions as an enforceable provision in the terms you give the users "
                  "you distribute to") if aup.must_pass_downstream else ""
    return (f"{rule.id}:incorporated-aup", rule.id,
            f"Follow the {aup.name} ({aup.url}), which {rule.name} incorporates{downstream}.", ctx.clause(aup.cite))


def _rule_obligations(ctx: Ctx, rule: LicenseRule) -> list[_Template]:
    """The obligations a license puts on the declared distribution (all of them when it is undeclared)."""
    mode = ctx.use.distribution
    out = [(f"{rule.id}:{ob.id}", rule.id, ob.text, ctx.clause(ob.cite))
           for ob in rule.obligations if mode is None or mode in ob.when]
    general = (_prohibited_uses(ctx, rule), _research_only(ctx, rule), _outputs_training(ctx, rule),
               _acceptable_use(ctx, rule))
    return out + [g for g in general if g is not None]


class _Obligations:
    """Each model's obligations as ids of the result's obligations: the obligations a set of effective licenses
    brings are built once per set (its id list shared by every model with that set, never mutated), and each set
    collects its models; the result's obligations, each with every model it binds, are made once (`merged`)."""

    def __init__(self) -> None:
        self.by_key: dict[tuple[str, ...], list[str]] = {}
        self.members: dict[tuple[str, ...], list[str]] = {}  # set of effective licenses -> its models
        self.templates: dict[str, _Template] = {}
        self.by_rule: dict[str, list[_Template]] = {}  # rule id -> its obligations (the declared use is fixed)

    def _of_rule(self, ctx: Ctx, rid: str) -> list[_Template]:
        found = self.by_rule.get(rid)
        if found is None:
            found = self.by_rule[rid] = _rule_obligations(ctx, ctx.rules.rules[rid])
        return found

    def of(self, ctx: Ctx, model_id: str) -> list[str]:
        """The model's obligation ids, sorted."""
        key = tuple(eff.license for eff in ctx.effective(model_id))
        ids = self.by_key.get(key)
        if ids is None:
            merged = {t[0]: t for rid in key for t in self._of_rule(ctx, rid)}
            self.templates.update(merged)
            ids = self.by_key[key] = sorted(merged)
            self.members[key] = []
        self.members[key].append(model_id)
        return ids

    def merged(self) -> list[Obligation]:
        """One obligation per id, with every model it binds, sorted by id."""
        models: dict[str, list[str]] = {}
        for key, ids in self.by_key.items():
            for oid in ids:
                models.setdefault(oid, []).extend(self.members[key])
        out = []
        for oid in sorted(models):
            _, rid, text, quote = self.templates[oid]
            out.append(Obligation.built({"clause": quote, "id": oid, "license": rid,
                                         "models": sorted(set(models[oid])), "text": text}))
        return out


class Evaluation(NamedTuple):
    audits: list[ModelAudit]
    # One per id a model names (`ModelAudit.obligations`), with every model it binds, sorted by id.
    obligations: list[Obligation]
    licenses: dict[str, list[str]]  # the rule ids each node declares


def verdict_of(findings: Iterable[Finding]) -> Verdict:
    active = [f for f in findings if not f.waived]
    if any(f.severity == "error" for f in active):
        return "fail"
    if any(f.severity == "warning" for f in active):
        return "review"
    return "pass"


def node_licenses(
    graph: LineageGraph, rules: RuleSet, fallback_licenses: dict[str, DeclaredLicense] | None = None
) -> dict[str, list[str]]:
    """The rule ids each node of the graph declares (for reports)."""
    declared, _ = declared_map(graph, rules, fallback_licenses or {})
    return {node_id: chosen_ids(norm, rules) for node_id, norm in sorted(declared.items())}


def _audit_model(ctx: Ctx, model_id: str, obligations: _Obligations, line: int | None) -> ModelAudit:
    out = Findings(ctx, model_id)
    effective = ctx.effective(model_id)
    for check in MODEL_CHECKERS[:3]:  # the model's own readability and declarations come first
        check(ctx, model_id, out)
    for eff in effective:
        rule = ctx.rules.rules[eff.license]
        check_terms(ctx, model_id, eff, rule, out)
    for check in MODEL_CHECKERS[3:]:
        check(ctx, model_id, out)
    findings = _dedupe(_apply_policy(ctx, out.items))
    record = ctx.nodes.get(model_id)
    return ModelAudit.of({
        "id": model_id,
        "verdict": verdict_of(findings),
        "declared": ctx.chosen(model_id),
        "effective_licenses": effective,
        "lineage": ctx.ancestors(model_id),
        "findings": findings,
        "obligations": obligations.of(ctx, model_id),
        "resolved": record is not None and record.unresolved is None,
        "requested_as": record.facts.requested if record is not None and record.facts is not None else None,
        "manifest_line": line,
    })


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
    return evaluate_with_licenses(graph, rules, use, policy, today=today, models=models,
                                  fallback_licenses=fallback_licenses).audits


def evaluate_with_licenses(
    graph: LineageGraph,
    rules: RuleSet,
    use: DeclaredUse,
    policy: Policy | None = None,
    *,
    today: dt.date | None = None,
    models: list[str] | None = None,
    fallback_licenses: dict[str, DeclaredLicense] | None = None,
    manifest_lines: Mapping[str, int | None] | None = None,
) -> Evaluation:
    """`evaluate`, the obligations its models' ids name, and the rule ids each node declares (for reports), from
    one normalisation pass. `manifest_lines`: the manifest line each model was listed on."""
    with _cyclic_gc_paused():
        ctx = build_ctx(graph, rules, use, policy, today or dt.date.today(), fallback_licenses or {})
        obligations = _Obligations()
        lines = manifest_lines or {}
        audits = [_audit_model(ctx, model_id, obligations, lines.get(model_id))
                  for model_id in (models if models is not None else graph.roots)]
        licenses = {node_id: ctx.chosen(node_id) for node_id in sorted(ctx.declared)}
        merged = obligations.merged()
    return Evaluation(audits, merged, licenses)


@contextmanager
def _cyclic_gc_paused() -> Iterator[None]:
    """Evaluation allocates hundreds of thousands of small objects (findings, paths) that form no reference
    cycle and live as long as the result: the cyclic collector would walk all of them again and again (a third
    of the time on a large graph) and free nothing. Reference counting still frees everything as usual; the
    collector runs again on leaving.

    On leaving, what evaluation built is moved to the collector's permanent generation (`gc.freeze`): else
    the first collection after it walks every one of those objects once more (a tenth of a large audit's time,
    paid by whatever allocates next, e.g. the report writer) to find nothing. Reference counting still frees
    them when the result is dropped."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()
