"""`html` format: one self-contained page (inline CSS and SVG, no script, no external resource).

Templates live in `reports/` (see `auditor.paths.templates_dir`). Autoescaping is on for every
template: all strings from model cards are untrusted and render as text. URLs are turned into
links only when they are plain http(s) URLs; anything else is shown as text.

A large audit stays usable: with more than `OPEN_SECTIONS` audited models, the summary opens with
what blocks release and the table of every model is folded, as are the model sections past the
first `OPEN_SECTIONS` and the evidence tables (`<details>`: the browser opens one when it is
linked to); a lineage too large to draw legibly is drawn in part, whole families, the failing ones
first, with a note naming the families left out (`_graph.select_families`), and a family too large
to draw is listed as text.

A very large audit (more than `MANY_MODELS` audited models) puts the sections of the models with
blocking findings first and open, every other section folded. The page has a size cap
(`PAGE_CAP` bytes, `PageBudget`): each repeated part (blocking rows, the table of models, model sections,
evidence and link rows) is written while the page is under its share of the cap; past it, the rest is named
(models by name only) with a note pointing to audit.json.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import IO, Any

from auditor.model import AuditResult, EdgeRecord, Evidence, Finding, ModelAudit, NodeRecord
from auditor.paths import templates_dir
from auditor.reports import _common as c
from auditor.reports._graph import (
    FAMILY_MAX_NODES,
    Family,
    FamilySelection,
    GraphLayout,
    NodeBox,
    fit,
    layout,
    select_families,
)
from auditor.vocab import SEVERITY_RANK

TEMPLATE = "audit.html.j2"
STYLESHEET = "report.css"
STYLESHEET_LARGE = "report-large.css"  # added for a large audit only (a small page is as it was)
OPEN_SECTIONS = 20  # model sections shown open; past this many models, the rest are folded
LEFT_OUT_NAMED = 12  # families left out of the drawing that the note names (the largest)
BLOCKING_NAMED = 25  # models with blocking findings named in the verdict's sentence (all are in the table)
NEEDED_NAMED = 25  # audited models named for each unread model in the incomplete banner
MANY_MODELS = 500  # past this many audited models: blocking models first and open, the rest folded
APPLIES_NAMED = 50  # models named under each obligation of the whole manifest (the rest counted)
FAMILY_LISTED = 2000  # links of a family too large to draw listed as text (the rest counted)
PAGE_CAP = 50_000_000  # bytes: the page stays under this; past its shares, parts are named only
# The share of the cap the page may have reached when each repeated part is written (in page order):
SHARES = {"blocking": 0.3, "glance": 0.4, "failing": 0.7, "passing": 0.6, "evidence": 0.88, "link": 0.95}
VERDICT_ORDER = {"fail": 0, "review": 1}  # sections of a very large audit: failing, then review, then the rest


@lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=True,  # every template, whatever its extension
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        finalize=visible_controls,  # every `{{ … }}` output, before it is escaped
    )
    env.filters["via"] = format_via
    env.globals["inherited_path"] = c.inherited_path
    env.filters["relation_phrase"] = c.relation_phrase
    env.filters["http_url"] = http_url
    env.filters["anchor"] = anchor
    env.filters["section"] = c.section_label
    env.filters["short_sha"] = lambda s: (s or "")[:12]
    env.filters["css_string"] = css_string
    env.filters["time_breakable"] = time_breakable
    return env


# Characters that reorder or hide text: bidi embeddings, overrides and isolates, the bidi marks,
# and every C0/C1 control but tab, line feed and carriage return (NUL, ESC, DEL…).
_HIDDEN = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def _shown(match: re.Match[str]) -> str:
    return f"[U+{ord(match.group(0)):04X}]"


def visible_controls(value: Any) -> Any:
    """The sanitising boundary of the page: every value a template outputs passes here (jinja2's
    `finalize`). A character that could reorder text (U+202E…) or hide in it (NUL, ESC…) is shown
    as `[U+202E]`, so card text can neither reverse what a reader sees nor smuggle control codes
    into the page. Markup (already escaped) stays Markup; anything not text is left as it is."""
    from markupsafe import Markup

    if isinstance(value, Markup):
        return Markup(_HIDDEN.sub(_shown, str(value))) if _HIDDEN.search(value) else value
    if isinstance(value, str) and _HIDDEN.search(value):
        return _HIDDEN.sub(_shown, value)
    return value


def time_breakable(value: str) -> Any:
    """An ISO time that may wrap only between its date and its time (`2025-06-01T` / `12:00:00Z`)."""
    from markupsafe import Markup

    date, sep, clock = value.partition("T")
    if not sep:
        return Markup('<span class="nowrap">{}</span>').format(value)
    return Markup('<span class="nowrap">{}T</span><wbr><span class="nowrap">{}</span>').format(date, clock)


def css_string(value: str, limit: int = 90) -> Any:
    """`value` as a quoted CSS string for the stylesheet (print footer). Every character but
    ASCII letters, digits and spaces is written as a 6-digit CSS escape, so card text can
    neither end the string nor the `<style>` element."""
    from markupsafe import Markup

    text = c.plain(value)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    body = "".join(ch if (ch.isascii() and ch.isalnum()) or ch == " " else f"\\{ord(ch):06x}" for ch in text)
    return Markup(f'"{body}"')  # every character escaped above


def format_via(path: list[str]) -> str:
    return " → ".join(path)


def http_url(value: str | None) -> str | None:
    """`value` if it is a plain http(s) URL (safe to put in href), else None."""
    return c.http_url(value)


@dataclass
class EvidenceGroup:
    """Evidence items read from one location (the location is shown once, after them)."""

    location: str
    url: str | None  # the location as a link, when it is a plain http(s) URL
    shown: str  # the location as displayed (machine-specific folders left out)
    items: list[Evidence]


def group_evidence(items: list[Evidence], manifest: str | None) -> list[EvidenceGroup]:
    groups: list[EvidenceGroup] = []
    for ev in items:
        if groups and groups[-1].items[-1].location == ev.location:
            groups[-1].items.append(ev)
        else:
            url = http_url(ev.location)
            if _loopback(url):  # a local mirror or replayed recording: no place a reader can open
                groups.append(EvidenceGroup("", None, "", [ev]))
                continue
            shown = ev.location if url else c.short_location(ev.location, manifest)
            groups.append(EvidenceGroup(ev.location, url, shown, [ev]))
    return groups


def _loopback(url: str | None) -> bool:
    """A URL on this machine (a local mirror, a replayed snapshot): not shown as evidence, since
    it leads nowhere for whoever reads the archived report."""
    from urllib.parse import urlsplit

    host = urlsplit(url).hostname if url else None
    return host is not None and (host == "localhost" or host.startswith("127.") or host == "::1")


def anchor(model_id: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", model_id.lower()).strip("-")[:48]
    return f"m-{slug}-{hashlib.sha256(model_id.encode()).hexdigest()[:6]}"


@dataclass
class FindingView:
    """A finding, or (`others`) the findings of one code, severity and waiver state on one model,
    shown as one entry with their count and licenses."""

    finding: Finding
    license_name: str
    others: list[FindingView] = field(default_factory=list)

    @property
    def all(self) -> list[FindingView]:
        return [self, *self.others]

    @property
    def count(self) -> int:
        return 1 + len(self.others)

    @property
    def license_names(self) -> list[str]:
        return list(dict.fromkeys(fv.license_name for fv in self.all if fv.license_name))


def group_findings(views: list[FindingView]) -> list[FindingView]:
    """Findings of the same code, severity and waiver state on one model as one entry, in first-seen order."""
    groups: dict[tuple[str, str, bool], FindingView] = {}
    for fv in views:
        key = (fv.finding.code, fv.finding.severity, fv.finding.waived)
        if key in groups:
            groups[key].others.append(fv)
        else:
            groups[key] = FindingView(fv.finding, fv.license_name)
    return list(groups.values())


@dataclass
class ModelView:
    audit: ModelAudit
    findings: list[FindingView]
    obligations: list[c.ObligationView]
    counts: dict[str, int]
    node: NodeRecord | None

    @property
    def by_waiver(self) -> bool:
        """The model passes only because blocking findings are waived (its chip says so)."""
        return self.audit.verdict == "pass" and any(f.waived and f.severity == "error" for f in self.audit.findings)


@dataclass
class EvidenceRow:
    node: NodeRecord
    source: str
    version: str
    retrieved_at: str
    declared: str
    licenses: list[c.LicenseInfo]
    evidence: list[Evidence]


def _inherited(result: AuditResult) -> dict[str, list[c.LicenseInfo]]:
    """Each audited model -> the licenses it is bound by through its lineage (not its own)."""
    out: dict[str, list[c.LicenseInfo]] = {}
    for model in result.models:
        own = {el.license for el in model.effective_licenses if el.own}
        infos = [
            c.LicenseInfo(el.license, el.name, el.spdx, el.kind, el.url)
            for el in model.effective_licenses
            if not el.own and el.license not in own
        ]
        if infos:
            out[model.id] = list(dict.fromkeys(infos))
    return out


def _model_views(result: AuditResult) -> list[ModelView]:
    nodes = {n.id: n for n in result.graph.nodes}
    views = []
    for model in result.models:
        findings = sorted(model.findings, key=lambda f: (f.waived, -SEVERITY_RANK.get(f.severity, -9)))
        counts: dict[str, int] = dict.fromkeys(c.SEVERITIES, 0)
        counts["waived"] = 0
        for f in model.findings:
            counts["waived" if f.waived else f.severity] += 1
        views.append(
            ModelView(
                audit=model,
                findings=group_findings([FindingView(f, c.license_name(result, f.license)) for f in findings]),
                obligations=c.dedupe_obligations(c.model_obligations(result, model)),
                counts=counts,
                node=nodes.get(model.id),
            )
        )
    return views


def _evidence_rows(result: AuditResult, licenses: dict[str, list[c.LicenseInfo]]) -> list[EvidenceRow]:
    roots = {r: i for i, r in enumerate(result.graph.roots)}
    ordered = sorted(result.graph.nodes, key=lambda n: (roots.get(n.id, len(roots)), n.depth, n.id))
    rows = []
    for node in ordered:
        if node.facts is not None:
            retrieved = node.facts.retrieved_at or ""
            evidence = list(node.facts.declared.evidence)
        else:
            retrieved = (node.unresolved.retrieved_at or "") if node.unresolved else ""
            evidence = []
        rows.append(
            EvidenceRow(
                node=node,
                source=c.node_source(node),
                version=c.node_version(node) or "",
                retrieved_at=retrieved,
                declared=c.raw_declared(node),
                licenses=licenses.get(node.id, []),
                evidence=evidence,
            )
        )
    return rows


def _refit(box: NodeBox) -> NodeBox:
    """A box whose text holds characters the page shows as `[U+XXXX]` (`visible_controls`), fitted
    again with them shown, so the longer text stays inside the box."""
    if not _HIDDEN.search(box.title):
        return box
    owner, sep, name = visible_controls(box.id).rpartition("/")
    full = box.title.split("\n")
    lines = {"owner": fit(owner + sep, "owner"), "name": fit(name, "name"),
             "license": fit(visible_controls(full[1] if len(full) > 1 else box.license), "license")}
    status = visible_controls(box.status)
    meta, meta_len = fit(f"{box.badge} · {status}" if box.badge else status, "meta")
    status = (meta[len(box.badge) + 3 :] if meta.startswith(f"{box.badge} · ") else "") if box.badge else meta
    return replace(box, owner=lines["owner"][0], name=lines["name"][0], license=lines["license"][0], status=status,
                   lengths={**{k: v[1] for k, v in lines.items()}, "meta": meta_len})


def _binding_kinds(graph: GraphLayout, result: AuditResult) -> GraphLayout:
    """Each audited model's box coloured by the terms that bind it: the most restrictive kind
    (`_common.dominant_kind`) among its effective licenses, its own and inherited (a permissively
    licensed fine-tune of a community-licensed model is not green). A model that passes only because its
    blocking findings are waived says so ("PASS BY WAIVER"), so its colour and its badge agree.
    Ancestors keep the colour of the license they declare."""
    models = {m.id: m for m in result.models}
    boxes = []
    for box in map(_refit, graph.nodes):
        model = models.get(box.id)
        if model is None or box.unresolved:
            boxes.append(box)
            continue
        infos = [c.LicenseInfo(el.license, el.name, el.spdx, el.kind, el.url) for el in model.effective_licenses]
        kind = c.dominant_kind(infos) if infos else box.kind
        update: dict[str, Any] = {"kind": kind, "kind_label": c.KIND_LABELS.get(kind, kind)}
        waived = [f for f in model.findings if f.waived and f.severity == "error"]
        if model.verdict == "pass" and waived:
            badge = "PASS BY WAIVER"
            meta, length = fit(f"{badge} · {box.status}" if box.status else badge, "meta")
            status = meta[len(badge) + 3 :] if meta.startswith(f"{badge} · ") else ""
            update.update(badge=badge, badge_class="waived", status=status, lengths={**box.lengths, "meta": length})
            update["title"] = box.title + f"\npasses only because {len(waived)} blocking finding" + (
                " is" if len(waived) == 1 else "s are") + " waived"
        boxes.append(replace(box, **update))
    kinds = {b.kind for b in boxes}
    ordered = sorted(kinds, key=lambda k: list(c.KIND_LABELS).index(k) if k in c.KIND_LABELS else 99)
    return replace(graph, nodes=boxes, kinds=ordered)


class PageBudget:
    """The page's size so far against `PAGE_CAP`: the bytes written (`used`, counted by `write` as
    the template produces them) and the items handed out but not written yet (`pending`: the rows
    of a table built inside a macro are written only when the whole macro is). `take` renders one
    repeated item (a macro call) when the page is under the item's share of the cap (`SHARES`) and
    would stay under it; otherwise the item is recorded as left out (by kind) and nothing is
    written for it. Per render, never shared."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0
        self.pending = 0
        self.left_out: dict[str, list[Any]] = {kind: [] for kind in SHARES}

    def wrote(self, size: int) -> None:
        """`size` bytes of the page written (what was pending is written first)."""
        self.used += size
        self.pending = max(0, self.pending - size)

    def take(self, kind: str, macro: Any, item: Any, *args: Any) -> str:
        bound = self.limit * SHARES[kind]
        if self.used + self.pending < bound and not self.left_out[kind]:
            html = macro(item, *args)
            if self.used + self.pending + len(html) <= bound:
                self.pending += len(html)
                return html
        self.left_out[kind].append(item)
        return ""

    def section(self, macro: Any, mv: ModelView, *args: Any) -> str:
        """A model's section; a passing model's has the smaller share (it goes first when the page is full)."""
        return self.take("passing" if mv.audit.verdict == "pass" else "failing", macro, mv, *args)


def _sections(views: list[ModelView]) -> list[tuple[ModelView, bool]]:
    """Each model's section and whether it is folded. Up to `OPEN_SECTIONS` models: all open, in
    manifest order. Up to `MANY_MODELS`: the first `OPEN_SECTIONS` open. Past it: the models with
    blocking findings first and open, then those needing review, then the rest, all folded."""
    if len(views) <= MANY_MODELS:
        return [(mv, len(views) > OPEN_SECTIONS and i >= OPEN_SECTIONS) for i, mv in enumerate(views)]
    ordered = sorted(views, key=lambda mv: VERDICT_ORDER.get(mv.audit.verdict, 2))
    return [(mv, not mv.counts["error"]) for mv in ordered]


@dataclass
class FamilyText:
    """A family too large to draw, listed as text: its links (the first `FAMILY_LISTED`) and how many."""

    family: Family
    links: list[EdgeRecord]
    total: int


def _family_links(result: AuditResult, families: FamilySelection | None) -> list[FamilyText]:
    """The families left out of the drawing because each is too large for one, largest first."""
    if families is None:
        return []
    large = sorted((f for f in families.left_out if f.too_large()), key=lambda f: -f.size)
    if not large:
        return []
    family_of = {mid: i for i, f in enumerate(large) for mid in f.members}
    links: list[list[EdgeRecord]] = [[] for _ in large]
    for edge in _edges(result):
        i = family_of.get(edge.child)
        if i is not None:
            links[i].append(edge)
    return [FamilyText(f, found[:FAMILY_LISTED], len(found)) for f, found in zip(large, links, strict=True)]


def _edges(result: AuditResult) -> list[EdgeRecord]:
    return sorted(result.graph.edges, key=lambda e: (e.child, e.parent, e.relation))


def context(result: AuditResult, manifest_path: str | None = None) -> dict[str, Any]:
    from markupsafe import Markup

    licenses = c.node_licenses(result)
    manifest = manifest_path or result.manifest
    css = (templates_dir() / STYLESHEET).read_text(encoding="utf-8")
    blocking = [FindingView(f, c.license_name(result, f.license)) for f in c.blocking_findings(result)]
    unresolved = [n for n in result.graph.nodes if n.facts is None]
    verdicts: dict[str, str] = {m.id: m.verdict for m in result.models}
    drawn, families = select_families(result.graph, verdicts)
    views = _model_views(result)
    family_links = _family_links(result, families)
    if len(views) > OPEN_SECTIONS or family_links:
        css += (templates_dir() / STYLESHEET_LARGE).read_text(encoding="utf-8")
    return {
        "r": result,
        "css": Markup(css),  # our own stylesheet, not card data
        "title": result.product or result.manifest or "models",
        "manifest": manifest,
        "verdict_word": c.VERDICT_WORDS.get(result.verdict, result.verdict.upper()),
        "counts": c.severity_counts(result),
        "blocking": blocking,
        "blocking_models": list(dict.fromkeys(fv.finding.model for fv in blocking)),
        "blocking_named": BLOCKING_NAMED,
        "needed_named": NEEDED_NAMED,
        "graph": _binding_kinds(layout(drawn, licenses, verdicts, inherited=_inherited(result)), result)
        if drawn.nodes else None,
        "families": families,
        "families_named": sorted(families.left_out, key=lambda f: -f.size)[:LEFT_OUT_NAMED] if families else [],
        "large": len(result.models) > OPEN_SECTIONS,
        "open_sections": OPEN_SECTIONS,
        "kind_labels": c.KIND_LABELS,
        "models": views,
        "sections": _sections(views),
        "many": len(views) > MANY_MODELS,
        "budget": PageBudget(PAGE_CAP),
        "applies_named": APPLIES_NAMED,
        "family_listed": FAMILY_LISTED,
        "family_links": family_links,
        "family_max": FAMILY_MAX_NODES,
        "obligations": c.dedupe_obligations(result.obligations),
        "license_names": {
            info.license: info.name for infos in licenses.values() for info in infos
        } | {k: v.name for k, v in c.license_catalog(result).items()},
        "license_urls": {k: v[0] for k, v in c.license_urls(result).items()},
        "group_evidence": lambda items: group_evidence(items, manifest),
        "evidence_rows": _evidence_rows(result, licenses),
        "edges": _edges(result),
        "unresolved": unresolved,
        "unread": c.unread_models(result),
        "incomplete_headline": "" if result.complete else c.incomplete_headline(result),
        "cleared": c.release_cleared(result),
        "undecided": c.undecided_fields(result),
        "generated": c.iso_utc(result.generated_at),
    }


def render(result: AuditResult, *, manifest_path: str | None = None) -> bytes:
    result = c.whole(result)
    import io

    buffer = io.BytesIO()
    write(result, buffer, manifest_path=manifest_path)
    return buffer.getvalue()


def write(result: AuditResult, fp: IO[bytes], *, manifest_path: str | None = None) -> None:
    """The page, written as the template produces it (in pieces of about 64 KiB): the page of a
    large audit is never held whole, as text and again as bytes. Each piece is counted into the
    page's `PageBudget` before the template goes on, so the size cap sees the page as written."""
    result = c.whole(result)
    template = _environment().get_template(TEMPLATE)
    values = context(result, manifest_path)
    budget: PageBudget = values["budget"]
    pending: list[bytes] = []
    size = 0
    for chunk in template.generate(**values):
        data = chunk.encode("utf-8")
        pending.append(data)
        budget.wrote(len(data))
        size += len(data)
        if size >= 65536:
            fp.write(b"".join(pending))
            pending, size = [], 0
    fp.write(b"".join(pending))
