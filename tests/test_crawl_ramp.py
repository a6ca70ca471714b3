"""The start of a cold crawl (issue 16, third pass): no lone probe before the first round, a slow start that
reaches the ceiling after one round trip of fast answers, and the Hub's budget respected from its first answer
on; a 429/503 still halves the limit.

Everything is counted by the loopback Hub (requests, refusals, requests in flight, answers held until enough
requests are in flight) or read from the limit and the gate, never timed. Where a test must know that answers
came fast, the limit's clock is a constant: every round trip measures 0 s.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import pytest

from auditor.lineage import SLOW_START_GROWTH, CrawlOptions, crawl, crawl_workers, make_limit, parse_ref
from auditor.model import LineageGraph
from auditor.sources import cache as cache_module
from auditor.sources.cache import CachedFailure, CacheEntry, MetadataCache
from auditor.sources.hub import UNANNOUNCED_ROUND, HubSource, RateGate, RetryPolicy
from auditor.sources.pacing import AdaptiveLimit
from tests.conftest import FAST_RETRY
from tests.hub.recorded import api_body
from tests.hub.server import Fault, HubServer, HubState

# Quota tests wait for whole 1 s windows; a failure must not hang the suite.
QUOTA_RETRY = RetryPolicy(budget_seconds=30.0, timeout=5.0)


def _fast_limit(start: int, ceiling: int) -> AdaptiveLimit:
    """The crawl's limit (`make_limit`'s growth) on a clock that makes every answer fast."""
    return AdaptiveLimit(start=start, ceiling=ceiling, growth=SLOW_START_GROWTH, clock=lambda: 0.0)


def _wide(count: int, prefix: str = "wide") -> dict[str, dict[str, Any]]:
    return {f"example-org/{prefix}-{i:03d}": api_body(f"example-org/{prefix}-{i:03d}", {"license": "mit"})
            for i in range(count)}


def _roots_with_parents(roots: int, parents_each: int) -> tuple[dict[str, dict[str, Any]], list[str], list[str]]:
    """`roots` models, each merged from `parents_each` parents of its own: the first round can only be the
    roots (nothing else is known before they answer), the second only their parents."""
    bodies: dict[str, dict[str, Any]] = {}
    root_ids, parent_ids = [], []
    for r in range(roots):
        mine = [f"example-org/ramp-parent-{r}-{p}" for p in range(parents_each)]
        for parent in mine:
            bodies[parent] = api_body(parent, {"license": "mit"})
        root = f"example-org/ramp-root-{r}"
        bodies[root] = api_body(root, {"license": "mit", "base_model": mine, "base_model_relation": "merge"})
        root_ids.append(root)
        parent_ids.extend(mine)
    return bodies, root_ids, parent_ids


def _crawl(hub: HubServer, ids: list[str], limit: AdaptiveLimit, **source: Any) -> tuple[LineageGraph, HubSource]:
    src = HubSource(endpoint=hub.endpoint, token=False, seed=1, **{"retry": FAST_RETRY, **source})
    return crawl([parse_ref(i) for i in ids], src, CrawlOptions(limit=limit)), src


def _all_read(graph: LineageGraph, count: int) -> bool:
    return len(graph.nodes) == count and all(n.facts is not None for n in graph.nodes)


# ------------------------------------------------------------------------------------ no lone probe


def test_the_first_round_goes_out_together_without_a_probe() -> None:
    """Each root's answer is held until all 8 are in flight: a lone probe first would hold it for 5 s."""
    bodies = _wide(8)
    state = HubState(models=bodies, faults={i: Fault(hold_until_in_flight=8) for i in bodies})
    limit = make_limit(8, 8)
    with HubServer(state) as hub:
        graph, source = _crawl(hub, sorted(bodies), limit)
    assert _all_read(graph, 8) and state.all_requests() == 8
    assert state.wait_timeouts == 0 and state.peak_in_flight == 8
    assert source.gate.unannounced_sent == 8


def test_a_small_announced_budget_is_respected_from_the_first_answer_on() -> None:
    """10 requests a 1 s window, 30 models, 8 in flight: the first round (8) fits the budget; from the first
    answer on the gate counts what is left (less what is still out) and waits for the reset, so the Hub never
    has to refuse anything."""
    bodies = _wide(30)
    state = HubState(models=bodies, quota=10, window=1)
    with HubServer(state) as hub:
        graph, source = _crawl(hub, sorted(bodies), make_limit(8, 8), retry=QUOTA_RETRY)
    assert _all_read(graph, 30)
    assert state.refused == 0 and source.rate_limited == 0 and state.all_requests() == 30
    assert 1 <= source.gate.unannounced_sent <= 8 and source.gate.waits > 0


def test_a_budget_smaller_than_the_first_round_refuses_only_that_round() -> None:
    """3 requests a window, a first round of 8: the Hub refuses what the first round sent beyond its budget
    and nothing after the first answer; the refused ones are asked again once, and the limit halved."""
    bodies = _wide(8)
    state = HubState(models=bodies, quota=3, window=1)
    limit = make_limit(8, 8)
    with HubServer(state) as hub:
        graph, source = _crawl(hub, sorted(bodies), limit, retry=QUOTA_RETRY)
    assert _all_read(graph, 8)
    assert state.refused == source.rate_limited <= max(0, source.gate.unannounced_sent - 3)
    assert state.all_requests() == 8 + state.refused
    assert (limit.backoffs >= 1) == (state.refused > 0)


@pytest.mark.parametrize("unannounced", [0, -5, 1])
def test_gate_without_a_first_round_still_probes_one_at_a_time(unannounced: int) -> None:
    gate = RateGate(unannounced=unannounced)
    gate.before_request()
    assert gate.paused_for() == 0.0  # `paused_for` never blocks; a second `before_request` would wait
    assert gate.unannounced_sent == 1 and gate._earliest(gate.clock()) is None


def test_gate_first_round_then_the_first_answer_rules() -> None:
    gate = RateGate(unannounced=3)
    for _ in range(3):
        assert gate.before_request() == 0.0
    assert gate._earliest(gate.clock()) is None  # the round is out: the next waits for an answer
    gate.after_response({"RateLimit": '"api";r=4;t=60'})  # 4 left, 2 still out: 2 may go, then the reset
    assert gate.before_request() == 0.0 and gate.before_request() == 0.0
    assert gate.paused_for() > 50 and gate.unannounced_sent == 3


def test_hub_source_sends_a_first_round() -> None:
    assert HubSource(endpoint="http://127.0.0.1:9", token=False).gate.unannounced == UNANNOUNCED_ROUND
    assert UNANNOUNCED_ROUND <= 500 // 20  # at most 5% of the Hub's smallest (anonymous) budget


# ------------------------------------------------------------------------------------ the ramp


def test_the_ceiling_is_reached_after_one_round_of_fast_answers() -> None:
    """4 roots (the first round), then their 12 parents, each held until 12 are in flight at once: the limit
    must be 12 after the roots' 4 answers (doubling would give 8, and the parents would wait 5 s)."""
    bodies, roots, parents = _roots_with_parents(4, 3)
    state = HubState(models=bodies, faults={p: Fault(hold_until_in_flight=12) for p in parents})
    limit = _fast_limit(4, 12)
    with HubServer(state) as hub:
        graph, _ = _crawl(hub, roots, limit)
    assert _all_read(graph, 16) and state.all_requests() == 16
    assert state.wait_timeouts == 0 and state.peak_in_flight == 12 == limit.peak
    assert limit.backoffs == 0


def test_the_ramp_backs_off_on_503() -> None:
    """The second round answers 503 once each: the limit halves (once for the whole round), everything is read."""
    bodies, roots, parents = _roots_with_parents(4, 3)
    state = HubState(models=bodies, faults={p: Fault(fail_503=1) for p in parents})
    limit = _fast_limit(4, 12)
    with HubServer(state) as hub:
        graph, _ = _crawl(hub, roots, limit)
    assert _all_read(graph, 16) and state.all_requests() == 16 + 12
    assert all(state.hits[p] == 2 for p in parents)
    assert limit.backoffs >= 1 and limit.current < 12


def test_the_ramp_backs_off_on_429() -> None:
    bodies, roots, parents = _roots_with_parents(4, 3)
    state = HubState(models=bodies, faults={p: Fault(rate_limit=1, retry_after=0) for p in parents})
    limit = _fast_limit(4, 12)
    with HubServer(state) as hub:
        graph, _ = _crawl(hub, roots, limit)
    assert _all_read(graph, 16) and state.refused == 12
    assert limit.backoffs >= 1 and limit.current < 12


def test_crawl_slow_start_triples_per_round_and_a_slow_answer_ends_it() -> None:
    limit = make_limit(4, 20)
    assert limit.growth == SLOW_START_GROWTH == 3.0
    tickets = [limit.acquire() for _ in range(4)]
    for ticket in tickets:
        limit.report(ticket, 200, 0.05)
        limit.release()
    assert limit.current == 12  # 4 × 3 after one round of fast answers
    limit.report(limit.acquire(), 200, 0.5)  # ten times the fastest: the Hub is queueing
    limit.release()
    for _ in range(12):
        limit.report(limit.acquire(), 200, 0.05)
        limit.release()
    assert limit.current == 12  # ~one more per round trip now (1/limit per answer), not two per answer
    assert limit.peak == 4


@pytest.mark.parametrize("growth", [math.nan, math.inf, -1.0, 0.0, 1.0])
def test_hostile_growth_is_sane(growth: float) -> None:
    limit = AdaptiveLimit(start=4, ceiling=10, growth=growth)
    assert 1.0 <= limit.growth < math.inf
    limit.report(limit.acquire(), 200, 0.05)
    assert 4 <= limit.current <= 10


def test_crawl_workers_leave_no_slot_idle() -> None:
    assert crawl_workers(1) == 1  # one at a time stays one worker
    assert crawl_workers(20) == 30 and crawl_workers(3) == 5


class _SlowWrites(MetadataCache):
    """A cache whose writes wait until the Hub has been asked `until` times (at most 5 s; `timeouts` counts
    the writes that waited in vain)."""

    def __init__(self, directory: Path, state: HubState, until: int) -> None:
        super().__init__(directory)
        self.state, self.until, self.timeouts = state, until, 0

    def put(self, key: str, body: str, retrieved_at: str, *, pinned: bool) -> None:
        with self.state.requested:
            if not self.state.requested.wait_for(lambda: self.state.total_requests() >= self.until, timeout=5):
                self.timeouts += 1
        super().put(key, body, retrieved_at, pinned=pinned)


def test_slots_stay_busy_while_workers_write_the_cache(tmp_path: Path) -> None:
    """4 slots; every cache write is held until the Hub has had 6 requests. With one worker per slot the 4
    workers would all sit in their writes after the first 4 answers, no 5th request could go out, and every
    write would wait 5 s; the spare workers send the 5th and 6th."""
    bodies = _wide(12)
    state = HubState(models=bodies)
    limit = make_limit(4, 4)
    with HubServer(state) as hub:
        cache = _SlowWrites(tmp_path, state, until=6)
        graph, _ = _crawl(hub, sorted(bodies), limit, cache=cache)
    assert _all_read(graph, 12) and state.all_requests() == 12
    assert cache.timeouts == 0 and crawl_workers(4) >= 6


# ------------------------------------------------------------------------------------ one cache query a lookup


def test_cache_lookup_answers_get_then_get_failure_in_one_query(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    cache = MetadataCache(tmp_path, ttl_seconds=60, failure_ttl_seconds=60)
    failure = CachedFailure("not-found", "repository not found", "2026-01-01T00:00:00Z")
    assert cache.lookup("k", pinned=False) is None
    cache.put_failure("k", failure)
    assert cache.lookup("k", pinned=False) == failure == cache.get_failure("k")
    cache.put("k", "{}", "2026-01-02T00:00:00Z", pinned=False)  # a good answer drops the failure
    assert cache.lookup("k", pinned=False) == CacheEntry("{}", "2026-01-02T00:00:00Z") == cache.get("k", pinned=False)
    assert cache.stats().failures == 0
    cache.put_failure("k", failure)  # a failure never replaces facts on disk
    later = time.time() + 120
    monkeypatch.setattr(cache_module.time, "time", lambda: later)
    assert cache.lookup("k", pinned=False) is None  # the answer and the failure both expired
    assert cache.lookup("k", pinned=True) == CacheEntry("{}", "2026-01-02T00:00:00Z")  # read at a sha: kept


def test_cache_lookup_prefers_a_live_failure_to_an_expired_answer(tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    cache = MetadataCache(tmp_path, ttl_seconds=60, failure_ttl_seconds=3600)
    cache.put("k", "{}", "then", pinned=False)
    later = time.time() + 120
    monkeypatch.setattr(cache_module.time, "time", lambda: later)
    failure = CachedFailure("gated", "gated", "now")
    cache.put_failure("k", failure)
    assert cache.get("k", pinned=False) is None and cache.lookup("k", pinned=False) == failure
