"""One source in front of many: each reference goes to the source of its kind."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from auditor.model import ModelFacts, ModelRef, Unresolved
from auditor.sources import registry
from auditor.sources.base import Source


class RoutingSource:
    """Sends each reference to the source registered for its kind (any number of kinds).

    `RoutingSource({"hub": hub, "local": local})` or `RoutingSource(hub=hub, local=local)`. A kind
    with no source here is answered `invalid-ref`. Counts are summed over the distinct sources (one
    snapshot may stand in for several kinds).
    """

    name = "routing"

    def __init__(self, sources: Mapping[str, Source] | None = None, /, **by_kind: Source) -> None:
        merged = {**(sources or {}), **by_kind}
        unknown = [kind for kind in merged if kind not in registry.registered()]
        if unknown:
            raise ValueError(f"no registered source kind {unknown[0]!r} (registered: {', '.join(registry.ref_kinds())})")
        self.sources: Mapping[str, Source] = MappingProxyType(merged)

    def _distinct(self) -> list[Source]:
        return list({id(source): source for source in self.sources.values()}.values())

    @property
    def requests(self) -> int:
        return sum(source.requests for source in self._distinct())

    @property
    def cache_hits(self) -> int:
        return sum(source.cache_hits for source in self._distinct())

    def serves(self, kind: str) -> bool:
        """Does this run read references of `kind`? (A run built without a `dataset` source reads no training
        data: the crawl then follows no `trained-on` claim.)"""
        return kind in self.sources

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved:
        source = self.sources.get(ref.kind)
        if source is None:
            return Unresolved(id=ref.id, requested=ref.key, source=ref.kind, code="invalid-ref",
                              reason=f"no source for {ref.kind} references in this run", revision=ref.revision)
        return source.fetch(ref)
