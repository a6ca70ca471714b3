"""Crawl a model's lineage (child -> parent) into a graph.

Each distinct model is fetched once; fetches run concurrently; a parent is submitted as soon as its
child is read (a work queue, no barrier between lineage levels), so a slow branch never holds the next
level; of the models waiting, the deepest goes out first, so long chains are not left for the end. How many requests are in flight adapts (`auditor.sources.pacing`): it starts at
`CrawlOptions.concurrency`, rises while the Hub answers fast, up to `max_concurrency`, and halves on
429/5xx. Failures become `unresolved` nodes and the crawl goes on.
"""

from __future__ import annotations

import heapq
import math
import queue
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
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
from auditor.sources import pacing, registry
from auditor.sources.base import KindHandler, Source, Stats
from auditor.sources.routing import RoutingSource
from auditor.vocab import RELATION_NATURE

if TYPE_CHECKING:
    import networkx as nx

__all__ = [
    "CrawlOptions",
    "RefError",
    "RoutingSource",
    "ancestors",
    "assemble",
    "crawl",
    "find_cycles",
    "parse_ref",
    "to_networkx",
]

DEFAULT_CONCURRENCY = 8
# huggingface_hub's shared HTTP client (httpx / httpx2 defaults) keeps 20 connections alive: more requests in
# flight than that open and close a connection each. An adaptive crawl rises to this by default.
KEEPALIVE_CONNECTIONS = 20
CONCURRENCY_GROWTH = 4  # … and to at most this many times where it started
# Slow start triples the limit each round trip of fast answers (`pacing.AdaptiveLimit.growth`): from the
# default 8 the crawl reaches its ceiling of 20 after one round trip instead of two. The ceiling is small
# against the Hub's smallest budget (anonymous: 500 requests per 5-minute window), and a 429/5xx still
# halves the limit, a slow answer still ends the slow start.
SLOW_START_GROWTH = 3.0
DEFAULT_MAX_DEPTH = 10
SPARE_WORKERS = 0.5  # workers beyond the ceiling, as a share of it (`crawl_workers`)
QUEUED_PER_WORKER = 2  # models handed to the crawl's pool at once, per worker (see `_Crawl.waiting`)


class RefError(AuditorError):
    """A reference that no registered source kind recognises."""


def parse_ref(text: str, *, base_dir: Path | None = None) -> ModelRef:
    """A CLI reference (`owner/name[@revision]`, `hf.co/owner/name`, a path to a model folder, …): the
    registered kinds are asked in precedence order; the first that recognises it names it."""
    raw = text.strip()
    if not raw:
        raise RefError("empty model reference")
    for spec in registry.in_parse_order():
        ref = spec.handler().parse_ref(raw, base_dir)
        if ref is not None:
            return ref
    raise RefError(f"{raw!r} is not {registry.ref_forms(' nor ')}")


def default_ceiling(concurrency: int) -> int:
    """How far an adaptive crawl that starts at `concurrency` may rise: 1 stays 1 (one request at a time was
    asked for); otherwise up to the connections the HTTP client keeps alive, at most 4× the start, and never
    below the start."""
    if concurrency <= 1:
        return 1
    return max(concurrency, min(KEEPALIVE_CONNECTIONS, CONCURRENCY_GROWTH * concurrency))


@dataclass
class CrawlOptions:
    concurrency: int = DEFAULT_CONCURRENCY  # requests in flight at the start
    max_concurrency: int | None = None  # the most it rises to (None: `default_ceiling(concurrency)`)
    # The adaptive limit to use (to read its `peak`/`backoffs` afterwards); None: one made from the above.
    limit: pacing.AdaptiveLimit | None = None
    max_depth: int = DEFAULT_MAX_DEPTH
    # Facts given up front (private models declared in a manifest): never fetched.
    given: Mapping[str, ModelFacts] = field(default_factory=dict)
    # Curated lineage the Hub does not carry, by model id.
    extra_parents: Mapping[str, list[ParentClaim]] = field(default_factory=dict)
    progress: Callable[[int, int, str], None] | None = None  # (done, submitted, model id)


def _parent_ref(claim: ParentClaim, handlers: Sequence[KindHandler] | None = None) -> ModelRef | None:
    """The reference a parent claim names: the first kind (in precedence order) that recognises it.
    `handlers`: the kinds' handlers in that order, when the caller made them once (`_handlers`)."""
    if claim.unreadable:
        return None
    for handler in _handlers() if handlers is None else handlers:
        ref = handler.parent_ref(claim.parent)
        if ref is not None:
            return ref
    return None


def _handlers() -> list[KindHandler]:
    """Every registered kind's handler, in precedence order (a crawl makes them once, not once per claim)."""
    return [spec.handler() for spec in registry.in_parse_order()]


def _reads_training_data(source: Source, claim: ParentClaim, ref: ModelRef) -> bool:
    """A `trained-on` claim is followed when the run reads its kind: a routing source built without a `dataset`
    source (`serves`) reads no training data. Every other claim is followed."""
    if RELATION_NATURE.get(claim.relation) != "data":
        return True
    serves = getattr(source, "serves", None)
    return serves is None or bool(serves(ref.kind))


def _depth_unresolved(ref: ModelRef, depth: int) -> Unresolved:
    return Unresolved(
        id=ref.id,
        requested=ref.key,
        source=ref.kind,
        code="depth-limit",
        reason=f"not read: beyond the depth limit ({depth}); raise --depth to follow it",
        revision=ref.revision,
    )


def _invalid_parent(claim: ParentClaim) -> Unresolved:
    """A parent that can't be followed: its file was unreadable, or no registered kind recognises it."""
    source = claim.evidence.source if claim.evidence.source != "curated" else registry.MANIFEST_SOURCE
    if claim.unreadable:
        return Unresolved(id=claim.parent, requested=claim.parent, source=source, code="malformed",
                          reason=claim.unreadable)
    return Unresolved(
        id=claim.parent,
        requested=claim.parent,
        source=source,
        code="invalid-ref",
        reason=f"{claim.evidence.field} names {claim.parent!r}, which is neither {registry.ref_forms(' nor ')}",
    )


class _Crawl:
    """One crawl's state: what is submitted, read, and at which depth."""

    def __init__(
        self, source: Source, opts: CrawlOptions, pool: ThreadPoolExecutor, limit: pacing.AdaptiveLimit
    ) -> None:
        self.source = source
        self.opts = opts
        self.pool = pool
        self.limit = limit
        # Models found but not handed to the pool yet, deepest first (then in the order found). The pool holds
        # at most `QUEUED_PER_WORKER` × `limit.ceiling`: enough that a worker never waits for this thread to
        # hand it the next model, few enough that a parent found late goes out before the rest of a wide
        # level, and a long chain is not left for the end, when too few requests remain to fill the pipe.
        self.waiting: list[tuple[int, int, ModelRef]] = []
        self.found = 0
        self.results: dict[str, ModelFacts | Unresolved] = {}  # by requested ref key
        self.depth_of: dict[str, int] = {}
        self.invalid: dict[str, Unresolved] = {}
        self.pending: dict[Future[ModelFacts | Unresolved], tuple[ModelRef, int]] = {}
        # Finished fetches, in the order they finish: the crawl takes one at a time (a `wait` over every
        # pending future per answer costs the crawl's own thread O(pending) each time).
        self.finished: queue.SimpleQueue[Future[ModelFacts | Unresolved]] = queue.SimpleQueue()
        self.handlers = _handlers()
        self.done = 0

    def fetch(self, ref: ModelRef) -> ModelFacts | Unresolved:
        given = self.opts.given.get(ref.key)
        if given is not None:
            result: ModelFacts | Unresolved = given
        else:
            with pacing.active(self.limit):
                result = self.source.fetch(ref)
        if isinstance(result, ModelFacts) and result.id in self.opts.extra_parents:
            extra = [c for c in self.opts.extra_parents[result.id] if c not in result.parents]
            return result.model_copy(update={"parents": [*result.parents, *extra]})
        return result

    def submit(self, ref: ModelRef, depth: int) -> None:
        known = self.depth_of.get(ref.key)
        if known is not None:
            if depth < known:
                self.found_shallower(ref, depth)
            return
        self.depth_of[ref.key] = depth
        self.queue(ref, depth)

    def queue(self, ref: ModelRef, depth: int) -> None:
        if depth > self.opts.max_depth:
            self.results[ref.key] = _depth_unresolved(ref, self.opts.max_depth)
            return
        heapq.heappush(self.waiting, (-depth, self.found, ref))
        self.found += 1

    def found_shallower(self, ref: ModelRef, depth: int) -> None:
        """A model reached again by a shorter path (answers come in any order, the deepest go out first): its
        depth and its ancestors' follow the shortest path; one left at the depth limit is read after all."""
        self.depth_of[ref.key] = depth
        result = self.results.get(ref.key)
        if isinstance(result, Unresolved) and result.code == "depth-limit":
            del self.results[ref.key]
            self.queue(ref, depth)
        elif isinstance(result, ModelFacts):
            self.follow(result, depth)

    def dispatch(self) -> None:
        """Hand the deepest waiting models to the pool while it holds fewer than its share."""
        while self.waiting and len(self.pending) < QUEUED_PER_WORKER * self.limit.ceiling:
            negative_depth, _, ref = heapq.heappop(self.waiting)
            future = self.pool.submit(self.fetch, ref)
            self.pending[future] = (ref, -negative_depth)
            future.add_done_callback(self.finished.put)

    def run(self, roots: list[ModelRef]) -> None:
        for ref in roots:
            self.submit(ref, 0)
        self.dispatch()
        while self.pending:
            self.finish(self.finished.get())
            self.dispatch()

    def finish(self, future: Future[ModelFacts | Unresolved]) -> None:
        ref, _ = self.pending.pop(future)
        depth = self.depth_of[ref.key]  # it may have been reached by a shorter path since it was handed out
        result = future.result()
        self.results[ref.key] = result
        self.done += 1
        if self.opts.progress is not None:
            self.opts.progress(self.done, self.done + len(self.pending) + len(self.waiting), ref.key)
        if isinstance(result, ModelFacts):
            self.follow(result, depth)

    def follow(self, facts: ModelFacts, depth: int) -> None:
        for claim in facts.parents:
            parent = _parent_ref(claim, self.handlers)
            if parent is not None and not _reads_training_data(self.source, claim, parent):
                continue
            if parent is not None:
                self.submit(parent, depth + 1)
            elif claim.unreadable or not claim.evidence.weak:
                self.invalid.setdefault(claim.parent, _invalid_parent(claim))


def crawl(roots: Iterable[ModelRef], source: Source, options: CrawlOptions | None = None) -> LineageGraph:
    """Resolve every root and all its ancestors."""
    opts = options or CrawlOptions()
    root_refs = list(dict.fromkeys(roots))
    limit = opts.limit or make_limit(opts.concurrency, opts.max_concurrency)
    with ThreadPoolExecutor(max_workers=crawl_workers(limit.ceiling)) as pool:
        state = _Crawl(source, opts, pool, limit)
        state.run(root_refs)
    return assemble(root_refs, state.results, state.depth_of, state.invalid, source)


def crawl_workers(ceiling: int) -> int:
    """Worker threads for a crawl whose limit may rise to `ceiling`: more than the requests allowed in flight.
    A worker holds its slot only while its request is out; before (cache lookup) and after it (parse, cache
    write) it holds none, so with one worker per slot a slot would sit idle while its worker does that work.
    The spare workers wait for a slot (workers beyond the current limit wait too; answers from the cache take
    none). `ceiling` 1 stays one worker: one at a time was asked for."""
    return ceiling if ceiling <= 1 else ceiling + math.ceil(ceiling * SPARE_WORKERS)


def make_limit(concurrency: int, max_concurrency: int | None = None) -> pacing.AdaptiveLimit:
    """The adaptive limit of a crawl starting at `concurrency` requests in flight."""
    start = max(1, concurrency)
    ceiling = default_ceiling(start) if max_concurrency is None else max(1, max_concurrency)
    return pacing.AdaptiveLimit(start=start, ceiling=ceiling, growth=SLOW_START_GROWTH)


def _merge_relation(relations: list[Relation]) -> tuple[Relation, bool]:
    known = sorted({r for r in relations if r != "unknown"})
    if not known:
        return "unknown", False
    return known[0], len(known) > 1


def _collect_nodes(
    results: Mapping[str, ModelFacts | Unresolved],
    depth_of: Mapping[str, int],
    invalid: Mapping[str, Unresolved],
) -> tuple[dict[str, NodeRecord], dict[str, str]]:
    """One node per canonical id (facts win over a failure), and requested key / plain id -> node id."""
    canonical: dict[str, str] = {}
    nodes: dict[str, NodeRecord] = {}
    for key, result in sorted(results.items()):
        canonical[key] = result.id
        canonical.setdefault(key.split("@", 1)[0], result.id)
        depth = depth_of.get(key, 0)
        existing = nodes.get(result.id)
        if existing is not None and (existing.facts is not None or isinstance(result, Unresolved)):
            nodes[result.id] = existing.model_copy(update={"depth": min(existing.depth, depth)})
        elif isinstance(result, ModelFacts):
            nodes[result.id] = NodeRecord(id=result.id, facts=result, depth=depth)
        else:
            nodes[result.id] = NodeRecord(id=result.id, unresolved=result, depth=depth)
    for bad_id, unresolved in invalid.items():
        nodes.setdefault(bad_id, NodeRecord(id=bad_id, unresolved=unresolved, depth=1))
        canonical.setdefault(bad_id, bad_id)
    return nodes, canonical


@dataclass
class _Claims:
    by_edge: dict[tuple[str, str], list[ParentClaim]] = field(default_factory=dict)
    disagreements: list[Disagreement] = field(default_factory=list)
    cycles: list[list[str]] = field(default_factory=list)


def _collect_claims(nodes: Mapping[str, NodeRecord], canonical: Mapping[str, str]) -> _Claims:
    """Every parent claim of a read node, grouped by (child, parent) edge; self-loops as cycles."""
    out = _Claims()
    for node in nodes.values():
        if node.facts is None:
            continue
        parents_by_field: dict[str, set[str]] = {}
        for claim in node.facts.parents:
            parent_id = canonical.get(claim.parent, claim.parent)
            if parent_id not in nodes:
                continue  # weak claim with an unusable value
            if parent_id == node.id:
                if [node.id] not in out.cycles:
                    out.cycles.append([node.id])
                continue
            out.by_edge.setdefault((node.id, parent_id), []).append(claim)
            if RELATION_NATURE.get(claim.relation) != "data":  # training data never disagrees with a base model
                parents_by_field.setdefault(claim.evidence.field, set()).add(parent_id)
        out.disagreements.extend(_disagreements(node.id, parents_by_field))
        out.disagreements.extend(
            Disagreement(model=node.id, message=note, kind="unusable") for note in node.facts.lineage_notes
        )
    return out


def _edge(child: str, parent: str, group: list[ParentClaim]) -> tuple[EdgeRecord, Disagreement | None]:
    """One edge from its claims, and a disagreement when the claims name different relations."""
    relation, conflict = _merge_relation([c.relation for c in group])
    disagreement = None
    if conflict:
        disagreement = Disagreement(
            model=child,
            message=f"evidence disagrees on the relation to {parent}: "
            + ", ".join(sorted({f'{c.relation} ({c.evidence.field})' for c in group})),
        )
    evidence: list[Evidence] = sorted({c.evidence for c in group}, key=lambda e: (e.field, e.value))
    edge = EdgeRecord(child=child, parent=parent, relation=relation, evidence=evidence,
                      weak=all(e.weak for e in evidence))
    return edge, disagreement


def assemble(
    roots: list[ModelRef],
    results: Mapping[str, ModelFacts | Unresolved],
    depth_of: Mapping[str, int],
    invalid: Mapping[str, Unresolved],
    source: Stats,
) -> LineageGraph:
    """Build the graph from fetch results: one node per canonical id, edges merged per (child, parent)."""
    nodes, canonical = _collect_nodes(results, depth_of, invalid)
    claims = _collect_claims(nodes, canonical)
    edges: list[EdgeRecord] = []
    disagreements = list(claims.disagreements)
    for (child, parent), group in sorted(claims.by_edge.items()):
        edge, disagreement = _edge(child, parent, group)
        edges.append(edge)
        if disagreement is not None:
            disagreements.append(disagreement)
    root_ids = list(dict.fromkeys(canonical.get(r.key, r.id) for r in roots))
    graph = LineageGraph(
        roots=root_ids,
        nodes=sorted(nodes.values(), key=lambda n: n.id),
        edges=edges,
        disagreements=sorted(set(disagreements), key=lambda d: (d.model, d.message)),
        requests=source.requests,
        cache_hits=source.cache_hits,
    )
    return graph.model_copy(update={"cycles": sorted(claims.cycles + find_cycles(graph))})


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
