"""Wire the stages together: sources -> crawl -> (engine) -> result. No CLI concerns here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path

from auditor.lineage import CrawlOptions, crawl
from auditor.model import LineageGraph, ModelFacts, ModelRef, ParentClaim
from auditor.sources import registry
from auditor.sources.base import Source, SourceOptions
from auditor.sources.routing import RoutingSource

__all__ = ["SourceOptions", "build_source", "parse_formats", "resolve_lineage", "write_reports"]


def build_source(opts: SourceOptions) -> Source:
    """Every registered kind's source, built from the shared options. With `--snapshot`, the recorded
    answers stand in for the kinds a snapshot records (the Hub); the others (local folders) are read
    as usual."""
    replay: Source | None = None
    if opts.snapshot is not None:
        from auditor.sources.snapshot import SnapshotSource, load_snapshot

        replay = SnapshotSource(load_snapshot(opts.snapshot))
    built: dict[str, Source] = {}
    for spec in registry.registered().values():
        built[spec.kind] = replay if replay is not None and spec.snapshot else spec.handler().build(opts)
    return RoutingSource(built)


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


def parse_formats(formats: str) -> list[str]:
    """`--format` as a list of registered format names: comma-separated names, or `all` (every
    registered format, in registry order). An unknown name is an error listing the known ones."""
    from auditor.errors import AuditorError
    from auditor.reports.base import REPORTERS

    names = list(REPORTERS) if formats.strip() == "all" else [f.strip() for f in formats.split(",") if f.strip()]
    unknown = [n for n in names if n not in REPORTERS]
    if unknown:
        raise AuditorError(f"--format: unknown format {unknown[0]!r} (choose from {', '.join(REPORTERS)} or all)")
    return list(dict.fromkeys(names))


def write_reports(result: object, formats: str, out: Path, *, manifest_path: str | None = None) -> list[Path]:
    """Render each requested format into `out`; returns the files written. Reports of an earlier
    audit left in `out` (any file named like one of the registered formats' files) are removed
    first, so the folder holds only this audit's reports; no other file is touched."""
    from auditor.model import AuditResult
    from auditor.reports.base import write_reports as write_all

    assert isinstance(result, AuditResult)
    return list(write_all(result, out, parse_formats(formats), manifest_path=manifest_path).values())
