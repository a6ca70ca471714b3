"""The crawler against the loopback Hub, through the real huggingface_hub client."""

from __future__ import annotations

import json
from pathlib import Path

from auditor.lineage import CrawlOptions, crawl, parse_ref
from auditor.model import LineageGraph
from auditor.sources.hub import HubSource
from tests.hub.server import HubServer, HubState


def _edges(graph: LineageGraph) -> set[tuple[str, str, str]]:
    return {(e.child, e.parent, e.relation) for e in graph.edges}


def _node(graph: LineageGraph, model_id: str):  # type: ignore[no-untyped-def]
    return next(n for n in graph.nodes if n.id == model_id)


def test_four_level_chain(source, hub_state: HubState) -> None:  # type: ignore[no-untyped-def]
    graph = crawl([parse_ref("example-org/chat-lora-q4")], source)
    assert _edges(graph) == {
        ("example-org/chat-lora-q4", "example-org/chat-lora", "quantized"),
        ("example-org/chat-lora", "example-org/chat-sft", "adapter"),
        ("example-org/chat-sft", "Qwen/Qwen2.5-7B", "finetune"),
    }
    assert all(n.facts is not None for n in graph.nodes)
    base = _node(graph, "Qwen/Qwen2.5-7B")
    assert base.depth == 3
    assert base.facts.declared.license == ["apache-2.0"]
    assert base.facts.sha and base.facts.retrieved_at
    # each distinct model fetched exactly once
    assert graph.requests == 4
    assert all(hub_state.hits[m] == 1 for m in ("example-org/chat-lora-q4", "Qwen/Qwen2.5-7B"))


def test_each_edge_keeps_its_evidence(source) -> None:  # type: ignore[no-untyped-def]
    graph = crawl([parse_ref("example-org/chat-lora")], source)
    edge = next(e for e in graph.edges if e.child == "example-org/chat-lora")
    fields = {(ev.field, ev.value) for ev in edge.evidence}
    assert ("cardData.base_model", "example-org/chat-sft") in fields
    assert ("tags", "base_model:adapter:example-org/chat-sft") in fields


def test_merge_has_two_parents(source) -> None:  # type: ignore[no-untyped-def]
    graph = crawl([parse_ref("example-org/merge-7b")], source)
    merge_edges = {(c, p, r) for c, p, r in _edges(graph) if c == "example-org/merge-7b"}
    assert merge_edges == {
        ("example-org/merge-7b", "Qwen/Qwen2.5-7B-Instruct", "merge"),
        ("example-org/merge-7b", "example-org/chat-sft", "merge"),
    }
    # the shared ancestor Qwen/Qwen2.5-7B is one node, fetched once
    assert sum(1 for n in graph.nodes if n.id == "Qwen/Qwen2.5-7B") == 1


def test_cycle_and_self_reference_are_reported(source) -> None:  # type: ignore[no-untyped-def]
    graph = crawl([parse_ref("example-org/cycle-a"), parse_ref("example-org/self-ref")], source)
    assert ["example-org/cycle-a", "example-org/cycle-b"] in graph.cycles
    assert ["example-org/self-ref"] in graph.cycles
    assert not any(e.child == e.parent for e in graph.edges)


def test_missing_parent_is_unresolved_and_crawl_goes_on(source) -> None:  # type: ignore[no-untyped-def]
    graph = crawl([parse_ref("example-org/orphan-ft"), parse_ref("example-org/chat-sft")], source)
    missing = _node(graph, "example-org/deleted-base")
    assert missing.unresolved is not None and missing.unresolved.code == "not-found"
    assert _node(graph, "Qwen/Qwen2.5-7B").facts is not None


def test_gated_parent(source) -> None:  # type: ignore[no-untyped-def]
    graph = crawl([parse_ref("example-org/gated-child"), parse_ref("example-org/visible-gated-child")], source)
    refused = _node(graph, "example-org/gated-base")
    assert refused.unresolved is not None and refused.unresolved.code == "gated"
    assert "HF_TOKEN" in refused.unresolved.reason
    visible = _node(graph, "example-org/visible-gated-base")
    assert visible.facts is not None and visible.facts.gated == "manual"


def test_local_folder_adapter_points_at_hub(source, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "my-adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "example-org/chat-sft"}))
    (folder / "README.md").write_text("---\nlicense: apache-2.0\nlibrary_name: peft\n---\n# adapter\n")
    graph = crawl([parse_ref(str(folder))], source)
    assert (str(folder), "example-org/chat-sft", "adapter") in _edges(graph)
    assert ("example-org/chat-sft", "Qwen/Qwen2.5-7B", "finetune") in _edges(graph)
    local = _node(graph, str(folder))
    assert local.facts.source == "local" and local.facts.declared.license == ["apache-2.0"]


def test_disagreeing_evidence_keeps_all_edges(source, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "confused"
    folder.mkdir()
    (folder / "README.md").write_text("---\nbase_model: example-org/chat-sft\n---\n")
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": "Qwen/Qwen2.5-7B"}))
    (folder / "config.json").write_text(json.dumps({"_name_or_path": "/home/me/ckpt"}))
    graph = crawl([parse_ref(str(folder))], source)
    parents = {e.parent for e in graph.edges if e.child == str(folder)}
    assert parents == {"example-org/chat-sft", "Qwen/Qwen2.5-7B"}
    assert any("disagrees" in d.message and d.model == str(folder) for d in graph.disagreements)
    # the weak, unusable config.json path creates no node
    assert not any(n.id == "/home/me/ckpt" for n in graph.nodes)


def test_relation_disagreement_between_card_and_tags(source) -> None:  # type: ignore[no-untyped-def]
    graph = crawl([parse_ref("example-org/mixed-evidence")], source)
    assert any("relation" in d.message for d in graph.disagreements if d.model == "example-org/mixed-evidence")


def test_weak_config_evidence_is_marked(source, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "weak"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"_name_or_path": "example-org/chat-sft"}))
    graph = crawl([parse_ref(str(folder))], source)
    edge = next(e for e in graph.edges if e.child == str(folder))
    assert edge.weak and edge.evidence[0].weak


def test_renamed_repo_is_one_node(source) -> None:  # type: ignore[no-untyped-def]
    graph = crawl([parse_ref("example-org/points-at-old-name"), parse_ref("example-org/renamed-new")], source)
    ids = {n.id for n in graph.nodes}
    assert "example-org/renamed-new" in ids and "example-org/renamed-old" not in ids
    assert ("example-org/points-at-old-name", "example-org/renamed-new", "finetune") in _edges(graph)


def test_faults_503_429_malformed(source, hub_state: HubState) -> None:  # type: ignore[no-untyped-def]
    refs = [parse_ref(r) for r in ("example-org/flaky", "example-org/throttled", "example-org/broken-json")]
    graph = crawl(refs, source)
    assert _node(graph, "example-org/flaky").facts is not None
    assert hub_state.hits["example-org/flaky"] == 3  # two 503s then success
    assert _node(graph, "example-org/throttled").facts is not None
    broken = _node(graph, "example-org/broken-json")
    assert broken.unresolved is not None and broken.unresolved.code == "malformed"


def test_timeout_becomes_unresolved(hub: HubServer, hub_state: HubState) -> None:
    from auditor.sources.hub import RetryPolicy
    from tests.hub.server import Fault

    hub_state.faults["example-org/slow"] = Fault(stall_seconds=1.0)
    src = HubSource(endpoint=hub.endpoint, token=False, retry=RetryPolicy(max_retries=1, base_delay=0.01,
                                                                         timeout=0.2))
    graph = crawl([parse_ref("example-org/slow")], src)
    node = _node(graph, "example-org/slow")
    assert node.unresolved is not None and node.unresolved.code == "unreachable"
    assert "timed out" in node.unresolved.reason


def test_retry_after_is_honoured(hub: HubServer, hub_state: HubState) -> None:
    import time

    from tests.conftest import FAST_RETRY

    src = HubSource(endpoint=hub.endpoint, token=False, retry=FAST_RETRY)
    start = time.monotonic()
    graph = crawl([parse_ref("example-org/throttled")], src)
    assert _node(graph, "example-org/throttled").facts is not None
    assert time.monotonic() - start >= 0.9  # waited Retry-After: 1


def test_ratelimit_headers_slow_the_crawl_down(hub: HubServer, hub_state: HubState) -> None:
    import time

    from auditor.sources.hub import RateGate

    hub_state.quota, hub_state.window = 3, 1
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    gate = RateGate(sleep=sleep)
    src = HubSource(endpoint=hub.endpoint, token=False, gate=gate)
    graph = crawl([parse_ref("example-org/chat-lora-q4")], src, CrawlOptions(concurrency=1))
    # after the quota is used up the gate waits for the window reset instead of being refused
    assert all(n.facts is not None for n in graph.nodes) and len(graph.nodes) == 4
    assert gate.waits >= 1 and sleeps and max(sleeps) > 0
    assert hub_state.refused == 0 and src.rate_limited == 0


def test_depth_limit(source) -> None:  # type: ignore[no-untyped-def]
    graph = crawl([parse_ref("example-org/chat-lora-q4")], source, CrawlOptions(max_depth=1))
    deep = _node(graph, "example-org/chat-sft")
    assert deep.unresolved is not None and deep.unresolved.code == "depth-limit"


def test_pinned_revision_and_cache(hub: HubServer, hub_state: HubState, tmp_path: Path) -> None:
    from auditor.sources.cache import MetadataCache
    from tests.hub.recorded import api_body

    sha = "a" * 40
    hub_state.revisions[("example-org/chat-sft", sha)] = api_body(
        "example-org/chat-sft", {"license": "mit"}, sha=sha
    )
    cache = MetadataCache(tmp_path / "c")
    src = HubSource(endpoint=hub.endpoint, token=False, cache=cache)
    graph = crawl([parse_ref(f"example-org/chat-sft@{sha}")], src)
    node = _node(graph, "example-org/chat-sft")
    assert node.facts.sha == sha and node.facts.revision == sha and node.facts.declared.license == ["mit"]
    assert cache.stats().pinned == 1
    warm = HubSource(endpoint=hub.endpoint, token=False, cache=cache)
    crawl([parse_ref(f"example-org/chat-sft@{sha}")], warm)
    assert warm.requests == 0 and warm.cache_hits == 1


def test_unknown_revision(source) -> None:  # type: ignore[no-untyped-def]
    graph = crawl([parse_ref("example-org/chat-sft@no-such-branch")], source)
    node = _node(graph, "example-org/chat-sft")
    assert node.unresolved is not None and node.unresolved.code == "revision-not-found"


def test_unusable_base_model_values(source) -> None:  # type: ignore[no-untyped-def]
    graph = crawl([parse_ref("example-org/local-path-base"), parse_ref("example-org/url-base")], source)
    # an unusable value is kept as a note for the engine (lineage unknown), not as a node
    assert any(
        d.model == "example-org/local-path-base" and "/content/drive/MyDrive/checkpoint-500" in d.message
        for d in graph.disagreements
    )
    assert not any(e.child == "example-org/local-path-base" for e in graph.edges)
    assert ("example-org/url-base", "example-org/chat-sft", "unknown") in _edges(graph)


def test_real_cards_resolve(source) -> None:  # type: ignore[no-untyped-def]
    graph = crawl([parse_ref("bartowski/Qwen2.5-Coder-7B-Instruct-GGUF")], source)
    assert {n.id for n in graph.nodes} == {
        "bartowski/Qwen2.5-Coder-7B-Instruct-GGUF",
        "Qwen/Qwen2.5-Coder-7B-Instruct",
        "Qwen/Qwen2.5-Coder-7B",
        "Qwen/Qwen2.5-7B",
    }
