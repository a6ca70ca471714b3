"""`markdown` format: a short PR-comment summary (verdict, counts, blocking findings table).

Card text is untrusted: it is escaped for Markdown tables and HTML (`<`, `>`, `&`, `|`,
backticks, line breaks) so it renders as text in GitHub/GitLab comments.
"""

from __future__ import annotations

import re

from auditor.model import AuditResult
from auditor.reports import _common as c

EMOJI = {"pass": "✅", "review": "⚠️", "fail": "❌"}
HTML_REPORT = "audit.html"
MAX_ROWS = 50


def md(text: str) -> str:
    """Escape text for a Markdown table cell: one line, no HTML, no Markdown markup, no `|`."""
    text = c.plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return re.sub(r"([\\`*_\[\]|~])", r"\\\1", text)


def code(text: str) -> str:
    """A model id as inline code (escaped text when a backtick would end the code span)."""
    text = c.plain(text)
    return md(text) if "`" in text or "|" in text else f"`{text}`"


def _incomplete(result: AuditResult) -> list[str]:
    """The INCOMPLETE block (a quote): the headline, then each unread model and why."""
    lines = [f"> ⚠️ **{md(c.incomplete_headline(result))}**"]
    unread = c.unread_models(result)
    if unread:
        lines.append(">")
        lines += [f"> - {code(u.id)}: {md(u.code)} ({md(u.reason)})" for u in unread]
    return [*lines, ""]


def _blocking(result: AuditResult) -> list[str]:
    blocking = c.blocking_findings(result)
    if not blocking:
        if c.release_cleared(result):
            return ["Nothing blocks release."]
        n = len(c.unread_models(result))
        missing = "the unread model above is" if n == 1 else f"the {n} unread models above are" if n else "all is"
        return [
            f"No blocking finding among the models that were read, but release cannot be cleared until {missing} read."
        ]
    lines = ["### Blocking findings", "", "| Model | Code | License | Message |", "|---|---|---|---|"]
    for f in blocking[:MAX_ROWS]:
        lic = c.license_name(result, f.license) or "—"
        lines.append(f"| {md(f.model)} | {md(f.code)} | {md(lic)} | {md(f.message)} |")
    if len(blocking) > MAX_ROWS:
        lines.append(f"| … | | | {len(blocking) - MAX_ROWS} more in the full report |")
    return lines


def _training_data(result: AuditResult) -> list[str]:
    """The datasets the models were trained on (none: no section), each with its license and findings."""
    rows = c.training_data(result)
    if not rows:
        return []
    lines = ["", "### Training data", "",
             "Whether a dataset's license binds the weights of a model trained on it is legally unsettled.", ""]
    for row in rows[:MAX_ROWS]:
        licenses = ", ".join(row.licenses) or "no license identified"
        lines.append(f"- {code(row.model)} {c.relation_phrase('trained-on')} {code(row.dataset)} ({md(licenses)})")
        lines += [f"  - {md(f.severity)} {md(f.code)}: {md(f.message)}" for f in row.findings[:5]]
    if len(rows) > MAX_ROWS:
        lines.append(f"- … {len(rows) - MAX_ROWS} more in the full report")
    return lines


def render(result: AuditResult, *, manifest_path: str | None = None) -> bytes:
    counts = c.severity_counts(result)
    word = c.VERDICT_WORDS.get(result.verdict, result.verdict.upper())
    subject = result.product or manifest_path or result.manifest or "models"
    lines = [f"## {EMOJI.get(result.verdict, '')} Model license audit: **{word}** ({md(subject)})", ""]
    if not result.complete:
        lines += _incomplete(result)
    n = len(result.models)
    lines += [
        f"{c.plural(counts['error'], 'error')} · {c.plural(counts['warning'], 'warning')}"
        f" · {counts['info']} info"
        f" · {counts['waived']} waived — {n} model{'s' if n != 1 else ''} audited,"
        f" {len(result.graph.nodes)} in their lineage.",
        "",
        *_blocking(result),
        *_training_data(result),
        "",
        f"Full report: {HTML_REPORT}",
        "",
    ]
    return "\n".join(lines).encode("utf-8")
