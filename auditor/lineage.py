"""Crawl a model's lineage (child -> parent) into a graph.

Each distinct model is fetched once; fetches run concurrently (bounded); a parent is submitted as
soon as its child is read, so the crawl is never slower than level-by-level. Failures become
`unresolved` nodes and the crawl goes on.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from auditor.errors import AuditorError
from auditor.model import (
    Disagreement,
    EdgeRecord,
    Evidence,
    LineageGraph,
    ModelFacts,
    ModelRef,
    NodeRecord,
    ParentClaim,
    Relation,
    Unresolved,
)
from auditor.sources.base import Source
from auditor.sources.card import is_repo_id, normalise_parent_ref

if TYPE_CHECKING:
    import networkx as nx

DEFAULT_CONCURRENCY = 8
DEFAULT_MAX_DEPTH = 10


class RefError(AuditorError):
    """A reference that is neither a Hub repo id nor a local folder."""


def parse_ref(text: str, *, base_dir: Path | None = None) -> ModelRef:
    """`owner/name[@revision]`, `hf.co/owner/name`, or a path to a local model folder."""
    raw = text.strip()
    if not raw:
        raise RefError("empty model reference")
    path = Path(raw) if base_dir is None or Path(raw).is_absolute() else base_dir / raw
    looks_like_path = raw.startswith((".", "/", "~")) or os.sep in raw.replace("/", "") or path.is_dir()
    if looks_like_path and (path.expanduser().is_dir() or raw.startswith((".", "/", "~"))):
        return ModelRef(kind="local", id=str(path.expanduser()))
    name, _, revision = raw.partition("@")
    repo_id, note = normalise_parent_ref(name)
    if repo_id is None:
        raise RefError(f"{raw!r} is not a Hub repo id (owner/name) nor an existing model folder ({note})")
    return ModelRef(kind="hub", id=repo_id, revision=revision or None)


class RoutingSource:
    """Sends Hub refs to the Hub source and folder refs to the local source."""

    def __init__(self, hub: Source, local: Source) -> None:
        self.hub = hub
        self.local = local
        self.name = "routing"

    @property
    def requests(self) -> int:
        return int(getattr(self.hub, "requests", 0)) + int(getattr(self.local, "requests", 0))

    @property
    def cache_hits(self) -> int:
        return int(getattr(self.hub, "cache_hits", 0))

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved:
        return (self.local if ref.kind == "local" else self.hub).fetch(ref)


@dataclass
class CrawlOptions:
    concurrency: int = DEFAULT_CONCURRENCY
    max_depth: int = DEFAULT_MAX_DEPTH
    # Facts given up front (private models declared in a manifest): never fetched.
    given: Mapping[str, ModelFacts] = field(default_factory=dict)
    # Curated lineage the Hub does not carry, by model id.
    extra_parents: Mapping[str, list[ParentClaim]] = field(default_factory=dict)
    progress: Callable[[int, int, str], None] | None = None  # (done, submitted, model id)


def _parent_ref(claim: ParentClaim) -> ModelRef | None:
    if claim.unreadable:
        return None
    if Path(claim.parent).is_absolute() and Path(claim.parent).is_dir():
        return ModelRef(kind="local", id=claim.parent)
    if is_repo_id(claim.parent):
        return ModelRef(kind="hub", id=claim.parent)
    return None


def _depth_unresolved(ref: ModelRef, depth: int) -> Unresolved:
    return Unresolved(
        id=ref.id,
        requested=ref.key,
        source="local" if ref.kind == "local" else "hub",
        code="depth-limit",
        reason=f"not read: beyond the depth limit ({depth}); raise --depth to follow it",
        revision=ref.revision,
    )


def _invalid_parent(claim: ParentClaim) -> Unresolved:
    if claim.unreadable:
        return Unresolved(id=claim.parent, requested=claim.parent, source="local", code="malformed",
                          reason=claim.unreadable)
    return Unresolved(
        id=claim.parent,
        requested=claim.parent,
        source=claim.evidence.source if claim.evidence.source != "curated" else "manifest",
        code="invalid-ref",
        reason=f"{claim.evidence.field} names {claim.parent!r}, which is neither a Hub repo id nor a folder",
    )


def crawl(roots: Iterable[ModelRef], source: Source, options: CrawlOptions | None = None) -> LineageGraph:
    """Resolve every root and all its ancestors."""
    opts = options or CrawlOptions()
    root_refs = list(dict.fromkeys(roots))
    results: dict[str, ModelFacts | Unresolved] = {}  # by requested ref key
    depth_of: dict[str, int] = {}
    seen: set[str] = set()
    invalid: dict[str, Unresolved] = {}

    def with_curated(result: ModelFacts | Unresolved) -> ModelFacts | Unresolved:
        if isinstance(result, ModelFacts) and result.id in opts.extra_parents:
            extra = [c for c in opts.extra_parents[result.id] if c not in result.parents]
            return result.model_copy(update={"parents": [*result.parents, *extra]})
        return result

    def fetch(ref: ModelRef) -> ModelFacts | Unresolved:
        given = opts.given.get(ref.key)
        return with_curated(given if given is not None else source.fetch(ref))

    with ThreadPoolExecutor(max_workers=max(1, opts.concurrency)) as pool:
        pending: dict[Future[ModelFacts | Unresolved], tuple[ModelRef, int]] = {}

        def submit(ref: ModelRef, depth: int) -> None:
            if ref.key in seen:
                depth_of[ref.key] = min(depth_of[ref.key], depth)
                return
            seen.add(ref.key)
            depth_of[ref.key] = depth
            if depth > opts.max_depth:
                results[ref.key] = _depth_unresolved(ref, opts.max_depth)
                return
            pending[pool.submit(fetch, ref)] = (ref, depth)

        for ref in root_refs:
            submit(ref, 0)
        done_count = 0
        while pending:
            finished, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            for future in finished:
                ref, depth = pending.pop(future)
                result = future.result()
                results[ref.key] = result
                done_count += 1
                if opts.progress is not None:
                    opts.progress(done_count, done_count + len(pending), ref.key)
                if isinstance(result, ModelFacts):
                    for claim in result.parents:
                        parent = _parent_ref(claim)
                        if parent is not None:
                            submit(parent, depth + 1)
                        elif claim.unreadable or not claim.evidence.weak:
                            invalid.setdefault(claim.parent, _invalid_parent(claim))

    return assemble(root_refs, results, depth_of, invalid, source)


def _merge_relation(relations: list[Relation]) -> tuple[Relation, bool]:
    known = sorted({r for r in relations if r != "unknown"})
    if not known:
        return "unknown", False
    return known[0], len(known) > 1


def assemble(
    roots: list[ModelRef],
    results: Mapping[str, ModelFacts | Unresolved],
    depth_of: Mapping[str, int],
    invalid: Mapping[str, Unresolved],
    source: Source,
) -> LineageGraph:
    """Build the graph from fetch results: one node per canonical id, edges merged per (child, parent)."""
    canonical: dict[str, str] = {}  # requested key / plain id -> canonical node id
    nodes: dict[str, NodeRecord] = {}
    for key, result in sorted(results.items()):
        canonical[key] = result.id
        canonical.setdefault(key.split("@", 1)[0], result.id)
        depth = depth_of.get(key, 0)
        existing = nodes.get(result.id)
        if existing is not None and (existing.facts is not None or isinstance(result, Unresolved)):
            nodes[result.id] = existing.model_copy(update={"depth": min(existing.depth, depth)})
            continue
        if isinstance(result, ModelFacts):
            nodes[result.id] = NodeRecord(id=result.id, facts=result, depth=depth)
        else:
            nodes[result.id] = NodeRecord(id=result.id, unresolved=result, depth=depth)
    for bad_id, unresolved in invalid.items():
        nodes.setdefault(bad_id, NodeRecord(id=bad_id, unresolved=unresolved, depth=1))
        canonical.setdefault(bad_id, bad_id)

    claims: dict[tuple[str, str], list[ParentClaim]] = {}
    disagreements: list[Disagreement] = []
    cycles: list[list[str]] = []
    for node in nodes.values():
        if node.facts is None:
            continue
        parents_by_field: dict[str, set[str]] = {}
        for claim in node.facts.parents:
            parent_id = canonical.get(claim.parent, claim.parent)
            if parent_id not in nodes:
                continue  # weak claim with an unusable value
            if parent_id == node.id:
                if [node.id] not in cycles:
                    cycles.append([node.id])
                continue
            claims.setdefault((node.id, parent_id), []).append(claim)
            parents_by_field.setdefault(claim.evidence.field, set()).add(parent_id)
        disagreements.extend(_disagreements(node.id, parents_by_field))
        for note in node.facts.lineage_notes:
            disagreements.append(Disagreement(model=node.id, message=note, kind="unusable"))

    edges: list[EdgeRecord] = []
    for (child, parent), group in sorted(claims.items()):
        relation, conflict = _merge_relation([c.relation for c in group])
        if conflict:
            disagreements.append(
                Disagreement(
                    model=child,
                    message=f"evidence disagrees on the relation to {parent}: "
                    + ", ".join(sorted({f'{c.relation} ({c.evidence.field})' for c in group})),
                )
            )
        evidence: list[Evidence] = sorted({c.evidence for c in group}, key=lambda e: (e.field, e.value))
        edges.append(
            EdgeRecord(
                child=child,
                parent=parent,
                relation=relation,
                evidence=evidence,
                weak=all(e.weak for e in evidence),
            )
        )

    root_ids = list(dict.fromkeys(canonical.get(r.key, r.id) for r in roots))
    graph = LineageGraph(
        roots=root_ids,
        nodes=sorted(nodes.values(), key=lambda n: n.id),
        edges=edges,
        disagreements=sorted(set(disagreements), key=lambda d: (d.model, d.message)),
        requests=int(getattr(source, "requests", 0)),
        cache_hits=int(getattr(source, "cache_hits", 0)),
    )
    return graph.model_copy(update={"cycles": sorted(cycles + find_cycles(graph))})


def _disagreements(model: str, parents_by_field: Mapping[str, set[str]]) -> list[Disagreement]:
    """Strong evidence fields that name different parents (e.g. card vs adapter_config)."""
    strong = {f: p for f, p in parents_by_field.items() if not f.startswith("config.json")}
    distinct = {frozenset(p) for f, p in strong.items() if f != "tags"}
    if len(distinct) <= 1:
        return []
    detail = "; ".join(f"{f} -> {', '.join(sorted(p))}" for f, p in sorted(strong.items()))
    return [Disagreement(model=model, message=f"lineage evidence disagrees: {detail} (all edges kept)")]


def to_networkx(graph: LineageGraph) -> nx.DiGraph:
    import networkx as nx

    g = nx.DiGraph()
    for node in graph.nodes:
        g.add_node(node.id, record=node)
    for edge in graph.edges:
        g.add_edge(edge.child, edge.parent, record=edge, relation=edge.relation)
    return g


def find_cycles(graph: LineageGraph, limit: int = 50) -> list[list[str]]:
    import networkx as nx

    g = to_networkx(graph)
    found: list[list[str]] = []
    for cycle in nx.simple_cycles(g):
        if len(cycle) < 2:
            continue
        start = cycle.index(min(cycle))
        found.append(cycle[start:] + cycle[:start])
        if len(found) >= limit:
            break
    return sorted(found)


def ancestors(graph: LineageGraph, model_id: str) -> list[str]:
    import networkx as nx

    g = to_networkx(graph)
    if model_id not in g:
        return []
    return sorted(nx.descendants(g, model_id))
