"""How a crawl hands work to its workers (issue 16, a crawl at its limit): the deepest model found goes out
first, the kinds' handlers are made once per crawl, and the progress counts every model found.

Observed through the order of answers and call counts against the loopback Hub, never timed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from auditor.lineage import QUEUED_PER_WORKER, CrawlOptions, crawl, make_limit
from auditor.model import ModelFacts, ModelRef
from auditor.sources import registry
from auditor.sources.cache import MetadataCache
from auditor.sources.hub import EXPAND, HubSource
from tests.conftest import FAST_RETRY
from tests.hub.recorded import api_body
from tests.hub.server import HubServer, HubState


def _card(parent: str | None = None) -> dict[str, Any]:
    return {"license": "mit", **({"base_model": parent} if parent else {})}


def _state(cards: dict[str, dict[str, Any]]) -> HubState:
    return HubState(models={rid: api_body(rid, card) for rid, card in cards.items()})


def _crawl_in_order(state: HubState, roots: list[str], concurrency: int = 1) -> list[tuple[int, int, str]]:
    """Crawl `roots` (one request at a time by default); the progress calls (done, submitted, model id)."""
    calls: list[tuple[int, int, str]] = []
    with HubServer(state) as hub:
        source = HubSource(endpoint=hub.endpoint, token=False, retry=FAST_RETRY, seed=1)
        options = CrawlOptions(limit=make_limit(concurrency, concurrency),
                               progress=lambda done, submitted, rid: calls.append((done, submitted, rid)))
        crawl([ModelRef(kind="hub", id=r) for r in roots], source, options)
    return calls


def test_a_parent_found_goes_out_before_the_rest_of_a_wide_level() -> None:
    # one request at a time, and two models handed to the worker at once (`QUEUED_PER_WORKER`): once `a` is read,
    # its parent (a level deeper) goes out right after the model already queued, before the other roots, so a
    # long chain is not left for the end of the crawl, when too few requests remain to fill the pipe
    roots = [f"example-org/{name}" for name in "abcdef"]
    cards = {rid: _card() for rid in roots} | {"example-org/a": _card("example-org/a-parent"),
                                               "example-org/a-parent": _card("example-org/a-base"),
                                               "example-org/a-base": _card()}
    state = _state(cards)
    calls = _crawl_in_order(state, roots)
    assert QUEUED_PER_WORKER == 2
    assert [rid.removeprefix("example-org/") for _, _, rid in calls] == ["a", "b", "a-parent", "c", "a-base", "d",
                                                                         "e", "f"]
    assert state.total_requests() == 8


def test_models_of_one_depth_go_out_in_the_order_found() -> None:
    roots = [f"example-org/wide-{i}" for i in (3, 1, 2)]
    calls = _crawl_in_order(_state({rid: _card() for rid in roots}), roots)
    assert [rid for _, _, rid in calls] == roots


def test_progress_counts_the_models_waiting_for_a_worker() -> None:
    roots = [f"example-org/wide-{i}" for i in range(6)]
    cards = {rid: _card("example-org/shared-base") for rid in roots} | {"example-org/shared-base": _card()}
    calls = _crawl_in_order(_state(cards), roots, concurrency=2)
    # every root is known from the start, though only two are handed to the workers at once
    assert calls[0][1] >= 6
    assert [done for done, _, _ in calls] == list(range(1, 8))
    assert calls[-1][:2] == (7, 7)


@pytest.mark.parametrize("models", [1, 12])
def test_kind_handlers_are_made_once_per_crawl_not_once_per_claim(models: int, monkeypatch: pytest.MonkeyPatch) -> None:
    roots = [f"example-org/child-{i:02d}" for i in range(models)]
    cards = {rid: _card("example-org/base") for rid in roots} | {"example-org/base": _card()}
    made: list[str] = []
    original = registry.SourceSpec.handler

    def counting(spec: registry.SourceSpec) -> Any:
        made.append(spec.kind)
        return original(spec)

    monkeypatch.setattr(registry.SourceSpec, "handler", counting)
    calls = _crawl_in_order(_state(cards), roots, concurrency=4)
    assert len(calls) == models + 1
    assert sorted(made) == sorted(registry.registered())  # each kind once, however many claims were followed


def test_each_request_asks_only_for_the_fields_the_parser_reads(tmp_path: Path) -> None:
    # the Hub's full answer carries the file list (thousands of entries for some repos) and more: the request's
    # `expand` keeps the answer to what `facts_from_api` reads, and the cache stores that answer as it came
    rid = "example-org/with-files"
    siblings = [{"rfilename": f"shard-{i:05d}.safetensors"} for i in range(2000)]
    state = HubState(models={rid: api_body(rid, _card(), siblings=siblings, downloads=5, spaces=["x/y"])})
    cache = MetadataCache(tmp_path)
    with HubServer(state) as hub:
        source = HubSource(endpoint=hub.endpoint, token=False, retry=FAST_RETRY, cache=cache)
        facts = source.fetch(ModelRef(kind="hub", id=rid))
        entry = cache.get(MetadataCache.key(hub.endpoint, rid, None), pinned=False)
    assert isinstance(facts, ModelFacts) and facts.declared is not None
    assert entry is not None
    stored = json.loads(entry.body)
    assert "siblings" not in stored and "downloads" not in stored and "spaces" not in stored
    assert set(EXPAND) - {"pipeline_tag", "library_name"} <= set(stored)  # the card names neither of those two
    assert state.total_requests() == 1


def _depths(state: HubState, roots: list[str], max_depth: int = 10) -> dict[str, tuple[int, bool]]:
    """Crawl one request at a time: each node's (depth, read?)."""
    with HubServer(state) as hub:
        source = HubSource(endpoint=hub.endpoint, token=False, retry=FAST_RETRY, seed=1)
        graph = crawl([ModelRef(kind="hub", id=r) for r in roots], source,
                      CrawlOptions(limit=make_limit(1, 1), max_depth=max_depth))
    return {n.id.removeprefix("example-org/"): (n.depth, n.facts is not None) for n in graph.nodes}


def _two_paths() -> HubState:
    # `shared` is reached through `a -> x1 -> shared` (read first: deepest first) and through `d -> shared`
    return _state({"example-org/a": _card("example-org/x1"), "example-org/x1": _card("example-org/shared"),
                   "example-org/shared": _card("example-org/shared-base"), "example-org/shared-base": _card(),
                   "example-org/b": _card(), "example-org/c": _card(), "example-org/d": _card("example-org/shared")})


ROOTS = [f"example-org/{name}" for name in "abcd"]


def test_depths_follow_the_shortest_path_whatever_order_the_answers_came_in() -> None:
    depths = _depths(_two_paths(), ROOTS)
    assert depths["shared"] == (1, True) and depths["shared-base"] == (2, True) and depths["x1"] == (1, True)


def test_a_model_first_reached_past_the_depth_limit_is_read_when_a_shorter_path_reaches_it() -> None:
    state = _two_paths()
    depths = _depths(state, ROOTS, max_depth=2)
    assert depths["shared-base"] == (2, True)  # 3 deep through x1, 2 through d
    assert state.total_requests() == 7
