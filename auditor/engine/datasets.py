"""Training data: the licenses of the datasets a model (or an ancestor) was trained on (`trained-on` edges).

A dataset is no model: its license never joins a model's effective licenses (`flows` refuses `trained-on`, and
`build_ctx` keeps the edges out of `Ctx.parents`), so it never counts in license-conflict, relabelling or merge
checks. Its terms are evaluated with the same rules, but each breach is one `dataset-license` finding at that
code's default severity (`warning`: review), citing the dataset license's clause and the path model → dataset,
and saying that whether a dataset's license binds weights trained on it is legally unsettled. Only an
organisation's policy (`severity: {dataset-license: …}`) may make it block a release or drop to a note.
An unreadable dataset is `unresolved`, as an unreadable model is: never a pass.
"""

from __future__ import annotations

import fnmatch

from auditor.engine.context import Ctx, Findings
from auditor.rules.schema import Citation, LicenseRule
from auditor.vocab import CODES

UNSETTLED = ("whether a dataset's license binds the weights of a model trained on it is legally unsettled: review "
             "it for this use")
_SEVERITY = CODES["dataset-license"].severity


def dataset_licenses(ctx: Ctx, model_id: str, out: Findings) -> None:
    """Every dataset the model or one of its ancestors was trained on: unreadable, unlicensed, or under terms
    the declared use would breach if they reach the weights."""
    if not ctx.datasets:
        return
    for node_id in [model_id, *ctx.ancestors(model_id)]:
        for dataset_id in ctx.datasets.get(node_id, []):
            _dataset(ctx, dataset_id, [*ctx.path_to(model_id, node_id), dataset_id], out)


def _dataset(ctx: Ctx, dataset_id: str, via: list[str], out: Findings) -> None:
    node = ctx.nodes.get(dataset_id)
    if node is None:
        return
    trained = f"{via[-2]} was trained on {dataset_id}"
    if node.unresolved is not None:
        out.add("unresolved", "warning", f"{trained}, which could not be read ({node.unresolved.code}: "
                f"{node.unresolved.reason}); the data's license is unknown", via=via)
        return
    norm = ctx.declared.get(dataset_id)
    if norm is None or norm.missing:
        out.add("dataset-license", _SEVERITY, f"{trained}, which declares no license (no rights to the data are "
                f"granted); {UNSETTLED}", via=via)
        return
    for raw in norm.unrecognised:
        out.add("dataset-license", _SEVERITY, f"{trained}, which declares a license no rule recognises: {raw!r} "
                f"(its terms are unknown); {UNSETTLED}", via=via)
    for rule_id in ctx.chosen(dataset_id):
        _terms(ctx, trained, ctx.rules.rules[rule_id], via, out)


def _breach(out: Findings, trained: str, rule: LicenseRule, what: str, cite: Citation | None, via: list[str],
            field: str | None = None) -> None:
    section = f" ({cite.section})" if cite is not None else ""
    out.add("dataset-license", _SEVERITY, f"{trained}, under {rule.name}, which {what}{section}; {UNSETTLED}",
            license=rule.id, cite=cite, via=via, field=field)


def _terms(ctx: Ctx, trained: str, rule: LicenseRule, via: list[str], out: Findings) -> None:
    """The dataset license's terms the declared use would breach (or that depend on an undeclared field)."""
    use = ctx.use
    if rule.kind == "unknown":
        _breach(out, trained, rule, "does not identify the license: its terms must be read from the dataset's "
                "repository", rule.commercial.cite, via)
        return
    if not rule.commercial.allowed:
        if use.commercial is True:
            _breach(out, trained, rule, "does not permit commercial use, and the declared use is commercial",
                    rule.commercial.cite, via)
        elif use.commercial is None:
            _breach(out, trained, rule, "does not permit commercial use: declare whether the use is commercial",
                    rule.commercial.cite, via, field="commercial")
    research = rule.commercial.research_only
    if research is not None and use.production is True and use.commercial is not True:
        _breach(out, trained, rule, "allows only research or other non-production use, and the declared use is "
                "production", research.cite, via)
    _share_alike(ctx, trained, rule, via, out)


def _share_alike(ctx: Ctx, trained: str, rule: LicenseRule, via: list[str], out: Findings) -> None:
    """A share-alike data license (`derivative_licensing: listed`): weights shared under another license would
    breach it if they are an adaptation of the data."""
    terms = rule.derivative_licensing
    if terms.policy != "listed" or ctx.use.distribution != "weights":
        return
    allowed = [rule.id, *terms.allowed]
    own = ctx.chosen(via[0])
    if any(fnmatch.fnmatchcase(d, a) for d in own for a in allowed):
        return
    asks = terms.requires.strip() or "sets the license an adaptation must be shared under"
    _breach(out, trained, rule, f"asks of a shared adaptation: {asks}; the weights are shared under "
            f"{', '.join(own) or 'no license'}", terms.cite, via)
