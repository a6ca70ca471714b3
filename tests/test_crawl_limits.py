"""A crawl near its physical limit (issue 16): pipelined levels, one keep-alive session shared by the
workers, adaptive concurrency, and warm runs that make no request at all.

Everything is counted by the loopback Hub (requests by path, TCP connections accepted, requests in flight),
never timed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from auditor.audit import AuditEntry, run_audit
from auditor.lineage import CrawlOptions, crawl, default_ceiling, make_limit, parse_ref
from auditor.model import DeclaredUse, LineageGraph, ModelRef, NodeRecord, Unresolved
from auditor.rules.loader import load_rules
from auditor.sources import cache as cache_module
from auditor.sources import pacing
from auditor.sources.cache import CachedFailure, MetadataCache
from auditor.sources.hub import HubSource, RetryPolicy
from auditor.sources.pacing import AdaptiveLimit
from tests.conftest import FAST_RETRY
from tests.hub.recorded import api_body
from tests.hub.server import Fault, HubServer, HubState

ROOT = Path(__file__).resolve().parents[1]
FAILING = ["example-org/orphan-ft", "example-org/gated-child"]  # parents: a 404 and a gated repo
RENAMED = "example-org/points-at-old-name"  # parent renamed: example-org/renamed-old -> renamed-new
USE = DeclaredUse(commercial=True, monthly_active_users=1000, annual_revenue_usd=10_000, distribution="saas",
                  regions=["US"], purposes=["chat"])


def _source(hub: HubServer, cache: MetadataCache | None, **kwargs: Any) -> HubSource:
    kwargs.setdefault("retry", FAST_RETRY)
    return HubSource(endpoint=hub.endpoint, token=False, cache=cache, seed=1, **kwargs)


def _crawl(source: HubSource, ids: list[str], **options: Any) -> LineageGraph:
    return crawl([parse_ref(i) for i in ids], source, CrawlOptions(**options))


def _node(graph: LineageGraph, model_id: str) -> NodeRecord:
    return next(n for n in graph.nodes if n.id == model_id)


def _wide_state(count: int, **kwargs: Any) -> tuple[HubState, list[str]]:
    ids = [f"example-org/wide-{i:03d}" for i in range(count)]
    return HubState(models={i: api_body(i, {"license": "mit"}) for i in ids}, **kwargs), ids


# ------------------------------------------------------------------------------------ failed lookups cached


def test_warm_run_makes_no_request_and_failures_stay_unresolved(hub: HubServer, hub_state: HubState,
                                                                 cache_dir: Path) -> None:
    cache = MetadataCache(cache_dir)
    cold = _crawl(_source(hub, cache), [*FAILING, RENAMED])
    assert hub_state.hits["example-org/deleted-base"] == 1 and hub_state.hits["example-org/gated-base"] == 1
    before = hub_state.all_requests()
    warm_source = _source(hub, cache)
    warm = _crawl(warm_source, [*FAILING, RENAMED])
    assert hub_state.all_requests() == before and warm_source.requests == 0
    for model_id, code in (("example-org/deleted-base", "not-found"), ("example-org/gated-base", "gated")):
        node = _node(warm, model_id)
        assert node.facts is None and node.unresolved is not None and node.unresolved.code == code
        assert node.unresolved == _node(cold, model_id).unresolved  # the same node, reason and time included
    assert warm.model_dump(exclude={"requests", "cache_hits"}) == cold.model_dump(exclude={"requests", "cache_hits"})


def test_cached_failure_is_never_a_pass(hub: HubServer, cache_dir: Path) -> None:
    cache = MetadataCache(cache_dir)
    rules = load_rules()
    entries = [AuditEntry(ref=parse_ref("example-org/orphan-ft"))]
    cold = run_audit(entries, _source(hub, cache), rules, USE)
    warm = run_audit(entries, _source(hub, cache), rules, USE)
    assert cold.models[0].verdict != "pass"
    assert warm.models[0].verdict == cold.models[0].verdict


def test_refresh_asks_again_for_a_cached_failure(hub: HubServer, hub_state: HubState, cache_dir: Path) -> None:
    cache = MetadataCache(cache_dir)
    _crawl(_source(hub, cache), ["example-org/orphan-ft"])
    _crawl(_source(hub, cache, refresh=True), ["example-org/orphan-ft"])
    assert hub_state.hits["example-org/deleted-base"] == 2


def test_cached_failure_expires(hub: HubServer, hub_state: HubState, cache_dir: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    cache = MetadataCache(cache_dir, failure_ttl_seconds=3600)
    _crawl(_source(hub, cache), ["example-org/orphan-ft"])
    later = time.time() + 3601
    monkeypatch.setattr(cache_module.time, "time", lambda: later)
    graph = _crawl(_source(hub, cache), ["example-org/orphan-ft"])
    assert hub_state.hits["example-org/deleted-base"] == 2  # asked again after the hour
    assert hub_state.hits["example-org/orphan-ft"] == 1  # good answers keep their own (24 h) expiry
    assert _node(graph, "example-org/deleted-base").unresolved is not None


def test_failure_ttl_zero_caches_no_failure(hub: HubServer, hub_state: HubState, cache_dir: Path) -> None:
    cache = MetadataCache(cache_dir, failure_ttl_seconds=0)
    _crawl(_source(hub, cache), ["example-org/orphan-ft"])
    _crawl(_source(hub, cache), ["example-org/orphan-ft"])
    assert hub_state.hits["example-org/deleted-base"] == 2 and cache.stats().failures == 0


def test_a_good_answer_replaces_a_cached_failure(hub: HubServer, hub_state: HubState, cache_dir: Path) -> None:
    cache = MetadataCache(cache_dir)
    _crawl(_source(hub, cache), ["example-org/orphan-ft"])
    assert cache.stats().failures == 1
    del hub_state.faults["example-org/deleted-base"]
    hub_state.models["example-org/deleted-base"] = api_body("example-org/deleted-base", {"license": "mit"})
    graph = _crawl(_source(hub, cache, refresh=True), ["example-org/orphan-ft"])
    assert _node(graph, "example-org/deleted-base").facts is not None
    assert cache.stats().failures == 0
    warm = _crawl(_source(hub, cache), ["example-org/orphan-ft"])
    assert _node(warm, "example-org/deleted-base").facts is not None


def test_no_answer_and_rate_limits_are_not_cached(hub: HubServer, hub_state: HubState, cache_dir: Path) -> None:
    cache = MetadataCache(cache_dir)
    nobody = HubSource(endpoint="http://127.0.0.1:9", token=False, cache=cache, retry=FAST_RETRY, seed=1)
    result = nobody.fetch(ModelRef(kind="hub", id="example-org/chat-sft"))
    assert result.id == "example-org/chat-sft" and getattr(result, "code", None) == "unreachable"
    hub_state.faults["example-org/throttled"] = Fault(rate_limit=100, retry_after=30)  # past max_retry_after
    limited = _source(hub, cache).fetch(ModelRef(kind="hub", id="example-org/throttled"))
    assert getattr(limited, "code", None) == "rate-limited"
    assert cache.stats().failures == 0  # our network and our pace, not the model's state


def test_a_server_error_after_every_retry_is_cached(hub: HubServer, hub_state: HubState, cache_dir: Path) -> None:
    hub_state.faults["example-org/flaky"] = Fault(fail_503=10**6)
    cache = MetadataCache(cache_dir)
    short = RetryPolicy(max_retries=1, base_delay=0.01, max_delay=0.02, budget_seconds=0.3, timeout=5.0)
    first = _source(hub, cache, retry=short).fetch(ModelRef(kind="hub", id="example-org/flaky"))
    asked = hub_state.hits["example-org/flaky"]
    again = _source(hub, cache, retry=short).fetch(ModelRef(kind="hub", id="example-org/flaky"))
    assert getattr(first, "code", None) == getattr(again, "code", None) == "unreachable"
    assert hub_state.hits["example-org/flaky"] == asked


@pytest.mark.parametrize("stored", ["", "x" * 5000, "\x00\u202e<script>", "made-up-code"])
def test_hostile_cached_failure_rows_replay_as_unresolved(hub: HubServer, cache_dir: Path, stored: str) -> None:
    cache = MetadataCache(cache_dir)
    key = MetadataCache.key(hub.endpoint, "example-org/chat-sft", None)
    cache.put_failure(key, CachedFailure(code=stored or "not-found", reason=stored, retrieved_at=stored))
    result = _source(hub, cache).fetch(ModelRef(kind="hub", id="example-org/chat-sft"))
    assert isinstance(result, Unresolved)  # a failure on disk never turns into facts
    assert result.code in {"not-found", "unreachable"} and result.reason
    assert len(result.reason) <= 1000


def test_renamed_repo_fetched_once(hub: HubServer, hub_state: HubState, cache_dir: Path) -> None:
    cache = MetadataCache(cache_dir)
    _crawl(_source(hub, cache), [RENAMED])
    graph = _crawl(_source(hub, cache), ["example-org/renamed-new", RENAMED])
    assert hub_state.hits["example-org/renamed-old"] == 1 and hub_state.hits["example-org/renamed-new"] == 1
    assert _node(graph, "example-org/renamed-new").facts is not None


# ------------------------------------------------------------------------ huggingface_hub's agent registry

_CHILD = """
import json, sys
from pathlib import Path
from auditor.lineage import CrawlOptions, crawl, parse_ref
from auditor.sources.cache import MetadataCache
from auditor.sources.hub import HubSource, RetryPolicy
endpoint, cache_dir, *ids = sys.argv[1:]
source = HubSource(endpoint=endpoint, cache=MetadataCache(Path(cache_dir)))
graph = crawl([parse_ref(i) for i in ids], source, CrawlOptions(concurrency=8))
print(json.dumps({"requests": source.requests, "nodes": len(graph.nodes)}))
"""


def _child_crawl(hub: HubServer, tmp_path: Path, ids: list[str]) -> dict[str, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "HUGGINGFACE_"))}
    env.update(HF_HOME=str(tmp_path / "fresh-hf-home"), HF_ENDPOINT=hub.endpoint, PYTHONPATH=str(ROOT))
    out = subprocess.run([sys.executable, "-c", _CHILD, hub.endpoint, str(tmp_path / "cache"), *ids],
                         capture_output=True, text=True, env=env, cwd=ROOT, check=True, timeout=120)
    counts: dict[str, int] = json.loads(out.stdout.strip().splitlines()[-1])
    return counts


def test_fresh_hf_home_cold_run_asks_only_for_models_and_warm_run_asks_nothing(
    hub: HubServer, hub_state: HubState, tmp_path: Path
) -> None:
    """huggingface_hub 2.x fetches `/api/agent-harnesses` for its user agent when HF_HOME has no copy of it
    (telemetry on, as on any fresh CI runner); the crawl must not trigger it."""
    ids = ["example-org/chat-lora-q4", "example-org/merge-7b", *FAILING]
    cold = _child_crawl(hub, tmp_path, ids)
    assert set(hub_state.paths) == {f"/api/models/{m}" for m in hub_state.hits}
    assert "/api/agent-harnesses" not in hub_state.paths
    assert cold["requests"] == hub_state.all_requests() > 0
    before = hub_state.all_requests()
    warm = _child_crawl(hub, tmp_path, ids)
    assert warm["requests"] == 0 and hub_state.all_requests() == before and warm["nodes"] == cold["nodes"]


# ------------------------------------------------------------------------------------ connection reuse


def test_workers_reuse_one_keepalive_connection(hub: HubServer, hub_state: HubState) -> None:
    # a chain: each request goes out after the one before it was answered, from whichever worker is free
    graph = _crawl(_source(hub, None), ["example-org/chat-lora-q4"], concurrency=2)
    assert len(graph.nodes) == hub_state.all_requests() == 4
    assert hub_state.connections == 1


def test_connections_bounded_by_requests_in_flight() -> None:
    state, ids = _wide_state(24)
    limit = make_limit(3, 3)
    with HubServer(state) as hub:
        _crawl(_source(hub, None), ids, limit=limit)
    assert state.all_requests() == 24
    # a connection goes back to the shared client's pool before its slot is released: never more than 3
    assert limit.peak == 3 and state.connections <= 3


# ------------------------------------------------------------------------------------ pipelined levels


def test_a_slow_branch_does_not_hold_the_next_level() -> None:
    """`example-org/slow-root` answers only once `example-org/chain-2` (two levels below another root) has been
    asked for: a crawl with a barrier between levels would keep it waiting (5 s, counted as a timeout).
    (A first answer is read before the crawl: until then the rate gate sends one probe at a time.)"""
    bodies = {
        "example-org/warm-up": api_body("example-org/warm-up", {"license": "mit"}),
        "example-org/slow-root": api_body("example-org/slow-root", {"license": "mit"}),
        "example-org/chain-0": api_body("example-org/chain-0", {"license": "mit", "base_model": "example-org/chain-1"}),
        "example-org/chain-1": api_body("example-org/chain-1", {"license": "mit", "base_model": "example-org/chain-2"}),
        "example-org/chain-2": api_body("example-org/chain-2", {"license": "mit"}),
    }
    state = HubState(models=bodies, faults={"example-org/slow-root": Fault(wait_for="example-org/chain-2")})
    with HubServer(state) as hub:
        source = _source(hub, None)
        assert source.fetch(ModelRef(kind="hub", id="example-org/warm-up")).id == "example-org/warm-up"
        graph = _crawl(source, ["example-org/slow-root", "example-org/chain-0"], concurrency=2)
    assert state.wait_timeouts == 0
    assert all(n.facts is not None for n in graph.nodes) and len(graph.nodes) == 4


# ------------------------------------------------------------------------------------ adaptive concurrency


def test_limit_grows_by_one_per_fast_answer_up_to_the_ceiling() -> None:
    limit = AdaptiveLimit(start=4, ceiling=10)
    tickets = [limit.acquire() for _ in range(4)]
    for ticket in tickets:
        limit.report(ticket, 200, 0.05)
        limit.release()
    assert limit.current == 8
    for _ in range(5):
        limit.report(limit.acquire(), 200, 0.05)
        limit.release()
    assert limit.current == 10 and limit.peak == 4


def test_a_slow_answer_ends_slow_start() -> None:
    limit = AdaptiveLimit(start=4, ceiling=64)
    limit.report(limit.acquire(), 200, 0.05)
    limit.release()
    limit.report(limit.acquire(), 200, 0.5)  # ten times the fastest: the server is queueing
    limit.release()
    assert limit.current == 5
    for _ in range(4):
        limit.report(limit.acquire(), 200, 0.05)
        limit.release()
    assert limit.current == 5  # now about one more per round trip (1/limit per answer), not one per answer


@pytest.mark.parametrize("status", [429, 503, 500, None])
def test_pushback_halves_the_limit_once_per_round(status: int | None) -> None:
    limit = AdaptiveLimit(start=8, ceiling=16)
    out = [limit.acquire() for _ in range(8)]
    limit.report(out[0], status, 0.05)
    assert limit.current == 4 and limit.backoffs == 1
    for ticket in out[1:]:  # the others were sent before the cut: no second cut
        limit.report(ticket, status, 0.05)
    assert limit.current == 4 and limit.backoffs == 1
    for _ in range(8):
        limit.release()
    for _ in range(5):
        limit.report(limit.acquire(), status, 0.05)
        limit.release()
    assert limit.current == 1 and limit.backoffs == 6  # never below the floor


def test_acquire_waits_for_a_free_slot() -> None:
    limit = AdaptiveLimit(start=1, ceiling=1)
    limit.acquire()
    got = threading.Event()

    def take() -> None:
        limit.acquire()
        got.set()

    waiter = threading.Thread(target=take, daemon=True)
    waiter.start()
    assert not got.wait(0.2)
    limit.release()
    assert got.wait(5)
    waiter.join(5)


@pytest.mark.parametrize(("start", "ceiling"), [(0, 0), (-3, 5), (10**6, 4), (5, -1)])
def test_limit_bounds_are_sane_for_hostile_settings(start: int, ceiling: int) -> None:
    limit = AdaptiveLimit(start=start, ceiling=ceiling)
    assert 1 <= limit.floor <= limit.current <= limit.ceiling


def test_default_ceiling() -> None:
    assert default_ceiling(1) == 1  # one at a time stays one at a time
    assert default_ceiling(8) == 20 and default_ceiling(2) == 8 and default_ceiling(64) == 64
    assert make_limit(8).ceiling == 20 and make_limit(8, 12).ceiling == 12 and make_limit(0).current == 1


def test_no_active_limit_outside_a_crawl() -> None:
    assert pacing.current() is None
    with pacing.slot() as held:
        held.done(200)  # nothing to wait for, nothing to report to


def test_concurrency_rises_while_the_hub_answers_fast() -> None:
    state, ids = _wide_state(40, latency=0.02)
    limit = make_limit(4, 16)
    with HubServer(state) as hub:
        graph = _crawl(_source(hub, None), ids, concurrency=4, limit=limit)
    assert len(graph.nodes) == 40 and state.all_requests() == 40
    assert limit.peak > 4 and state.peak_in_flight > 4 and limit.backoffs == 0


def test_concurrency_backs_off_on_429_and_still_reads_everything() -> None:
    state, ids = _wide_state(12)
    state.faults = {i: Fault(rate_limit=1, retry_after=0) for i in ids}
    limit = make_limit(8, 8)
    with HubServer(state) as hub:
        graph = _crawl(_source(hub, None), ids, limit=limit)
    assert all(n.facts is not None for n in graph.nodes) and len(graph.nodes) == 12
    assert state.refused == 12 and limit.backoffs >= 1 and limit.current < 8
