"""Evaluate every model of a lineage graph against the rules, the declared use and the policy.

A model's effective terms are its own declared licenses plus every ancestor license that flows down
along the edges between them (checked relation by relation), each with the path that brings it. The
checkers in `checks.py` turn them into findings; the policy then adjusts severities and applies waivers.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import NamedTuple

from auditor.engine.checks import (
    MODEL_CHECKERS,
    NODE_CHECKERS,
    PLACED_CHECKERS,
    check_terms,
    license_templates,
)
from auditor.engine.context import Ctx, Findings, build_ctx, chosen_ids, declared_map
from auditor.findings import dedupe, inherited, verdict_of
from auditor.model import Clause, DeclaredLicense, DeclaredUse, Finding, LineageGraph, ModelAudit, Obligation
from auditor.policy import Policy, find_waiver, waiver_matches
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


def _with_severity(ctx: Ctx, finding: Finding) -> Finding:
    """The finding with the policy's severity for its code (and the engine's own kept as `default_severity`)."""
    assert ctx.policy is not None
    severity = ctx.policy.severity.get(finding.code)
    if severity is None or severity == finding.severity:
        return finding
    return finding.model_copy(update={"severity": severity, "default_severity": finding.severity})


def _with_policy(ctx: Ctx, finding: Finding) -> list[Finding]:
    """One finding after the policy: its severity override, then its waiver (or an expired one)."""
    assert ctx.policy is not None
    finding = _with_severity(ctx, finding)
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


def _waived_for(ctx: Ctx, model_id: str) -> bool:
    """Does a waiver of the policy name the model (so a finding about an ancestor may be waived for it alone)?"""
    if ctx.policy is None or not ctx.policy.waivers:
        return False
    names = _names(ctx, model_id)
    return any(waiver_matches(waiver, names) is not None for waiver in ctx.policy.waivers)


# --------------------------------------------------------------------------- findings kept once


def _license_store(ctx: Ctx, rule_id: str) -> tuple[Finding, ...]:
    """The findings about the license's terms every model holding it has (model and path empty, each message without
    the label), with the policy's severities, deduplicated: once per license. Waivers are a model's own."""
    found = ctx.license_store.get(rule_id)
    if found is None:
        items = [Finding.built(values) for values in license_templates(ctx, ctx.rules.rules[rule_id])]
        if ctx.policy is not None:
            items = [_with_severity(ctx, f) for f in items]
        found = ctx.license_store[rule_id] = tuple(dedupe(items)) if items else ()
        ctx.license_worst[rule_id] = max((SEVERITY_RANK[f.severity] for f in found), default=-1)
    return found



def _node_same(ctx: Ctx, node_id: str) -> tuple[Finding, ...]:
    """What the node checkers say about the node, the same whether it is the model you ship or an ancestor of it
    (`model` is the node, paths start at it): once per node."""
    found = ctx.node_same.get(node_id)
    if found is None:
        out = Findings(ctx, node_id)
        for check in NODE_CHECKERS:
            check(ctx, node_id, out)
        found = ctx.node_same[node_id] = tuple(out.items) if out.items else ()
    return found


def _node_store(ctx: Ctx, node_id: str) -> tuple[Finding, ...]:
    """The findings every model holding the node as an ancestor has (`model` the node, paths from it), with the
    policy's severities, deduplicated: once per node. Waivers are a model's own (`_audit_model`)."""
    found = ctx.node_store.get(node_id)
    if found is None:
        out = Findings(ctx, node_id)
        out.items.extend(_node_same(ctx, node_id))
        for placed in PLACED_CHECKERS:
            placed(ctx, node_id, out, own=False)
        items = out.items if ctx.policy is None else [_with_severity(ctx, f) for f in out.items]
        found = ctx.node_store[node_id] = tuple(dedupe(items)) if items else ()
        ctx.node_worst[node_id] = max((SEVERITY_RANK[f.severity] for f in found), default=-1)
    return found


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
        set_of = {model_id: key for key, members in self.members.items() for model_id in members}
        models: dict[str, list[str]] = {oid: [] for oid in self.templates}  # each set has a model: each id binds one
        for model_id in sorted(set_of):  # each model once, in order, added to each obligation its set brings
            for oid in self.by_key[set_of[model_id]]:
                models[oid].append(model_id)
        out = []
        for oid in sorted(models):
            _, rid, text, quote = self.templates[oid]
            out.append(Obligation.built({"clause": quote, "id": oid, "license": rid, "models": models[oid],
                                         "text": text}))
        return out


class Evaluation(NamedTuple):
    audits: list[ModelAudit]
    # One per id a model names (`ModelAudit.obligations`), with every model it binds, sorted by id.
    obligations: list[Obligation]
    licenses: dict[str, list[str]]  # the rule ids each node declares
    # node -> the findings about it that the models inheriting them hold (empty when `whole`)
    lineage_findings: dict[str, list[Finding]]
    # rule id -> the findings about its terms that the models inheriting them hold, messages without the label
    license_findings: dict[str, list[Finding]]


def node_licenses(
    graph: LineageGraph, rules: RuleSet, fallback_licenses: dict[str, DeclaredLicense] | None = None
) -> dict[str, list[str]]:
    """The rule ids each node of the graph declares (for reports)."""
    declared, _ = declared_map(graph, rules, fallback_licenses or {})
    return {node_id: chosen_ids(norm, rules) for node_id, norm in sorted(declared.items())}


def _audit_model(ctx: Ctx, model_id: str, obligations: _Obligations, line: int | None, *, whole: bool) -> ModelAudit:
    """The model's audit. Unless `whole` (or a waiver names the model), its findings about its ancestors stay in
    their nodes' stores (`_node_store`; the result's `lineage_findings`) and its licenses' term templates in theirs
    (`_license_store`; `license_findings`), the model `inherits_findings`, and its verdict counts them."""
    out = Findings(ctx, model_id)
    out.items.extend(_node_same(ctx, model_id))
    for placed in PLACED_CHECKERS:
        placed(ctx, model_id, out, own=True)
    effective = ctx.effective(model_id)
    shares = not whole and not _waived_for(ctx, model_id)
    for eff in effective:
        check_terms(ctx, model_id, eff, ctx.rules.rules[eff.license], out, templates=not shares)
    for check in MODEL_CHECKERS:
        check(ctx, model_id, out)
    lineage = ctx.ancestors(model_id)
    stores = {node_id: store for node_id in lineage if (store := _node_store(ctx, node_id))}
    terms = {eff.license: found for eff in effective if (found := _license_store(ctx, eff.license))} if shares else {}
    inherits = shares and bool(stores or terms)
    if inherits:
        findings = dedupe(_apply_policy(ctx, out.items))
        worst = max([*(ctx.node_worst[n] for n in stores), *(ctx.license_worst[r] for r in terms)])
        verdict = max(verdict_of(findings), VERDICTS_BY_RANK[worst], key=VERDICTS_BY_RANK.index)
        ctx.stored.update(stores)
        ctx.license_stored.update(terms)
    else:
        held = inherited(model_id, lineage, stores, lambda node_id: ctx.path_to(model_id, node_id))
        findings = dedupe(_apply_policy(ctx, [*out.items, *held]))
        verdict = verdict_of(findings)
    record = ctx.nodes.get(model_id)
    return ModelAudit.built({  # in ModelAudit.SORTED_FIELDS order
        "declared": ctx.chosen(model_id),
        "effective_licenses": effective,
        "findings": findings,
        "id": model_id,
        "inherits_findings": inherits,
        "lineage": lineage,
        "manifest_line": line,
        "obligations": obligations.of(ctx, model_id),
        "requested_as": record.facts.requested if record is not None and record.facts is not None else None,
        "resolved": record is not None and record.unresolved is None,
        "verdict": verdict,
    })


# A severity's rank (SEVERITY_RANK: info 0, warning 1, error 2) as the verdict it makes.
VERDICTS_BY_RANK: tuple[Verdict, ...] = ("pass", "review", "fail")


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
    whole: bool = True,
) -> Evaluation:
    """`evaluate`, the obligations its models' ids name, and the rule ids each node declares (for reports), from
    one normalisation pass. `manifest_lines`: the manifest line each model was listed on.

    `whole`: every model lists all its findings. Else (the result's schema 1.3, `auditor.audit.build_result`) the
    findings about a lineage node and about a license's terms are kept once, in `Evaluation.lineage_findings` and
    `license_findings`, for the models that inherit them (`ModelAudit.inherits_findings`; `auditor.findings.resolved`
    gives each model's whole list)."""
    with _cyclic_gc_paused():
        ctx = build_ctx(graph, rules, use, policy, today or dt.date.today(), fallback_licenses or {})
        obligations = _Obligations()
        lines = manifest_lines or {}
        audits = [_audit_model(ctx, model_id, obligations, lines.get(model_id), whole=whole)
                  for model_id in (models if models is not None else graph.roots)]
        licenses = {node_id: ctx.chosen(node_id) for node_id in sorted(ctx.declared)}
        merged = obligations.merged()
        stored = {node_id: list(ctx.stored[node_id]) for node_id in sorted(ctx.stored)}
        terms = {rule_id: list(ctx.license_stored[rule_id]) for rule_id in sorted(ctx.license_stored)}
    return Evaluation(audits, merged, licenses, stored, terms)


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
