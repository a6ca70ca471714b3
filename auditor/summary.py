"""Plain-text summaries of a result for the terminal (machine output goes to report files)."""

from __future__ import annotations

from collections.abc import Callable

from auditor.model import AuditResult, Finding
from auditor.reports._common import undecided_fields, undecided_findings, whole
from auditor.rules.schema import FieldOfUse, LicenseRule
from auditor.vocab import REGION_QUESTION_WORDS, RELATIONS, SEVERITIES, SEVERITY_RANK, ExitCode


def exit_code(result: AuditResult, fail_on: str) -> int:
    """0 pass; 1 findings at or above --fail-on; 3 when nothing worse was found but the audit could not decide:
    a model was not read, or a license term depends on a use field left undeclared (doubt is never a pass)."""
    if fail_on == "never":
        return ExitCode.OK
    result = whole(result)
    threshold = SEVERITY_RANK[fail_on]
    for model in result.models:
        if any(not f.waived and SEVERITY_RANK[f.severity] >= threshold for f in model.findings):
            return ExitCode.FINDINGS
    return ExitCode.OK if result.complete and not undecided_findings(result) else ExitCode.INCOMPLETE



def problem_lines(result: AuditResult) -> list[str]:
    """What went wrong with the audit itself, one line each: unreadable models (grouped when the Hub
    could not be reached at all) and notices about the inputs (a waiver that matches nothing…)."""
    lines = [f"warning: {n.file}:{n.line}: {n.message}" for n in result.notices]
    unresolved = [n.unresolved for n in result.graph.nodes if n.unresolved is not None]
    network = sorted({u.reason for u in unresolved if u.code == "unreachable"})
    for reason in network:
        count = sum(1 for u in unresolved if u.code == "unreachable" and u.reason == reason)
        lines.append(f"error: {reason} ({count} model{'s' if count != 1 else ''} not read). Check the network, "
                     "--endpoint or HF_ENDPOINT, or audit offline with --snapshot")
    return lines


def _severity_text(finding: Finding) -> str:
    if finding.default_severity is not None:
        return f"{finding.severity.upper()} (policy; default {finding.default_severity})"
    return finding.severity.upper()


def _counts(findings: list[Finding]) -> str:
    active = [f for f in findings if not f.waived]
    parts = []
    for sev in SEVERITIES:
        n = sum(1 for f in active if f.severity == sev)
        if n:
            parts.append(f"{n} {sev}{'s' if n > 1 else ''}")
    waived = len(findings) - len(active)
    if waived:
        parts.append(f"{waived} waived")
    return ", ".join(parts) or "none"


Style = Callable[[str, str], str]  # (text, verdict or severity) -> the text as the terminal shows it


def _plain(text: str, _key: str) -> str:
    return text


def render_summary(result: AuditResult, *, verbose: bool = False, quiet: bool = False,
                   style: Style | None = None) -> str:
    """The terminal summary. `style` colours each verdict and severity word (the CLI passes one when
    stdout is a terminal and colour is on); the text is otherwise the same."""
    paint = style or _plain
    result = whole(result)
    lines: list[str] = []
    total = len(result.models)
    by = {v: sum(1 for m in result.models if m.verdict == v) for v in ("fail", "review", "pass")}
    unresolved = sum(1 for n in result.graph.nodes if n.unresolved is not None)
    overall = f"Overall: {paint(result.verdict.upper(), result.verdict)} — {total} model{'s' if total != 1 else ''}: " + ", ".join(
        f"{by[v]} {v}" for v in ("fail", "review", "pass") if by[v]
    )
    if not result.complete:
        overall += (f"; INCOMPLETE: release cannot be cleared until {unresolved} "
                    f"model{'s' if unresolved != 1 else ''} {'are' if unresolved != 1 else 'is'} read")
    fields = undecided_fields(result)
    if fields:
        overall += f"; UNDECIDED until the manifest declares: {', '.join(fields)}"
    if quiet:
        # Quiet means silent when there is nothing to say: a complete audit that passed.
        return "" if result.verdict == "pass" and result.complete else overall + "\n"
    lines.append(f"model-license-auditor {result.tool_version} · rules {result.rules.version} "
                 f"({result.rules.licenses} licenses)")
    width = max([len(m.id) for m in result.models] + [5])
    lines.append(f"{'MODEL':<{width}}  {'VERDICT':<7}  {'EFFECTIVE LICENSES':<32}  FINDINGS")
    for model in result.models:
        lic = ", ".join(e.license for e in model.effective_licenses) or "-"
        verdict = paint(f"{model.verdict.upper():<7}", model.verdict)
        lines.append(f"{model.id:<{width}}  {verdict}  {lic:<32}  {_counts(model.findings)}")
    lines.append("")
    lines.append(overall)
    shown = [f for m in result.models for f in m.findings if not f.waived
             and (verbose or f.severity == "error")]
    if shown:
        lines.append("")
        lines.append("Findings:" if verbose else "Blocking findings:")
        for f in shown:
            clause = f" [{f.license} {f.clause.section}]" if f.clause and f.license else ""
            severity = paint(f"{_severity_text(f):<7}", f.severity)
            lines.append(f"  {severity} {f.code:<18} {f.model}: {f.message}{clause}")
            if verbose and f.remedy:
                lines.append(f"          fix: {f.remedy}")
    if not verbose:
        warnings = sum(1 for m in result.models for f in m.findings if f.severity == "warning" and not f.waived)
        if warnings:
            lines.append(f"({warnings} warning{'s' if warnings != 1 else ''} not shown; use --verbose or open the report)")
    return "\n".join(lines) + "\n"


def _derivative_lines(rule: LicenseRule, cite: Callable[[str, str], str]) -> list[str]:
    """What a derivative may declare, what a copy must keep, and which merges are excluded, each with its clause."""
    dl = rule.derivative_licensing
    listed = ", ".join(dict.fromkeys([rule.id, *dl.allowed]))
    how = {"any": "under any terms (keep the notices)", "listed": f"only under {listed}",
           "none": f"no adaptation may be shared (barred for distribution {', '.join(dl.barred_when)})"}[dl.policy]
    out = [f"Derivatives may be licensed: {how}" + (f" — {dl.requires.strip()}" if dl.requires else ""),
           cite(dl.cite.section, dl.cite.quote)]
    if dl.copies is not None:
        out += ["Copies (quantizations, re-uploads) keep this license", cite(dl.copies.section, dl.copies.quote)]
    grouped: dict[tuple[str, str, str, str], list[str]] = {}  # plain globs share one clause: one line
    for entry in rule.merge_exclusions():
        key = (entry.severity, entry.reason.strip(), entry.cite.section, entry.cite.quote)
        grouped.setdefault(key, []).extend(entry.licenses)
    for (severity, reason, section, quote), globs in grouped.items():
        sure = "cannot be merged with" if severity == "error" else "merging needs review with"
        out += [f"Merges: {sure} {', '.join(globs)}" + (f" — {reason}" if reason else ""), cite(section, quote)]
    return out


def _grant_conditions(rule: LicenseRule, cite: Callable[[str, str], str]) -> list[str]:
    """The questions the grant itself asks: is the use production, and has the user registered."""
    out: list[str] = []
    c = rule.commercial
    if c.registration_required:
        who = " or ".join(rule.registration_licensors)
        out.append(f"Registration: commercial use only after registering with {who} (declare `registered:`)")
    if c.research_only is not None:
        out.append(f"Research / non-production only (declare `production:`): {c.research_only.allowed.strip()}")
        out.append(cite(c.research_only.cite.section, c.research_only.cite.quote))
    return out


def _implied_lines(restriction: FieldOfUse, cite: Callable[[str, str], str]) -> list[str]:
    implied = restriction.implied_by_distribution
    if implied is None:
        return []
    exempt = f"; exempt: {implied.exempt.strip()}" if implied.exempt else ""
    return [f"      distribution {', '.join(implied.distributions)} counts as {restriction.purpose}{exempt}",
            "  " + cite(implied.cite.section, implied.cite.quote)]


def _threshold_lines(rule: LicenseRule, cite: Callable[[str, str], str]) -> list[str]:
    """Each threshold: what is counted when and over whom, the field that answers it, who is exempt, what
    happens past it."""
    out: list[str] = []
    for t in rule.thresholds:
        out.append(f"Threshold: {t.metric} {t.comparison.replace('_', ' ')} {t.limit:,}"
                   + (" (commercial use only)" if t.only_if_commercial else ""))
        out.append(f"    asked: {t.when_and_whom(rule.name)} (declare `{t.declared_field}`)")
        out.append(f"    measured: {t.measured.strip()}")
        out.append(f"    past it: {t.consequence.strip()}")
        out.append(cite(t.cite.section, t.cite.quote))
        if t.exemption is not None:
            out.append(f"    exempt: {t.exemption.who.strip()}")
            out.append(cite(t.exemption.cite.section, t.exemption.cite.quote))
    return out


def _territory_lines(rule: LicenseRule, cite: Callable[[str, str], str]) -> list[str]:
    """Each territory term: whom it withholds rights from, for which models, who is exempt."""
    out: list[str] = []
    for terr in rule.territory:
        field, verb = REGION_QUESTION_WORDS[terr.tests]
        scope = ", ".join(terr.applies_to_pipeline_tags + terr.applies_to_id_patterns) or "every model"
        out.append(f"Territory: no rights for parties who {verb} {', '.join(terr.regions)} "
                   f"(applies to: {scope}; declare `{field}`)")
        if terr.scope_note:
            out.append(f"    scope: {terr.scope_note.strip()}")
        out.append(cite(terr.cite.section, terr.cite.quote))
        if terr.exempt:
            out.append(f"    exempt: {terr.exempt.strip()}")
        if terr.exempt_cite is not None:
            out.append(cite(terr.exempt_cite.section, terr.exempt_cite.quote))
    return out


def _use_and_flow_lines(rule: LicenseRule, cite: Callable[[str, str], str]) -> list[str]:
    """The acceptable-use policy, training on outputs, and which derivatives the terms bind."""
    out: list[str] = []
    if rule.acceptable_use_policy:
        aup = rule.acceptable_use_policy
        out.append(f"Acceptable use policy: {aup.name} ({aup.url})"
                   + (" — must be passed on to downstream users" if aup.must_pass_downstream else ""))
        out.append(cite(aup.cite.section, aup.cite.quote))
    if rule.outputs_training:
        o = rule.outputs_training
        out.append(f"Training other models on outputs: {o.allowed}" + (f" — {o.condition.strip()}" if o.condition else ""))
        out.append(cite(o.cite.section, o.cite.quote))
    fd = rule.flows_down
    kinds = [k for k in RELATIONS if k != "unknown" and getattr(fd, k, False)]  # `trained-on`: no model
    out.append(f"Binds derivatives: {', '.join(kinds) or 'none'}")
    out.append(cite(fd.cite.section, fd.cite.quote))
    return out


def explain_rule(rule: LicenseRule, source: str) -> str:
    """A license's terms in plain language, each with its clause."""
    out = [f"{rule.name} ({rule.id})", f"  {rule.url}", f"  SPDX: {rule.spdx} · kind: {rule.kind}", ""]
    out.append(rule.summary.strip())
    out.append("")

    def cite(section: str, quote: str) -> str:
        return f"      [{section}] \"{quote.strip()}\""

    c = rule.commercial
    out.append(f"Commercial use: {'allowed' if c.allowed else 'NOT allowed'}"
               + (" (registration with the licensor required)" if c.registration_required else ""))
    out.append(cite(c.cite.section, c.cite.quote))
    out.extend(_grant_conditions(rule, cite))
    out.extend(_threshold_lines(rule, cite))
    out.extend(_territory_lines(rule, cite))
    if rule.field_of_use:
        out.append("Prohibited purposes:")
        for f in rule.field_of_use:
            out.append(f"  - {f.purpose}: {f.description.strip()}")
            out.append("  " + cite(f.cite.section, f.cite.quote))
            out.extend(_implied_lines(f, cite))
    out.extend(_use_and_flow_lines(rule, cite))
    out.extend(_derivative_lines(rule, cite))
    out.append(f"Redistribution: {'allowed' if rule.redistribution.allowed else 'NOT allowed'}")
    for cond in rule.redistribution.conditions:
        out.append(f"  - {cond.strip()}")
    out.append(cite(rule.redistribution.cite.section, rule.redistribution.cite.quote))
    if rule.obligations:
        out.append("Obligations:")
        for ob in rule.obligations:
            out.append(f"  - {ob.text.strip()} (when: {', '.join(ob.when)})")
            out.append(cite(ob.cite.section, ob.cite.quote))
    if rule.not_encoded:
        out.append("Not encoded (read the license for these):")
        out.extend(f"  - {n.strip()}" for n in rule.not_encoded)
    out.append("")
    out.append(f"Rule file: {source}")
    return "\n".join(out) + "\n"
