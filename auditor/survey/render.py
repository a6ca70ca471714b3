"""A survey as JSON (everything) and as a Markdown summary (the families with most cases first, capped)."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from auditor import __version__
from auditor.survey import Survey
from auditor.survey.families import CASE_CODES, LAUNDERING, families, totals

FORMATS = {"json": "survey.json", "md": "survey.md", "html": "survey.html"}
MD_FAMILIES = 50  # rows of the Markdown families table; the JSON has them all
MD_CASES = 200  # laundering / conflict cases listed in the Markdown summary
HTML_FAMILIES = 300  # families shown in the HTML page (each with its cases folded)
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


_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>License survey</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#222}
table{border-collapse:collapse;width:100%}th,td{border-bottom:1px solid #ddd;padding:.3em .5em;text-align:left;
vertical-align:top}td.n{text-align:right}details{margin:.2em 0}summary{cursor:pointer}.case{color:#555}
.hot{background:#fff4e5}
</style></head><body>
<h1>License survey</h1>
<ul>
<li>Endpoint: {{ d.endpoint }}; query: {{ query or "every model" }}</li>
<li>Models read: {{ "{:,}".format(t.models) }} in {{ d.listing.pages }} page(s){% if d.listing.truncated_at_limit
%} (stopped at --limit){% endif %}</li>
<li>Families (root base models): {{ "{:,}".format(t.families) }}; ancestors outside the listing:
{{ t.ancestors_outside_listing }} ({{ t.ancestors_unresolved }} not read)</li>
<li>Verdicts: {{ counts(t.verdicts) }}</li>
<li>Laundering and conflict cases: {{ counts(t.cases_by_code) }}</li>
</ul>
<h2>Families</h2>
{% if shown < fams|length %}<p>The {{ shown }} families with most cases are shown; all
{{ "{:,}".format(fams|length) }} are in survey.json.</p>{% endif %}
<table><thead><tr><th>root base model</th><th>models</th>{% for c in codes %}<th>{{ c }}</th>{% endfor %}
<th>verdicts</th><th>declared</th></tr></thead><tbody>
{% for f in fams[:shown] %}<tr{% if f.cases %} class="hot"{% endif %}><td>{{ f.root }}{% if not f.root_read %}
(not read){% endif %}{% if f.cases %}<details><summary>{{ f.cases|length }} case(s)</summary>{% for c in f.cases
%}<div class="case"><b>{{ c.code }}</b> {{ c.model }}: {{ c.message }}</div>{% endfor %}</details>{% endif %}</td>
<td class="n">{{ f.models }}</td>{% for c in codes %}<td class="n">{{ f.cases_by_code[c] }}</td>{% endfor %}
<td>{{ counts(f.verdicts) }}</td><td>{{ counts(f.declared) }}</td></tr>
{% endfor %}</tbody></table>
</body></html>
"""


def render_html(data: Mapping[str, Any]) -> str:
    """One self-contained page (no script): the totals, then the families with most cases, each case folded."""
    import jinja2

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    template = env.from_string(_HTML)
    return template.render(d=data, t=data["totals"], fams=data["families"], codes=CASE_CODES, counts=_counts,
                           query=", ".join(_query_parts(data["query"])), shown=HTML_FAMILIES)


def render(data: Mapping[str, Any], fmt: str) -> str:
    renderers = {"json": render_json, "md": render_markdown, "html": render_html}
    return renderers[fmt](data)
