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


def render(result: AuditResult, *, manifest_path: str | None = None) -> bytes:
    counts = c.severity_counts(result)
    blocking = c.blocking_findings(result)
    word = c.VERDICT_WORDS.get(result.verdict, result.verdict.upper())
    subject = result.product or manifest_path or result.manifest or "models"
    lines = [f"## {EMOJI.get(result.verdict, '')} Model license audit: **{word}** ({md(subject)})", ""]
    n = len(result.models)
    lines.append(
        f"{c.plural(counts['error'], 'error')} · {c.plural(counts['warning'], 'warning')}"
        f" · {counts['info']} info"
        f" · {counts['waived']} waived — {n} model{'s' if n != 1 else ''} audited,"
        f" {len(result.graph.nodes)} in their lineage."
    )
    if not result.complete:
        unresolved = sorted(node.id for node in result.graph.nodes if node.facts is None)
        missing = ", ".join(code(m) for m in unresolved)
        lines += [
            "",
            f"> ⚠️ **INCOMPLETE**: part of the lineage could not be read{': ' + missing if missing else ''}.",
        ]
    lines.append("")
    if blocking:
        lines += ["### Blocking findings", "", "| Model | Code | License | Message |", "|---|---|---|---|"]
        for f in blocking[:MAX_ROWS]:
            lic = c.license_name(result, f.license) or "—"
            lines.append(f"| {md(f.model)} | {md(f.code)} | {md(lic)} | {md(f.message)} |")
        if len(blocking) > MAX_ROWS:
            lines.append(f"| … | | | {len(blocking) - MAX_ROWS} more in the full report |")
    else:
        lines.append("Nothing blocks release.")
    lines += ["", f"Full report: {HTML_REPORT}", ""]
    return "\n".join(lines).encode("utf-8")
