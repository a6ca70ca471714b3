"""The main job: references -> lineage -> engine -> one `AuditResult`."""

from __future__ import annotations

import datetime as dt
import hashlib
import operator
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import chain

from auditor import __version__
from auditor.engine import evaluate_with_licenses
from auditor.model import (
    AuditResult,
    CatalogueLicense,
    DeclaredLicense,
    DeclaredUse,
    Evidence,
    Finding,
    LineageGraph,
    ModelAudit,
    ModelFacts,
    ModelRef,
    Notice,
    Obligation,
    ParentClaim,
    RuleSetInfo,
    Verdict,
)
from auditor.pipeline import resolve_lineage
from auditor.policy import Policy, unused_globs, waiver_matches
from auditor.rules.loader import RuleSet
from auditor.sources.base import Source, now_iso


@dataclass(frozen=True)
class AuditEntry:
    """One model to audit: a reference, where it is in the manifest, and facts declared by hand."""

    ref: ModelRef
    line: int | None = None
    given: ModelFacts | None = None  # a private model declared in the manifest (never fetched)
    parents: list[ParentClaim] = field(default_factory=list)  # manifest-declared lineage (overrides curated)


def curated_parents(rules: RuleSet) -> dict[str, list[ParentClaim]]:
    """Lineage facts kept beside the rules, as parent claims with evidence of kind `curated`."""
    out: dict[str, list[ParentClaim]] = {}
    for fact in rules.lineage:
        out.setdefault(fact.child, []).append(
            ParentClaim(
                parent=fact.parent,
                relation=fact.relation,
                evidence=Evidence(
                    source="curated", field="license_rules/lineage", value=fact.statement, location=fact.source
                ),
            )
        )
    return out


def curated_licenses(rules: RuleSet) -> dict[str, DeclaredLicense]:
    """Parent licenses stated by a licensor in a curated lineage fact (used when the parent can't be read)."""
    out: dict[str, DeclaredLicense] = {}
    for fact in rules.lineage:
        if fact.parent_license:
            evidence = Evidence(source="curated", field="license_rules/lineage.parent_license",
                                value=fact.statement, location=fact.source)
            out[fact.parent] = DeclaredLicense(license=[fact.parent_license], evidence=[evidence])
    return out


def overall_verdict(models: list[ModelAudit]) -> Verdict:
    verdicts = {m.verdict for m in models}
    return "fail" if "fail" in verdicts else "review" if "review" in verdicts else "pass"


def policy_notices(policy: Policy | None, rules: RuleSet, graph: LineageGraph) -> list[Notice]:
    """Policy entries that can never apply: globs matching no rule, waivers matching no audited model."""
    if policy is None:
        return []
    notices = [Notice(file=policy.file, line=line, message=message) for line, message in unused_globs(policy, rules)]
    names = [n.id for n in graph.nodes]
    names += [n.facts.requested.split("@", 1)[0] for n in graph.nodes if n.facts is not None]
    for index, waiver in enumerate(policy.waivers):
        if waiver_matches(waiver, names) is None:
            notices.append(Notice(file=policy.file, line=policy.line("waivers", index),
                                  message=f"waivers[{index}].model: '{waiver.model}' matches no audited model; "
                                          "the waiver never applies. Fix the id or remove the waiver"))
    return notices


def mentioned_rule_ids(audits: list[ModelAudit], node_licenses: dict[str, list[str]],
                       obligations: list[Obligation], lineage_findings: dict[str, list[Finding]]) -> set[str]:
    """Every license id the result names: declared by a node or a model, effective, in a finding (a model's or a
    lineage node's) or an obligation (ids no rule encodes are among them; the catalogue leaves those out)."""
    ids = set(chain.from_iterable(node_licenses.values()))
    ids.update(chain.from_iterable(audit.declared for audit in audits))
    ids.update(map(_license_of, chain.from_iterable(audit.effective_licenses for audit in audits)))
    ids.update(map(_license_of, chain.from_iterable(audit.findings for audit in audits)))
    ids.update(map(_license_of, chain.from_iterable(lineage_findings.values())))
    ids.update(ob.license for ob in obligations)  # every obligation a model names is one of these
    ids.discard(None)  # a finding about no license
    return ids


_license_of = operator.attrgetter("license")


def license_catalogue(rules: RuleSet, rule_ids: set[str]) -> dict[str, CatalogueLicense]:
    """What each mentioned rule says of its license (name, SPDX id, kind, URL, version, full text), read
    once per license: the saved result is then enough to render every report."""
    catalogue: dict[str, CatalogueLicense] = {}
    for rule_id in sorted(rule_ids):
        rule = rules.get(rule_id)
        if rule is None:
            continue
        text = rules.license_text(rule_id)
        catalogue[rule_id] = CatalogueLicense(
            id=rule.id, name=rule.name, spdx=rule.spdx, kind=rule.kind, url=rule.url, version=rule.version,
            text=text, text_file=rule.text_file,
            text_sha256=hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None,
            copyright=list(rule.copyright),
        )
    return catalogue


def _today(generated_at: str) -> dt.date:
    return dt.date.fromisoformat(generated_at[:10])


def build_result(
    graph: LineageGraph,
    entries: list[AuditEntry],
    rules: RuleSet,
    use: DeclaredUse,
    policy: Policy | None,
    *,
    product: str | None = None,
    manifest: str | None = None,
    policy_name: str | None = None,
    generated_at: str | None = None,
) -> AuditResult:
    stamp = generated_at or now_iso()
    canonical = {}
    for node in graph.nodes:
        if node.facts is not None:
            canonical[node.facts.requested] = node.id
        if node.unresolved is not None:
            canonical[node.unresolved.requested] = node.id
    ordered: list[str] = []
    lines: dict[str, int | None] = {}
    for entry in entries:
        model_id = canonical.get(entry.ref.key, entry.ref.id)
        if model_id not in lines:
            ordered.append(model_id)
            lines[model_id] = entry.line
    fallback = curated_licenses(rules)
    audits, obligations, licenses, stored, terms = evaluate_with_licenses(
        graph, rules, use, policy, today=_today(stamp), models=ordered, fallback_licenses=fallback,
        manifest_lines=lines, whole=False)
    return AuditResult(
        tool_version=__version__,
        generated_at=stamp,
        verdict=overall_verdict(audits),
        complete=all(n.unresolved is None for n in graph.nodes),
        use=use,
        product=product,
        manifest=manifest,
        models=audits,
        obligations=obligations,
        graph=graph,
        rules=RuleSetInfo(version=rules.version, digest=rules.digest, licenses=len(rules.rules)),
        policy=policy_name,
        node_licenses=licenses,
        notices=policy_notices(policy, rules, graph),
        license_catalogue=license_catalogue(rules, mentioned_rule_ids(audits, licenses, obligations, stored)),
        lineage_findings=stored,
        license_findings=terms,
    )


def crawl_entries(
    entries: list[AuditEntry],
    source: Source,
    rules: RuleSet,
    *,
    extra_refs: list[ModelRef] | None = None,
    depth: int = 10,
    concurrency: int = 8,
    progress: Callable[[int, int, str], None] | None = None,
) -> LineageGraph:
    """The lineage an audit follows: the Hub's, the curated facts beside the rules, and the parents the
    manifest declares (which replace curated ones). `snapshot record` crawls exactly this."""
    extra = curated_parents(rules)
    for entry in entries:
        if entry.parents and entry.given is None:
            extra[entry.ref.id] = list(entry.parents)  # the manifest overrides curated lineage
    given = {e.ref.key: e.given for e in entries if e.given is not None}
    return resolve_lineage(
        [e.ref for e in entries] + list(extra_refs or []),
        source,
        depth=depth,
        concurrency=concurrency,
        given=given,
        extra_parents=extra,
        progress=progress,
    )


def run_audit(
    entries: list[AuditEntry],
    source: Source,
    rules: RuleSet,
    use: DeclaredUse,
    policy: Policy | None = None,
    *,
    depth: int = 10,
    concurrency: int = 8,
    product: str | None = None,
    manifest: str | None = None,
    policy_name: str | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> AuditResult:
    graph = crawl_entries(entries, source, rules, depth=depth, concurrency=concurrency, progress=progress)
    return build_result(
        graph, entries, rules, use, policy, product=product, manifest=manifest, policy_name=policy_name
    )
