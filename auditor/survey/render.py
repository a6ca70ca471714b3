"""A survey as JSON (everything) and as a Markdown summary (the families with most cases first, capped)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from auditor import __version__
from auditor.survey import Survey
from auditor.survey.families import CASE_CODES, LAUNDERING, families, totals

FORMATS = {"json": "survey.json", "md": "survey.md"}
MD_FAMILIES = 50  # rows of the Markdown families table; the JSON has them all
MD_CASES = 200  # laundering / conflict cases listed in the Markdown summary
_CELL = re.compile(r"[|\\`*_<>\[\]\r\n\t]")


def survey_dict(survey: Survey) -> dict[str, Any]:
    """The JSON report (no per-run counters: a cold and a warm survey of the same pages give the same file)."""
    fams = families(survey.result, survey.listed)
    query = survey.query
    return {
        "schema_version": "1.0",
        "tool": "model-license-auditor",
        "tool_version": __version__,
        "generated_at": survey.result.generated_at,
        "endpoint": survey.endpoint,
        "query": {"author": query.author, "filter": query.filters(), "limit": query.limit,
                  "page_size": query.page_size, "follow_parents": survey.follow_parents},
        "listing": {"pages": survey.listing.pages, "models": len(survey.listing.facts),
                    "skipped": survey.listing.skipped, "truncated_at_limit": survey.listing.truncated},
        "use": survey.result.use.model_dump(mode="json", exclude_none=True),
        "rules": survey.result.rules.model_dump(mode="json"),
        "codes": {"laundering": list(LAUNDERING), "cases": list(CASE_CODES)},
        "totals": totals(survey.result, survey.listed, fams),
        "families": fams,
    }


def render_json(data: Mapping[str, Any]) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def _cell(value: object, limit: int = 160) -> str:
    """Untrusted text in a Markdown table cell: one line, no markup, capped."""
    text = _CELL.sub(lambda m: " " if m.group() in "\r\n\t" else "\\" + m.group(), str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _n(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{k} {v:,}" for k, v in counts.items() if v) or "–"


def render_markdown(data: Mapping[str, Any]) -> str:
    t = data["totals"]
    lines = [
        "# License survey",
        "",
        f"- Endpoint: {_cell(data['endpoint'])}; query: {_cell(', '.join(_query_parts(data['query'])) or 'every model')}",
        f"- Models read: {t['models']:,} in {_n(data['listing']['pages'], 'page')}"
        + (" (stopped at --limit)" if data["listing"]["truncated_at_limit"] else ""),
        f"- Families (root base models): {t['families']:,}; ancestors outside the listing: "
        f"{t['ancestors_outside_listing']:,} ({t['ancestors_unresolved']:,} not read)",
        f"- Verdicts: {_counts(t['verdicts'])}",
        f"- Laundering and conflict cases: {_counts(t['cases_by_code'])}",
        "",
        "## Families",
        "",
        "| root base model | models | " + " | ".join(CASE_CODES) + " | verdicts | declared (top 3) |",
        "|---|---:|" + "---:|" * len(CASE_CODES) + "---|---|",
    ]
    fams: Sequence[Mapping[str, Any]] = data["families"]
    for fam in fams[:MD_FAMILIES]:
        declared = dict(list(fam["declared"].items())[:3])
        root = _cell(fam["root"]) + ("" if fam["root_read"] else " (not read)")
        row = [root, f"{fam['models']:,}", *(str(fam["cases_by_code"][c]) for c in CASE_CODES),
               _cell(_counts(fam["verdicts"])), _cell(_counts(declared))]
        lines.append("| " + " | ".join(row) + " |")
    if len(fams) > MD_FAMILIES:
        lines += ["", f"… and {len(fams) - MD_FAMILIES:,} more families (all of them are in survey.json)."]
    lines += ["", "## Laundering and conflict cases", "", *_case_lines(fams)]
    return "\n".join(lines) + "\n"


def _query_parts(query: Mapping[str, Any]) -> list[str]:
    parts = [f"author={query['author']}"] if query.get("author") else []
    parts += [f"filter={f}" for f in query.get("filter", [])]
    if query.get("limit"):
        parts.append(f"limit={query['limit']}")
    return parts


def _case_lines(fams: Sequence[Mapping[str, Any]]) -> list[str]:
    cases = [(fam["root"], case) for fam in fams for case in fam["cases"]]
    if not cases:
        return ["None found."]
    lines = ["| family | model | code | what |", "|---|---|---|---|"]
    for root, case in cases[:MD_CASES]:
        lines.append(f"| {_cell(root)} | {_cell(case['model'])} | {case['code']} | {_cell(case['message'], 300)} |")
    if len(cases) > MD_CASES:
        lines += ["", f"… and {len(cases) - MD_CASES:,} more (all of them are in survey.json)."]
    return lines


def render(data: Mapping[str, Any], fmt: str) -> str:
    return render_json(data) if fmt == "json" else render_markdown(data)
