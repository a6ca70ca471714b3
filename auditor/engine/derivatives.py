"""Derivatives of a model: copies and adaptations, what each may declare, and adaptations no one may share.

- A *copy* (relation `quantized`; a re-upload) is its parent's material itself: declaring another license
  for it misstates the terms to everyone downstream (`license-conflict`, laundering), where the parent's
  rule names the clause that keeps copies under it (`derivative_licensing.copies`).
- An *adaptation* (`finetune`, `adapter`, `merge`) may carry its own license where the parent's rule allows
  it (`policy: any`): a note that the parent's terms still apply (`relabelled`, info).
- An unknown relation could be either: said so, as a review.
- A rule whose `policy` is `none` lets no adaptation be shared: a model that holds its material through an
  adaptation is `no-derivatives` in the distributions the rule bars, whatever the model declares.

Everything comes from the rule files; nothing here names a license.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from itertools import pairwise

from auditor.engine.context import Ctx, Findings, flows
from auditor.rules.schema import LicenseRule
from auditor.vocab import DISTRIBUTIONS, RELATION_NATURE, RelationNature, Severity


def nature_text(relation: str) -> str:
    """What a derivative is to its parent, in words: 'a copy (quantized)', 'an adaptation (finetune)'…"""
    nature = RELATION_NATURE.get(relation, "either")
    if nature == "either":
        return "a copy or an adaptation (the relation is not stated)"
    return f"{'a copy' if nature == 'copy' else 'an adaptation'} ({relation})"


def clause_text(rule: LicenseRule) -> str:
    """'<license> <section>: <what it asks of a derivative>' from the rule's derivative_licensing."""
    dl = rule.derivative_licensing
    says = dl.requires.strip() or "sets the terms a derivative may be shared under"
    return f"{rule.name} {dl.cite.section}: {says}"


def _org(model_id: str) -> str:
    return model_id.split("/", 1)[0].lower()


def _edges(ctx: Ctx, model_id: str, rule: LicenseRule) -> Iterator[tuple[str, str, str]]:
    """(child, parent, relation) of every edge along which `rule`'s terms reach the model. An edge from a
    publisher's repo to its own repo declaring the license is skipped: a licensor may adapt, copy and
    relabel its own material."""
    carriers = ctx.carriers(model_id, rule)
    for child in sorted(carriers):
        for parent, relation in _steps(ctx, child, rule, carriers):
            yield child, parent, relation


def _steps(ctx: Ctx, child: str, rule: LicenseRule, carriers: set[str]) -> Iterator[tuple[str, str]]:
    """(parent, relation) of the child's edges among `_edges`, in the child's parents' order."""
    if child not in carriers:
        return
    for parent, relation in ctx.parents.get(child, []):
        if parent not in carriers or not flows(rule, relation):
            continue
        if rule.id in ctx.chosen(parent) and _org(child) == _org(parent):
            continue
        yield parent, relation


_COPYING: frozenset[RelationNature] = frozenset({"copy", "either"})  # relations that are or may be a copy


def _copy_path(ctx: Ctx, model_id: str, rule: LicenseRule, natures: set[RelationNature]) -> list[str] | None:
    """The shortest path from the model to a node declaring the license whose edges are all of `natures`."""
    if not any(RELATION_NATURE[relation] in natures for _, relation in ctx.parents.get(model_id, ())):
        return None  # no first step, without computing the carriers
    carriers = ctx.carriers(model_id, rule)
    queue: deque[list[str]] = deque([[model_id]])
    seen = {model_id}
    while queue:
        path = queue.popleft()
        for parent, relation in _steps(ctx, path[-1], rule, carriers):
            if RELATION_NATURE[relation] in natures and parent not in seen:
                if rule.id in ctx.chosen(parent):
                    return [*path, parent]
                seen.add(parent)
                queue.append([*path, parent])
    return None


# --------------------------------------------------------------------------- relabelling


def _relabel_severity(ctx: Ctx, nature: RelationNature, *, own: bool) -> Severity:
    """A copy relabelled by the model you ship (`own`) is an error when you hand the weights on; a relabelling
    upstream, or one that may be an adaptation, is a review."""
    if nature == "copy" and own and ctx.use.distribution == "weights":
        return "error"
    return "warning"


def _relabelled_copy(ctx: Ctx, node_id: str, rule: LicenseRule) -> tuple[RelationNature, str, list[str]] | None:
    """(nature, message, path to the holder) when the node is a copy (or maybe a copy) of material under the
    rule and declares another license."""
    copies = rule.derivative_licensing.copies
    assert copies is not None
    if not any(RELATION_NATURE[relation] in _COPYING for _, relation in ctx.parents.get(node_id, ())):
        return None  # no first step that may be a copy (most models: adaptations), without computing the carriers
    for natures in ({"copy"}, _COPYING):
        path = _copy_path(ctx, node_id, rule, natures)  # type: ignore[arg-type]
        if path is None:
            continue
        nature: RelationNature = "copy" if natures == {"copy"} else "either"
        own = ", ".join(ctx.chosen(node_id))
        case = (f"it is a copy of {path[-1]} (relations: {', '.join(_relations(ctx, path))}), so it is that "
                f"material under another label" if nature == "copy" else
                f"it is {nature_text('unknown')} of {path[1]}: if a copy (a quantization or re-upload), the label "
                f"misstates the terms; if an adaptation, {rule.name} may allow another license for it")
        return (nature, f"{node_id} declares {own}, not {rule.name}, which {path[-1]} declares: {case}. {rule.name} "
                f"{copies.section} keeps a shared copy under {rule.name}, whose terms still apply", path)
    return None


def _relations(ctx: Ctx, path: list[str]) -> list[str]:
    return [next(r for p, r in ctx.parents.get(c, []) if p == parent) for c, parent in pairwise(path)]


def _relabelled(ctx: Ctx, model_id: str, rule: LicenseRule, holder_via: list[str], out: Findings) -> None:
    """An adaptation declaring another license where the rule allows it: the inherited terms still apply."""
    own = ctx.chosen(model_id)
    key = ("relabelled", tuple(own), rule.id, holder_via[-1])
    tail = ctx.texts.get(key)  # what follows the model's id, built once for the siblings it is the same for
    if tail is None:
        tail = ctx.texts[key] = (f" declares {', '.join(own)}, not {rule.name}: it holds {holder_via[-1]}'s material "
                                 f"through an adaptation, and {clause_text(rule)}; the {rule.name} terms still apply "
                                 "to that material")
    out.add("relabelled", "info", model_id + tail, license=rule.id, cite=rule.derivative_licensing.cite,
            via=holder_via)


def relabelling(ctx: Ctx, node_id: str, out: Findings, *, own: bool) -> None:
    """A derivative declaring another license than the material it holds: the node, as the model you ship
    (`own`, `out` is the model's) or as an ancestor of it (`out` holds what any model holding the node gets)."""
    for via, rule, copied in _relabellings(ctx, node_id):
        if copied is not None:  # a copy relabelled: laundering
            nature, message, path = copied
            out.add("license-conflict", _relabel_severity(ctx, nature, own=own), message, license=rule.id,
                    cite=rule.derivative_licensing.copies, via=path)
        elif own and rule.derivative_licensing.policy == "any":
            _relabelled(ctx, node_id, rule, via, out)


def _relabellings(ctx: Ctx, node_id: str) -> list[tuple[list[str], LicenseRule,
                                                            tuple[RelationNature, str, list[str]] | None]]:
    """(the inherited license's path, its rule, the relabelled copy if the node is one) for each license the node holds
    from an ancestor whose rule keeps copies under it: once per node, whichever audited model it is in."""
    found = ctx.relabellings.get(node_id)
    if found is None:
        found = ctx.relabellings[node_id] = []
        if not ctx.chosen(node_id):
            return found  # declares nothing: missing-license says so
        for rid, via in ctx.inherited(node_id):
            rule = ctx.rules.rules[rid]
            dl = rule.derivative_licensing
            if len(via) == 1 or dl.copies is None or dl.policy == "listed":
                continue  # own; `listed`: any relabelling is a license-conflict already (derivative_licenses)
            found.append((via, rule, _relabelled_copy(ctx, node_id, rule)))
    return found


# --------------------------------------------------------------------------- no shared adaptations


def _adaptation(ctx: Ctx, model_id: str, rule: LicenseRule) -> tuple[RelationNature, str, str, str] | None:
    """(nature, child, parent, relation) of the step that makes the model an adaptation of the rule's
    material: an adaptation edge if there is one, else an edge that may be one, else None (a copy)."""
    found: tuple[RelationNature, str, str, str] | None = None
    for child, parent, relation in _edges(ctx, model_id, rule):
        nature = RELATION_NATURE[relation]
        if nature == "adaptation":
            return "adaptation", child, parent, relation
        if nature == "either" and found is None:
            found = ("either", child, parent, relation)
    return found


def _barred(ctx: Ctx, rule: LicenseRule, nature: RelationNature) -> tuple[Severity, str | None] | None:
    """(severity, needs-input field) in the declared distribution, or None when the rule does not bar it."""
    barred = rule.derivative_licensing.barred_when
    mode = ctx.use.distribution
    if mode is None and set(barred) != set(DISTRIBUTIONS):
        return "warning", "distribution"
    if mode is not None and mode not in barred:
        return None
    return ("error" if nature == "adaptation" else "warning"), None


def no_derivatives(ctx: Ctx, model_id: str, out: Findings) -> None:
    """A model that holds, through an adaptation, material whose license lets no adaptation be shared."""
    for eff in ctx.effective(model_id):
        rule = ctx.rules.rules[eff.license]
        if rule.derivative_licensing.policy != "none":
            continue
        step = _adaptation(ctx, model_id, rule)
        barred = _barred(ctx, rule, step[0]) if step is not None else None
        if step is None or barred is None:
            continue
        nature, child, parent, relation = step
        holder = next((via for rid, via in ctx.inherited(parent) if rid == rule.id), [parent])
        via = ctx.path_to(model_id, child) + holder
        severity, field = barred
        what = "an adaptation" if nature == "adaptation" else "what may be an adaptation"
        lead = (f"{model_id} holds {via[-1]}'s material under {rule.name} through {what} ({child} is "
                f"{nature_text(relation)} of {parent}); {clause_text(rule)}")
        if field is not None:
            out.add("needs-input", "warning", f"{lead}. Declare the distribution: the rule bars the adaptation "
                    f"with {', '.join(rule.derivative_licensing.barred_when)}", license=rule.id,
                    cite=rule.derivative_licensing.cite, via=via, field=field)
            continue
        mode = ctx.use.distribution
        out.add("no-derivatives", severity,
                f"{lead}. {f'With distribution {mode}' if mode else 'In every distribution'} this is outside the "
                f"license, whatever {model_id} declares", license=rule.id, cite=rule.derivative_licensing.cite,
                via=via)
