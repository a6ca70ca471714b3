"""`auditor survey`: a license study of many Hub models at once.

The Hub's paged listing (`listing.py`: one request per page of up to 1,000 models, each page cached with its
cursor) gives the models' metadata; the same parser as a crawl (`facts_from_api`) turns each into
`ModelFacts`; their lineage graph is built by the crawl (parents outside the listing are read only with
`follow_parents`, else recorded as unresolved) and evaluated by the engine for one declared use; the result is
summarised by family (`families.py`) and rendered as JSON and Markdown (`render.py`).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from auditor.audit import AuditEntry, build_result, crawl_entries
from auditor.model import AuditResult, DeclaredUse, ModelFacts, ModelRef, Unresolved
from auditor.policy import Policy
from auditor.rules.loader import RuleSet
from auditor.sources.base import Source, SourceOptions, WrappedSource, now_iso
from auditor.sources.card import is_repo_id
from auditor.survey.listing import Page, PageReader, SurveyQuery, check_query

__all__ = ["Survey", "SurveyQuery", "build_reader", "read_listing", "run_survey"]

PageProgress = Callable[[Page, int], None]  # (the page just read, models read so far)


@dataclass
class Listing:
    """What the listing gave: facts in listing order, the pages read, and what was dropped."""

    facts: list[ModelFacts] = field(default_factory=list)
    pages: int = 0
    skipped: int = 0  # entries without a valid repo id, or repeated
    truncated: bool = False  # stopped at --limit with more to read


@dataclass
class Survey:
    query: SurveyQuery
    endpoint: str
    listing: Listing
    result: AuditResult
    page_requests: int
    page_cache_hits: int
    rate_limited: int
    parent_requests: int
    follow_parents: bool

    @property
    def listed(self) -> list[str]:
        return [f.id for f in self.listing.facts]


def build_reader(options: SourceOptions) -> PageReader:
    """A page reader from the shared source options (endpoint, cache, --no-cache, --refresh)."""
    from auditor.sources.cache import DEFAULT_TTL_SECONDS, MetadataCache, default_cache_dir
    from auditor.sources.hub import default_endpoint

    cache = None
    if not options.no_cache:
        cache = MetadataCache(options.cache_dir or default_cache_dir(), options.ttl_seconds or DEFAULT_TTL_SECONDS)
    return PageReader(endpoint=options.endpoint or default_endpoint(), token=os.environ.get("HF_TOKEN") or None,
                      cache=cache, refresh=options.refresh)


def _facts(body: dict[str, Any], page: Page, endpoint: str) -> ModelFacts | None:
    from auditor.sources.hub import facts_from_api

    raw_id = body.get("id") or body.get("modelId")
    if not isinstance(raw_id, str) or not is_repo_id(raw_id):
        return None
    facts = facts_from_api(body, ModelRef(kind="hub", id=raw_id), source="hub", retrieved_at=page.retrieved_at,
                           endpoint=endpoint)
    return facts if isinstance(facts, ModelFacts) else None


def read_listing(reader: PageReader, query: SurveyQuery, progress: PageProgress | None = None) -> Listing:
    """Every model the query lists (up to `query.limit`), page by page; no page past the limit is asked for."""
    check_query(query)
    out = Listing()
    seen: set[str] = set()
    pages = reader.pages(query)
    for page in pages:
        out.pages += 1
        for body in page.models:
            facts = _facts(body, page, reader.endpoint)
            if facts is None or facts.id in seen:
                out.skipped += 1
                continue
            seen.add(facts.id)
            out.facts.append(facts)
            if query.limit is not None and len(out.facts) >= query.limit:
                out.truncated = page.next_url is not None or body is not page.models[-1]
                break
        if progress is not None:
            progress(page, len(out.facts))
        if query.limit is not None and len(out.facts) >= query.limit:
            pages.close()
            break
    return out


class _OutsideListing:
    """The parents a survey does not read (without `--follow-parents`): unresolved, saying how to read them."""

    name = "hub"
    requests = 0
    cache_hits = 0

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved:
        return Unresolved(id=ref.id, requested=ref.key, source="hub", code="depth-limit", revision=ref.revision,
                          reason="not read: outside the survey's listing; pass --follow-parents to read it",
                          retrieved_at=now_iso())


class _HubParents(WrappedSource):
    """With `--follow-parents`: Hub parents are read (cached, paced); a parent of another kind (a local path
    named by an untrusted card) is not."""

    def __init__(self, hub: Source) -> None:
        super().__init__(hub)
        self.outside = _OutsideListing()

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved:
        return self.inner.fetch(ref) if ref.kind == "hub" else self.outside.fetch(ref)


def _parent_source(options: SourceOptions, follow: bool) -> Source:
    if not follow:
        return _OutsideListing()
    from auditor.sources import registry

    return _HubParents(registry.registered()["hub"].handler().build(options))


def run_survey(
    query: SurveyQuery,
    options: SourceOptions,
    rules: RuleSet,
    use: DeclaredUse,
    policy: Policy | None = None,
    *,
    follow_parents: bool = False,
    depth: int = 10,
    concurrency: int = 8,
    reader: PageReader | None = None,
    progress: PageProgress | None = None,
) -> Survey:
    """List, build the lineage graph, evaluate: the whole survey."""
    check_query(query)
    reader = reader or build_reader(options)
    listing = read_listing(reader, query, progress)
    entries = [AuditEntry(ref=ModelRef(kind="hub", id=f.id), given=f) for f in listing.facts]
    parents = _parent_source(options, follow_parents)
    graph = crawl_entries(entries, parents, rules, depth=depth, concurrency=concurrency)
    result = build_result(graph, entries, rules, use, policy)
    return Survey(query=query, endpoint=reader.endpoint, listing=listing, result=result,
                  page_requests=reader.requests, page_cache_hits=reader.cache_hits,
                  rate_limited=reader.rate_limited, parent_requests=parents.requests,
                  follow_parents=follow_parents)
