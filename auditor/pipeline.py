"""Wire the stages together: sources -> crawl -> (engine) -> result. No CLI concerns here."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from auditor.lineage import CrawlOptions, RoutingSource, crawl
from auditor.model import LineageGraph, ModelFacts, ModelRef, ParentClaim
from auditor.sources.base import Source


@dataclass(frozen=True)
class SourceOptions:
    snapshot: Path | None = None
    endpoint: str | None = None
    cache_dir: Path | None = None
    no_cache: bool = False
    refresh: bool = False
    ttl_seconds: int | None = None


def build_source(opts: SourceOptions) -> Source:
    """The Hub (with the on-disk cache) + local folders, or a recorded snapshot."""
    from auditor.sources.local import LocalSource

    if opts.snapshot is not None:
        from auditor.sources.snapshot import SnapshotSource, load_snapshot

        return SnapshotSource(load_snapshot(opts.snapshot))
    from auditor.sources.cache import DEFAULT_TTL_SECONDS, MetadataCache, default_cache_dir
    from auditor.sources.hub import HubSource

    cache = None
    if not opts.no_cache:
        cache = MetadataCache(opts.cache_dir or default_cache_dir(), opts.ttl_seconds or DEFAULT_TTL_SECONDS)
    token = os.environ.get("HF_TOKEN") or None
    hub = HubSource(endpoint=opts.endpoint, token=token, cache=cache, refresh=opts.refresh)
    return RoutingSource(hub=hub, local=LocalSource())


def resolve_lineage(
    refs: list[ModelRef],
    source: Source,
    *,
    depth: int,
    concurrency: int = 8,
    given: Mapping[str, ModelFacts] | None = None,
    extra_parents: Mapping[str, list[ParentClaim]] | None = None,
    progress: Callable[[int, int, str], None] | None = None,
) -> LineageGraph:
    options = CrawlOptions(
        concurrency=concurrency,
        max_depth=depth,
        given=given or {},
        extra_parents=extra_parents or {},
        progress=progress,
    )
    return crawl(refs, source, options)
