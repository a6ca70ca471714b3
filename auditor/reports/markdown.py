"""`markdown` format: the summary for a pull-request comment or a job summary.

In this order: the verdict (with the counts), INCOMPLETE and what could not be read (when so), the
blocking findings with the clause behind each (section and quote) and its fix, the warnings, the
waivers applied with their expiry, and a link to the full report (`AUDITOR_REPORT_URL`, else the
GitHub Actions run from `GITHUB_SERVER_URL`/`GITHUB_REPOSITORY`/`GITHUB_RUN_ID`, else the file name).

Card text, model ids and the product name are untrusted. Besides being escaped for Markdown and
HTML (`<`, `>`, `&`, `|`, backticks, emphasis, links, line breaks), they must not act on GitHub:
an `@mention` would notify someone, a `#123` (or `GH-123`) would cross-link an issue, a bare URL
would become a link. A zero-width joiner (U+200D) after `@` and before the number keeps the text
readable and inert; a URL is shown as inline code (`neutral`).

A comment on GitHub holds at most 65,536 characters: the summary stops listing findings at
`MAX_CHARS` and says how many more are in the full report.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable

from auditor.model import AuditResult, Finding
from auditor.reports import _common as c

EMOJI = {"pass": "✅", "review": "⚠️", "fail": "❌"}
HTML_REPORT = "audit.html"
MAX_CHARS = 60_000  # under GitHub's 65,536-character comment limit, with room for the closing lines
MAX_TEXT = 1_000  # one message, quote or remedy, in characters (the full text is in the report)
MAX_UNREAD = 50  # unread models listed in the INCOMPLETE block
MAX_ROWS = 50  # datasets listed under "Training data"
ZWJ = "\u200d"

_URL = re.compile(r"(?:\b[A-Za-z][A-Za-z0-9+.-]*://|\bwww\.)[^\s<>`|\\\"']+", re.IGNORECASE)
_MENTION = re.compile(r"@(?=[A-Za-z0-9_])")
_REFERENCE = re.compile(r"(#|\bGH-)(?=[0-9])", re.IGNORECASE)
_EXPIRES = re.compile(r"\bexpires (\d{4}-\d{2}-\d{2})\b")


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"([\\`*_\[\]|~])", r"\\\1", text)
    return _REFERENCE.sub(lambda m: m.group(1) + ZWJ, _MENTION.sub("@" + ZWJ, text))


def _clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def md(text: str, limit: int = MAX_TEXT) -> str:
    """Card text as inert Markdown on one line: no HTML, no markup, no `|`, no mention, issue
    reference or autolink (a URL is shown as inline code)."""
    text = _clip(c.plain(text), limit)
    out: list[str] = []
    last = 0
    for match in _URL.finditer(text):
        out.append(_escape(text[last : match.start()]))
        out.append(f"`{match.group(0)}`")
        last = match.end()
    out.append(_escape(text[last:]))
    return "".join(out)


def code(text: str) -> str:
    """A model id as inline code (escaped text when a backtick or `|` would end the code span)."""
    text = _clip(c.plain(text), 300)
    return md(text) if "`" in text or "|" in text else f"`{text}`"


def report_url() -> str | None:
    """Where the reader finds the full report: `AUDITOR_REPORT_URL`, else this GitHub Actions run
    (its artifacts), else None. Only a plain http(s) URL is used."""
    given = os.environ.get("AUDITOR_REPORT_URL", "").strip()
    if not given:
        server, repo, run = (os.environ.get(k, "").strip()
                             for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
        if server and repo and run.isdigit():
            given = f"{server.rstrip('/')}/{repo}/actions/runs/{run}"
    return c.http_url(given) if given else None


def _incomplete(result: AuditResult) -> list[str]:
    """The INCOMPLETE block (a quote): the headline, then each unread model and why."""
    lines = [f"> ⚠️ **{md(c.incomplete_headline(result))}**"]
    unread = c.unread_models(result)
    if unread:
        lines.append(">")
        lines += [f"> - {code(u.id)}: {md(u.code)} ({md(u.reason, 300)})" for u in unread[:MAX_UNREAD]]
        if len(unread) > MAX_UNREAD:
            lines.append(f"> - …{len(unread) - MAX_UNREAD} more in the report")
    return [*lines, ""]


def _finding(result: AuditResult, f: Finding) -> str:
    """One finding as a list item: code, model, license and message; then its clause and fix."""
    lic = c.license_name(result, f.license)
    head = f"- **{md(f.code)}** · {code(f.model)}" + (f" · {md(lic)}" if lic else "") + f": {md(f.message)}"
    lines = [head]
    if f.clause:
        lines.append(f"  - Clause {md(c.section_label(f.clause.section), 200)}: “{md(f.clause.quote)}”")
    if f.remedy:
        lines.append(f"  - Fix: {md(f.remedy)}")
    return "\n".join(lines)


def _waiver(result: AuditResult, f: Finding) -> str:
    lic = c.license_name(result, f.license)
    expiry = _EXPIRES.search(f.waiver or "")
    when = f"expires {expiry.group(1)}" if expiry else "no expiry recorded"
    head = f"- **{md(f.code)}** · {code(f.model)}" + (f" · {md(lic)}" if lic else "")
    return f"{head}: {md(f.waiver or 'no justification recorded')} — **{when}**"


class _Budget:
    """Characters left for finding lists, so the whole summary stays under `MAX_CHARS`."""

    def __init__(self, used: int) -> None:
        self.left = MAX_CHARS - used

    def section(self, title: str, items: Iterable[str], total: int, noun: str) -> list[str]:
        """`### title (total)` and as many items as fit; then `…N more noun in the report`."""
        lines = [f"### {title} ({total})", ""]
        self.left -= len(lines[0]) + 2
        shown = 0
        for item in items:
            if len(item) + 1 > self.left - 200:  # room for the closing note
                break
            lines.append(item)
            self.left -= len(item) + 1
            shown += 1
        if shown < total:
            note = f"…{total - shown} more {noun} in the report"
            lines.append(f"- {note}" if shown else note)
            self.left -= len(note) + 3
        return [*lines, ""]


def _findings_sections(result: AuditResult, budget: _Budget) -> list[str]:
    blocking = c.blocking_findings(result)
    active = [f for m in result.models for f in m.findings if not f.waived]
    warnings = [f for f in active if f.severity == "warning"]
    waived = [f for m in result.models for f in m.findings if f.waived]
    lines: list[str] = []
    if blocking:
        items = (_finding(result, f) for f in blocking)
        lines += budget.section("Blocking findings", items, len(blocking), "blocking findings")
    elif c.release_cleared(result):
        lines += ["Nothing blocks release.", ""]
    elif result.complete:
        fields = ", ".join(f"`{name}`" for name in c.undecided_fields(result))
        lines += [f"No blocking finding, but release cannot be cleared until the manifest declares {fields}: "
                  "a license term depends on it (see the warnings).", ""]
    else:
        n = len(c.unread_models(result))
        missing = "the unread model above is" if n == 1 else f"the {n} unread models above are" if n else "all is"
        lines += [f"No blocking finding among the models that were read, but release cannot be cleared until "
                  f"{missing} read.", ""]
    if warnings:
        lines += budget.section("Warnings", (_finding(result, f) for f in warnings), len(warnings), "warnings")
    if waived:
        lines += budget.section("Waivers applied", (_waiver(result, f) for f in waived), len(waived), "waivers")
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


MAX_READ_FROM = 20  # audited models not read from the Hub, listed with the evidence their terms come from


def _read_from(result: AuditResult) -> list[str]:
    """Where each audited model not read from the Hub was read (a GGUF header, the Ollama store, a folder), with
    the license evidence found there: a reviewer sees the terms came from a file, not a Hub card."""
    nodes = {node.id: node for node in result.graph.nodes}
    lines = []
    for model in result.models:
        node = nodes.get(model.id)
        source = c.node_source(node) if node is not None else ""
        if node is None or source in ("", "hub", "snapshot", "manifest"):
            continue
        evidence = [f"{e.field} = {e.value}" for e in (node.facts.declared.evidence if node.facts else [])][:3]
        said = f": {md('; '.join(evidence), 300)}" if evidence else ""
        lines.append(f"- {code(model.id)}: read from its {md(source)} source{said}")
    if not lines:
        return []
    more = [f"- … {len(lines) - MAX_READ_FROM} more in the full report"] if len(lines) > MAX_READ_FROM else []
    return ["### Read from files", "", *lines[:MAX_READ_FROM], *more, ""]


def render(result: AuditResult, *, manifest_path: str | None = None) -> bytes:
    result = c.whole(result)
    counts = c.severity_counts(result)
    word = c.VERDICT_WORDS.get(result.verdict, result.verdict.upper())
    subject = result.product or manifest_path or result.manifest or "models"
    lines = [f"## {EMOJI.get(result.verdict, '')} Model license audit: **{word}** ({md(subject, 200)})", ""]
    if not result.complete:
        lines += _incomplete(result)
    n = len(result.models)
    lines += [
        f"{c.plural(counts['error'], 'error')} · {c.plural(counts['warning'], 'warning')}"
        f" · {counts['info']} info"
        f" · {counts['waived']} waived — {n} model{'s' if n != 1 else ''} audited,"
        f" {len(result.graph.nodes)} in their lineage.",
        "",
    ]
    lines += _findings_sections(result, _Budget(sum(len(line) + 1 for line in lines) + 400))
    lines += _training_data(result)
    lines += _read_from(result)
    url = report_url()
    lines += [f"Full report: [{HTML_REPORT}](<{url}>)" if url else f"Full report: {HTML_REPORT}", ""]
    return "\n".join(lines).encode("utf-8")
