"""What-if: the same lineage evaluated under a grid of uses.

A product manager's questions ("can we go commercial? sell in the EU? ship the weights?") become one
table: distribution (internal / SaaS / weights) × commercial or not × in the EU or not × user and revenue
bands around every threshold the lineage's licenses set. Each cell is the overall verdict and the first
blocking clause. The lineage is read once (a crawl or a saved result); only the engine runs per cell.
Every other field of the declared use (purposes, production, registrations…) is kept as declared.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from itertools import product
from typing import TYPE_CHECKING

from auditor.model import AuditResult, DeclaredUse, Finding, ModelAudit
from auditor.rules.loader import RuleSet
from auditor.vocab import DISTRIBUTIONS, SEVERITY_RANK

if TYPE_CHECKING:
    from auditor.policy import Policy

# The territory axis: inside the EU, or a representative place outside it (the United States). A
# license that withholds rights elsewhere (e.g. the UK) shows in the declared use's own audit, not here.
TERRITORIES: tuple[tuple[str, str], ...] = (("outside the EU (US)", "US"), ("in the EU", "EU"))


@dataclass(frozen=True)
class Band:
    label: str
    value: int | None  # None: keep the declared value


@dataclass(frozen=True)
class Scenario:
    distribution: str
    commercial: bool
    territory: str
    users: Band
    revenue: Band


@dataclass(frozen=True)
class Cell:
    scenario: Scenario
    verdict: str
    blocking: str  # the first blocking finding: "model: code (clause)", "" on a pass

    def as_dict(self) -> dict[str, object]:
        s = self.scenario
        return {"distribution": s.distribution, "commercial": s.commercial, "territory": s.territory,
                "monthly_active_users": s.users.value, "users_band": s.users.label,
                "annual_revenue_usd": s.revenue.value, "revenue_band": s.revenue.label,
                "verdict": self.verdict, "blocking": self.blocking}


def _human(n: int) -> str:
    for size, suffix in ((1_000_000_000, "B"), (1_000_000, "M"), (1_000, "k")):
        if n >= size and n % size == 0:
            return f"{n // size}{suffix}"
    return f"{n:,}"


def bands(limits: Iterable[int], declared: int | None) -> list[Band]:
    """One band below every limit and one just past each: the values a threshold can tell apart."""
    ordered = sorted(set(limits))
    if not ordered:
        return [Band("as declared" if declared is not None else "not declared", declared)]
    below = [Band(f"under {_human(ordered[0])}", ordered[0] - 1)]
    return below + [Band(f"over {_human(limit)}", limit + 1) for limit in ordered]


def _limits(rules: RuleSet, license_ids: Iterable[str], metric: str) -> list[int]:
    found = []
    for rule_id in sorted(set(license_ids)):
        rule = rules.get(rule_id)
        if rule is not None:
            found += [t.limit for t in rule.thresholds if t.metric == metric]
    return found


def scenarios(rules: RuleSet, license_ids: Iterable[str], use: DeclaredUse) -> list[Scenario]:
    ids = list(license_ids)
    users = bands(_limits(rules, ids, "monthly_active_users"), use.monthly_active_users)
    revenue = bands(_limits(rules, ids, "annual_revenue_usd"), use.annual_revenue_usd)
    return [Scenario(d, c, t, u, r)
            for d, c, (t, _code), u, r in product(DISTRIBUTIONS, (False, True), TERRITORIES, users, revenue)]


def use_for(base: DeclaredUse, scenario: Scenario) -> DeclaredUse:
    region = dict(TERRITORIES)[scenario.territory]
    fields = base.model_dump(exclude_none=True, mode="json")
    fields.pop("regions", None)
    fields.update(distribution=scenario.distribution, commercial=scenario.commercial, domicile=[region],
                  markets=[region])
    if scenario.users.value is not None:
        fields["monthly_active_users"] = scenario.users.value
        fields["monthly_active_users_at_release"] = scenario.users.value
    if scenario.revenue.value is not None:
        fields["annual_revenue_usd"] = scenario.revenue.value
    return DeclaredUse.model_validate(fields)


def _first_blocking(models: list[ModelAudit]) -> str:
    candidates: list[tuple[int, int, str, Finding]] = []
    for index, model in enumerate(models):
        for finding in model.findings:
            if not finding.waived and finding.severity != "info":
                candidates.append((-SEVERITY_RANK[finding.severity], index, model.id, finding))
    if not candidates:
        return ""
    _, _, model_id, finding = min(candidates, key=lambda c: c[:2])
    clause = f" ({finding.license} {finding.clause.section})" if finding.clause and finding.license else ""
    return f"{model_id}: {finding.code}{clause}"


def matrix(result: AuditResult, rules: RuleSet, policy: Policy | None = None) -> list[Cell]:
    """Every scenario's verdict for the models of `result`, on its lineage graph, with `rules`."""
    from auditor.audit import curated_licenses, overall_verdict
    from auditor.engine import evaluate

    ids = [rule_id for licenses in result.node_licenses.values() for rule_id in licenses]
    ids += [el.license for m in result.models for el in m.effective_licenses]
    today = dt.date.fromisoformat(result.generated_at[:10])
    models = [m.id for m in result.models]
    fallback = curated_licenses(rules)
    cells = []
    for scenario in scenarios(rules, ids, result.use):
        audits = evaluate(result.graph, rules, use_for(result.use, scenario), policy,
                          today=today, models=models, fallback_licenses=fallback)
        cells.append(Cell(scenario, overall_verdict(audits), _first_blocking(audits)))
    return cells


# --------------------------------------------------------------------------- rendering

_HEADER = ("distribution", "commercial", "territory", "users", "revenue", "verdict", "first blocking clause")


def _row(cell: Cell) -> tuple[str, ...]:
    s = cell.scenario
    return (s.distribution, "yes" if s.commercial else "no", s.territory, s.users.label, s.revenue.label,
            cell.verdict.upper(), cell.blocking or "—")


def render_text(cells: list[Cell], title: str) -> str:
    rows = [_HEADER, *(_row(c) for c in cells)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(_HEADER) - 1)]
    lines = [title, ""]
    for row in rows:
        lines.append("  ".join(v.ljust(w) for v, w in zip(row, widths, strict=False)) + "  " + row[-1])
    allowed = sum(1 for c in cells if c.verdict == "pass")
    lines += ["", f"{allowed} of {len(cells)} uses pass; the others fail or need review (first clause shown). "
                  "Other declared fields are kept as declared."]
    return "\n".join(lines) + "\n"


def render_markdown(cells: list[Cell], title: str) -> str:
    def cell(value: str) -> str:
        flat = " ".join(value.split()).replace("`", "'").replace("|", "\\|")
        return f"`{flat}`" if flat and flat != "—" else flat

    lines = [f"## {title}", "", "| " + " | ".join(_HEADER) + " |", "|" + "---|" * len(_HEADER)]
    for c in cells:
        row = _row(c)
        lines.append("| " + " | ".join([*row[:5], f"**{row[5]}**", cell(row[6])]) + " |")
    return "\n".join(lines) + "\n"


def as_json(cells: list[Cell]) -> list[dict[str, object]]:
    return [c.as_dict() for c in cells]


__all__ = ["Band", "Cell", "Scenario", "as_json", "bands", "matrix", "render_markdown", "render_text",
           "scenarios", "use_for"]
